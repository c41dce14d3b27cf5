/*
 * bytecode.c — the chunk builder used by the compiler, and serialisation of
 * a chunk into the format documented in bytecode.h.
 */
#include <math.h>
#include <string.h>

#include "ecl/bytecode.h"
#include "value_util.h"
#include "verify.h"

static ecl_status
oom(ecl_error *err)
{
	return ecl_error_set(err, ECL_ERR_RESOURCE, 0, 0, "out of memory building bytecode");
}

/* Grow an array to hold at least need elements (malloc + copy: portable). */
static bool
grow(const ecl_alloc *a, void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
	uint32_t	ncap = *cap ? *cap : 16;
	void	   *n;

	while (ncap < need)
		ncap *= 2;
	if (ncap == *cap)
		return true;
	n = ecl_malloc(a, (size_t) ncap * elem);
	if (n == NULL)
		return false;
	if (*arr != NULL)
	{
		memcpy(n, *arr, (size_t) *cap * elem);
		ecl_free(a, *arr);
	}
	*arr = n;
	*cap = ncap;
	return true;
}

const char *const ecl_input_type_names[ECL_IN_TYPE_COUNT] = {
	"any", "bool", "number", "string", "did", "array", "object", "trust_vector",
};

int
ecl_input_type_lookup(const char *name, size_t len)
{
	for (int i = 0; i < ECL_IN_TYPE_COUNT; i++)
		if (strlen(ecl_input_type_names[i]) == len &&
			memcmp(ecl_input_type_names[i], name, len) == 0)
			return i;
	return -1;
}

/* did:method:rest, the method non-empty lowercase letters or digits */
static bool
looks_like_did(const ecl_string *s)
{
	size_t		i = 4;

	if (s->len < 7 || memcmp(s->data, "did:", 4) != 0)
		return false;
	while (i < s->len && ((s->data[i] >= 'a' && s->data[i] <= 'z') ||
						  (s->data[i] >= '0' && s->data[i] <= '9')))
		i++;
	return i > 4 && i + 1 < s->len && s->data[i] == ':';
}

bool
ecl_input_type_matches(ecl_input_type t, const ecl_value *v)
{
	static const char *const dims[] = {"r", "i", "c", "p", "v", "omega"};

	switch (t)
	{
		case ECL_IN_ANY:
			return true;
		case ECL_IN_BOOL:
			return v->type == ECL_T_BOOL;
		case ECL_IN_NUMBER:
			return v->type == ECL_T_NUMBER;
		case ECL_IN_STRING:
			return v->type == ECL_T_STRING || v->type == ECL_T_DID;
		case ECL_IN_DID:
			return v->type == ECL_T_DID ||
				(v->type == ECL_T_STRING && looks_like_did(v->u.str));
		case ECL_IN_ARRAY:
			return v->type == ECL_T_ARRAY;
		case ECL_IN_OBJECT:
			return v->type == ECL_T_OBJECT;
		case ECL_IN_TRUST_VECTOR:
			if (v->type == ECL_T_TRUST)
				return true;
			if (v->type != ECL_T_OBJECT)
				return false;
			for (int i = 0; i < 6; i++)
			{
				int64_t		at = ecl_object_find(v->u.obj, dims[i], strlen(dims[i]));

				if (at < 0 || v->u.obj->vals[at].type != ECL_T_NUMBER)
					return false;
			}
			return true;
		case ECL_IN_TYPE_COUNT:
			break;
	}
	return false;
}

ecl_status
ecl_chunk_init(ecl_chunk *chunk, const ecl_alloc *a, ecl_error *err)
{
	memset(chunk, 0, sizeof(*chunk));
	chunk->alloc = a;
	chunk->name = ecl_malloc(a, 1);
	if (chunk->name == NULL)
		return oom(err);
	chunk->name[0] = '\0';
	return ECL_OK;
}

