/*
 * planner_support.c — policies the planner can see.
 *
 *   ecl.policy_support(internal)      the planner support function of
 *                                     ecl.check and ecl.allowed
 *   ecl.policy_sql(policy, fields)    the SQL a policy becomes, or why not
 *
 * SupportRequestSimplify: when the policy name is a constant, the input is
 * '{}' or jsonb_build_object(...) with constant keys, and the registered
 * policy lies in the translatable subset (src/core/translate.c), the call is
 * replaced by an equivalent SQL expression over the argument expressions.
 * The planner then sees `owner = <caller>` and can use an index.
 *
 * Facts about the caller are computed once per execution: each becomes a
 * scalar sub-select, which the planner turns into an InitPlan (evaluated on
 * first use, once).  eval_const_expressions runs before the sub-selects of
 * an expression are planned (preprocess_expression), so the sub-selects we
 * add here are planned like the user's own; we mark the query as having
 * sub-links for that.
 *
 * Every translated call carries a gate, also an InitPlan: it checks EXECUTE
 * on the function the user called (the call itself no longer runs, so the
 * executor would not check it) and, for ecl.allowed, yields the caller's DID.
 *
 * A plan that embeds a policy depends on ecl.policies (its OID goes into
 * the plan's relationOids); the relcache invalidation a registration or a
 * drop sends replans every cached plan (prepared statements, PL/pgSQL,
 * RLS).  Settings that change what a run does (ecl.translate,
 * ecl.allow_anonymous, ecl.rate_limit, ecl.rls_errors, the gas, mana and
 * stack limits) are read here, at plan time; changing any of them resets
 * the backend's cached plans (ecl.c).
 *
 * Before any of that, and whatever the settings, a call of a policy that
 * declares its inputs is checked against the constant keys of its
 * jsonb_build_object (check_declared_keys): an undeclared key or a missing
 * required field is 42703 at plan time.
 *
 * Not translated, and so run in the VM as before: ecl.rate_limit on (runs
 * must pay), ecl.rls_errors = deny (errors must become counted denials), a
 * database encoding other than UTF8, and everything translate.c refuses.
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "nodes/supportnodes.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parse_func.h"
#include "parser/parse_type.h"
#include "rewrite/rewriteManip.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/ruleutils.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/varlena.h"

#include "ecl/translate.h"

#include "ecl_pg.h"
#include "decision_queue.h"
#include "planner_support.h"
#include "policy_catalog.h"

PG_FUNCTION_INFO_V1(ecl_policy_support);
PG_FUNCTION_INFO_V1(ecl_policy_sql);

bool		ecl_translate_enabled = true;

#define FLOAT8_NE_OP 671
#define FLOAT8_LT_OP 672
#define FLOAT8_LE_OP 673
#define FLOAT8_GT_OP 674
#define FLOAT8_GE_OP 675
#define FLOAT8_EQ_OP 670
#define TEXT_NE_OP 531
#define TEXT_LT_OP 664
#define TEXT_LE_OP 665
#define TEXT_GT_OP 666
#define TEXT_GE_OP 667

/* What the call site gives the translation */
typedef struct CallSite
{
	bool		is_allowed;		/* ecl.allowed, else ecl.check */
	Oid			funcid;
	const char *policy_name;
	const EclPolicy *policy;
	int			nfields;
	ecl_tr_field *fields;
	Node	  **field_expr;		/* SQL value of each field (float8/text/bool) */
	Node	   *caller_expr;	/* NULL when constant */
	Node	   *realm_expr;		/* NULL when constant */
	ecl_tr_request req;
	bool		sublinks;		/* may we add sub-selects? */
	bool		caller_used;	/* the translation reads caller_expr */
	PlannerInfo *root;

	/* how to_expr renders the caller's facts (see "callers from the row") */
	enum
	{
		FACTS_CALLED,			/* ecl.policy_trust / ecl.policy_credential */
		FACTS_DEFAULT,			/* a DID without facts: zero trust, none held */
		FACTS_FROM_SET			/* columns of ecl.policy_callers' row */
	}			facts;
	Node	   *caller_as;		/* FACTS_DEFAULT, FACTS_FROM_SET: the caller */
	List	   *set_schemas;	/* FACTS_FROM_SET: schemas by held bit */
	bool		set_trust;		/* FACTS_FROM_SET: a trust dimension is read */
} CallSite;

/* ---------------------------------------------------------------- helpers */

static void
why(StringInfo reason, const char *fmt,...)
pg_attribute_printf(2, 3);

