/*
 * trace.c — what ecl.explain and `ecl explain` show of a trace event: its
 * name and its detail as JSON, written once here so the two agree by
 * construction.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ecl/opcodes.h"
#include "ecl/textbuf.h"
#include "ecl/vm.h"

static void
put_value(ecl_textbuf *b, ecl_value v, ecl_error *err)
{
	char	   *json;
	size_t		len;

	if (b->failed)
		return;
	if (ecl_json_write(b->alloc, v, &json, &len, err) != ECL_OK)
	{
		b->failed = true;
		return;
	}
	ecl_textbuf_put(b, json, len);
	ecl_free(b->alloc, json);
}

/* a C string as a JSON string, NULL as null */
static void
put_text(ecl_textbuf *b, const char *s, ecl_error *err)
{
	ecl_value	v;

	if (s == NULL)
	{
		ecl_textbuf_puts(b, "null");
		return;
	}
	if (ecl_string_new(b->alloc, s, strlen(s), &v, err) != ECL_OK)
	{
		b->failed = true;
		return;
	}
	put_value(b, v, err);
}

static const char *
yes_no(bool b)
{
	return b ? "true" : "false";
}

const char *
ecl_trace_event_name(const ecl_trace_event *ev)
{
	switch (ev->kind)
	{
		case ECL_TRACE_REQUIRE:
			return "require";
		case ECL_TRACE_BRANCH:
			return "branch";
		case ECL_TRACE_SHORT_CIRCUIT:
			return ev->op == ECL_OP_AND ? "and" : "or";
		case ECL_TRACE_HOST_CALL:
			return "host_call";
		case ECL_TRACE_RETURN:
			return "return";
		case ECL_TRACE_DENY:
			return "deny";
	}
	return "?";
}

/* The ECL name of a host instruction (load_trust, has_credential, ...). */
static const char *
function_name(ecl_opcode op)
{
	for (int i = 0; i < ecl_builtin_count; i++)
		if (ecl_builtin_table[i].op == op)
			return ecl_builtin_table[i].name;
	return ecl_opcode_table[op].name;
}

ecl_status
ecl_trace_event_detail(const ecl_alloc *a, const ecl_trace_event *ev,
					   char **json, size_t *len, ecl_error *err)
{
	ecl_textbuf b;

	ecl_textbuf_init(&b, a);
	ecl_error_clear(err);
	switch (ev->kind)
	{
		case ECL_TRACE_REQUIRE:
			ecl_textbuf_puts(&b, "{\"passed\": ");
			ecl_textbuf_puts(&b, yes_no(ev->passed));
			ecl_textbuf_puts(&b, ", \"value\": ");
			put_value(&b, ev->value, err);
			ecl_textbuf_puts(&b, ", \"message\": ");
			put_text(&b, ev->message, err);
			ecl_textbuf_puts(&b, "}");
			break;
		case ECL_TRACE_BRANCH:
			/* a jump on false skips the then-branch */
			ecl_textbuf_puts(&b, "{\"condition\": ");
			ecl_textbuf_puts(&b, yes_no(ev->value.u.b));
			ecl_textbuf_puts(&b, ", \"taken\": ");
			ecl_textbuf_puts(&b, ev->jumped == (ev->op == ECL_OP_JUMP_IF_FALSE) ? "\"else\"}" : "\"then\"}");
			break;
		case ECL_TRACE_SHORT_CIRCUIT:
			ecl_textbuf_puts(&b, "{\"left\": ");
			put_value(&b, ev->value, err);
			ecl_textbuf_puts(&b, ", \"short_circuit\": ");
			ecl_textbuf_puts(&b, yes_no(ev->jumped));
			ecl_textbuf_puts(&b, "}");
			break;
		case ECL_TRACE_HOST_CALL:
			ecl_textbuf_puts(&b, "{\"function\": ");
			put_text(&b, function_name(ev->op), err);
			ecl_textbuf_puts(&b, ", \"args\": [");
			for (uint32_t i = 0; i < ev->nargs; i++)
			{
				if (i > 0)
					ecl_textbuf_puts(&b, ", ");
				put_value(&b, ev->args[i], err);
			}
			ecl_textbuf_puts(&b, "], \"result\": ");
			put_value(&b, ev->value, err);
			if (ev->failed)
				ecl_textbuf_puts(&b, ", \"failed\": true");
			ecl_textbuf_puts(&b, "}");
			break;
		case ECL_TRACE_RETURN:
			ecl_textbuf_puts(&b, "{\"passed\": ");
			ecl_textbuf_puts(&b, yes_no(ev->passed));
			ecl_textbuf_puts(&b, ", \"value\": ");
			put_value(&b, ev->value, err);
			ecl_textbuf_puts(&b, "}");
			break;
		case ECL_TRACE_DENY:
			ecl_textbuf_puts(&b, "{\"message\": ");
			put_text(&b, ev->message, err);
			ecl_textbuf_puts(&b, "}");
			break;
	}
	if (b.failed || b.data == NULL)
	{
		ecl_free(a, b.data);
		if (err->code == ECL_ERR_NONE)
			return ecl_error_set(err, ECL_ERR_RESOURCE, ev->line, ev->column,
								 "cannot describe a trace event: out of memory");
		return ECL_FAIL;
	}
	*json = b.data;
	*len = b.len;
	return ECL_OK;
}
