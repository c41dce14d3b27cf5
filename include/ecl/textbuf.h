/*
 * textbuf.h — a growing NUL-terminated text built from pieces, in memory
 * from an ecl_alloc: what the translator's SQL, the trace's JSON detail and
 * the formatter's output are written into.
 *
 * A failed allocation sets failed and makes every later put a no-op, so a
 * writer checks once at the end.
 */
#ifndef ECL_TEXTBUF_H
#define ECL_TEXTBUF_H

#include <stdbool.h>
#include <stddef.h>

#include "ecl/alloc.h"

typedef struct ecl_textbuf
{
	const ecl_alloc *alloc;
	char	   *data;			/* NULL until the first put */
	size_t		len;			/* without the trailing NUL */
	size_t		cap;
	bool		failed;
} ecl_textbuf;

void		ecl_textbuf_init(ecl_textbuf *b, const ecl_alloc *alloc);
void		ecl_textbuf_put(ecl_textbuf *b, const char *s, size_t n);
void		ecl_textbuf_puts(ecl_textbuf *b, const char *s);

#endif							/* ECL_TEXTBUF_H */
