/*
 * textbuf.c — a growing text in memory from an ecl_alloc (textbuf.h).
 */
#include <string.h>

#include "ecl/textbuf.h"

void
ecl_textbuf_init(ecl_textbuf *b, const ecl_alloc *alloc)
{
	memset(b, 0, sizeof(*b));
	b->alloc = alloc;
}

void
ecl_textbuf_put(ecl_textbuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap)
	{
		size_t		cap = b->cap ? b->cap * 2 : 256;
		char	   *d;

		while (cap < b->len + n + 1)
			cap *= 2;
		d = b->data ? ecl_realloc(b->alloc, b->data, b->cap, cap)
			: ecl_malloc(b->alloc, cap);
		if (d == NULL)
		{
			b->failed = true;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
ecl_textbuf_puts(ecl_textbuf *b, const char *s)
{
	ecl_textbuf_put(b, s, strlen(s));
}
