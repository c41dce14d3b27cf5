/*
 * test_value.c — values: truthiness, equality, formatting, operators, copy,
 * objects (docs/language.md §3, §4).
 */
#include <math.h>

#include <stdlib.h>

#include "ecl/opcodes.h"
#include "ecl/value.h"
#include "test_host.h"
#include "unit.h"

static ecl_value
J(test_alloc *ta, const char *json)
{
	ecl_value	v = ecl_null();
	ecl_error	err;

	if (ecl_json_parse(&ta->alloc, json, strlen(json), &v, &err) != ECL_OK)
	{
		fprintf(stderr, "bad JSON in test: %s (%s)\n", json, err.message);
		abort();
	}
	return v;
}

static const char *
fmt(double d, char *buf)
{
	ecl_format_number(d, buf);
	return buf;
}

UNIT_TEST(value_truthiness)
{
	test_alloc	ta;

	test_alloc_init(&ta);
	UNIT_ASSERT(!ecl_truthy(ecl_null()));
	UNIT_ASSERT(!ecl_truthy(ecl_bool(false)));
	UNIT_ASSERT(ecl_truthy(ecl_bool(true)));
	UNIT_ASSERT(!ecl_truthy(ecl_number(0)));
	UNIT_ASSERT(!ecl_truthy(ecl_number(-0.0)));
	UNIT_ASSERT(ecl_truthy(ecl_number(0.001)));
	UNIT_ASSERT(!ecl_truthy(J(&ta, "\"\"")));
	UNIT_ASSERT(ecl_truthy(J(&ta, "\"x\"")));
	UNIT_ASSERT(!ecl_truthy(J(&ta, "[]")));
	UNIT_ASSERT(ecl_truthy(J(&ta, "[0]")));
	UNIT_ASSERT(ecl_truthy(J(&ta, "{}")));
	{
		double		zero[6] = {0};
		ecl_value	t;
		ecl_error	err;

		UNIT_ASSERT(ecl_trust_new(&ta.alloc, zero, &t, &err) == ECL_OK);
		UNIT_ASSERT(ecl_truthy(t));
	}
	test_alloc_release(&ta);
}

UNIT_TEST(value_equality)
{
	test_alloc	ta;
	ecl_value	did;
	ecl_error	err;

	test_alloc_init(&ta);
	UNIT_ASSERT(ecl_equal(ecl_number(1), J(&ta, "1.0")));
	UNIT_ASSERT(ecl_equal(ecl_number(0), ecl_number(-0.0)));
	UNIT_ASSERT(!ecl_equal(ecl_number(1), ecl_bool(true)));
	UNIT_ASSERT(!ecl_equal(ecl_number(0), ecl_null()));
	UNIT_ASSERT(!ecl_equal(J(&ta, "\"\""), ecl_null()));
	UNIT_ASSERT(ecl_equal(ecl_null(), ecl_null()));
	UNIT_ASSERT(ecl_equal(J(&ta, "\"abc\""), J(&ta, "\"abc\"")));
	UNIT_ASSERT(!ecl_equal(J(&ta, "\"abc\""), J(&ta, "\"abd\"")));
	UNIT_ASSERT(ecl_did_new(&ta.alloc, "did:x", 5, &did, &err) == ECL_OK);
	UNIT_ASSERT(ecl_equal(did, J(&ta, "\"did:x\"")));
	UNIT_ASSERT(ecl_equal(J(&ta, "\"did:x\""), did));
	UNIT_ASSERT(!ecl_equal(did, J(&ta, "\"did:y\"")));
	UNIT_ASSERT(ecl_equal(J(&ta, "[1,[2,{\"a\":null}]]"), J(&ta, "[1,[2,{\"a\":null}]]")));
	UNIT_ASSERT(!ecl_equal(J(&ta, "[1,2]"), J(&ta, "[2,1]")));
	UNIT_ASSERT(!ecl_equal(J(&ta, "[1,2]"), J(&ta, "[1,2,3]")));
	/* objects: key order does not matter */
	UNIT_ASSERT(ecl_equal(J(&ta, "{\"a\":1,\"b\":2}"), J(&ta, "{\"b\":2,\"a\":1}")));
	UNIT_ASSERT(!ecl_equal(J(&ta, "{\"a\":1,\"b\":2}"), J(&ta, "{\"a\":1,\"c\":2}")));
	UNIT_ASSERT(!ecl_equal(J(&ta, "{\"a\":1}"), J(&ta, "{\"a\":1,\"b\":2}")));
	{
		double		d1[6] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6};
		double		d2[6] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.7};
		ecl_value	t1,
					t1b,
					t2;

		UNIT_ASSERT(ecl_trust_new(&ta.alloc, d1, &t1, &err) == ECL_OK);
		UNIT_ASSERT(ecl_trust_new(&ta.alloc, d1, &t1b, &err) == ECL_OK);
		UNIT_ASSERT(ecl_trust_new(&ta.alloc, d2, &t2, &err) == ECL_OK);
		UNIT_ASSERT(ecl_equal(t1, t1b));
		UNIT_ASSERT(!ecl_equal(t1, t2));
	}
	test_alloc_release(&ta);
}