static void
why(StringInfo reason, const char *fmt,...)
{
	va_list		args;

	if (reason == NULL || reason->len > 0)
		return;
	for (;;)
	{
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(reason, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(reason, needed);
	}
}

static Oid
ecl_function(const char *name, int nargs, const Oid *argtypes)
{
	return LookupFuncName(list_make2(makeString("ecl"), makeString(pstrdup(name))),
						  nargs, argtypes, false);
}

static Node *
make_func(Oid funcid, Oid rettype, List *args, Oid collid)
{
	FuncExpr   *f = makeFuncExpr(funcid, rettype, args, collid, InvalidOid,
								 COERCE_EXPLICIT_CALL);

	return (Node *) f;
}

static Node *
text_const(const char *s, size_t len)
{
	return (Node *) makeConst(TEXTOID, -1, DEFAULT_COLLATION_OID, -1,
							  PointerGetDatum(cstring_to_text_with_len(s, (int) len)),
							  false, false);
}

static Node *
float8_const(double d)
{
	return (Node *) makeConst(FLOAT8OID, -1, InvalidOid, sizeof(float8),
							  Float8GetDatum(d), false, FLOAT8PASSBYVAL);
}

static Node *
int4_const(int v)
{
	return (Node *) makeConst(INT4OID, -1, InvalidOid, sizeof(int32),
							  Int32GetDatum(v), false, true);
}

/* SELECT target AS name FROM rtable WHERE ... (jointree) */
static Query *
make_select(List *rtable, FromExpr *jointree, Expr *target, const char *name)
{
	Query	   *q = makeNode(Query);

	q->commandType = CMD_SELECT;
	q->querySource = QSRC_ORIGINAL;
	q->canSetTag = true;
	q->rtable = rtable;
	q->jointree = jointree;
	q->targetList = list_make1(makeTargetEntry(target, 1, pstrdup(name), false));
	return q;
}

/* A sub-select of q (an InitPlan when q refers to nothing of the row) */
static Node *
make_sublink_of(CallSite *cs, SubLinkType type, Query *q)
{
	SubLink    *sl = makeNode(SubLink);

	sl->subLinkType = type;
	sl->subLinkId = 0;
	sl->testexpr = NULL;
	sl->operName = NIL;
	sl->subselect = (Node *) q;
	sl->location = -1;
	cs->root->parse->hasSubLinks = true;
	return (Node *) sl;
}

/*
 * (SELECT expr): the planner makes an InitPlan of it when expr refers to
 * nothing of the outer query, so it is computed once per execution.
 */
static Node *
make_sublink(CallSite *cs, Node *expr)
{
	if (!cs->sublinks)
		return expr;
	return make_sublink_of(cs, EXPR_SUBLINK,
						   make_select(NIL, makeFromExpr(NIL, NULL), (Expr *) expr, "v"));
}

static Node *
make_op(Oid opno, Node *a, Node *b, Oid collid)
{
	OpExpr	   *op = (OpExpr *) make_opclause(opno, BOOLOID, false, (Expr *) a,
											  (Expr *) b, InvalidOid, collid);

	set_opfuncid(op);
	return (Node *) op;
}

static Node *
make_bool(BoolExprType t, Node *a, Node *b)
{
	List	   *args = NIL;
	Node	   *parts[2] = {a, b};

	/* flat, like canonicalize_qual leaves it: every conjunct on its own */
	for (int i = 0; i < 2; i++)
	{
		if (IsA(parts[i], BoolExpr) && ((BoolExpr *) parts[i])->boolop == t)
			args = list_concat(args, ((BoolExpr *) parts[i])->args);
		else
			args = lappend(args, parts[i]);
	}
	return (Node *) makeBoolExpr(t, args, -1);
}

/* CASE WHEN cond THEN then_ ELSE else_ END, of type boolean */
static Node *
make_case(Node *cond, Node *then_, Node *else_)
{
	CaseExpr   *c = makeNode(CaseExpr);
	CaseWhen   *w = makeNode(CaseWhen);

	w->expr = (Expr *) cond;
	w->result = (Expr *) then_;
	w->location = -1;
	c->casetype = BOOLOID;
	c->casecollid = InvalidOid;
	c->arg = NULL;
	c->args = list_make1(w);
	c->defresult = (Expr *) else_;
	c->location = -1;
	return (Node *) c;
}

/* The collation an equality of text uses: the column's, if it has one */
static Oid
equality_collation(Node *a, Node *b)
{
	Oid			c = exprCollation(a);

	if (!OidIsValid(c) || IsA(a, Const))
		c = exprCollation(b);
	if (!OidIsValid(c))
		c = DEFAULT_COLLATION_OID;
	return c;
}

static Oid
cmp_operator(ecl_tr_type type, ecl_opcode op)
{
	switch (type)
	{
		case ECL_TR_NUM:
			return op == ECL_OP_EQ ? FLOAT8_EQ_OP : op == ECL_OP_NE ? FLOAT8_NE_OP :
				op == ECL_OP_LT ? FLOAT8_LT_OP : op == ECL_OP_LE ? FLOAT8_LE_OP :
				op == ECL_OP_GT ? FLOAT8_GT_OP : FLOAT8_GE_OP;
		case ECL_TR_STR:
			return op == ECL_OP_EQ ? TextEqualOperator : op == ECL_OP_NE ? TEXT_NE_OP :
				op == ECL_OP_LT ? TEXT_LT_OP : op == ECL_OP_LE ? TEXT_LE_OP :
				op == ECL_OP_GT ? TEXT_GT_OP : TEXT_GE_OP;
		default:
			return op == ECL_OP_EQ ? BooleanEqualOperator : BooleanNotEqualOperator;
	}
}

static Node *
realm_text_expr(CallSite *cs)
{
	if (cs->realm_expr != NULL)
		return copyObject(cs->realm_expr);
	if (cs->req.realm.str == NULL)
		return (Node *) makeNullConst(TEXTOID, -1, DEFAULT_COLLATION_OID);
	return text_const(cs->req.realm.str, cs->req.realm.len);
}

static Node *
caller_text_expr(CallSite *cs)
{
	if (cs->facts != FACTS_CALLED)
		return copyObject(cs->caller_as);
	if (cs->caller_expr != NULL)
	{
		cs->caller_used = true;
		return copyObject(cs->caller_expr);
	}
	if (cs->req.caller.str == NULL)
		return (Node *) makeNullConst(TEXTOID, -1, DEFAULT_COLLATION_OID);
	return text_const(cs->req.caller.str, cs->req.caller.len);
}

/* ---------------------------------------------------- translation to Expr */

/*
 * The columns of ecl.policy_callers' row: did, the six trust dimensions,
 * held (bit k set: the DID holds a valid credential of schema k)
 */
#define SET_COLUMN_DID 1
#define SET_COLUMN_TRUST 2
#define SET_COLUMN_HELD (SET_COLUMN_TRUST + ECL_TRUST_DIMS)

static Node *
set_trust_column(int dim)
{
	return (Node *) makeVar(1, SET_COLUMN_TRUST + dim, FLOAT8OID, -1, InvalidOid, 0);
}

static Node *
set_held_test(int k)
{
	Node	   *bits = make_func(F_INT8AND, INT8OID,
								 list_make2(makeVar(1, SET_COLUMN_HELD, INT8OID, -1, InvalidOid, 0),
											makeConst(INT8OID, -1, InvalidOid, sizeof(int64),
													  Int64GetDatum(INT64CONST(1) << k),
													  false, FLOAT8PASSBYVAL)),
								 InvalidOid);

	return make_func(F_INT8NE, BOOLOID,
					 list_make2(bits, makeConst(INT8OID, -1, InvalidOid, sizeof(int64),
												Int64GetDatum(0), false, FLOAT8PASSBYVAL)),
					 InvalidOid);
}

/* The position of a credential's schema in the set's held bits */
static int
set_schema_index(CallSite *cs, const ecl_tr_node *n)
{
	int			k = 0;
	ListCell   *lc;

	foreach(lc, cs->set_schemas)
	{
		const ecl_tr_node *m = lfirst(lc);

		if (m->len == n->len && memcmp(m->str, n->str, n->len) == 0)
			return k;
		k++;
	}
	cs->set_schemas = lappend(cs->set_schemas, (void *) n);
	return k;
}

/*
 * A fact of the caller: once per execution as an InitPlan, unless the
 * caller or realm comes from the row (then per row, as the VM asks).
 */
static Node *
caller_fact(CallSite *cs, Node *call)
{
	if ((cs->caller_expr && contain_var_clause(cs->caller_expr)) ||
		(cs->realm_expr && contain_var_clause(cs->realm_expr)))
		return call;
	return make_sublink(cs, call);
}

static Node *
to_expr(CallSite *cs, const ecl_tr_node *n)
{
	switch (n->kind)
	{
		case ECL_TR_CONST:
			if (n->type == ECL_TR_BOOL)
				return makeBoolConst(n->b, false);
			if (n->type == ECL_TR_NUM)
				return float8_const(n->num);
			return text_const(n->str, n->len);
		case ECL_TR_FIELD:
			return copyObject(cs->field_expr[n->index]);
		case ECL_TR_CALLER:
			return caller_text_expr(cs);
		case ECL_TR_REALM:
			return realm_text_expr(cs);
		case ECL_TR_TRUST_DIM:
			{
				Oid			types[3] = {TEXTOID, TEXTOID, INT4OID};
				Oid			own[2] = {TEXTOID, INT4OID};
				Node	   *call;

				if (cs->facts == FACTS_DEFAULT)
					return float8_const(0.0);
				if (cs->facts == FACTS_FROM_SET)
				{
					cs->set_trust = true;
					return set_trust_column(n->index);
				}
				if (cs->is_allowed)
					call = make_func(ecl_function("policy_own_trust", 2, own), FLOAT8OID,
									 list_make2(realm_text_expr(cs), int4_const(n->index)),
									 InvalidOid);
				else
					call = make_func(ecl_function("policy_trust", 3, types), FLOAT8OID,
									 list_make3(caller_text_expr(cs), realm_text_expr(cs),
												int4_const(n->index)),
									 InvalidOid);
				return caller_fact(cs, call);
			}
		case ECL_TR_CREDENTIAL:
			{
				Oid			types[2] = {TEXTOID, TEXTOID};
				Oid			own[1] = {TEXTOID};
				Node	   *call;

				if (cs->facts == FACTS_DEFAULT)
					return makeBoolConst(false, false);
				if (cs->facts == FACTS_FROM_SET)
					return set_held_test(set_schema_index(cs, n));
				if (cs->is_allowed)
					call = make_func(ecl_function("policy_own_credential", 1, own), BOOLOID,
									 list_make1(text_const(n->str, n->len)), InvalidOid);
				else
					call = make_func(ecl_function("policy_credential", 2, types), BOOLOID,
									 list_make2(caller_text_expr(cs), text_const(n->str, n->len)),
									 InvalidOid);
				return caller_fact(cs, call);
			}
		case ECL_TR_ARITH:
			{
				Oid			types[3] = {FLOAT8OID, FLOAT8OID, TEXTOID};
				const char *fn = n->op == ECL_OP_ADD ? "policy_add" :
					n->op == ECL_OP_SUB ? "policy_sub" :
					n->op == ECL_OP_MUL ? "policy_mul" :
					n->op == ECL_OP_DIV ? "policy_div" : "policy_mod";

				return make_func(ecl_function(fn, 3, types), FLOAT8OID,
								 list_make3(to_expr(cs, n->a), to_expr(cs, n->b_),
											text_const(n->str, n->len)),
								 InvalidOid);
			}
		case ECL_TR_NEG:
			return make_func(F_FLOAT8UM, FLOAT8OID, list_make1(to_expr(cs, n->a)), InvalidOid);
		case ECL_TR_CONCAT:
			return make_func(F_TEXTCAT, TEXTOID,
							 list_make2(to_expr(cs, n->a), to_expr(cs, n->b_)),
							 DEFAULT_COLLATION_OID);
		case ECL_TR_CMP:
			{
				Node	   *a = to_expr(cs, n->a);
				Node	   *b = to_expr(cs, n->b_);
				Oid			coll = InvalidOid;

				if (n->a->type == ECL_TR_STR)
					coll = (n->op == ECL_OP_EQ || n->op == ECL_OP_NE)
						? equality_collation(a, b) : C_COLLATION_OID;
				return make_op(cmp_operator(n->a->type, n->op), a, b, coll);
			}
		case ECL_TR_NOT_DISTINCT:
			{
				Node	   *a = to_expr(cs, n->a);
				Node	   *b = to_expr(cs, n->b_);
				DistinctExpr *d = makeNode(DistinctExpr);

				d->opno = cmp_operator(n->a->type, ECL_OP_EQ);
				d->opfuncid = InvalidOid;
				d->opresulttype = BOOLOID;
				d->opretset = false;
				d->opcollid = InvalidOid;
				d->inputcollid = n->a->type == ECL_TR_STR ? equality_collation(a, b) : InvalidOid;
				d->args = list_make2(a, b);
				d->location = -1;
				set_opfuncid((OpExpr *) d);
				return (Node *) makeBoolExpr(NOT_EXPR, list_make1(d), -1);
			}
		case ECL_TR_IS_NULL:
			{
				NullTest   *t = makeNode(NullTest);

				t->arg = (Expr *) to_expr(cs, n->a);
				t->nulltesttype = IS_NULL;
				t->argisrow = false;
				t->location = -1;
				return (Node *) t;
			}
		case ECL_TR_IS_TRUE:
			{
				BooleanTest *t = makeNode(BooleanTest);

				t->arg = (Expr *) to_expr(cs, n->a);
				t->booltesttype = IS_TRUE;
				t->location = -1;
				return (Node *) t;
			}
		case ECL_TR_NONEMPTY:
			return make_op(TEXT_NE_OP, to_expr(cs, n->a), text_const("", 0), C_COLLATION_OID);
		case ECL_TR_NOT:
			{
				Node	   *a = to_expr(cs, n->a);

				/* NOT (x IS NULL) reads better, and plans the same, as IS NOT NULL */
				if (IsA(a, NullTest) && ((NullTest *) a)->nulltesttype == IS_NULL)
				{
					((NullTest *) a)->nulltesttype = IS_NOT_NULL;
					return a;
				}
				return (Node *) makeBoolExpr(NOT_EXPR, list_make1(a), -1);
			}
		case ECL_TR_AND:
			return make_bool(AND_EXPR, to_expr(cs, n->a), to_expr(cs, n->b_));
		case ECL_TR_OR:
			return make_bool(OR_EXPR, to_expr(cs, n->a), to_expr(cs, n->b_));
		case ECL_TR_CASE:
			return make_case(to_expr(cs, n->a), to_expr(cs, n->b_), to_expr(cs, n->c));
		case ECL_TR_RAISE:
			{
				Oid			types[2] = {INT4OID, TEXTOID};

				return make_func(ecl_function("policy_error", 2, types), BOOLOID,
								 list_make2(int4_const((int) n->code),
											text_const(n->str, n->len)),
								 InvalidOid);
			}
	}
	elog(ERROR, "unknown translation node %d", (int) n->kind);
	return NULL;
}

/* ------------------------------------------------- callers from the row */

/*
 * ecl.check(policy, <a column>, <a constant realm>, ...) whose policy reads
 * nothing of the call but facts of its caller — its trust in the realm,
 * which credentials it holds, whether there is one — is a function of the
 * row's DID alone.  Asked per row it costs a lookup per fact and row; the
 * set-based join a DBA writes instead computes the eligible DIDs once and
 * probes a hash per row.  So does the translation, past the first rows:
 *
 *   CASE WHEN ecl.policy_past_rows(64)
 *        THEN <caller> IS NOT NULL AND ecl.policy_in_set(<caller>, ARRAY(
 *                 SELECT did FROM ecl.policy_callers(realm, trust?, schemas)
 *                  WHERE <the policy over the row's r ... omega, held>))
 *        ELSE <the policy with a lookup per fact, as before> END
 *
 * ecl.policy_callers lists every DID with a fact other than the default
 * (a trust row, a valid credential of a schema the policy asks about) with
 * the facts the per-row functions would answer; any other DID has the
 * default facts, so the policy's value for it is a constant, computed here
 * (as for a NULL caller).  The sub-select keeps the DIDs whose value differs
 * from that constant (NOT in the set when the constant is true).  It is an
 * InitPlan: computed once per execution, by the leader of a parallel plan,
 * which hands the array to its workers; ecl.policy_in_set hashes it on its
 * first call.  Exact: the policy is the same tree rendered three ways, it
 * cannot raise (nothing to raise for DIDs the rows never name), and it is
 * never NULL (no input field, realm known).  ecl.policy_past_rows keeps
 * statements that meet few rows (an index scan, a LIMIT) on the per-row
 * lookups, which for them are cheaper than reading every caller's facts;
 * both branches give the same answer, so where a scan switches is only a
 * matter of speed.  64 rows stay below the 128 misses after which the
 * host itself would read a whole answer set (statement_memo.h).
 */
#define CALLER_SET_AFTER_ROWS 64

/* Does n read only the caller's facts and whether it is NULL? */
static bool
reads_only_caller_facts(const ecl_tr_node *n, bool realm_known, bool *facts)
{
	if (n == NULL)
		return true;
	switch (n->kind)
	{
		case ECL_TR_CONST:
			return true;
		case ECL_TR_REALM:
			return realm_known;
		case ECL_TR_TRUST_DIM:
		case ECL_TR_CREDENTIAL:
			*facts = true;
			return true;
		case ECL_TR_IS_NULL:
			if (n->a->kind == ECL_TR_CALLER)
				return true;
			break;
		case ECL_TR_FIELD:
		case ECL_TR_CALLER:
		case ECL_TR_ARITH:
		case ECL_TR_RAISE:
			return false;
		default:
			break;
	}
	return reads_only_caller_facts(n->a, realm_known, facts) &&
		reads_only_caller_facts(n->b_, realm_known, facts) &&
		reads_only_caller_facts(n->c, realm_known, facts);
}

/* The policy's value for a caller without facts (caller NULL or not) */
static bool
default_value(CallSite *cs, const ecl_tr_node *t, bool caller_null, bool *value)
{
	Node	   *e;

	cs->facts = FACTS_DEFAULT;
	cs->caller_as = caller_null
		? (Node *) makeNullConst(TEXTOID, -1, DEFAULT_COLLATION_OID)
		: text_const("x", 1);	/* any DID: none is read */
	e = eval_const_expressions(cs->root, to_expr(cs, t));
	cs->facts = FACTS_CALLED;
	if (!IsA(e, Const) || ((Const *) e)->constisnull)
		return false;
	*value = DatumGetBool(((Const *) e)->constvalue);
	return true;
}

static Node *
caller_set_expr(CallSite *cs, const ecl_tr_node *t)
{
	bool		facts = false;
	bool		value_default;
	bool		value_null;
	Node	   *keep;
	Node	   *member;
	Node	   *set_form;
	Datum	   *schemas;
	int			k = 0;
	ListCell   *lc;
	Oid			types[2] = {TEXTOID, TEXTARRAYOID};
	Oid			callers_types[3] = {TEXTOID, BOOLOID, TEXTARRAYOID};
	FuncExpr   *callers;
	RangeTblFunction *rtfunc;
	RangeTblEntry *rte;
	RangeTblRef *rtr;
	Query	   *q;
	Node	   *in_set;
	Oid			past_types[1] = {INT4OID};

	if (cs->is_allowed || !cs->sublinks || t->may_raise ||
		cs->caller_expr == NULL || !contain_var_clause(cs->caller_expr) ||
		cs->realm_expr != NULL ||
		!reads_only_caller_facts(t, cs->req.realm.str != NULL, &facts) || !facts)
		return NULL;
	if (!default_value(cs, t, false, &value_default) ||
		!default_value(cs, t, true, &value_null))
		return NULL;

	/* the policy over the set's columns; keep the DIDs it decides otherwise */
	cs->facts = FACTS_FROM_SET;
	cs->caller_as = (Node *) makeVar(1, SET_COLUMN_DID, TEXTOID, -1, DEFAULT_COLLATION_OID, 0);
	cs->set_schemas = NIL;
	cs->set_trust = false;
	keep = to_expr(cs, t);
	cs->facts = FACTS_CALLED;
	if (list_length(cs->set_schemas) > ECL_CALLER_SET_MAX_SCHEMAS)
		return NULL;
	if (value_default)
		keep = (Node *) makeBoolExpr(NOT_EXPR, list_make1(keep), -1);

	schemas = palloc(sizeof(Datum) * (list_length(cs->set_schemas) + 1));
	foreach(lc, cs->set_schemas)
	{
		const ecl_tr_node *n = lfirst(lc);

		schemas[k++] = PointerGetDatum(cstring_to_text_with_len(n->str, (int) n->len));
	}
	callers = makeFuncExpr(ecl_function("policy_callers", 3, callers_types), RECORDOID,
						   list_make3(realm_text_expr(cs), makeBoolConst(cs->set_trust, false),
									  makeConst(TEXTARRAYOID, -1, InvalidOid, -1,
												PointerGetDatum(construct_array(schemas, k, TEXTOID, -1,
																				false, TYPALIGN_INT)),
												false, false)),
						   InvalidOid, InvalidOid,
						   COERCE_SQL_SYNTAX);	/* the mark caller_sets.c asks for */
	callers->funcretset = true;

	rtfunc = makeNode(RangeTblFunction);
	rtfunc->funcexpr = (Node *) callers;
	rtfunc->funccolcount = SET_COLUMN_HELD;
	rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_FUNCTION;
	rte->functions = list_make1(rtfunc);
	rte->eref = makeAlias("caller_set", NIL);
	{
		static const char *const names[SET_COLUMN_HELD] = {
			"did", "r", "i", "c", "p", "v", "omega", "held"
		};

		for (int i = 0; i < SET_COLUMN_HELD; i++)
			rte->eref->colnames = lappend(rte->eref->colnames, makeString(pstrdup(names[i])));
	}
	rte->inFromCl = true;

	rtr = makeNode(RangeTblRef);
	rtr->rtindex = 1;
	q = make_select(list_make1(rte), makeFromExpr(list_make1(rtr), keep),
					(Expr *) makeVar(1, SET_COLUMN_DID, TEXTOID, -1, DEFAULT_COLLATION_OID, 0),
					"did");

	/* ARRAY(SELECT did FROM ...): an InitPlan, computed once, in the leader */
	in_set = make_func(ecl_function("policy_in_set", 2, types), BOOLOID,
					   list_make2(copyObject(cs->caller_expr),
								  make_sublink_of(cs, ARRAY_SUBLINK, q)),
					   InvalidOid);

	member = value_default ? (Node *) makeBoolExpr(NOT_EXPR, list_make1(in_set), -1) : in_set;
	{
		NullTest   *nt = makeNode(NullTest);

		nt->arg = (Expr *) copyObject(cs->caller_expr);
		nt->nulltesttype = value_null ? IS_NULL : IS_NOT_NULL;
		nt->argisrow = false;
		nt->location = -1;
		set_form = make_bool(value_null ? OR_EXPR : AND_EXPR, (Node *) nt, member);
	}

	return make_case(make_func(ecl_function("policy_past_rows", 1, past_types), BOOLOID,
							   list_make1(int4_const(CALLER_SET_AFTER_ROWS)), InvalidOid),
					 set_form, to_expr(cs, t));
}

/* ------------------------------------------------------- the call's input */

static Node *
strip_relabel(Node *n)
{
	while (n && IsA(n, RelabelType))
		n = (Node *) ((RelabelType *) n)->arg;
	return n;
}

/*
 * The value of one jsonb_build_object argument: its ECL view and the SQL
 * expression of that value (float8, text or bool).  Only columns, constants
 * and parameters: evaluating them more or less often than the call would
 * cannot raise or change anything.
 */
static bool
analyse_value(Node *arg, ecl_tr_field *f, Node **sql, ecl_alloc *alloc,
			  StringInfo reason)
{
	Node	   *base = strip_relabel(arg);
	Oid			type = exprType(arg);

	if (!(IsA(base, Var) || IsA(base, Const) || IsA(base, Param)))
	{
		why(reason, "the value of input field \"%s\" is an expression (only columns, constants and parameters are translated)",
			f->name);
		return false;
	}
	if (IsA(base, Const) && ((Const *) base)->constisnull)
	{
		f->is_const = true;
		f->value = ecl_null();
		return true;
	}
	if (IsA(base, Const))
	{
		Const	   *c = (Const *) base;
		ecl_error	err;

		f->is_const = true;
		switch (type)
		{
			case INT2OID:
				f->value = ecl_number((double) DatumGetInt16(c->constvalue));
				return true;
			case INT4OID:
				f->value = ecl_number((double) DatumGetInt32(c->constvalue));
				return true;
			case INT8OID:
				f->value = ecl_number((double) DatumGetInt64(c->constvalue));
				return true;
			case BOOLOID:
				f->value = ecl_bool(DatumGetBool(c->constvalue));
				return true;
			case TEXTOID:
			case VARCHAROID:
			case UNKNOWNOID:
				{
					char	   *s = type == UNKNOWNOID ? DatumGetCString(c->constvalue)
						: TextDatumGetCString(c->constvalue);

					ecl_error_clear(&err);
					if (ecl_string_new(alloc, s, strlen(s), &f->value, &err) != ECL_OK)
						ecl_raise(&err, NULL);
					return true;
				}
			default:
				why(reason, "input field \"%s\" is a constant of type %s", f->name,
					format_type_be(type));
				return false;
		}
	}

	f->is_const = false;
	f->nullable = true;
	switch (type)
	{
		case INT2OID:
			f->type = ECL_TR_NUM;
			*sql = make_func(F_FLOAT8_INT2, FLOAT8OID, list_make1(arg), InvalidOid);
			((FuncExpr *) *sql)->funcformat = COERCE_EXPLICIT_CAST;
			return true;
		case INT4OID:
			f->type = ECL_TR_NUM;
			*sql = make_func(F_FLOAT8_INT4, FLOAT8OID, list_make1(arg), InvalidOid);
			((FuncExpr *) *sql)->funcformat = COERCE_EXPLICIT_CAST;
			return true;
		case INT8OID:
			/* int8 -> double rounds to nearest, as the VM reads the numeric */
			f->type = ECL_TR_NUM;
			*sql = make_func(F_FLOAT8_INT8, FLOAT8OID, list_make1(arg), InvalidOid);
			((FuncExpr *) *sql)->funcformat = COERCE_EXPLICIT_CAST;
			return true;
		case BOOLOID:
			f->type = ECL_TR_BOOL;
			*sql = arg;
			return true;
		case TEXTOID:
		case VARCHAROID:
			{
				Oid			coll = exprCollation(arg);

				if (OidIsValid(coll) && !get_collation_isdeterministic(coll))
				{
					why(reason, "input field \"%s\" has a nondeterministic collation", f->name);
					return false;
				}
				f->type = ECL_TR_STR;
				*sql = type == TEXTOID ? arg :
					(Node *) makeRelabelType((Expr *) arg, TEXTOID, -1,
											 OidIsValid(coll) ? coll : DEFAULT_COLLATION_OID,
											 COERCE_IMPLICIT_CAST);
				return true;
			}
		default:
			why(reason, "input field \"%s\" has type %s (translated: smallint, integer, bigint, boolean, text, varchar)",
				f->name, format_type_be(type));
			return false;
	}
}

static bool
analyse_input(CallSite *cs, Node *input, ecl_alloc *alloc, StringInfo reason)
{
	if (IsA(input, Const))
	{
		Const	   *c = (Const *) input;

		if (c->consttype == JSONBOID &&
			(c->constisnull ||
			 (JB_ROOT_IS_OBJECT(DatumGetJsonbP(c->constvalue)) &&
			  JB_ROOT_COUNT(DatumGetJsonbP(c->constvalue)) == 0)))
		{
			cs->req.input_known = true;
			return true;
		}
		why(reason, "the input is a constant other than '{}'");
		return false;
	}
	if (IsA(input, FuncExpr) &&
		(((FuncExpr *) input)->funcid == F_JSONB_BUILD_OBJECT_ANY ||
		 ((FuncExpr *) input)->funcid == F_JSONB_BUILD_OBJECT_) &&
		!((FuncExpr *) input)->funcvariadic)
	{
		List	   *args = ((FuncExpr *) input)->args;
		int			n = list_length(args);

		if (n % 2 != 0)
		{
			why(reason, "jsonb_build_object has an odd number of arguments");
			return false;
		}
		cs->fields = palloc0(sizeof(ecl_tr_field) * (n / 2 + 1));
		cs->field_expr = palloc0(sizeof(Node *) * (n / 2 + 1));
		cs->nfields = 0;
		for (int i = 0; i < n; i += 2)
		{
			Node	   *key = strip_relabel(list_nth(args, i));
			Node	   *val = list_nth(args, i + 1);
			char	   *name;
			int			slot;
			Const	   *kc;

			if (!IsA(key, Const) || ((Const *) key)->constisnull ||
				(((Const *) key)->consttype != TEXTOID &&
				 ((Const *) key)->consttype != UNKNOWNOID))
			{
				why(reason, "a key of jsonb_build_object is not a constant string");
				return false;
			}
			kc = (Const *) key;
			name = kc->consttype == UNKNOWNOID ? pstrdup(DatumGetCString(kc->constvalue))
				: TextDatumGetCString(kc->constvalue);
			/* a repeated key keeps its last value, as in jsonb */
			for (slot = 0; slot < cs->nfields; slot++)
				if (strcmp(cs->fields[slot].name, name) == 0)
					break;
			if (slot == cs->nfields)
				cs->nfields++;
			memset(&cs->fields[slot], 0, sizeof(ecl_tr_field));
			cs->fields[slot].name = name;
			cs->fields[slot].name_len = strlen(name);
			cs->field_expr[slot] = NULL;
			if (!analyse_value(val, &cs->fields[slot], &cs->field_expr[slot], alloc, reason))
				return false;
		}
		cs->req.input_known = true;
		return true;
	}
	why(reason, "the input is neither '{}' nor jsonb_build_object(...) with constant keys");
	return false;
}

/*
 * The caller or realm argument: a constant NULL is known; other constants,
 * columns and parameters are used as they are; any other expression that
 * neither reads the row nor is volatile is computed once, as an InitPlan.
 */
static bool
analyse_atom(CallSite *cs, Node *arg, ecl_tr_atom *atom, Node **expr,
			 bool allow_const_text, const char *what, StringInfo reason)
{
	Node	   *base = strip_relabel(arg);

	memset(atom, 0, sizeof(*atom));
	*expr = NULL;
	if (IsA(base, Const) && ((Const *) base)->constisnull)
	{
		atom->is_const = true;
		atom->str = NULL;
		return true;
	}
	if (exprType(arg) != TEXTOID && exprType(arg) != VARCHAROID)
	{
		why(reason, "the %s argument is not text", what);
		return false;
	}
	if (IsA(base, Const))
	{
		char	   *s = TextDatumGetCString(((Const *) base)->constvalue);

		if (allow_const_text)
		{
			atom->is_const = true;
			atom->str = s;
			atom->len = strlen(s);
			return true;
		}
		*expr = arg;
		atom->nullable = false;
		return true;
	}
	if (IsA(base, Var) || IsA(base, Param))
	{
		Oid			coll = exprCollation(arg);

		if (OidIsValid(coll) && !get_collation_isdeterministic(coll))
		{
			why(reason, "the %s argument has a nondeterministic collation", what);
			return false;
		}
		*expr = arg;
		atom->nullable = true;
		return true;
	}
	if (cs->sublinks && !contain_var_clause(arg) && !contain_volatile_functions(arg) &&
		!contain_subplans(arg) && !contain_agg_clause(arg) && !contain_window_function(arg) &&
		!checkExprHasSubLink(arg))
	{
		*expr = make_sublink(cs, arg);
		atom->nullable = true;
		return true;
	}
	why(reason, "the %s argument is an expression that reads the row or is volatile", what);
	return false;
}

/* ------------------------------------------------------------ translating */

/*
 * The function a gate checks, an oid argument shown by name (EXPLAIN,
 * ecl.policy_sql): 'ecl.allowed(text,text,jsonb)'::regprocedure
 */
static Node *
function_const(Oid funcid)
{
	return (Node *) makeRelabelType((Expr *) makeConst(REGPROCEDUREOID, -1, InvalidOid,
													   sizeof(Oid), ObjectIdGetDatum(funcid),
													   false, true),
									OIDOID, -1, InvalidOid, COERCE_IMPLICIT_CAST);
}

/*
 * The realm the gate counts the translated execution under: the call's
 * when the plan knows it (a constant, or the policy's own realm), else
 * NULL (none).
 */
static Node *
gate_realm(CallSite *cs)
{
	if (cs->req.realm.is_const && cs->req.realm.str != NULL)
		return text_const(cs->req.realm.str, cs->req.realm.len);
	return (Node *) makeNullConst(TEXTOID, -1, DEFAULT_COLLATION_OID);
}

/*
 * Translate the call fcall (ecl.check or ecl.allowed).  root may be NULL
 * (ecl.policy_sql): then nothing is added to a plan.  Returns the
 * expression, or NULL with the reason in *reason (when not NULL).  *tree
 * receives the translation tree (for ecl.policy_sql).
 */
static Node *
translate_call(PlannerInfo *root, FuncExpr *fcall, StringInfo reason,
			   CallSite *cs, ecl_arena *arena, const ecl_tr_node **tree)
{
	List	   *args = fcall->args;
	int			nargs = list_length(args);
	Node	   *name_arg;
	Node	   *input_arg;
	ecl_alloc	alloc;
	ecl_tr_node *t;
	char		refusal[512];
	Node	   *result;
	Oid			gate_types[3] = {TEXTOID, OIDOID, TEXTOID};
	FuncExpr   *caller_gate = NULL;

	memset(cs, 0, sizeof(*cs));
	cs->root = root;
	cs->sublinks = root != NULL;
	cs->funcid = fcall->funcid;
	if (nargs == 3)
		cs->is_allowed = true;
	else if (nargs != 4)
		return NULL;

	if (!ecl_translate_enabled)
	{
		why(reason, "ecl.translate is off");
		return NULL;
	}
	/* a translated call runs no policy, so it would leave no decision */
	if (ecl_decision_log != ECL_DECISION_LOG_OFF)
	{
		why(reason, "ecl.decision_log is on: every decision runs in the VM to be logged");
		return NULL;
	}
	if (ecl_rate_limit)
	{
		why(reason, "ecl.rate_limit is on: every run must pay, so policies run in the VM");
		return NULL;
	}
	if (ecl_rls_errors == ECL_RLS_ERRORS_DENY)
	{
		why(reason, "ecl.rls_errors = deny: a failing run must become a counted denial, so policies run in the VM");
		return NULL;
	}
	if (GetDatabaseEncoding() != PG_UTF8)
	{
		why(reason, "the database encoding is not UTF8");
		return NULL;
	}

	name_arg = strip_relabel(linitial(args));
	if (!IsA(name_arg, Const) || ((Const *) name_arg)->constisnull)
	{
		why(reason, "the policy name is not a constant");
		return NULL;
	}
	cs->policy_name = TextDatumGetCString(((Const *) name_arg)->constvalue);
	cs->policy = ecl_policy_lookup_optional(cs->policy_name);
	if (cs->policy == NULL)
	{
		why(reason, "policy \"%s\" does not exist", cs->policy_name);
		return NULL;
	}
	/* a candidate runs beside the policy only in the runner */
	if (cs->policy->has_shadow)
	{
		why(reason, "policy \"%s\" has a shadow candidate", cs->policy_name);
		return NULL;
	}

	ecl_pg_alloc_init(&alloc, CurrentMemoryContext);
	input_arg = (Node *) llast(args);
	if (!analyse_input(cs, input_arg, &alloc, reason))
		return NULL;

	/* the caller */
	if (cs->is_allowed)
	{
		Node	   *gate = make_func(ecl_function("policy_caller", 3, gate_types), TEXTOID,
									 list_make2(text_const(cs->policy_name, strlen(cs->policy_name)),
												function_const(fcall->funcid)),
									 DEFAULT_COLLATION_OID);

		caller_gate = (FuncExpr *) gate;	/* its realm argument follows */
		cs->caller_expr = make_sublink(cs, gate);
		cs->req.caller.is_const = false;
		cs->req.caller.nullable = true;
	}
	else if (!analyse_atom(cs, lsecond(args), &cs->req.caller, &cs->caller_expr,
						   false, "caller", reason))
		return NULL;

	/* the realm: the argument, else the policy's own */
	if (!analyse_atom(cs, cs->is_allowed ? lsecond(args) : lthird(args),
					  &cs->req.realm, &cs->realm_expr, true, "realm", reason))
		return NULL;
	if (cs->policy->realm_id != NULL)
	{
		if (cs->req.realm.is_const && cs->req.realm.str == NULL)
		{
			cs->req.realm.str = cs->policy->realm_id;
			cs->req.realm.len = strlen(cs->policy->realm_id);
		}
		else if (cs->realm_expr != NULL)
		{
			CoalesceExpr *c = makeNode(CoalesceExpr);

			c->coalescetype = TEXTOID;
			c->coalescecollid = DEFAULT_COLLATION_OID;
			c->args = list_make2(cs->realm_expr,
								 text_const(cs->policy->realm_id, strlen(cs->policy->realm_id)));
			c->location = -1;
			cs->realm_expr = (Node *) c;
			cs->req.realm.nullable = false;
		}
	}

	if (caller_gate != NULL)
		caller_gate->args = lappend(caller_gate->args, gate_realm(cs));

	cs->req.program = cs->policy->program;
	cs->req.policy_name = cs->policy->name;
	cs->req.fields = cs->fields;
	cs->req.nfields = cs->nfields;
	cs->req.gas_limit = ecl_gas_limit;
	cs->req.mana_limit = ecl_mana_limit;
	cs->req.max_stack_depth = (uint32) ecl_max_stack_depth;
	/* ecl.allowed: no identity, no access — unless ecl.allow_anonymous */
	cs->req.needs_caller = cs->is_allowed && !ecl_allow_anonymous;

	if (ecl_translate(arena, &cs->req, &t, refusal, sizeof(refusal)) != ECL_OK)
	{
		why(reason, "policy \"%s\" %s", cs->policy_name, refusal);
		return NULL;
	}
	if (tree)
		*tree = t;

	result = caller_set_expr(cs, t);
	if (result == NULL)
		result = to_expr(cs, t);

	/*
	 * ecl.check, and ecl.allowed whose translation never reads the caller
	 * (ecl.allow_anonymous on): the EXECUTE check the call would have
	 * made, once, which also counts the execution
	 */
	if (!cs->is_allowed || !cs->caller_used)
	{
		Node	   *gate = make_func(ecl_function("policy_gate", 3, gate_types), BOOLOID,
									 list_make3(text_const(cs->policy_name, strlen(cs->policy_name)),
												function_const(fcall->funcid),
												gate_realm(cs)),
									 InvalidOid);

		gate = make_sublink(cs, gate);
		if (IsA(result, Const))
			result = make_bool(AND_EXPR, gate, result);
		else
		{
			/* the gate first, whatever the planner does with the rest */
			if (!t->may_raise)
				result = make_bool(AND_EXPR, gate, result);
			else
				result = make_case(gate, result, makeBoolConst(false, false));
		}
	}

	if (root != NULL)
	{
		Oid			relid = ecl_policies_relation();

		if (OidIsValid(relid))
			root->glob->relationOids = lappend_oid(root->glob->relationOids, relid);
	}
	return result;
}

/* ------------------------------------------- declared inputs at plan time */

/*
 * The constant keys of a jsonb_build_object(...) input, or false when the
 * input is anything else or some key is not a constant string (then which
 * fields the call passes is known only per row, and the run checks them).
 */
static bool
constant_keys(Node *input, List **keys)
{
	FuncExpr   *f;

	*keys = NIL;
	if (!IsA(input, FuncExpr))
		return false;
	f = (FuncExpr *) input;
	if ((f->funcid != F_JSONB_BUILD_OBJECT_ANY && f->funcid != F_JSONB_BUILD_OBJECT_) ||
		f->funcvariadic || list_length(f->args) % 2 != 0)
		return false;
	for (int i = 0; i < list_length(f->args); i += 2)
	{
		Node	   *key = strip_relabel(list_nth(f->args, i));
		Const	   *kc;

		if (!IsA(key, Const))
			return false;
		kc = (Const *) key;
		if (kc->constisnull ||
			(kc->consttype != TEXTOID && kc->consttype != VARCHAROID &&
			 kc->consttype != UNKNOWNOID))
			return false;
		*keys = lappend(*keys, kc->consttype == UNKNOWNOID
						? pstrdup(DatumGetCString(kc->constvalue))
						: TextDatumGetCString(kc->constvalue));
	}
	return true;
}

/* The declared field closest to a misspelt key, if one is close enough */
static const char *
closest_declared(const ecl_program *p, const char *key)
{
	const char *best = NULL;
	int			best_d = INT_MAX;
	int			klen = (int) strlen(key);

	for (uint32 i = 0; i < p->ninputs; i++)
	{
		const ecl_input_decl *d = &p->inputs[i];
		int			dist = varstr_levenshtein(key, klen, d->name, (int) d->len,
											  1, 1, 1, true);

		/* a shortened name ("class" for "classification") counts as close */
		if (klen >= 3 && klen < (int) d->len && strncmp(key, d->name, klen) == 0)
			dist = 1;
		if (dist < best_d && dist <= Max(klen, (int) d->len) / 3 + 1)
		{
			best_d = dist;
			best = d->name;
		}
	}
	return best;
}

static char *
declared_list(const ecl_program *p)
{
	StringInfoData s;

	initStringInfo(&s);
	for (uint32 i = 0; i < p->ninputs; i++)
		appendStringInfo(&s, "%s%s%s", i > 0 ? ", " : "", p->inputs[i].name,
						 p->inputs[i].optional ? "?" : "");
	return s.data;
}

/*
 * A call of a declaring policy whose input is jsonb_build_object with
 * constant keys is checked against the declaration here, at plan time: a
 * key the policy does not declare, or a non-optional declared field the
 * call does not pass, is an error before any row is read.
 *
 * At run time an extra field is ignored and a missing one fails only when a
 * row reaches the call (EC006), so a typo at the call site would show up
 * for some users, on some rows, or never (ecl.rls_errors = deny turns it
 * into a silent denial).  The check uses only the query text and the
 * registered bytecode (read as the extension's owner), never the caller or
 * the rows, so every user planning the statement gets the same answer.
 * Both cases are 42703 (undefined_column): like a misspelt column, it is a
 * mistake in the statement's names, not in a row's data, which is what
 * EC006 reports; one code lets a client treat both halves of a typo alike.
 *
 * It runs whatever ecl.translate, ecl.rate_limit and ecl.rls_errors say:
 * those choose how the call runs, not whether the statement is well formed.
 * The plan depends on ecl.policies, so a new declaration replans it.
 */
static void
check_declared_keys(PlannerInfo *root, FuncExpr *fcall)
{
	int			nargs = list_length(fcall->args);
	Node	   *name_arg;
	char	   *name;
	List	   *keys;
	const EclPolicy *policy;
	const ecl_program *p;
	ListCell   *lc;

	if (nargs != 3 && nargs != 4)
		return;
	name_arg = strip_relabel(linitial(fcall->args));
	if (!IsA(name_arg, Const) || ((Const *) name_arg)->constisnull)
		return;
	if (!constant_keys((Node *) llast(fcall->args), &keys))
		return;

	if (root != NULL)
	{
		Oid			relid = ecl_policies_relation();

		if (OidIsValid(relid))
			root->glob->relationOids = lappend_oid(root->glob->relationOids, relid);
	}

	name = TextDatumGetCString(((Const *) name_arg)->constvalue);
	policy = ecl_policy_lookup_optional(name);
	/* a missing policy is the run's error to report; undeclared: any keys */
	if (policy == NULL || policy->program->ninputs == 0)
		return;
	p = policy->program;

	foreach(lc, keys)
	{
		const char *key = lfirst(lc);
		bool		declared = false;
		const char *near;

		for (uint32 i = 0; i < p->ninputs && !declared; i++)
			declared = strcmp(p->inputs[i].name, key) == 0;
		if (declared)
			continue;
		near = closest_declared(p, key);
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("input field \"%s\" is not declared by policy \"%s\"", key, name),
				 errdetail("Policy \"%s\" declares: %s.", name, declared_list(p)),
				 near ? errhint("Did you mean \"%s\"?", near) : 0));
	}
	for (uint32 i = 0; i < p->ninputs; i++)
	{
		bool		passed = false;

		if (p->inputs[i].optional)
			continue;
		foreach(lc, keys)
			if (strcmp(lfirst(lc), p->inputs[i].name) == 0)
				passed = true;
		if (!passed)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("policy \"%s\" requires input field \"%s\", which the call's jsonb_build_object does not pass",
							name, p->inputs[i].name),
					 errdetail("Policy \"%s\" declares: %s.", name, declared_list(p))));
	}
}

