/*
 * test_json.c — strict JSON parsing and compact writing.
 */
#include <stdlib.h>

#include "ecl/value.h"
#include "test_host.h"
#include "unit.h"

/* parse then write; returns the written text or the error message */
static const char *
roundtrip(test_alloc *ta, const char *in, size_t inlen, ecl_error *err, char *buf, size_t bufsize)
{
	ecl_value	v;
	char	   *json;
	size_t		len;

	ecl_error_clear(err);
	if (ecl_json_parse(&ta->alloc, in, inlen, &v, err) != ECL_OK)
		return NULL;
	if (ecl_json_write(&ta->alloc, v, &json, &len, err) != ECL_OK)
		return NULL;
	snprintf(buf, bufsize, "%s", json);
	return buf;
}

UNIT_TEST(json_round_trips)
{
	static const char *const cases[][2] = {
		{"null", "null"},
		{" true ", "true"},
		{"false", "false"},
		{"0", "0"},
		{"-0", "0"},
		{"1.5e3", "1500"},
		{"-12.25", "-12.25"},
		{"1E-2", "0.01"},
		{"1e400000000000000000000000000000000000000000000000000000000000", NULL},
		{"[]", "[]"},
		{"{}", "{}"},
		{"[1, 2 ,3]", "[1,2,3]"},
		{"{\"a\" : {\"b\": [true, null]}, \"c\": \"d\"}", "{\"a\":{\"b\":[true,null]},\"c\":\"d\"}"},
		{"\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t\"", "\"esc \\\" \\\\ / \\b \\f \\n \\r \\t\""},
		{"\"\\u0041\\u00e9\\u20ac\"", "\"A\xc3\xa9\xe2\x82\xac\""},
		{"\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\""},
		{"\"\\u0001\"", "\"\\u0001\""},
		{"\"\xc3\xa9 raw UTF-8\"", "\"\xc3\xa9 raw UTF-8\""},
		{"{\"k\":1,\"k\":2}", "{\"k\":2}"},	/* duplicate: last wins */
		{"1e-400", "0"},		/* underflow is not overflow */
	};
	test_alloc	ta;
	char		buf[256];
	ecl_error	err;

	test_alloc_init(&ta);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		const char *got = roundtrip(&ta, cases[i][0], strlen(cases[i][0]), &err, buf, sizeof(buf));

		if (cases[i][1] == NULL)
		{
			UNIT_ASSERT_MSG(got == NULL, "case %zu should fail", i);
			continue;
		}
		UNIT_ASSERT_MSG(got != NULL, "case %zu: %s", i, err.message);
		UNIT_ASSERT_EQ_STR(got, cases[i][1]);
	}
	test_alloc_release(&ta);
}

UNIT_TEST(json_rejects)
{
	static const char *const bad[] = {
		"", " ", "nul", "tru", "01", "1.", ".5", "-", "+1", "1e", "1e+", "0x10",
		"[1,]", "[1 2]", "{\"a\"}", "{\"a\":}", "{a:1}", "{\"a\":1,}", "{,}", "[",
		"\"unterminated", "\"bad \\x escape\"", "\"\\u12\"", "\"\\u12G4\"",
		"\"tab\there\"", "\"nl\nhere\"",
		"\"\\ud800\"", "\"\\ud800x\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
		"\"\xff\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xe2\x82\"",
		"1 2", "[] x", "NaN", "Infinity", "-Infinity", "1e309", "-1e309", "'s'",
	};
	test_alloc	ta;
	ecl_value	v;
	ecl_error	err;

	test_alloc_init(&ta);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		ecl_error_clear(&err);
		UNIT_ASSERT_MSG(ecl_json_parse(&ta.alloc, bad[i], strlen(bad[i]), &v, &err) == ECL_FAIL,
						"accepted bad JSON #%zu: %s", i, bad[i]);
		UNIT_ASSERT_EQ_INT(err.code, ECL_ERR_INVALID_ARG);
		UNIT_ASSERT(strncmp(err.message, "invalid JSON", 12) == 0);
	}
	/* a NUL byte inside the given length is not the end of the text */
	UNIT_ASSERT(ecl_json_parse(&ta.alloc, "1\0", 2, &v, &err) == ECL_FAIL);
	/* the text need not be NUL-terminated: only len bytes are read */
	UNIT_ASSERT(ecl_json_parse(&ta.alloc, "123456", 3, &v, &err) == ECL_OK);
	UNIT_ASSERT(v.u.num == 123);
	UNIT_ASSERT(ecl_json_parse(&ta.alloc, "\"abc\"", 4, &v, &err) == ECL_FAIL);
	test_alloc_release(&ta);
}

