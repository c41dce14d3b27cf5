/*
 * json.c — strict JSON (RFC 8259) to ECL values and back.
 *
 * The parser never reads past len (the text need not be NUL-terminated),
 * validates UTF-8 up front, rejects lone surrogates in \u escapes, nesting
 * deeper than ECL_MAX_NESTING and numbers outside the double range.
 * Duplicate object keys are allowed; the last one wins.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ecl/value.h"
#include "value_util.h"

typedef struct json_parser
{
	const ecl_alloc *alloc;
	const char *s;
	size_t		len;
	size_t		pos;
	ecl_error  *err;
	bool		keep_huge;		/* out-of-range numbers read as +-HUGE_VAL */
} json_parser;

static ecl_status
parse_value(json_parser *p, ecl_value *out, int depth);

static ecl_status
syntax_error(json_parser *p, const char *what)
{
	if (p->pos >= p->len)
		return ecl_error_set(p->err, ECL_ERR_INVALID_ARG, 0, 0,
							 "invalid JSON: %s, found end of input", what);
	return ecl_error_set(p->err, ECL_ERR_INVALID_ARG, 0, 0,
						 "invalid JSON at offset %zu: %s", p->pos, what);
}

static void
skip_ws(json_parser *p)
{
	while (p->pos < p->len)
	{
		char		c = p->s[p->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static bool
match_word(json_parser *p, const char *word)
{
	size_t		n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return false;
	p->pos += n;
	return true;
}

/* reads XXXX after "\u"; -1 when malformed */
static int32_t
read_hex4(json_parser *p)
{
	int32_t		v = ecl_hex4(p->s + p->pos, p->len - p->pos);

	if (v >= 0)
		p->pos += 4;
	return v;
}

/*
 * Parse a string starting at the opening quote.  The decoded text is never
 * longer than the raw text, so one buffer of the raw length suffices.
 */
static ecl_status
parse_string(json_parser *p, ecl_value *out)
{
	size_t		start = ++p->pos;	/* after the quote */
	size_t		end = start;
	bool		escaped = false;
	char	   *buf;
	size_t		n = 0;
	ecl_status	st;

	while (end < p->len && p->s[end] != '"')
	{
		unsigned char c = (unsigned char) p->s[end];

		if (c < 0x20)
		{
			p->pos = end;
			return syntax_error(p, "control character in string");
		}
		if (c == '\\')
		{
			escaped = true;
			end++;
			if (end >= p->len)
				break;
		}
		end++;
	}
	if (end >= p->len)
	{
		p->pos = p->len;
		return syntax_error(p, "unterminated string");
	}
	if (!escaped)
	{
		p->pos = end + 1;
		return ecl_string_new(p->alloc, p->s + start, end - start, out, p->err);
	}

	buf = ecl_malloc(p->alloc, end - start);
	if (buf == NULL)
		return ecl_alloc_failed(p->alloc, p->err, "parsing JSON");
	while (p->pos < end)
	{
		char		c = p->s[p->pos];
		int32_t		cp;

		if (c != '\\')
		{
			buf[n++] = c;
			p->pos++;
			continue;
		}
		p->pos++;
		c = p->s[p->pos++];
		switch (c)
		{
			case '"':
			case '\\':
			case '/':
				buf[n++] = c;
				break;
			case 'b':
				buf[n++] = '\b';
				break;
			case 'f':
				buf[n++] = '\f';
				break;
			case 'n':
				buf[n++] = '\n';
				break;
			case 'r':
				buf[n++] = '\r';
				break;
			case 't':
				buf[n++] = '\t';
				break;
			case 'u':
				cp = read_hex4(p);
				if (cp < 0 || p->pos > end)
				{
					ecl_free(p->alloc, buf);
					return syntax_error(p, "malformed \\u escape");
				}
				if (cp >= 0xDC00 && cp <= 0xDFFF)
				{
					ecl_free(p->alloc, buf);
					return syntax_error(p, "lone low surrogate in \\u escape");
				}
				if (cp >= 0xD800 && cp <= 0xDBFF)
				{
					int32_t		lo;

					if (end - p->pos < 6 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
					{
						ecl_free(p->alloc, buf);
						return syntax_error(p, "lone high surrogate in \\u escape");
					}
					p->pos += 2;
					lo = read_hex4(p);
					if (lo < 0xDC00 || lo > 0xDFFF)
					{
						ecl_free(p->alloc, buf);
						return syntax_error(p, "high surrogate not followed by a low surrogate");
					}
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				}
				n += ecl_utf8_encode((uint32_t) cp, buf + n);
				break;
			default:
				p->pos--;
				ecl_free(p->alloc, buf);
				return syntax_error(p, "invalid escape in string");
		}
	}
	p->pos = end + 1;
	st = ecl_string_new(p->alloc, buf, n, out, p->err);
	ecl_free(p->alloc, buf);
	return st;
}

static bool
is_digit(json_parser *p, size_t at)
{
	return at < p->len && p->s[at] >= '0' && p->s[at] <= '9';
}

static ecl_status
parse_number(json_parser *p, ecl_value *out)
{
	size_t		start = p->pos;
	size_t		i = p->pos;
	char		small[64];
	char	   *text;
	double		d;

	if (i < p->len && p->s[i] == '-')
		i++;
	if (!is_digit(p, i))
	{
		p->pos = i;
		return syntax_error(p, "expected a digit");
	}
	if (p->s[i] == '0')
		i++;
	else
		while (is_digit(p, i))
			i++;
	if (i < p->len && p->s[i] == '.')
	{
		i++;
		if (!is_digit(p, i))
		{
			p->pos = i;
			return syntax_error(p, "expected a digit after '.'");
		}
		while (is_digit(p, i))
			i++;
	}
	if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E'))
	{
		i++;
		if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
			i++;
		if (!is_digit(p, i))
		{
			p->pos = i;
			return syntax_error(p, "expected a digit in exponent");
		}
		while (is_digit(p, i))
			i++;
	}

	/* strtod needs a NUL-terminated copy */
	if (i - start < sizeof(small))
		text = small;
	else if ((text = ecl_malloc(p->alloc, i - start + 1)) == NULL)
		return ecl_alloc_failed(p->alloc, p->err, "parsing JSON");
	memcpy(text, p->s + start, i - start);
	text[i - start] = '\0';
	d = strtod(text, NULL);
	if (text != small)
		ecl_free(p->alloc, text);
	if (!isfinite(d) && !p->keep_huge)
	{
		p->pos = start;
		return syntax_error(p, "number out of range");
	}
	p->pos = i;
	*out = ecl_number(d);
	return ECL_OK;
}

static ecl_status
parse_array(json_parser *p, ecl_value *out, int depth)
{
	ecl_value  *items = NULL;
	uint32_t	n = 0,
				cap = 0;
	ecl_status	st = ECL_FAIL;

	p->pos++;					/* '[' */
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == ']')
	{
		p->pos++;
		return ecl_array_new(p->alloc, 0, out, p->err);
	}
	for (;;)
	{
		ecl_value	item;

		skip_ws(p);
		if (parse_value(p, &item, depth + 1) != ECL_OK)
			goto done;
		if (n == cap)
		{
			uint32_t	ncap = cap ? cap * 2 : 8;
			ecl_value  *nitems;

			if (n >= ECL_MAX_COLLECTION)
			{
				ecl_error_set(p->err, ECL_ERR_RESOURCE, 0, 0,
							  "JSON array exceeds the limit of %u elements",
							  ECL_MAX_COLLECTION);
				goto done;
			}
			/* realloc of NULL is not portable across allocators (repalloc) */
			nitems = items == NULL
				? ecl_malloc(p->alloc, (size_t) ncap * sizeof(ecl_value))
				: ecl_realloc(p->alloc, items, (size_t) cap * sizeof(ecl_value),
							  (size_t) ncap * sizeof(ecl_value));
			if (nitems == NULL)
			{
				ecl_alloc_failed(p->alloc, p->err, "parsing JSON");
				goto done;
			}
			items = nitems;
			cap = ncap;
		}
		items[n++] = item;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',')
		{
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == ']')
		{
			p->pos++;
			break;
		}
		syntax_error(p, "expected ',' or ']' in array");
		goto done;
	}
	if (ecl_array_new(p->alloc, n, out, p->err) != ECL_OK)
		goto done;
	memcpy(out->u.arr->items, items, (size_t) n * sizeof(ecl_value));
	st = ECL_OK;
done:
	ecl_free(p->alloc, items);
	return st;
}

static ecl_status
parse_object(json_parser *p, ecl_value *out, int depth)
{
	p->pos++;					/* '{' */
	if (ecl_object_new(p->alloc, 4, out, p->err) != ECL_OK)
		return ECL_FAIL;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == '}')
	{
		p->pos++;
		return ECL_OK;
	}
	for (;;)
	{
		ecl_value	key,
					val;

		skip_ws(p);
		if (p->pos >= p->len || p->s[p->pos] != '"')
			return syntax_error(p, "expected a string key in object");
		if (parse_string(p, &key) != ECL_OK)
			return ECL_FAIL;
		skip_ws(p);
		if (p->pos >= p->len || p->s[p->pos] != ':')
			return syntax_error(p, "expected ':' after object key");
		p->pos++;
		skip_ws(p);
		if (parse_value(p, &val, depth + 1) != ECL_OK)
			return ECL_FAIL;
		if (ecl_object_set(p->alloc, out, key.u.str->data, key.u.str->len, val,
						   p->err) != ECL_OK)
			return ECL_FAIL;
		ecl_free(p->alloc, key.u.str);
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',')
		{
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == '}')
		{
			p->pos++;
			return ECL_OK;
		}
		return syntax_error(p, "expected ',' or '}' in object");
	}
}

