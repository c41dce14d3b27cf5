/*
 * verify.c — decoding serialised bytecode and verifying it before it runs
 * (docs/sql-api.md, "The language").  Any byte string may arrive here (a tampered bytea column, a
 * fuzzer): every read is bounds-checked against the buffer, every count is
 * checked against the bytes that remain before anything is allocated, and
 * every failure is a clear ECL_ERR_BYTECODE.
 */
#include <math.h>
#include <string.h>

#include "ecl/bytecode.h"
#include "value_util.h"
#include "verify.h"

/* ------------------------------------------------------------- verifier */

static const char *
op_name(uint32_t op)
{
	return ecl_opcode_table[op].name;
}

static bool
is_string_const(const ecl_value *consts, uint32_t nconst, uint32_t i)
{
	return i < nconst && consts[i].type == ECL_T_STRING;
}

/* Operand checks that need no stack depth. */
static ecl_status
check_operand(ecl_instr ins, uint32_t pc, uint32_t ncode, const ecl_value *consts,
			  uint32_t nconst, uint32_t nlocals, ecl_error *err)
{
	uint32_t	op = ECL_INSTR_OP(ins);
	uint32_t	arg = ECL_INSTR_ARG(ins);

	if (op >= ECL_OP_COUNT)
		return ecl_error_set(err, ECL_ERR_BYTECODE, 0, 0,
							 "unknown opcode %u at pc %u", op, pc);
	switch (ecl_opcode_table[op].operand)
	{
		case ECL_OPK_NONE:
			if (arg != 0)
				return ecl_error_set(err, ECL_ERR_BYTECODE, 0, 0,
									 "unexpected operand %u for %s at pc %u", arg, op_name(op), pc);
			break;
		case ECL_OPK_CONST:
			if (arg >= nconst)
				return ecl_error_set(err, ECL_ERR_BYTECODE, 0, 0,
									 "constant index %u out of range at pc %u", arg, pc);
			break;
		case ECL_OPK_MSG:
			if (arg == ECL_NO_ARG)
				break;
			/* FALLTHROUGH */
		case ECL_OPK_STRING:
			if (!is_string_const(consts, nconst, arg))
				return ecl_error_set(err, ECL_ERR_BYTECODE, 0, 0,
									 "operand %u of %s at pc %u is not a string constant",
									 arg, op_name(op), pc);
			break;
		case ECL_OPK_LOCAL:
			if (arg >= nlocals)
				return ecl_error_set(err, ECL_ERR_BYTECODE, 0, 0,
									 "local slot %u out of range at pc %u", arg, pc);
			break;
		case ECL_OPK_ITER:
			if ((uint64_t) arg + 1 >= nlocals)
				return ecl_error_set(err, ECL_ERR_BYTECODE, 0, 0,
									 "iterator slot %u out of range at pc %u", arg, pc);
			break;
		case ECL_OPK_JUMP:
			if (arg >= ncode)
				return ecl_error_set(err, ECL_ERR_BYTECODE, 0, 0,
									 "jump target %u out of range at pc %u", arg, pc);
			break;
		case ECL_OPK_DIM:
			if (arg >= ECL_TRUST_DIMS)
				return ecl_error_set(err, ECL_ERR_BYTECODE, 0, 0,
									 "trust dimension %u out of range at pc %u", arg, pc);
			break;
		case ECL_OPK_COUNT:
		case ECL_OPK_DEPTH:
			/* checked against the stack depth during the flow analysis */
			break;
	}
	return ECL_OK;
}

static ecl_status
merge_depth(int32_t *depth, uint32_t *work, uint32_t *nwork, uint32_t target,
			int32_t d, uint32_t from, ecl_error *err)
{
	if (depth[target] < 0)
	{
		depth[target] = d;
		work[(*nwork)++] = target;
		return ECL_OK;
	}
	if (depth[target] != d)
		return ecl_error_set(err, ECL_ERR_BYTECODE, 0, 0,
							 "inconsistent stack depth at pc %u: %d from pc %u, %d before",
							 target, d, from, depth[target]);
	return ECL_OK;
}