UNIT_TEST(value_type_names)
{
	UNIT_ASSERT_EQ_STR(ecl_type_name(ECL_T_NULL), "null");
	UNIT_ASSERT_EQ_STR(ecl_type_name(ECL_T_BOOL), "bool");
	UNIT_ASSERT_EQ_STR(ecl_type_name(ECL_T_NUMBER), "number");
	UNIT_ASSERT_EQ_STR(ecl_type_name(ECL_T_STRING), "string");
	UNIT_ASSERT_EQ_STR(ecl_type_name(ECL_T_DID), "did");
	UNIT_ASSERT_EQ_STR(ecl_type_name(ECL_T_TRUST), "trust_vector");
	UNIT_ASSERT_EQ_STR(ecl_type_name(ECL_T_ARRAY), "array");
	UNIT_ASSERT_EQ_STR(ecl_type_name(ECL_T_OBJECT), "object");
}

UNIT_TEST(value_format_number)
{
	char		b[32];

	UNIT_ASSERT_EQ_STR(fmt(1, b), "1");
	UNIT_ASSERT_EQ_STR(fmt(-1, b), "-1");
	UNIT_ASSERT_EQ_STR(fmt(0, b), "0");
	UNIT_ASSERT_EQ_STR(fmt(-0.0, b), "0");
	UNIT_ASSERT_EQ_STR(fmt(0.5, b), "0.5");
	UNIT_ASSERT_EQ_STR(fmt(0.1, b), "0.1");
	UNIT_ASSERT_EQ_STR(fmt(0.1 + 0.2, b), "0.30000000000000004");
	UNIT_ASSERT_EQ_STR(fmt(1e300, b), "1e+300");
	UNIT_ASSERT_EQ_STR(fmt(1e-7, b), "1e-07");
	UNIT_ASSERT_EQ_STR(fmt(123456789012, b), "123456789012");
	UNIT_ASSERT_EQ_STR(fmt(9007199254740991.0, b), "9007199254740991");
	UNIT_ASSERT_EQ_STR(fmt(-9007199254740991.0, b), "-9007199254740991");
	/* 2^53 and above: shortest of 15/16/17 digits that reads back */
	UNIT_ASSERT_EQ_STR(fmt(9007199254740992.0, b), "9007199254740992");
	UNIT_ASSERT_EQ_STR(fmt(1152921504606846976.0, b), "1.152921504606847e+18");
	UNIT_ASSERT_EQ_STR(fmt(1e21, b), "1e+21");
	UNIT_ASSERT_EQ_STR(fmt(1.5, b), "1.5");
	UNIT_ASSERT_EQ_STR(fmt(2.0 / 3.0, b), "0.6666666666666666");
	/* subnormals have fewer digits: still the shortest text */
	UNIT_ASSERT_EQ_STR(fmt(5e-324, b), "5e-324");
	UNIT_ASSERT_EQ_STR(fmt(2.5e-320, b), "2.5e-320");
	UNIT_ASSERT_EQ_STR(fmt(-1e-310, b), "-1e-310");
	UNIT_ASSERT_EQ_STR(fmt(2.2250738585072014e-308, b), "2.2250738585072014e-308");
	UNIT_ASSERT_EQ_STR(fmt(1.7976931348623157e308, b), "1.7976931348623157e+308");
	/* every output reads back exactly */
	{
		double		samples[] = {0.3, 1.0 / 3, 123.456, 1e21, 1e-300, 3.14159265358979, 100.25};

		for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
		{
			fmt(samples[i], b);
			UNIT_ASSERT_MSG(strtod(b, NULL) == samples[i], "%s does not read back", b);
		}
	}
}

