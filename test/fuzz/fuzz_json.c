/*
 * fuzz_json.c — libFuzzer harness 4: the JSON value bridge
 * (ecl_json_parse / ecl_json_write, value.h), which carries every policy
 * input, stored value and constant.
 *
 * Any text either fails with ECL_ERR_INVALID_ARG (or ECL_ERR_RESOURCE) and
 * a message, or parses to a value v such that:
 *   write(v) parses again to a value equal to v (ecl_equal),
 *   writing that value gives the same text (the writer is a fixed point),
 *   a deep copy of v is equal to v and writes the same text,
 *   ecl_value_to_text of v succeeds (concatenation, log()).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "test_host.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	test_alloc	ta;
	ecl_error	err;
	ecl_value	v,
				again,
				copy,
				text;
	char	   *out,
			   *out2,
			   *out3;
	size_t		len,
				len2,
				len3;
	char	   *src = malloc(size ? size : 1);

	memcpy(src, data, size);	/* exact size: ASan sees reads past the end */
	/* callers clear the error, as src/pg does: ecl_error_set leaves .policy alone */
	ecl_error_clear(&err);
	test_alloc_init(&ta);
	if (ecl_json_parse(&ta.alloc, src, size, &v, &err) != ECL_OK)
	{
		fuzz_check_error(&err);
		FUZZ_CHECK(err.code == ECL_ERR_INVALID_ARG || err.code == ECL_ERR_RESOURCE,
				   "parse failed with %s: %s", ecl_error_code_name(err.code), err.message);
		goto done;
	}
	FUZZ_CHECK(ecl_json_write(&ta.alloc, v, &out, &len, &err) == ECL_OK,
			   "write failed: %s", err.message);
	FUZZ_CHECK(strlen(out) == len, "written length %zu, text length %zu", len, strlen(out));
	FUZZ_CHECK(ecl_json_parse(&ta.alloc, out, len, &again, &err) == ECL_OK,
			   "written JSON does not parse: %s: %.200s", err.message, out);
	FUZZ_CHECK(ecl_equal(v, again), "round trip changed the value: %.200s", out);
	FUZZ_CHECK(ecl_json_write(&ta.alloc, again, &out2, &len2, &err) == ECL_OK,
			   "second write failed: %s", err.message);
	FUZZ_CHECK(len2 == len && memcmp(out, out2, len) == 0,
			   "writing is not a fixed point: %.200s / %.200s", out, out2);
	FUZZ_CHECK(ecl_value_copy(&ta.alloc, v, &copy, &err) == ECL_OK, "copy failed: %s", err.message);
	FUZZ_CHECK(ecl_equal(v, copy), "copy differs");
	FUZZ_CHECK(ecl_json_write(&ta.alloc, copy, &out3, &len3, &err) == ECL_OK &&
			   len3 == len && memcmp(out, out3, len) == 0, "copy writes differently");
	FUZZ_CHECK(ecl_value_to_text(&ta.alloc, v, &text, &err) == ECL_OK,
			   "to_text failed: %s", err.message);
	FUZZ_CHECK(ecl_is_stringish(text), "to_text gave a %s", ecl_type_name(text.type));
done:
	test_alloc_release(&ta);
	free(src);
	return 0;
}