ecl_status
ecl_verify_code(const ecl_alloc *a, const ecl_instr *code, uint32_t ncode,
				const ecl_value *consts, uint32_t nconst, uint32_t nlocals,
				uint32_t *max_stack, ecl_error *err)
{
	int32_t    *depth;
	uint32_t   *work;
	uint32_t	nwork = 0;
	int32_t		max = 0;
	ecl_status	st = ECL_FAIL;

	if (ncode == 0)
		return ecl_error_set(err, ECL_ERR_BYTECODE, 0, 0, "program has no instructions");
	for (uint32_t pc = 0; pc < ncode; pc++)
		if (check_operand(code[pc], pc, ncode, consts, nconst, nlocals, err) != ECL_OK)
			return ECL_FAIL;

	depth = ecl_malloc(a, (size_t) ncode * sizeof(int32_t));
	work = ecl_malloc(a, (size_t) ncode * sizeof(uint32_t));
	if (depth == NULL || work == NULL)
	{
		ecl_free(a, depth);
		ecl_free(a, work);
		return ecl_error_set(err, ECL_ERR_RESOURCE, 0, 0, "out of memory verifying bytecode");
	}
	for (uint32_t pc = 0; pc < ncode; pc++)
		depth[pc] = -1;
	depth[0] = 0;
	work[nwork++] = 0;

	/* each pc enters the work list at most once (when first reached) */
	while (nwork > 0)
	{
		uint32_t	pc = work[--nwork];
		ecl_instr	ins = code[pc];
		uint32_t	op = ECL_INSTR_OP(ins);
		uint32_t	arg = ECL_INSTR_ARG(ins);
		const ecl_opcode_info *info = &ecl_opcode_table[op];
		int64_t		d = depth[pc];
		int64_t		pop = info->pop;
		int64_t		after;

		if (pop < 0)
			pop = op == ECL_OP_MAKE_OBJECT ? 2 * (int64_t) arg : (int64_t) arg;
		if (pop > d)
		{
			ecl_error_set(err, ECL_ERR_BYTECODE, 0, 0,
						  "stack underflow at pc %u: %s needs %lld values, stack has %lld",
						  pc, info->name, (long long) pop, (long long) d);
			goto done;
		}
		if (info->operand == ECL_OPK_DEPTH && (int64_t) arg >= d)
		{
			ecl_error_set(err, ECL_ERR_BYTECODE, 0, 0,
						  "stack underflow at pc %u: %s %u with stack depth %lld",
						  pc, info->name, arg, (long long) d);
			goto done;
		}
		after = d - pop + info->push;
		if (info->flags & ECL_F_BRANCH)
		{
			int64_t		taken = d - pop + info->jpush;

			if (taken > max)
				max = (int32_t) taken;
			if (merge_depth(depth, work, &nwork, arg, (int32_t) taken, pc, err) != ECL_OK)
				goto done;
		}
		if (info->flags & ECL_F_TERM)
			continue;
		if (after > max)
			max = (int32_t) after;
		if (pc + 1 >= ncode)
		{
			ecl_error_set(err, ECL_ERR_BYTECODE, 0, 0,
						  "execution falls off the end after pc %u (%s)", pc, info->name);
			goto done;
		}
		if (merge_depth(depth, work, &nwork, pc + 1, (int32_t) after, pc, err) != ECL_OK)
			goto done;
	}
	*max_stack = (uint32_t) max;
	st = ECL_OK;
done:
	ecl_free(a, depth);
	ecl_free(a, work);
	return st;
}

/* --------------------------------------------------------------- decoder */

typedef struct reader
{
	const uint8_t *p;
	size_t		len;
	size_t		pos;
	const ecl_alloc *alloc;
	ecl_error  *err;
} reader;