typedef struct binop_case
{
	int			op;
	const char *x;
	const char *y;
	const char *expect;			/* JSON of the result, or NULL for an error */
	ecl_error_code code;
	const char *message;
} binop_case;

UNIT_TEST(value_binary_operators)
{
	static const binop_case cases[] = {
		{ECL_OP_ADD, "1", "2", "3", ECL_ERR_NONE, NULL},
		{ECL_OP_ADD, "\"a\"", "\"b\"", "\"ab\"", ECL_ERR_NONE, NULL},
		{ECL_OP_ADD, "\"n=\"", "1.5", "\"n=1.5\"", ECL_ERR_NONE, NULL},
		{ECL_OP_ADD, "2", "\"x\"", "\"2x\"", ECL_ERR_NONE, NULL},
		{ECL_OP_ADD, "\"v:\"", "null", "\"v:null\"", ECL_ERR_NONE, NULL},
		{ECL_OP_ADD, "\"v:\"", "true", "\"v:true\"", ECL_ERR_NONE, NULL},
		{ECL_OP_ADD, "\"v:\"", "[1,{\"a\":\"b\"}]", "\"v:[1,{\\\"a\\\":\\\"b\\\"}]\"", ECL_ERR_NONE, NULL},
		{ECL_OP_ADD, "true", "1", NULL, ECL_ERR_TYPE, "cannot apply '+' to bool and number"},
		{ECL_OP_ADD, "[1]", "[2]", NULL, ECL_ERR_TYPE, "cannot apply '+' to array and array"},
		{ECL_OP_ADD, "1e308", "1e308", NULL, ECL_ERR_NUMERIC, "numeric overflow"},
		{ECL_OP_SUB, "5", "7", "-2", ECL_ERR_NONE, NULL},
		{ECL_OP_SUB, "\"a\"", "1", NULL, ECL_ERR_TYPE, "cannot apply '-' to string and number"},
		{ECL_OP_MUL, "3", "0.5", "1.5", ECL_ERR_NONE, NULL},
		{ECL_OP_MUL, "1e308", "10", NULL, ECL_ERR_NUMERIC, "numeric overflow"},
		{ECL_OP_MUL, "null", "2", NULL, ECL_ERR_TYPE, "cannot apply '*' to null and number"},
		{ECL_OP_DIV, "1", "4", "0.25", ECL_ERR_NONE, NULL},
		{ECL_OP_DIV, "1", "0", NULL, ECL_ERR_DIV_ZERO, "division by zero"},
		{ECL_OP_DIV, "0", "0", NULL, ECL_ERR_DIV_ZERO, "division by zero"},
		{ECL_OP_DIV, "1e308", "1e-10", NULL, ECL_ERR_NUMERIC, "numeric overflow"},
		{ECL_OP_MOD, "7", "3", "1", ECL_ERR_NONE, NULL},
		{ECL_OP_MOD, "-7", "3", "-1", ECL_ERR_NONE, NULL},
		{ECL_OP_MOD, "7.5", "2", "1.5", ECL_ERR_NONE, NULL},
		{ECL_OP_MOD, "7", "0", NULL, ECL_ERR_DIV_ZERO, "division by zero"},
		{ECL_OP_MOD, "{}", "0", NULL, ECL_ERR_TYPE, "cannot apply '%' to object and number"},
		{ECL_OP_EQ, "1", "1", "true", ECL_ERR_NONE, NULL},
		{ECL_OP_EQ, "1", "\"1\"", "false", ECL_ERR_NONE, NULL},
		{ECL_OP_EQ, "null", "false", "false", ECL_ERR_NONE, NULL},
		{ECL_OP_NE, "1", "\"1\"", "true", ECL_ERR_NONE, NULL},
		{ECL_OP_NE, "[1]", "[1]", "false", ECL_ERR_NONE, NULL},
		{ECL_OP_LT, "1", "2", "true", ECL_ERR_NONE, NULL},
		{ECL_OP_LT, "2", "2", "false", ECL_ERR_NONE, NULL},
		{ECL_OP_LE, "2", "2", "true", ECL_ERR_NONE, NULL},
		{ECL_OP_GT, "3", "2", "true", ECL_ERR_NONE, NULL},
		{ECL_OP_GE, "1", "2", "false", ECL_ERR_NONE, NULL},
		{ECL_OP_LT, "\"abc\"", "\"abd\"", "true", ECL_ERR_NONE, NULL},
		{ECL_OP_LT, "\"ab\"", "\"abc\"", "true", ECL_ERR_NONE, NULL},
		{ECL_OP_GT, "\"b\"", "\"abc\"", "true", ECL_ERR_NONE, NULL},
		{ECL_OP_LT, "\"Z\"", "\"a\"", "true", ECL_ERR_NONE, NULL},	/* bytewise */
		{ECL_OP_GE, "\"\"", "\"\"", "true", ECL_ERR_NONE, NULL},
		{ECL_OP_LT, "\"a\"", "1", NULL, ECL_ERR_TYPE, "cannot apply '<' to string and number"},
		{ECL_OP_LE, "null", "1", NULL, ECL_ERR_TYPE, "cannot apply '<=' to null and number"},
		{ECL_OP_GT, "true", "false", NULL, ECL_ERR_TYPE, "cannot apply '>' to bool and bool"},
		{ECL_OP_GE, "[]", "[]", NULL, ECL_ERR_TYPE, "cannot apply '>=' to array and array"},
	};
	test_alloc	ta;

	test_alloc_init(&ta);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		const binop_case *c = &cases[i];
		ecl_value	out;
		ecl_error	err;
		ecl_status	st;

		ecl_error_clear(&err);
		st = ecl_value_binary(&ta.alloc, c->op, J(&ta, c->x), J(&ta, c->y), &out, &err);
		if (c->expect)
		{
			char	   *json;
			size_t		len;

			UNIT_ASSERT_MSG(st == ECL_OK, "case %zu: %s", i, err.message);
			UNIT_ASSERT(ecl_json_write(&ta.alloc, out, &json, &len, &err) == ECL_OK);
			UNIT_ASSERT_MSG(strcmp(json, c->expect) == 0, "case %zu: got %s want %s", i, json, c->expect);
		}
		else
		{
			UNIT_ASSERT_MSG(st == ECL_FAIL, "case %zu should fail", i);
			UNIT_ASSERT_MSG(err.code == c->code, "case %zu: code %d", i, err.code);
			UNIT_ASSERT_EQ_STR(err.message, c->message);
		}
	}
	test_alloc_release(&ta);
}

