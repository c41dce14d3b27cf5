/*
 * suggest.h — "did you mean" for compile errors.
 *
 * A misspelt name (has_credentail) is usually one or two keystrokes away
 * from the one meant.  The compiler offers every name it knows in the
 * context of the error (built-ins, locals, constants, context names) and
 * names the closest one when it is close enough to be a likely typo.
 */
#ifndef ECL_SUGGEST_H
#define ECL_SUGGEST_H

#include <stddef.h>

/*
 * Optimal string alignment distance (Levenshtein plus transposition of two
 * adjacent characters, each counting 1) between a and b, in bytes.  Returns
 * a value above max as soon as the distance is known to exceed max; names
 * longer than 64 bytes are never close (returns max + 1).
 */
size_t		ecl_edit_distance(const char *a, size_t alen,
							  const char *b, size_t blen, size_t max);

/* The closest candidate seen so far for one misspelt name. */
typedef struct ecl_suggestion
{
	const char *name;			/* the misspelt name (not NUL-terminated) */
	size_t		len;
	const char *best;			/* best candidate so far, or NULL */
	size_t		best_len;
	size_t		best_distance;
} ecl_suggestion;

void		ecl_suggest_init(ecl_suggestion *s, const char *name, size_t len);

/*
 * Consider one candidate.  It is kept when it is within the typo cut-off
 * for the name's length (1 edit up to 4 characters, 2 up to 8, else 3; and
 * never as many edits as the name has characters) and closer than every
 * earlier one (ties keep the earlier).
 */
void		ecl_suggest_offer(ecl_suggestion *s, const char *cand, size_t cand_len);

/* The suggestion, or NULL when no candidate was close enough. */
const char *ecl_suggest_best(const ecl_suggestion *s, size_t *len);

#endif							/* ECL_SUGGEST_H */