static ecl_status
parse_value(json_parser *p, ecl_value *out, int depth)
{
	if (p->pos >= p->len)
		return syntax_error(p, "expected a value");
	switch (p->s[p->pos])
	{
		case '{':
		case '[':
			if (depth >= ECL_MAX_NESTING)
				return ecl_error_set(p->err, ECL_ERR_INVALID_ARG, 0, 0,
									 "invalid JSON at offset %zu: nesting deeper than %d levels",
									 p->pos, ECL_MAX_NESTING);
			return p->s[p->pos] == '{' ? parse_object(p, out, depth)
				: parse_array(p, out, depth);
		case '"':
			return parse_string(p, out);
		case 't':
			if (!match_word(p, "true"))
				return syntax_error(p, "expected a value");
			*out = ecl_bool(true);
			return ECL_OK;
		case 'f':
			if (!match_word(p, "false"))
				return syntax_error(p, "expected a value");
			*out = ecl_bool(false);
			return ECL_OK;
		case 'n':
			if (!match_word(p, "null"))
				return syntax_error(p, "expected a value");
			*out = ecl_null();
			return ECL_OK;
		default:
			if (p->s[p->pos] == '-' || (p->s[p->pos] >= '0' && p->s[p->pos] <= '9'))
				return parse_number(p, out);
			return syntax_error(p, "expected a value");
	}
}