/* ecl.policy_support(internal) RETURNS internal */
Datum
ecl_policy_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);
	SupportRequestSimplify *req;
	CallSite	cs;
	ecl_arena	arena;
	ecl_alloc	alloc;
	Node	   *result;

	if (!IsA(rawreq, SupportRequestSimplify))
		PG_RETURN_POINTER(NULL);
	req = (SupportRequestSimplify *) rawreq;
	/* before the settings that only choose how the call runs */
	check_declared_keys(req->root, req->fcall);
	result = NULL;
	if (req->root != NULL && ecl_translate_enabled)
	{
		ecl_pg_alloc_init(&alloc, CurrentMemoryContext);
		ecl_arena_init(&arena, &alloc);
		result = translate_call(req->root, req->fcall, NULL, &cs, &arena, NULL);
		ecl_arena_release(&arena);
	}
	/* stays in the VM: without a jsonb per row where it can */
	if (result == NULL)
		result = ecl_fallback_call(req->fcall);
	PG_RETURN_POINTER(result);
}

/* --------------------------------------------------------- ecl.policy_sql */

/*
 * ecl.policy_sql(policy text, input_fields text[] DEFAULT NULL) RETURNS text
 *
 * input_fields names the fields of the jsonb_build_object the call passes,
 * each "name" (text) or "name:type" with type one of smallint, integer,
 * bigint, boolean, text, varchar; NULL means '{}'.  The answer is the
 * condition ecl.allowed(policy, NULL, jsonb_build_object(...)) becomes in a
 * plan, as EXPLAIN VERBOSE prints it, with the fields as columns of the
 * same names; or the reason the policy stays in the VM, starting with
 * "-- not translated: ".
 */
