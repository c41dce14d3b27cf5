/*
 * opcodes.c — the instruction and built-in tables, expanded from opcodes.h.
 */
#include <string.h>

#include "ecl/opcodes.h"

const ecl_opcode_info ecl_opcode_table[ECL_OP_COUNT] = {
#define ECL_X_INFO(name, operand, gas, layer, pop, push, jpush, flags, doc) \
	{#name, ECL_OPK_##operand, gas, ECL_LAYER_##layer, pop, push, jpush, flags, doc},
	ECL_OPCODES(ECL_X_INFO)
#undef ECL_X_INFO
};

const char *const ecl_layer_names[ECL_LAYER_COUNT] = {
	"compute", "network", "storage", "realm"
};

const char *const ecl_operand_kind_names[] = {
	"none", "const", "string", "msg", "local", "iter", "jump", "count", "dim", "depth"
};

const ecl_builtin_info ecl_builtin_table[] = {
#define ECL_X_BUILTIN(name, op, min, max) {name, ECL_OP_##op, min, max},
	ECL_BUILTINS(ECL_X_BUILTIN)
#undef ECL_X_BUILTIN
};

const int	ecl_builtin_count = sizeof(ecl_builtin_table) / sizeof(ecl_builtin_table[0]);

const ecl_builtin_info *
ecl_builtin_lookup(const char *name, size_t len)
{
	for (int i = 0; i < ecl_builtin_count; i++)
	{
		const char *candidate = ecl_builtin_table[i].name;

		if (strlen(candidate) == len && memcmp(candidate, name, len) == 0)
			return &ecl_builtin_table[i];
	}
	return NULL;
}