ecl_status
ecl_chunk_emit(ecl_chunk *chunk, ecl_opcode op, uint32_t arg, uint32_t line,
			   uint32_t column, uint32_t *pc, ecl_error *err)
{
	if (arg > ECL_NO_ARG)
		return ecl_error_set(err, ECL_ERR_RESOURCE, line, column,
							 "operand %u of %s does not fit in 24 bits",
							 arg, (unsigned) op < ECL_OP_COUNT ? ecl_opcode_table[op].name : "?");
	if (chunk->ncode >= ECL_ARG_MAX)
		return ecl_error_set(err, ECL_ERR_RESOURCE, line, column,
							 "program exceeds %u instructions", ECL_ARG_MAX);
	if (chunk->ncode == chunk->code_cap)
	{
		uint32_t	cap = chunk->code_cap;
		uint32_t	cap2 = cap;
		uint32_t	cap3 = cap;

		if (!grow(chunk->alloc, (void **) &chunk->code, &cap, chunk->ncode + 1, sizeof(ecl_instr)) ||
			!grow(chunk->alloc, (void **) &chunk->lines, &cap2, chunk->ncode + 1, sizeof(uint32_t)) ||
			!grow(chunk->alloc, (void **) &chunk->columns, &cap3, chunk->ncode + 1, sizeof(uint32_t)))
			return oom(err);
		chunk->code_cap = cap;
	}
	chunk->code[chunk->ncode] = ECL_INSTR(op, arg);
	chunk->lines[chunk->ncode] = line;
	chunk->columns[chunk->ncode] = column;
	if (pc)
		*pc = chunk->ncode;
	chunk->ncode++;
	return ECL_OK;
}

void
ecl_chunk_patch(ecl_chunk *chunk, uint32_t pc, uint32_t target)
{
	if (pc < chunk->ncode)
		chunk->code[pc] = ECL_INSTR(ECL_INSTR_OP(chunk->code[pc]), target);
}

/* Same constant: same type and equal; numbers bit for bit (0 vs -0). */
static bool
same_const(ecl_value a, ecl_value b)
{
	if (a.type != b.type)
		return false;
	if (a.type == ECL_T_NUMBER)
		return memcmp(&a.u.num, &b.u.num, sizeof(double)) == 0;
	return ecl_equal(a, b);
}

ecl_status
ecl_chunk_add_const(ecl_chunk *chunk, ecl_value v, uint32_t *index, ecl_error *err)
{
	for (uint32_t i = 0; i < chunk->nconst; i++)
		if (same_const(chunk->consts[i], v))
		{
			*index = i;
			return ECL_OK;
		}
	if (chunk->nconst >= ECL_ARG_MAX)
		return ecl_error_set(err, ECL_ERR_RESOURCE, 0, 0,
							 "program exceeds %u constants", ECL_ARG_MAX);
	if (chunk->nconst == chunk->const_cap &&
		!grow(chunk->alloc, (void **) &chunk->consts, &chunk->const_cap,
			  chunk->nconst + 1, sizeof(ecl_value)))
		return oom(err);
	chunk->consts[chunk->nconst] = v;
	*index = chunk->nconst++;
	return ECL_OK;
}

ecl_status
ecl_chunk_set_name(ecl_chunk *chunk, const char *name, size_t len, ecl_error *err)
{
	char	   *n;

	if (len > 0 && memchr(name, '\0', len) != NULL)
		return ecl_error_set(err, ECL_ERR_SYNTAX, 0, 0, "policy name contains a NUL byte");
	n = ecl_malloc(chunk->alloc, len + 1);
	if (n == NULL)
		return oom(err);
	memcpy(n, name, len);
	n[len] = '\0';
	ecl_free(chunk->alloc, chunk->name);
	chunk->name = n;
	return ECL_OK;
}

/* ------------------------------------------------------------ serialising */

typedef struct out_buf
{
	const ecl_alloc *alloc;
	uint8_t    *data;
	size_t		len;
	size_t		cap;
	ecl_error  *err;
} out_buf;