static ecl_status
truncated(reader *r, const char *what)
{
	return ecl_error_set(r->err, ECL_ERR_BYTECODE, 0, 0,
						 "bytecode truncated at offset %zu reading %s", r->pos, what);
}

static size_t
remaining(const reader *r)
{
	return r->len - r->pos;
}

static ecl_status
read_u8(reader *r, uint8_t *out, const char *what)
{
	if (remaining(r) < 1)
		return truncated(r, what);
	*out = r->p[r->pos++];
	return ECL_OK;
}

static ecl_status
read_u32(reader *r, uint32_t *out, const char *what)
{
	if (remaining(r) < 4)
		return truncated(r, what);
	*out = ecl_read_u32(r->p + r->pos);
	r->pos += 4;
	return ECL_OK;
}

static ecl_status
read_double(reader *r, double *out, const char *what)
{
	uint64_t	bits = 0;

	if (remaining(r) < 8)
		return truncated(r, what);
	for (int i = 0; i < 8; i++)
		bits |= (uint64_t) r->p[r->pos + i] << (8 * i);
	r->pos += 8;
	memcpy(out, &bits, 8);
	if (!isfinite(*out))
		return ecl_error_set(r->err, ECL_ERR_BYTECODE, 0, 0,
							 "non-finite number in %s at offset %zu", what, r->pos - 8);
	return ECL_OK;
}

/* u32 length + UTF-8 bytes, validated; *s points into the buffer */
static ecl_status
read_text(reader *r, const char **s, uint32_t *n, const char *what)
{
	if (read_u32(r, n, what) != ECL_OK)
		return ECL_FAIL;
	if (*n > remaining(r))
		return ecl_error_set(r->err, ECL_ERR_BYTECODE, 0, 0,
							 "%s length %u at offset %zu exceeds the remaining %zu bytes",
							 what, *n, r->pos - 4, remaining(r));
	*s = (const char *) r->p + r->pos;
	if (!ecl_utf8_valid(*s, *n))
		return ecl_error_set(r->err, ECL_ERR_BYTECODE, 0, 0,
							 "%s at offset %zu is not valid UTF-8", what, r->pos);
	r->pos += *n;
	return ECL_OK;
}