UNIT_TEST(value_unary_operators)
{
	test_alloc	ta;
	ecl_value	out;
	ecl_error	err;

	test_alloc_init(&ta);
	UNIT_ASSERT(ecl_value_unary(&ta.alloc, ECL_OP_NEG, ecl_number(2), &out, &err) == ECL_OK);
	UNIT_ASSERT(out.type == ECL_T_NUMBER && out.u.num == -2);
	UNIT_ASSERT(ecl_value_unary(&ta.alloc, ECL_OP_NEG, J(&ta, "\"x\""), &out, &err) == ECL_FAIL);
	UNIT_ASSERT_EQ_INT(err.code, ECL_ERR_TYPE);
	UNIT_ASSERT_EQ_STR(err.message, "cannot apply unary '-' to string");
	UNIT_ASSERT(ecl_value_unary(&ta.alloc, ECL_OP_NOT, J(&ta, "[]"), &out, &err) == ECL_OK);
	UNIT_ASSERT(out.type == ECL_T_BOOL && out.u.b);
	UNIT_ASSERT(ecl_value_unary(&ta.alloc, ECL_OP_NOT, J(&ta, "{}"), &out, &err) == ECL_OK);
	UNIT_ASSERT(out.type == ECL_T_BOOL && !out.u.b);
	UNIT_ASSERT(ecl_value_unary(&ta.alloc, ECL_OP_TO_BOOL, J(&ta, "\"a\""), &out, &err) == ECL_OK);
	UNIT_ASSERT(out.type == ECL_T_BOOL && out.u.b);
	UNIT_ASSERT(ecl_value_unary(&ta.alloc, ECL_OP_ADD, ecl_number(1), &out, &err) == ECL_FAIL);
	test_alloc_release(&ta);
}