static ecl_status
json_parse(const ecl_alloc *a, const char *text, size_t len, bool keep_huge,
		   ecl_value *out, ecl_error *err)
{
	json_parser p = {a, text, len, 0, err, keep_huge};

	if (!ecl_utf8_valid(text, len))
		return ecl_error_set(err, ECL_ERR_INVALID_ARG, 0, 0, "invalid JSON: text is not valid UTF-8");
	skip_ws(&p);
	if (parse_value(&p, out, 0) != ECL_OK)
		return ECL_FAIL;
	skip_ws(&p);
	if (p.pos != len)
		return syntax_error(&p, "unexpected text after the value");
	return ECL_OK;
}

ecl_status
ecl_json_parse(const ecl_alloc *a, const char *text, size_t len,
			   ecl_value *out, ecl_error *err)
{
	return json_parse(a, text, len, false, out, err);
}

ecl_status
ecl_json_parse_keep_huge(const ecl_alloc *a, const char *text, size_t len,
						 ecl_value *out, ecl_error *err)
{
	return json_parse(a, text, len, true, out, err);
}

/* ---------------------------------------------------------------- output */

/*
 * A buffer that grows, or (count_only) a counter: ecl_json_size walks the
 * value with the same writer, so the size it reports is the length of
 * ecl_json_write's text by construction.  A counter stops at cap.
 */