static ecl_status
out_reserve(out_buf *b, size_t more)
{
	size_t		ncap;
	uint8_t    *n;

	if (b->len + more <= b->cap)
		return ECL_OK;
	ncap = b->cap ? b->cap : 256;
	while (ncap < b->len + more)
		ncap *= 2;
	n = ecl_malloc(b->alloc, ncap);
	if (n == NULL)
		return oom(b->err);
	if (b->data)
	{
		memcpy(n, b->data, b->len);
		ecl_free(b->alloc, b->data);
	}
	b->data = n;
	b->cap = ncap;
	return ECL_OK;
}

static ecl_status
out_bytes(out_buf *b, const void *p, size_t n)
{
	if (out_reserve(b, n) != ECL_OK)
		return ECL_FAIL;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return ECL_OK;
}

static ecl_status
out_u8(out_buf *b, uint8_t v)
{
	return out_bytes(b, &v, 1);
}

static ecl_status
out_u16(out_buf *b, uint16_t v)
{
	uint8_t		t[2] = {(uint8_t) v, (uint8_t) (v >> 8)};

	return out_bytes(b, t, 2);
}

static ecl_status
out_u32(out_buf *b, uint32_t v)
{
	uint8_t		t[4] = {(uint8_t) v, (uint8_t) (v >> 8), (uint8_t) (v >> 16), (uint8_t) (v >> 24)};

	return out_bytes(b, t, 4);
}

static ecl_status
out_double(out_buf *b, double d)
{
	uint64_t	bits;
	uint8_t		t[8];

	memcpy(&bits, &d, 8);
	for (int i = 0; i < 8; i++)
		t[i] = (uint8_t) (bits >> (8 * i));
	return out_bytes(b, t, 8);
}

static ecl_status
out_const(out_buf *b, ecl_value v, int depth)
{
	if (depth > ECL_MAX_NESTING)
		return ecl_error_set(b->err, ECL_ERR_BYTECODE, 0, 0,
							 "constant nested deeper than %d levels", ECL_MAX_NESTING);
	switch ((ecl_type) v.type)
	{
		case ECL_T_NULL:
			return out_u8(b, ECL_CONST_NULL);
		case ECL_T_BOOL:
			return out_u8(b, v.u.b ? ECL_CONST_TRUE : ECL_CONST_FALSE);
		case ECL_T_NUMBER:
			if (!isfinite(v.u.num))
				return ecl_error_set(b->err, ECL_ERR_BYTECODE, 0, 0, "constant is not a finite number");
			if (out_u8(b, ECL_CONST_NUMBER) != ECL_OK)
				return ECL_FAIL;
			return out_double(b, v.u.num);
		case ECL_T_STRING:
		case ECL_T_DID:
			if (!ecl_utf8_valid(v.u.str->data, v.u.str->len))
				return ecl_error_set(b->err, ECL_ERR_BYTECODE, 0, 0, "string constant is not valid UTF-8");
			if (out_u8(b, v.type == ECL_T_STRING ? ECL_CONST_STRING : ECL_CONST_DID) != ECL_OK ||
				out_u32(b, v.u.str->len) != ECL_OK)
				return ECL_FAIL;
			return out_bytes(b, v.u.str->data, v.u.str->len);
		case ECL_T_TRUST:
			if (out_u8(b, ECL_CONST_TRUST) != ECL_OK)
				return ECL_FAIL;
			for (int i = 0; i < ECL_TRUST_DIMS; i++)
				if (out_double(b, v.u.trust->dim[i]) != ECL_OK)
					return ECL_FAIL;
			return ECL_OK;
		case ECL_T_ARRAY:
			if (out_u8(b, ECL_CONST_ARRAY) != ECL_OK ||
				out_u32(b, v.u.arr->len) != ECL_OK)
				return ECL_FAIL;
			for (uint32_t i = 0; i < v.u.arr->len; i++)
				if (out_const(b, v.u.arr->items[i], depth + 1) != ECL_OK)
					return ECL_FAIL;
			return ECL_OK;
		case ECL_T_OBJECT:
			if (out_u8(b, ECL_CONST_OBJECT) != ECL_OK ||
				out_u32(b, v.u.obj->len) != ECL_OK)
				return ECL_FAIL;
			for (uint32_t i = 0; i < v.u.obj->len; i++)
			{
				const ecl_string *k = v.u.obj->keys[i];

				if (out_u32(b, k->len) != ECL_OK ||
					out_bytes(b, k->data, k->len) != ECL_OK ||
					out_const(b, v.u.obj->vals[i], depth + 1) != ECL_OK)
					return ECL_FAIL;
			}
			return ECL_OK;
	}
	return ecl_error_set(b->err, ECL_ERR_BYTECODE, 0, 0, "constant of unknown type %d", v.type);
}