Datum
ecl_policy_sql(PG_FUNCTION_ARGS)
{
	text	   *policy;
	List	   *args = NIL;
	FuncExpr   *fcall;
	StringInfoData reason;
	CallSite	cs;
	ecl_arena	arena;
	ecl_alloc	alloc;
	const ecl_tr_node *tree = NULL;
	Node	   *expr;
	char	   *text_out;
	List	   *build_args = NIL;
	PlannerInfo *root;
	int			nfields = 0;
	char	  **field_names = NULL;
	Oid			allowed_types[3] = {TEXTOID, TEXTOID, JSONBOID};

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("policy name must not be NULL")));
	policy = PG_GETARG_TEXT_PP(0);

	if (!PG_ARGISNULL(1))
	{
		ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(1);
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		field_names = palloc0(sizeof(char *) * (n + 1));
		nfields = n;
		for (int i = 0; i < n; i++)
		{
			char	   *spec;
			char	   *colon;
			Oid			type = TEXTOID;
			Param	   *p;

			if (nulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("input field names must not be NULL")));
			spec = TextDatumGetCString(elems[i]);
			colon = strchr(spec, ':');
			if (colon != NULL)
			{
				*colon = '\0';
				type = typenameTypeId(NULL, typeStringToTypeName(colon + 1));
			}
			if (spec[0] == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("input field names must not be empty")));
			/* a placeholder of the field's type, printed by name below */
			p = makeNode(Param);
			p->paramkind = PARAM_EXTERN;
			p->paramid = i + 1;
			p->paramtype = type;
			p->paramtypmod = -1;
			p->paramcollid = (type == TEXTOID || type == VARCHAROID) ? DEFAULT_COLLATION_OID : InvalidOid;
			p->location = -1;
			field_names[i] = spec;
			build_args = lappend(build_args, text_const(spec, strlen(spec)));
			build_args = lappend(build_args, p);
		}
	}

	args = list_make2(makeConst(TEXTOID, -1, DEFAULT_COLLATION_OID, -1,
								PointerGetDatum(policy), false, false),
					  makeNullConst(TEXTOID, -1, DEFAULT_COLLATION_OID));
	if (build_args != NIL)
		args = lappend(args, makeFuncExpr(F_JSONB_BUILD_OBJECT_ANY, JSONBOID, build_args,
										  InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL));
	else
		args = lappend(args, makeConst(JSONBOID, -1, InvalidOid, -1,
									   DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")),
									   false, false));
	fcall = makeFuncExpr(ecl_function("allowed", 3, allowed_types), BOOLOID, args,
						 InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);

	initStringInfo(&reason);
	ecl_pg_alloc_init(&alloc, CurrentMemoryContext);
	ecl_arena_init(&arena, &alloc);

	/*
	 * Translated as the planner translates the call (with the sub-selects
	 * that become InitPlans), then printed as EXPLAIN VERBOSE prints it,
	 * with each field's name for its placeholder
	 */
	root = makeNode(PlannerInfo);
	root->glob = makeNode(PlannerGlobal);
	root->parse = makeNode(Query);
	root->parse->commandType = CMD_SELECT;
	expr = translate_call(root, fcall, &reason, &cs, &arena, &tree);
	ecl_arena_release(&arena);
	if (expr == NULL)
		PG_RETURN_TEXT_P(cstring_to_text(psprintf("-- not translated: %s", reason.data)));
	text_out = deparse_expression(expr, NIL, false, false);
	for (int i = nfields; i >= 1; i--)
	{
		char		placeholder[16];
		StringInfoData out;
		char	   *p = text_out;
		char	   *hit;

		snprintf(placeholder, sizeof(placeholder), "$%d", i);
		initStringInfo(&out);
		while ((hit = strstr(p, placeholder)) != NULL)
		{
			char		next = hit[strlen(placeholder)];

			appendBinaryStringInfo(&out, p, hit - p);
			if (next >= '0' && next <= '9')
				appendStringInfoString(&out, placeholder);	/* $12, not $1 */
			else
				appendStringInfoString(&out, quote_identifier(field_names[i - 1]));
			p = hit + strlen(placeholder);
		}
		appendStringInfoString(&out, p);
		text_out = out.data;
	}
	PG_RETURN_TEXT_P(cstring_to_text(text_out));
}