UNIT_TEST(value_to_text)
{
	test_alloc	ta;
	ecl_value	out,
				did;
	ecl_error	err;

	test_alloc_init(&ta);
	UNIT_ASSERT(ecl_value_to_text(&ta.alloc, J(&ta, "\"plain \\\"q\\\"\""), &out, &err) == ECL_OK);
	UNIT_ASSERT_EQ_STR(out.u.str->data, "plain \"q\"");
	UNIT_ASSERT(ecl_value_to_text(&ta.alloc, ecl_number(0.25), &out, &err) == ECL_OK);
	UNIT_ASSERT_EQ_STR(out.u.str->data, "0.25");
	UNIT_ASSERT(ecl_value_to_text(&ta.alloc, ecl_null(), &out, &err) == ECL_OK);
	UNIT_ASSERT_EQ_STR(out.u.str->data, "null");
	UNIT_ASSERT(ecl_value_to_text(&ta.alloc, ecl_bool(false), &out, &err) == ECL_OK);
	UNIT_ASSERT_EQ_STR(out.u.str->data, "false");
	UNIT_ASSERT(ecl_value_to_text(&ta.alloc, J(&ta, "{\"k\":[1,\"s\"]}"), &out, &err) == ECL_OK);
	UNIT_ASSERT_EQ_STR(out.u.str->data, "{\"k\":[1,\"s\"]}");
	UNIT_ASSERT(ecl_did_new(&ta.alloc, "did:key:z6Mk", 12, &did, &err) == ECL_OK);
	UNIT_ASSERT(ecl_value_to_text(&ta.alloc, did, &out, &err) == ECL_OK);
	UNIT_ASSERT(out.type == ECL_T_STRING);
	UNIT_ASSERT_EQ_STR(out.u.str->data, "did:key:z6Mk");
	test_alloc_release(&ta);
}

UNIT_TEST(value_copy_is_deep)
{
	test_alloc	src,
				dst;
	ecl_value	v,
				c;
	ecl_error	err;
	char	   *json;
	size_t		len;

	test_alloc_init(&src);
	test_alloc_init(&dst);
	v = J(&src, "{\"a\":[1,\"two\",{\"b\":null}],\"c\":true}");
	UNIT_ASSERT(ecl_value_copy(&dst.alloc, v, &c, &err) == ECL_OK);
	test_alloc_release(&src);	/* the copy must not point into src */
	UNIT_ASSERT(ecl_json_write(&dst.alloc, c, &json, &len, &err) == ECL_OK);
	UNIT_ASSERT_EQ_STR(json, "{\"a\":[1,\"two\",{\"b\":null}],\"c\":true}");
	test_alloc_release(&dst);
}