ecl_status
ecl_chunk_serialize(const ecl_chunk *chunk, uint8_t **out, size_t *out_len,
					ecl_error *err)
{
	out_buf		b = {chunk->alloc, NULL, 0, 0, err};
	uint32_t	max_stack = 0;
	size_t		name_len = chunk->name ? strlen(chunk->name) : 0;
	bool		ok;

	if (chunk->nlocals > ECL_MAX_LOCALS)
		return ecl_error_set(err, ECL_ERR_BYTECODE, 0, 0,
							 "program uses %u locals, the limit is %u",
							 chunk->nlocals, ECL_MAX_LOCALS);
	if (ecl_verify_code(chunk->alloc, chunk->code, chunk->ncode, chunk->consts,
						chunk->nconst, chunk->nlocals, &max_stack, err) != ECL_OK)
		return ECL_FAIL;

	ok = out_bytes(&b, ECL_BYTECODE_MAGIC, 4) == ECL_OK &&
		out_u16(&b, ECL_BYTECODE_VERSION) == ECL_OK &&
		out_u16(&b, chunk->declares_inputs ? ECL_BYTECODE_F_INPUTS : 0) == ECL_OK &&
		out_u32(&b, max_stack) == ECL_OK &&
		out_u32(&b, chunk->nlocals) == ECL_OK &&
		out_u32(&b, (uint32_t) name_len) == ECL_OK &&
		out_bytes(&b, chunk->name, name_len) == ECL_OK;
	if (ok && chunk->declares_inputs)
	{
		ok = out_u32(&b, chunk->ninputs) == ECL_OK;
		for (uint32_t i = 0; ok && i < chunk->ninputs; i++)
			ok = out_u32(&b, chunk->inputs[i].len) == ECL_OK &&
				out_bytes(&b, chunk->inputs[i].name, chunk->inputs[i].len) == ECL_OK &&
				out_u8(&b, chunk->inputs[i].type) == ECL_OK &&
				out_u8(&b, chunk->inputs[i].optional ? 1 : 0) == ECL_OK;
	}
	ok = ok && out_u32(&b, chunk->nconst) == ECL_OK;
	for (uint32_t i = 0; ok && i < chunk->nconst; i++)
		ok = out_const(&b, chunk->consts[i], 0) == ECL_OK;
	ok = ok && out_u32(&b, chunk->ncode) == ECL_OK;
	for (uint32_t i = 0; ok && i < chunk->ncode; i++)
		ok = out_u32(&b, chunk->code[i]) == ECL_OK;
	for (uint32_t i = 0; ok && i < chunk->ncode; i++)
		ok = out_u32(&b, chunk->lines[i]) == ECL_OK &&
			out_u32(&b, chunk->columns[i]) == ECL_OK;
	if (!ok)
	{
		ecl_free(chunk->alloc, b.data);
		return ECL_FAIL;
	}
	*out = b.data;
	*out_len = b.len;
	return ECL_OK;
}