static ecl_status
read_const(reader *r, ecl_value *out, int depth)
{
	uint8_t		tag = 0;
	const char *s;
	uint32_t	n;
	double		dims[ECL_TRUST_DIMS];

	if (depth > ECL_MAX_NESTING)
		return ecl_error_set(r->err, ECL_ERR_BYTECODE, 0, 0,
							 "constant nested deeper than %d levels at offset %zu",
							 ECL_MAX_NESTING, r->pos);
	if (read_u8(r, &tag, "constant tag") != ECL_OK)
		return ECL_FAIL;
	switch (tag)
	{
		case ECL_CONST_NULL:
			*out = ecl_null();
			return ECL_OK;
		case ECL_CONST_FALSE:
		case ECL_CONST_TRUE:
			*out = ecl_bool(tag == ECL_CONST_TRUE);
			return ECL_OK;
		case ECL_CONST_NUMBER:
			out->type = ECL_T_NUMBER;
			return read_double(r, &out->u.num, "number constant");
		case ECL_CONST_STRING:
		case ECL_CONST_DID:
			if (read_text(r, &s, &n, "string constant") != ECL_OK)
				return ECL_FAIL;
			return ecl_stringish_new(r->alloc, tag == ECL_CONST_STRING ? ECL_T_STRING : ECL_T_DID,
									 s, n, out, r->err);
		case ECL_CONST_TRUST:
			for (int i = 0; i < ECL_TRUST_DIMS; i++)
				if (read_double(r, &dims[i], "trust constant") != ECL_OK)
					return ECL_FAIL;
			return ecl_trust_new(r->alloc, dims, out, r->err);
		case ECL_CONST_ARRAY:
			if (read_u32(r, &n, "array length") != ECL_OK)
				return ECL_FAIL;
			if (n > remaining(r))	/* every element takes at least a byte */
				return ecl_error_set(r->err, ECL_ERR_BYTECODE, 0, 0,
									 "array constant of %u elements at offset %zu exceeds the remaining %zu bytes",
									 n, r->pos - 4, remaining(r));
			if (ecl_array_new(r->alloc, n, out, r->err) != ECL_OK)
				return ECL_FAIL;
			for (uint32_t i = 0; i < n; i++)
				if (read_const(r, &out->u.arr->items[i], depth + 1) != ECL_OK)
					return ECL_FAIL;
			return ECL_OK;
		case ECL_CONST_OBJECT:
			if (read_u32(r, &n, "object length") != ECL_OK)
				return ECL_FAIL;
			if (n > remaining(r) / 5)	/* key length + tag at least */
				return ecl_error_set(r->err, ECL_ERR_BYTECODE, 0, 0,
									 "object constant of %u keys at offset %zu exceeds the remaining %zu bytes",
									 n, r->pos - 4, remaining(r));
			if (ecl_object_new(r->alloc, n, out, r->err) != ECL_OK)
				return ECL_FAIL;
			for (uint32_t i = 0; i < n; i++)
			{
				uint32_t	klen;
				ecl_value	item;
				size_t		at = r->pos;

				if (read_text(r, &s, &klen, "object key") != ECL_OK)
					return ECL_FAIL;
				if (ecl_object_find(out->u.obj, s, klen) >= 0)
					return ecl_error_set(r->err, ECL_ERR_BYTECODE, 0, 0,
										 "duplicate key in object constant at offset %zu", at);
				if (read_const(r, &item, depth + 1) != ECL_OK ||
					ecl_object_set(r->alloc, out, s, klen, item, r->err) != ECL_OK)
					return ECL_FAIL;
			}
			return ECL_OK;
		default:
			return ecl_error_set(r->err, ECL_ERR_BYTECODE, 0, 0,
								 "unknown constant tag %u at offset %zu", tag, r->pos - 1);
	}
}

/*
 * The declared inputs: names non-empty, without NUL, unique; known types;
 * optional 0 or 1.  The VM trusts all of that.
 */
static ecl_status
read_inputs(reader *r, ecl_input_decl **out, uint32_t *nout)
{
	uint32_t	n;
	ecl_input_decl *d;

	if (read_u32(r, &n, "input count") != ECL_OK)
		return ECL_FAIL;
	if (n > remaining(r) / 7)	/* length, one byte of name, type, optional */
		return ecl_error_set(r->err, ECL_ERR_BYTECODE, 0, 0,
							 "input count %u exceeds the remaining %zu bytes", n, remaining(r));
	if (n > ECL_MAX_INPUTS)
		return ecl_error_set(r->err, ECL_ERR_BYTECODE, 0, 0,
							 "%u declared inputs, the limit is %u", n, ECL_MAX_INPUTS);
	d = n > 0 ? ecl_malloc(r->alloc, (size_t) n * sizeof(ecl_input_decl)) : NULL;
	if (n > 0 && d == NULL)
		return ecl_error_set(r->err, ECL_ERR_RESOURCE, 0, 0, "out of memory loading bytecode");
	for (uint32_t i = 0; i < n; i++)
	{
		const char *s;
		uint32_t	len;
		uint8_t		type = 0,
					optional = 0;
		char	   *copy;
		size_t		at = r->pos;

		if (read_text(r, &s, &len, "input name") != ECL_OK ||
			read_u8(r, &type, "input type") != ECL_OK ||
			read_u8(r, &optional, "input optional flag") != ECL_OK)
			return ECL_FAIL;
		if (len == 0 || memchr(s, '\0', len) != NULL)
			return ecl_error_set(r->err, ECL_ERR_BYTECODE, 0, 0,
								 "input name at offset %zu is empty or contains a NUL byte", at);
		if (type >= ECL_IN_TYPE_COUNT || optional > 1)
			return ecl_error_set(r->err, ECL_ERR_BYTECODE, 0, 0,
								 "input at offset %zu has type %u, optional %u", at, type, optional);
		for (uint32_t j = 0; j < i; j++)
			if (d[j].len == len && memcmp(d[j].name, s, len) == 0)
				return ecl_error_set(r->err, ECL_ERR_BYTECODE, 0, 0,
									 "input '%.*s' is declared twice", (int) len, s);
		copy = ecl_malloc(r->alloc, (size_t) len + 1);
		if (copy == NULL)
			return ecl_error_set(r->err, ECL_ERR_RESOURCE, 0, 0, "out of memory loading bytecode");
		memcpy(copy, s, len);
		copy[len] = '\0';
		d[i].name = copy;
		d[i].len = len;
		d[i].type = type;
		d[i].optional = optional != 0;
	}
	*out = d;
	*nout = n;
	return ECL_OK;
}