typedef struct json_buf
{
	const ecl_alloc *alloc;
	char	   *data;
	size_t		len;
	size_t		cap;
	ecl_error  *err;
	bool		count_only;
} json_buf;

static ecl_status
buf_reserve(json_buf *b, size_t more)
{
	size_t		ncap;
	char	   *nd;

	if (b->count_only)
	{
		if (b->len + more <= b->cap)
			return ECL_OK;
		b->len = b->cap + 1;	/* "beyond cap", told apart from too deep */
		return ECL_FAIL;
	}
	if (b->len + more + 1 <= b->cap)
		return ECL_OK;
	if (b->len + more > ECL_MAX_STRING)
		return ecl_error_set(b->err, ECL_ERR_RESOURCE, 0, 0,
							 "JSON text exceeds the limit of %u bytes", ECL_MAX_STRING);
	ncap = b->cap ? b->cap : 64;
	while (ncap < b->len + more + 1)
		ncap *= 2;
	nd = b->data == NULL ? ecl_malloc(b->alloc, ncap)
		: ecl_realloc(b->alloc, b->data, b->cap, ncap);
	if (nd == NULL)
		return ecl_alloc_failed(b->alloc, b->err, "writing JSON");
	b->data = nd;
	b->cap = ncap;
	return ECL_OK;
}

static ecl_status
buf_put(json_buf *b, const char *s, size_t n)
{
	if (buf_reserve(b, n) != ECL_OK)
		return ECL_FAIL;
	if (b->count_only)
	{
		b->len += n;
		return ECL_OK;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	return ECL_OK;
}

static ecl_status
write_string(json_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	if (b->count_only)
	{
		size_t		len = 2;

		for (size_t i = 0; i < n; i++)
		{
			unsigned char c = (unsigned char) s[i];

			len += (c == '"' || c == '\\' || c == '\n' || c == '\r' ||
					c == '\t' || c == '\b' || c == '\f') ? 2 : c < 0x20 ? 6 : 1;
		}
		if (buf_reserve(b, len) != ECL_OK)
			return ECL_FAIL;
		b->len += len;
		return ECL_OK;
	}
	/* worst case every byte becomes \u00XX */
	if (buf_reserve(b, n * 6 + 2) != ECL_OK)
		return ECL_FAIL;
	b->data[b->len++] = '"';
	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];
		char	   *d = b->data + b->len;

		switch (c)
		{
			case '"':
				memcpy(d, "\\\"", 2);
				b->len += 2;
				break;
			case '\\':
				memcpy(d, "\\\\", 2);
				b->len += 2;
				break;
			case '\n':
				memcpy(d, "\\n", 2);
				b->len += 2;
				break;
			case '\r':
				memcpy(d, "\\r", 2);
				b->len += 2;
				break;
			case '\t':
				memcpy(d, "\\t", 2);
				b->len += 2;
				break;
			case '\b':
				memcpy(d, "\\b", 2);
				b->len += 2;
				break;
			case '\f':
				memcpy(d, "\\f", 2);
				b->len += 2;
				break;
			default:
				if (c < 0x20)
				{
					memcpy(d, "\\u00", 4);
					d[4] = hex[c >> 4];
					d[5] = hex[c & 15];
					b->len += 6;
				}
				else
					b->data[b->len++] = (char) c;
		}
	}
	b->data[b->len++] = '"';
	return ECL_OK;
}

static ecl_status
write_number(json_buf *b, double d)
{
	char		tmp[32];
	int			n = ecl_format_number(d, tmp);

	return buf_put(b, tmp, (size_t) n);
}