UNIT_TEST(json_error_messages)
{
	test_alloc	ta;
	ecl_value	v;
	ecl_error	err;

	test_alloc_init(&ta);
	UNIT_ASSERT(ecl_json_parse(&ta.alloc, "[1,]", 4, &v, &err) == ECL_FAIL);
	UNIT_ASSERT_EQ_STR(err.message, "invalid JSON at offset 3: expected a value");
	UNIT_ASSERT(ecl_json_parse(&ta.alloc, "1e999", 5, &v, &err) == ECL_FAIL);
	UNIT_ASSERT_EQ_STR(err.message, "invalid JSON at offset 0: number out of range");
	UNIT_ASSERT(ecl_json_parse(&ta.alloc, "[1", 2, &v, &err) == ECL_FAIL);
	UNIT_ASSERT_EQ_STR(err.message, "invalid JSON: expected ',' or ']' in array, found end of input");
	UNIT_ASSERT(ecl_json_parse(&ta.alloc, "\"\\udc00\"", 8, &v, &err) == ECL_FAIL);
	UNIT_ASSERT(strstr(err.message, "surrogate") != NULL);
	test_alloc_release(&ta);
}

UNIT_TEST(json_nesting_limit)
{
	test_alloc	ta;
	ecl_value	v;
	ecl_error	err;
	char		buf[2 * (ECL_MAX_NESTING + 1) + 1];

	test_alloc_init(&ta);
	/* exactly ECL_MAX_NESTING levels parse */
	memset(buf, '[', ECL_MAX_NESTING);
	memset(buf + ECL_MAX_NESTING, ']', ECL_MAX_NESTING);
	UNIT_ASSERT(ecl_json_parse(&ta.alloc, buf, 2 * ECL_MAX_NESTING, &v, &err) == ECL_OK);
	/* one more is rejected */
	memset(buf, '[', ECL_MAX_NESTING + 1);
	memset(buf + ECL_MAX_NESTING + 1, ']', ECL_MAX_NESTING + 1);
	UNIT_ASSERT(ecl_json_parse(&ta.alloc, buf, 2 * (ECL_MAX_NESTING + 1), &v, &err) == ECL_FAIL);
	UNIT_ASSERT_EQ_INT(err.code, ECL_ERR_INVALID_ARG);
	UNIT_ASSERT(strstr(err.message, "nesting deeper than 256") != NULL);
	/* objects count too */
	{
		char		obj[8 * 300];
		size_t		n = 0;

		for (int i = 0; i < 300; i++)
			n += (size_t) sprintf(obj + n, "{\"a\":");
		obj[n++] = '1';
		for (int i = 0; i < 300; i++)
			obj[n++] = '}';
		UNIT_ASSERT(ecl_json_parse(&ta.alloc, obj, n, &v, &err) == ECL_FAIL);
	}
	test_alloc_release(&ta);
}

UNIT_TEST(json_write_did_and_trust)
{
	test_alloc	ta;
	ecl_value	arr,
				did,
				tv;
	ecl_error	err;
	double		dims[6] = {0.5, 0.25, 1, 0, 0.125, 0.75};
	char	   *json;
	size_t		len;

	test_alloc_init(&ta);
	UNIT_ASSERT(ecl_did_new(&ta.alloc, "did:key:z\"q", 11, &did, &err) == ECL_OK);
	UNIT_ASSERT(ecl_trust_new(&ta.alloc, dims, &tv, &err) == ECL_OK);
	UNIT_ASSERT(ecl_array_new(&ta.alloc, 2, &arr, &err) == ECL_OK);
	arr.u.arr->items[0] = did;
	arr.u.arr->items[1] = tv;
	UNIT_ASSERT(ecl_json_write(&ta.alloc, arr, &json, &len, &err) == ECL_OK);
	UNIT_ASSERT_EQ_STR(json, "[\"did:key:z\\\"q\",{\"r\":0.5,\"i\":0.25,\"c\":1,\"p\":0,\"v\":0.125,\"omega\":0.75}]");
	UNIT_ASSERT_EQ_INT(len, strlen(json));
	test_alloc_release(&ta);
}

UNIT_TEST(json_large_object_and_array)
{
	test_alloc	ta;
	ecl_value	v;
	ecl_error	err;
	size_t		cap = 64 * 5000;
	char	   *text = malloc(cap);
	size_t		n = 0;
	const ecl_value *f;

	test_alloc_init(&ta);
	text[n++] = '{';
	for (int i = 0; i < 5000; i++)
		n += (size_t) snprintf(text + n, cap - n, "%s\"key%d\":[%d]", i ? "," : "", i, i);
	text[n++] = '}';
	UNIT_ASSERT(ecl_json_parse(&ta.alloc, text, n, &v, &err) == ECL_OK);
	UNIT_ASSERT_EQ_INT(v.u.obj->len, 5000);
	f = ecl_object_get(v.u.obj, "key4321", 7);
	UNIT_ASSERT(f != NULL && f->type == ECL_T_ARRAY && f->u.arr->items[0].u.num == 4321);
	UNIT_ASSERT_EQ_STR(v.u.obj->keys[4999]->data, "key4999");
	free(text);
	test_alloc_release(&ta);
}