ecl_status
ecl_program_load(const ecl_alloc *a, const uint8_t *bytes, size_t len,
				 uint32_t stack_limit, ecl_program **out, ecl_error *err)
{
	reader		r = {bytes, len, 0, a, err};
	ecl_program *p;
	uint32_t	version,
				flags,
				max_stack,
				nlocals,
				name_len,
				nconst,
				ncode,
				computed;
	const char *name;
	ecl_input_decl *inputs = NULL;
	uint32_t	ninputs = 0;
	ecl_value  *consts = NULL;
	ecl_instr  *code;
	uint32_t   *lines,
			   *columns;
	char	   *name_copy;

	if (bytes == NULL)
		len = 0;
	if (len < 4 || memcmp(bytes, ECL_BYTECODE_MAGIC, 4) != 0)
		return ecl_error_set(err, ECL_ERR_BYTECODE, 0, 0, "bad magic: not ECL bytecode");
	r.pos = 4;
	if (len < 8)
		return truncated(&r, "version");
	version = ecl_read_u16(bytes + 4);
	flags = ecl_read_u16(bytes + 6);
	r.pos = 8;
	if (version != ECL_BYTECODE_VERSION)
		return ecl_error_set(err, ECL_ERR_BYTECODE, 0, 0,
							 "unsupported bytecode version %u (expected %u)",
							 version, ECL_BYTECODE_VERSION);
	if ((flags & ~ECL_BYTECODE_F_INPUTS) != 0)
		return ecl_error_set(err, ECL_ERR_BYTECODE, 0, 0, "reserved flags 0x%x are not zero",
							 flags & ~ECL_BYTECODE_F_INPUTS);
	if (read_u32(&r, &max_stack, "max_stack") != ECL_OK ||
		read_u32(&r, &nlocals, "nlocals") != ECL_OK)
		return ECL_FAIL;
	if (nlocals > ECL_MAX_LOCALS)
		return ecl_error_set(err, ECL_ERR_BYTECODE, 0, 0,
							 "program declares %u locals, the limit is %u", nlocals, ECL_MAX_LOCALS);
	if (read_text(&r, &name, &name_len, "policy name") != ECL_OK)
		return ECL_FAIL;
	if (name_len > 0 && memchr(name, '\0', name_len) != NULL)
		return ecl_error_set(err, ECL_ERR_BYTECODE, 0, 0, "policy name contains a NUL byte");
	if ((flags & ECL_BYTECODE_F_INPUTS) &&
		read_inputs(&r, &inputs, &ninputs) != ECL_OK)
		return ECL_FAIL;

	if (read_u32(&r, &nconst, "constant count") != ECL_OK)
		return ECL_FAIL;
	if (nconst > remaining(&r))
		return ecl_error_set(err, ECL_ERR_BYTECODE, 0, 0,
							 "constant count %u exceeds the remaining %zu bytes",
							 nconst, remaining(&r));
	if (nconst > 0)
	{
		consts = ecl_malloc(a, (size_t) nconst * sizeof(ecl_value));
		if (consts == NULL)
			return ecl_error_set(err, ECL_ERR_RESOURCE, 0, 0, "out of memory loading bytecode");
		for (uint32_t i = 0; i < nconst; i++)
			if (read_const(&r, &consts[i], 0) != ECL_OK)
				return ECL_FAIL;
	}

	if (read_u32(&r, &ncode, "instruction count") != ECL_OK)
		return ECL_FAIL;
	if (ncode > remaining(&r) / 12 || (size_t) ncode * 12 != remaining(&r))
		return ecl_error_set(err, ECL_ERR_BYTECODE, 0, 0,
							 "%u instructions need %llu bytes of code and positions, %zu remain",
							 ncode, (unsigned long long) ncode * 12, remaining(&r));
	if (ncode > ECL_ARG_MAX)
		return ecl_error_set(err, ECL_ERR_BYTECODE, 0, 0, "program exceeds %u instructions", ECL_ARG_MAX);
	if (ncode == 0)
		return ecl_error_set(err, ECL_ERR_BYTECODE, 0, 0, "program has no instructions");

	p = ecl_malloc(a, sizeof(ecl_program));
	code = ecl_malloc(a, (size_t) ncode * sizeof(ecl_instr));
	lines = ecl_malloc(a, (size_t) ncode * sizeof(uint32_t));
	columns = ecl_malloc(a, (size_t) ncode * sizeof(uint32_t));
	name_copy = ecl_malloc(a, (size_t) name_len + 1);
	if (p == NULL || code == NULL || lines == NULL || columns == NULL || name_copy == NULL)
		return ecl_error_set(err, ECL_ERR_RESOURCE, 0, 0, "out of memory loading bytecode");
	memcpy(name_copy, name, name_len);
	name_copy[name_len] = '\0';
	for (uint32_t i = 0; i < ncode; i++)
		code[i] = ecl_read_u32(bytes + r.pos + 4 * (size_t) i);
	r.pos += (size_t) ncode * 4;
	for (uint32_t i = 0; i < ncode; i++)
	{
		lines[i] = ecl_read_u32(bytes + r.pos + 8 * (size_t) i);
		columns[i] = ecl_read_u32(bytes + r.pos + 8 * (size_t) i + 4);
	}
	r.pos += (size_t) ncode * 8;

	if (ecl_verify_code(a, code, ncode, consts, nconst, nlocals, &computed, err) != ECL_OK)
		return ECL_FAIL;
	if (computed != max_stack)
		return ecl_error_set(err, ECL_ERR_BYTECODE, 0, 0,
							 "declared max_stack %u does not match the computed %u",
							 max_stack, computed);
	if (stack_limit > 0 && max_stack > stack_limit)
		return ecl_error_set(err, ECL_ERR_STACK, 0, 0,
							 "program needs a stack of %u values, the limit is %u",
							 max_stack, stack_limit);

	p->code = code;
	p->lines = lines;
	p->columns = columns;
	p->ncode = ncode;
	p->consts = consts;
	p->nconst = nconst;
	p->nlocals = nlocals;
	p->max_stack = max_stack;
	p->name = name_copy;
	p->declares_inputs = (flags & ECL_BYTECODE_F_INPUTS) != 0;
	p->inputs = inputs;
	p->ninputs = ninputs;
	p->uses_host = false;
	p->writes = false;
	p->reads_metrics = false;
	for (uint32_t i = 0; i < ncode; i++)
	{
		uint8_t		f = ecl_opcode_table[ECL_INSTR_OP(code[i])].flags;

		p->uses_host |= (f & ECL_F_HOST) != 0;
		p->writes |= (f & ECL_F_WRITE) != 0;
		p->reads_metrics |= ECL_INSTR_OP(code[i]) == ECL_OP_GET_METRIC;
	}
	*out = p;
	return ECL_OK;
}