static ecl_status
write_value(json_buf *b, ecl_value v, int depth)
{
	static const char *const trust_keys[ECL_TRUST_DIMS] = {
		"\"r\":", "\"i\":", "\"c\":", "\"p\":", "\"v\":", "\"omega\":"
	};

	if (depth > ECL_MAX_WALK_DEPTH)
		return ecl_error_set(b->err, ECL_ERR_STACK, 0, 0,
							 "value nested deeper than %d levels", ECL_MAX_WALK_DEPTH);
	switch ((ecl_type) v.type)
	{
		case ECL_T_NULL:
			return buf_put(b, "null", 4);
		case ECL_T_BOOL:
			return v.u.b ? buf_put(b, "true", 4) : buf_put(b, "false", 5);
		case ECL_T_NUMBER:
			return write_number(b, v.u.num);
		case ECL_T_STRING:
		case ECL_T_DID:
			return write_string(b, v.u.str->data, v.u.str->len);
		case ECL_T_TRUST:
			if (buf_put(b, "{", 1) != ECL_OK)
				return ECL_FAIL;
			for (int i = 0; i < ECL_TRUST_DIMS; i++)
			{
				if ((i > 0 && buf_put(b, ",", 1) != ECL_OK) ||
					buf_put(b, trust_keys[i], strlen(trust_keys[i])) != ECL_OK ||
					write_number(b, v.u.trust->dim[i]) != ECL_OK)
					return ECL_FAIL;
			}
			return buf_put(b, "}", 1);
		case ECL_T_ARRAY:
			if (buf_put(b, "[", 1) != ECL_OK)
				return ECL_FAIL;
			for (uint32_t i = 0; i < v.u.arr->len; i++)
			{
				if ((i > 0 && buf_put(b, ",", 1) != ECL_OK) ||
					write_value(b, v.u.arr->items[i], depth + 1) != ECL_OK)
					return ECL_FAIL;
			}
			return buf_put(b, "]", 1);
		case ECL_T_OBJECT:
			if (buf_put(b, "{", 1) != ECL_OK)
				return ECL_FAIL;
			for (uint32_t i = 0; i < v.u.obj->len; i++)
			{
				const ecl_string *k = v.u.obj->keys[i];

				if ((i > 0 && buf_put(b, ",", 1) != ECL_OK) ||
					write_string(b, k->data, k->len) != ECL_OK ||
					buf_put(b, ":", 1) != ECL_OK ||
					write_value(b, v.u.obj->vals[i], depth + 1) != ECL_OK)
					return ECL_FAIL;
			}
			return buf_put(b, "}", 1);
	}
	return ecl_error_set(b->err, ECL_ERR_TYPE, 0, 0, "cannot write a value of unknown type %d", v.type);
}

ecl_status
ecl_json_write(const ecl_alloc *a, ecl_value v, char **out, size_t *out_len,
			   ecl_error *err)
{
	json_buf	b = {a, NULL, 0, 0, err, false};

	if (write_value(&b, v, 0) != ECL_OK || buf_reserve(&b, 0) != ECL_OK)
	{
		ecl_free(a, b.data);
		return ECL_FAIL;
	}
	b.data[b.len] = '\0';
	*out = b.data;
	*out_len = b.len;
	return ECL_OK;
}

bool
ecl_json_size(ecl_value v, size_t cap, size_t *out)
{
	ecl_error	err;
	json_buf	b = {NULL, NULL, 0, cap, &err, true};
	bool		fits = write_value(&b, v, 0) == ECL_OK;

	*out = b.len;
	return fits;
}

int64_t
ecl_write_mana(ecl_value v, int64_t at_most)
{
	size_t		cap;
	size_t		size;

	if (at_most < 0)
		at_most = 0;
	/* enough bytes to tell that the charge is above at_most */
	cap = ((size_t) at_most + 2) * ECL_WRITE_MANA_BYTES;
	if (!ecl_json_size(v, cap, &size) && size > cap)
		return at_most + 1;
	/* too deep to write: charged as far as counted; the write itself fails */
	return size == 0 ? 0 : (int64_t) ((size - 1) / ECL_WRITE_MANA_BYTES);
}
