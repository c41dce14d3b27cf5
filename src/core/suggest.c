/*
 * suggest.c — edit distance and the closest-name search (see suggest.h).
 */
#include <string.h>

#include "ecl/suggest.h"

#define MAX_NAME 64

size_t
ecl_edit_distance(const char *a, size_t alen, const char *b, size_t blen,
				  size_t max)
{
	/* three rows of the dynamic-programming table: i-2, i-1, i */
	size_t		rows[3][MAX_NAME + 1];
	size_t	   *prev2 = rows[0];
	size_t	   *prev = rows[1];
	size_t	   *cur = rows[2];

	if (alen > MAX_NAME || blen > MAX_NAME)
		return max + 1;
	if ((alen > blen ? alen - blen : blen - alen) > max)
		return max + 1;
	for (size_t j = 0; j <= blen; j++)
		prev[j] = j;
	for (size_t i = 1; i <= alen; i++)
	{
		size_t		row_min;
		size_t	   *t;

		cur[0] = i;
		row_min = cur[0];
		for (size_t j = 1; j <= blen; j++)
		{
			size_t		cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t		d = prev[j] + 1;

			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			if (prev[j - 1] + cost < d)
				d = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
				prev2[j - 2] + 1 < d)
				d = prev2[j - 2] + 1;
			cur[j] = d;
			if (d < row_min)
				row_min = d;
		}
		/* every later row is at least this row's minimum */
		if (row_min > max)
			return max + 1;
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[blen];
}

void
ecl_suggest_init(ecl_suggestion *s, const char *name, size_t len)
{
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->len = len;
}

static size_t
cut_off(size_t len)
{
	size_t		max = len <= 4 ? 1 : len <= 8 ? 2 : 3;

	/* "x" is one edit from "r", but that is no typo of it */
	if (max >= len)
		max = len > 0 ? len - 1 : 0;
	return max;
}

void
ecl_suggest_offer(ecl_suggestion *s, const char *cand, size_t cand_len)
{
	size_t		max = cut_off(s->len);
	size_t		d;

	if (cand == NULL || max == 0)
		return;
	if (s->best != NULL && s->best_distance - 1 < max)
		max = s->best_distance - 1;
	if (cand_len == s->len && memcmp(cand, s->name, cand_len) == 0)
		return;
	d = ecl_edit_distance(s->name, s->len, cand, cand_len, max);
	if (d > max || d == 0)
		return;
	s->best = cand;
	s->best_len = cand_len;
	s->best_distance = d;
}

const char *
ecl_suggest_best(const ecl_suggestion *s, size_t *len)
{
	if (len != NULL)
		*len = s->best_len;
	return s->best;
}
