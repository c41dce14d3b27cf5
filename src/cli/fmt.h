/*
 * fmt.h — the canonical layout of ECL source (ecl fmt).
 */
#ifndef ECL_CLI_FMT_H
#define ECL_CLI_FMT_H

#include <stddef.h>

#include "ecl/error.h"

/*
 * Format src into a malloc'd, NUL-terminated *out.  Fails (err set, *out
 * NULL) when the source does not parse: only valid code is rewritten.
 */
ecl_status	ecl_format(const char *src, size_t len, char **out, size_t *out_len,
					   ecl_error *err);

#endif							/* ECL_CLI_FMT_H */