UNIT_TEST(value_object_set_get_grow_and_index)
{
	test_alloc	ta;
	ecl_value	obj;
	ecl_error	err;
	char		key[16];

	test_alloc_init(&ta);
	/* capacity 1, grown on demand; the hash index takes over at 16 keys */
	UNIT_ASSERT(ecl_object_new(&ta.alloc, 1, &obj, &err) == ECL_OK);
	for (int i = 0; i < 1000; i++)
	{
		int			n = snprintf(key, sizeof(key), "k%d", i);

		UNIT_ASSERT(ecl_object_set(&ta.alloc, &obj, key, (size_t) n, ecl_number(i), &err) == ECL_OK);
	}
	UNIT_ASSERT_EQ_INT(obj.u.obj->len, 1000);
	/* replacing keeps len and order */
	UNIT_ASSERT(ecl_object_set(&ta.alloc, &obj, "k7", 2, ecl_number(-7), &err) == ECL_OK);
	UNIT_ASSERT_EQ_INT(obj.u.obj->len, 1000);
	UNIT_ASSERT_EQ_STR(obj.u.obj->keys[7]->data, "k7");
	for (int i = 0; i < 1000; i++)
	{
		int			n = snprintf(key, sizeof(key), "k%d", i);
		const ecl_value *v = ecl_object_get(obj.u.obj, key, (size_t) n);

		UNIT_ASSERT_MSG(v != NULL, "key %s missing", key);
		UNIT_ASSERT(v->u.num == (i == 7 ? -7 : i));
	}
	UNIT_ASSERT(ecl_object_get(obj.u.obj, "k1000", 5) == NULL);
	UNIT_ASSERT(ecl_object_get(obj.u.obj, "k", 1) == NULL);
	test_alloc_release(&ta);
}

UNIT_TEST(value_constructor_limits)
{
	test_alloc	ta;
	ecl_value	v;
	ecl_error	err;

	test_alloc_init(&ta);
	UNIT_ASSERT(ecl_array_new(&ta.alloc, ECL_MAX_COLLECTION + 1, &v, &err) == ECL_FAIL);
	UNIT_ASSERT_EQ_INT(err.code, ECL_ERR_RESOURCE);
	UNIT_ASSERT(ecl_object_new(&ta.alloc, ECL_MAX_COLLECTION + 1, &v, &err) == ECL_FAIL);
	UNIT_ASSERT_EQ_INT(err.code, ECL_ERR_RESOURCE);
	UNIT_ASSERT(ecl_string_new(&ta.alloc, "", (size_t) ECL_MAX_STRING + 1, &v, &err) == ECL_FAIL);
	UNIT_ASSERT_EQ_INT(err.code, ECL_ERR_RESOURCE);
	/* allocation failure is an error value, not a crash */
	ta.fail_after = 0;
	UNIT_ASSERT(ecl_string_new(&ta.alloc, "abc", 3, &v, &err) == ECL_FAIL);
	UNIT_ASSERT_EQ_INT(err.code, ECL_ERR_RESOURCE);
	ta.fail_after = -1;
	UNIT_ASSERT(ecl_string_new(&ta.alloc, "a\0b", 3, &v, &err) == ECL_OK);
	UNIT_ASSERT_EQ_INT(v.u.str->len, 3);
	UNIT_ASSERT(v.u.str->data[3] == '\0');
	test_alloc_release(&ta);
}

UNIT_TEST(value_deep_nesting_is_bounded)
{
	test_alloc	ta;
	ecl_value	v = ecl_number(1),
				w = ecl_number(1),
				out;
	ecl_error	err;
	char	   *json;
	size_t		len;

	test_alloc_init(&ta);
	/* deeper than any walk may go: equality, copy and JSON stop cleanly */
	for (int i = 0; i < 5000; i++)
	{
		ecl_value	a,
					b;

		UNIT_ASSERT(ecl_array_new(&ta.alloc, 1, &a, &err) == ECL_OK);
		UNIT_ASSERT(ecl_array_new(&ta.alloc, 1, &b, &err) == ECL_OK);
		a.u.arr->items[0] = v;
		b.u.arr->items[0] = w;
		v = a;
		w = b;
	}
	UNIT_ASSERT(ecl_equal(v, v));
	UNIT_ASSERT(!ecl_equal(v, w));	/* too deep to compare: only identity */
	UNIT_ASSERT(ecl_value_copy(&ta.alloc, v, &out, &err) == ECL_FAIL);
	UNIT_ASSERT_EQ_INT(err.code, ECL_ERR_STACK);
	UNIT_ASSERT(ecl_json_write(&ta.alloc, v, &json, &len, &err) == ECL_FAIL);
	UNIT_ASSERT_EQ_INT(err.code, ECL_ERR_STACK);
	test_alloc_release(&ta);
}
