/*
 * translate.h — a policy's bytecode as an equivalent SQL condition.
 *
 * The planner support function of ecl.check / ecl.allowed (src/pg) replaces
 * a call by an SQL expression when the policy lies in the translatable
 * subset.  This module decides that, PostgreSQL-free: it executes the
 * verified program symbolically over what the call site knows about its
 * input (which fields exist, their SQL types, which may be NULL) and
 * returns the outcome of the run ("passed") as a tree of typed SQL
 * operations (ecl_tr_node), or the reason why the policy stays in the VM.
 *
 * Exactness is by construction:
 *   - the input of the translation is the very program the VM runs
 *     (constant folding and dead code already applied by the compiler);
 *   - every value has a static type; a value that may be SQL NULL (ECL
 *     null) is always an "atom" (an input field, the caller, the realm),
 *     and any operation whose behaviour depends on nullness splits the run
 *     on "atom IS NULL", so SQL's three-valued logic never reaches a result:
 *     every boolean node is non-NULL;
 *   - operations on constants are computed with the VM's own value code;
 *   - what the VM would raise becomes an ECL_TR_RAISE leaf (same error code
 *     and message) at the point the VM would reach it, or, for
 *     data-dependent arithmetic errors, an operation that raises
 *     (ECL_TR_ARITH, may_raise);
 *   - branches are CASE, which evaluates only the chosen branch, so
 *     short-circuit and error order are the VM's; AND/OR are used only for
 *     subtrees that cannot raise (the planner may reorder those);
 *   - a path whose gas, mana or stack could exceed the limits, loops, and
 *     anything outside the subset make the whole policy untranslatable.
 */
#ifndef ECL_TRANSLATE_H
#define ECL_TRANSLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ecl/arena.h"
#include "ecl/bytecode.h"
#include "ecl/error.h"
#include "ecl/value.h"

/* SQL type of a node: bool, float8 or text */
typedef enum ecl_tr_type
{
	ECL_TR_BOOL = 0,
	ECL_TR_NUM,
	ECL_TR_STR
} ecl_tr_type;

typedef enum ecl_tr_kind
{
	ECL_TR_CONST,				/* b / num / str by type; never NULL */
	ECL_TR_FIELD,				/* input field number index (its SQL value) */
	ECL_TR_CALLER,				/* the caller's DID (text) */
	ECL_TR_REALM,				/* the run's realm (text) */
	ECL_TR_TRUST_DIM,			/* dimension index of the caller's trust (float8) */
	ECL_TR_CREDENTIAL,			/* caller holds credential str (bool) */
	ECL_TR_ARITH,				/* op (ADD SUB MUL DIV MOD) on float8 a, b;
								 * raises 22003 / 22012 like the VM */
	ECL_TR_NEG,					/* -a */
	ECL_TR_CONCAT,				/* a || b (text) */
	ECL_TR_CMP,					/* op (EQ NE LT LE GT GE) on a, b of one type;
								 * text order is bytewise (COLLATE "C") */
	ECL_TR_NOT_DISTINCT,		/* a IS NOT DISTINCT FROM b */
	ECL_TR_IS_NULL,				/* a IS NULL */
	ECL_TR_IS_TRUE,				/* a IS TRUE (a may be NULL) */
	ECL_TR_NONEMPTY,			/* octet_length(a) > 0 */
	ECL_TR_NOT,					/* NOT a */
	ECL_TR_AND,					/* a AND b (neither may raise) */
	ECL_TR_OR,					/* a OR b (neither may raise) */
	ECL_TR_CASE,				/* CASE WHEN a THEN b ELSE c END */
	ECL_TR_RAISE				/* raise error code with message str (bool) */
} ecl_tr_kind;

typedef struct ecl_tr_node ecl_tr_node;

struct ecl_tr_node
{
	ecl_tr_kind kind;
	ecl_tr_type type;
	ecl_opcode	op;				/* ARITH, CMP */
	bool		b;				/* CONST bool */
	double		num;			/* CONST number */
	const char *str;			/* CONST text, CREDENTIAL schema, RAISE message */
	size_t		len;
	int			index;			/* FIELD number, TRUST_DIM dimension */
	ecl_error_code code;		/* RAISE */
	ecl_tr_node *a;
	ecl_tr_node *b_;
	ecl_tr_node *c;
	bool		may_raise;		/* this node or one below may raise */
	bool		nullable;		/* may be SQL NULL (atoms only) */
};

/* What the call site knows about one input field (a jsonb_build_object pair) */
typedef struct ecl_tr_field
{
	const char *name;
	size_t		name_len;
	bool		is_const;		/* value is known: */
	ecl_value	value;			/* null, bool, number or string */
	ecl_tr_type type;			/* else its SQL type */
	bool		nullable;		/* and whether it may be NULL */
} ecl_tr_field;

/* The caller or the realm of the call */
typedef struct ecl_tr_atom
{
	bool		is_const;		/* known: NULL (str == NULL) or str */
	const char *str;
	size_t		len;
	bool		nullable;		/* an expression: may it be NULL? */
} ecl_tr_atom;

typedef struct ecl_tr_request
{
	const ecl_program *program;
	const char *policy_name;	/* for error messages */
	bool		input_known;	/* false: the input is opaque (not translatable
								 * when the program reads it) */
	const ecl_tr_field *fields;
	int			nfields;
	ecl_tr_atom caller;
	ecl_tr_atom realm;
	bool		needs_caller;	/* a NULL caller is denied without running
								 * (ecl.allowed without ecl.allow_anonymous) */
	int64_t		gas_limit;		/* the limits in force */
	int64_t		mana_limit;
	uint32_t	max_stack_depth;	/* 0 = none */
	uint32_t	max_nodes;		/* size budget of the result; 0 = default */
} ecl_tr_request;

/*
 * Translate; on success *out is a non-NULL boolean node (true = the policy
 * passes).  On ECL_FAIL, reason says why the policy stays in the VM (a
 * sentence).  All memory comes from arena.
 */
ecl_status	ecl_translate(ecl_arena *arena, const ecl_tr_request *req,
						  ecl_tr_node **out, char *reason, size_t reason_len);

/* The node as SQL-like text (for ecl.policy_sql and tests); arena memory. */
char	   *ecl_tr_to_text(ecl_arena *arena, const ecl_tr_node *node,
						   const char *const *field_sql, const char *caller_sql,
						   const char *realm_sql);

#endif							/* ECL_TRANSLATE_H */
