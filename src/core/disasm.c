/*
 * disasm.c — operand text for ecl.disassemble (docs/sql-api.md, "The language").  The opcode name
 * and gas come straight from ecl_opcode_table; only the operand needs
 * rendering.
 */
#include <stdio.h>
#include <string.h>

#include "ecl/bytecode.h"

static const char *const dim_names[ECL_TRUST_DIMS] = {"r", "i", "c", "p", "v", "omega"};

/*
 * A constant as JSON, truncated with "..." to fit.  Rendering uses the
 * standard allocator: this runs only for disassembly, never in a policy run.
 */
static void
const_text(ecl_value v, char *buf, size_t bufsize)
{
	char	   *json;
	size_t		len;
	ecl_error	err;

	if (ecl_json_write(&ecl_std_alloc, v, &json, &len, &err) != ECL_OK)
	{
		snprintf(buf, bufsize, "<%s>", ecl_type_name((ecl_type) v.type));
		return;
	}
	if (len < bufsize)
		memcpy(buf, json, len + 1);
	else if (bufsize > 4)
	{
		size_t		keep = bufsize - 4;

		/* do not cut a UTF-8 sequence in half */
		while (keep > 0 && ((unsigned char) json[keep] & 0xC0) == 0x80)
			keep--;
		memcpy(buf, json, keep);
		memcpy(buf + keep, "...", 4);
	}
	else if (bufsize > 0)
		buf[0] = '\0';
	ecl_free(&ecl_std_alloc, json);
}

void
ecl_disasm_operand(const ecl_program *p, uint32_t pc, char *buf, size_t bufsize)
{
	ecl_instr	ins;
	uint32_t	arg;

	if (bufsize == 0)
		return;
	buf[0] = '\0';
	if (pc >= p->ncode)
		return;
	ins = p->code[pc];
	arg = ECL_INSTR_ARG(ins);
	if ((uint32_t) ECL_INSTR_OP(ins) >= ECL_OP_COUNT)
		return;
	switch (ecl_opcode_table[ECL_INSTR_OP(ins)].operand)
	{
		case ECL_OPK_NONE:
			break;
		case ECL_OPK_MSG:
			if (arg == ECL_NO_ARG)
				break;
			/* FALLTHROUGH */
		case ECL_OPK_CONST:
		case ECL_OPK_STRING:
			if (arg < p->nconst)
				const_text(p->consts[arg], buf, bufsize);
			break;
		case ECL_OPK_JUMP:
			snprintf(buf, bufsize, "-> %u", arg);
			break;
		case ECL_OPK_DIM:
			snprintf(buf, bufsize, "%s", arg < ECL_TRUST_DIMS ? dim_names[arg] : "?");
			break;
		case ECL_OPK_LOCAL:
		case ECL_OPK_ITER:
		case ECL_OPK_COUNT:
		case ECL_OPK_DEPTH:
			snprintf(buf, bufsize, "%u", arg);
			break;
	}
}
