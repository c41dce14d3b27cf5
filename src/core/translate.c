/*
 * translate.c — symbolic execution of a verified program into an SQL
 * condition (translate.h explains the rules that make it exact).
 *
 * A state is the VM's state with symbolic values: constants (computed with
 * the VM's own value code), typed SQL expressions, the input object and
 * the caller's trust vector.  Execution follows the program; where the VM
 * would take one of two ways depending on data, both are followed and
 * joined by a CASE.  Code after an if/else is therefore translated once
 * per way into it; the node budget bounds that growth.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ecl/textbuf.h"
#include "ecl/translate.h"

#include "value_util.h"

#define DEFAULT_MAX_NODES 4000

/* Atom status on a path */
#define ATOM_UNKNOWN 0
#define ATOM_NULL 1
#define ATOM_NONNULL 2

typedef enum sv_kind
{
	SV_CONST,
	SV_EXPR,
	SV_INPUT,
	SV_TRUST
} sv_kind;

typedef struct sval
{
	sv_kind		kind;
	ecl_value	k;				/* SV_CONST */
	ecl_tr_node *e;				/* SV_EXPR */
	int			atom;			/* SV_EXPR: the atom it is, or -1 */
	bool		is_did;			/* SV_EXPR: the caller (type name "did") */
} sval;

typedef struct state
{
	uint32_t	pc;
	uint32_t	sp;
	sval	   *stack;
	sval	   *locals;
	uint8_t    *atoms;
	int64_t		gas;
	int64_t		mana;
	bool		trust_loaded;

	/*
	 * Arithmetic that may raise and has not been evaluated yet on this
	 * path, in the order the VM computed it.  The VM raises where it
	 * computes; SQL raises where the value is used, or never when it is
	 * not.  Before every branch and outcome these are evaluated ("forced"),
	 * unless the branch condition itself evaluates exactly them first.
	 */
	ecl_tr_node **pending;
	uint32_t	npending;
} state;

#define MAX_PENDING 64

typedef struct tr
{
	ecl_arena  *arena;
	const ecl_tr_request *req;
	const ecl_program *p;
	int			natoms;
	int			caller_atom;
	int			realm_atom;
	uint32_t	nodes;
	uint32_t	max_nodes;
	bool		failed;
	char	   *reason;
	size_t		reason_len;
} tr;

#if defined(__GNUC__)
#define ECL_TR_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ECL_TR_PRINTF(f, a)
#endif

static const char *const dim_names[ECL_TRUST_DIMS] = {"r", "i", "c", "p", "v", "omega"};

static void refuse(tr *t, const char *fmt,...) ECL_TR_PRINTF(2, 3);

static void
refuse(tr *t, const char *fmt,...)
{
	va_list		ap;

	if (t->failed)
		return;
	t->failed = true;
	if (t->reason != NULL && t->reason_len > 0)
	{
		va_start(ap, fmt);
		vsnprintf(t->reason, t->reason_len, fmt, ap);
		va_end(ap);
	}
}

static void *
talloc(tr *t, size_t size)
{
	void	   *p = ecl_arena_alloc(t->arena, size);

	if (p == NULL)
		refuse(t, "out of memory");
	else
		memset(p, 0, size);
	return p;
}

static ecl_tr_node *
node(tr *t, ecl_tr_kind kind, ecl_tr_type type)
{
	ecl_tr_node *n;

	if (++t->nodes > t->max_nodes)
	{
		refuse(t, "the policy has too many paths to translate (more than %u nodes)",
			   t->max_nodes);
		return NULL;
	}
	n = talloc(t, sizeof(ecl_tr_node));
	if (n != NULL)
	{
		n->kind = kind;
		n->type = type;
	}
	return n;
}

/* ------------------------------------------------------------ node makers */

static ecl_tr_node *
mk_bool(tr *t, bool b)
{
	ecl_tr_node *n = node(t, ECL_TR_CONST, ECL_TR_BOOL);

	if (n)
		n->b = b;
	return n;
}

static ecl_tr_node *
mk_num(tr *t, double d)
{
	ecl_tr_node *n = node(t, ECL_TR_CONST, ECL_TR_NUM);

	if (n)
		n->num = d;
	return n;
}

static ecl_tr_node *
mk_str(tr *t, const char *s, size_t len)
{
	ecl_tr_node *n = node(t, ECL_TR_CONST, ECL_TR_STR);

	if (n)
	{
		n->str = s;
		n->len = len;
	}
	return n;
}

static ecl_tr_node *
mk1(tr *t, ecl_tr_kind kind, ecl_tr_type type, ecl_tr_node *a)
{
	ecl_tr_node *n;

	if (a == NULL)
		return NULL;
	n = node(t, kind, type);
	if (n)
	{
		n->a = a;
		n->may_raise = a->may_raise;
	}
	return n;
}

static ecl_tr_node *
mk2(tr *t, ecl_tr_kind kind, ecl_tr_type type, ecl_opcode op,
	ecl_tr_node *a, ecl_tr_node *b)
{
	ecl_tr_node *n;

	if (a == NULL || b == NULL)
		return NULL;
	n = node(t, kind, type);
	if (n)
	{
		n->op = op;
		n->a = a;
		n->b_ = b;
		n->may_raise = a->may_raise || b->may_raise;
		n->nullable = (kind == ECL_TR_CMP || kind == ECL_TR_ARITH ||
					   kind == ECL_TR_CONCAT) && (a->nullable || b->nullable);
	}
	return n;
}

static bool
is_bool_const(const ecl_tr_node *n, bool b)
{
	return n->kind == ECL_TR_CONST && n->type == ECL_TR_BOOL && n->b == b;
}

static ecl_tr_node *
mk_not(tr *t, ecl_tr_node *a)
{
	if (a == NULL)
		return NULL;
	if (a->kind == ECL_TR_CONST)
		return mk_bool(t, !a->b);
	if (a->kind == ECL_TR_NOT)
		return a->a;
	return mk1(t, ECL_TR_NOT, ECL_TR_BOOL, a);
}

static ecl_tr_node *
mk_and(tr *t, ecl_tr_node *a, ecl_tr_node *b)
{
	if (a == NULL || b == NULL)
		return NULL;
	if (is_bool_const(a, false) || is_bool_const(b, false))
		return mk_bool(t, false);
	if (is_bool_const(a, true))
		return b;
	if (is_bool_const(b, true))
		return a;
	return mk2(t, ECL_TR_AND, ECL_TR_BOOL, 0, a, b);
}

static ecl_tr_node *
mk_or(tr *t, ecl_tr_node *a, ecl_tr_node *b)
{
	if (a == NULL || b == NULL)
		return NULL;
	if (is_bool_const(a, true) || is_bool_const(b, true))
		return mk_bool(t, true);
	if (is_bool_const(a, false))
		return b;
	if (is_bool_const(b, false))
		return a;
	return mk2(t, ECL_TR_OR, ECL_TR_BOOL, 0, a, b);
}

static bool
same_tree(const ecl_tr_node *x, const ecl_tr_node *y)
{
	if (x == y)
		return true;
	if (x == NULL || y == NULL)
		return false;
	if (x->kind != y->kind || x->type != y->type || x->op != y->op ||
		x->b != y->b || x->index != y->index || x->code != y->code ||
		x->len != y->len)
		return false;
	if (x->kind == ECL_TR_CONST && x->type == ECL_TR_NUM &&
		memcmp(&x->num, &y->num, sizeof(double)) != 0)
		return false;
	if (x->len > 0 && memcmp(x->str, y->str, x->len) != 0)
		return false;
	if ((x->str == NULL) != (y->str == NULL))
		return false;
	return same_tree(x->a, y->a) && same_tree(x->b_, y->b_) && same_tree(x->c, y->c);
}

/*
 * CASE WHEN c THEN x ELSE y END over outcomes (c, x, y non-NULL booleans).
 * AND/OR only when no part can raise: the planner may evaluate the parts
 * of an AND in any order, which must not surface an error the VM's order
 * would not reach.
 */
static ecl_tr_node *
mk_case(tr *t, ecl_tr_node *c, ecl_tr_node *x, ecl_tr_node *y)
{
	ecl_tr_node *n;

	if (c == NULL || x == NULL || y == NULL)
		return NULL;
	if (c->kind == ECL_TR_CONST)
		return c->b ? x : y;
	if (!c->may_raise && same_tree(x, y))
		return x;
	if (!c->may_raise && !x->may_raise && !y->may_raise &&
		x->type == ECL_TR_BOOL)
	{
		if (is_bool_const(x, true) && is_bool_const(y, false))
			return c;
		if (is_bool_const(x, false) && is_bool_const(y, true))
			return mk_not(t, c);
		if (is_bool_const(x, true))
			return mk_or(t, c, y);
		if (is_bool_const(y, false))
			return mk_and(t, c, x);
		if (is_bool_const(x, false))
			return mk_and(t, mk_not(t, c), y);
		if (is_bool_const(y, true))
			return mk_or(t, mk_not(t, c), x);
	}
	n = node(t, ECL_TR_CASE, x->type);
	if (n)
	{
		n->a = c;
		n->b_ = x;
		n->c = y;
		n->may_raise = c->may_raise || x->may_raise || y->may_raise;
	}
	return n;
}

static ecl_tr_node *mk_raise(tr *t, const state *s, ecl_error_code code,
							 const char *fmt,...) ECL_TR_PRINTF(4, 5);

static ecl_tr_node *
mk_raise(tr *t, const state *s, ecl_error_code code, const char *fmt,...)
{
	char		msg[ECL_ERROR_MSG_MAX];
	char		full[ECL_ERROR_MSG_MAX + 160];
	va_list		ap;
	ecl_tr_node *n;
	char	   *copy;
	int			len;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	len = snprintf(full, sizeof(full), "policy \"%s\", line %u:%u: %s",
				   t->req->policy_name ? t->req->policy_name : t->p->name,
				   t->p->lines[s->pc], t->p->columns[s->pc], msg);
	if (len < 0)
		len = 0;
	if ((size_t) len >= sizeof(full))
		len = sizeof(full) - 1;
	n = node(t, ECL_TR_RAISE, ECL_TR_BOOL);
	copy = talloc(t, (size_t) len + 1);
	if (n == NULL || copy == NULL)
		return NULL;
	memcpy(copy, full, (size_t) len);
	n->str = copy;
	n->len = (size_t) len;
	n->code = code;
	n->may_raise = true;
	return n;
}

/* ---------------------------------------------------------- symbolic values */

static sval
sv_const(ecl_value v)
{
	sval		s;

	memset(&s, 0, sizeof(s));
	s.kind = SV_CONST;
	s.k = v;
	s.atom = -1;
	return s;
}

static sval
sv_expr(ecl_tr_node *e)
{
	sval		s;

	memset(&s, 0, sizeof(s));
	s.kind = SV_EXPR;
	s.e = e;
	s.atom = -1;
	return s;
}

static const char *
sv_type_name(const sval *v)
{
	switch (v->kind)
	{
		case SV_CONST:
			return ecl_type_name((ecl_type) v->k.type);
		case SV_INPUT:
			return "object";
		case SV_TRUST:
			return "trust_vector";
		case SV_EXPR:
			if (v->is_did)
				return "did";
			return v->e->type == ECL_TR_BOOL ? "bool" :
				v->e->type == ECL_TR_NUM ? "number" : "string";
	}
	return "unknown";
}

static bool
sv_nullable(const sval *v)
{
	return v->kind == SV_EXPR && v->e->nullable;
}

/* The SQL type a constant compares as, or -1 (null, arrays, objects, trust) */
static int
const_tr_type(ecl_value v)
{
	switch ((ecl_type) v.type)
	{
		case ECL_T_BOOL:
			return ECL_TR_BOOL;
		case ECL_T_NUMBER:
			return ECL_TR_NUM;
		case ECL_T_STRING:
		case ECL_T_DID:
			return ECL_TR_STR;
		default:
			return -1;
	}
}

static ecl_tr_node *
const_node(tr *t, ecl_value v)
{
	switch ((ecl_type) v.type)
	{
		case ECL_T_BOOL:
			return mk_bool(t, v.u.b);
		case ECL_T_NUMBER:
			return mk_num(t, v.u.num);
		case ECL_T_STRING:
		case ECL_T_DID:
			return mk_str(t, v.u.str->data, v.u.str->len);
		default:
			return NULL;
	}
}

/* The value of atom a on the path of s */
static sval
atom_value(tr *t, const state *s, int a)
{
	const ecl_tr_request *req = t->req;
	ecl_tr_node *n;
	sval		v;
	ecl_value	k;
	ecl_error	err;

	if (s->atoms[a] == ATOM_NULL)
		return sv_const(ecl_null());
	if (a < req->nfields)
	{
		const ecl_tr_field *f = &req->fields[a];

		if (f->is_const)
			return sv_const(f->value);
		n = node(t, ECL_TR_FIELD, f->type);
		if (n)
		{
			n->index = a;
			n->nullable = f->nullable && s->atoms[a] != ATOM_NONNULL;
		}
	}
	else
	{
		const ecl_tr_atom *at = a == t->caller_atom ? &req->caller : &req->realm;

		if (at->is_const)
		{
			if (at->str == NULL)
				return sv_const(ecl_null());
			memset(&k, 0, sizeof(k));
			if ((a == t->caller_atom ? ecl_did_new : ecl_string_new)
				(ecl_arena_allocator(t->arena), at->str, at->len, &k, &err) != ECL_OK)
			{
				refuse(t, "out of memory");
				return sv_const(ecl_null());
			}
			return sv_const(k);
		}
		n = node(t, a == t->caller_atom ? ECL_TR_CALLER : ECL_TR_REALM, ECL_TR_STR);
		if (n)
			n->nullable = at->nullable && s->atoms[a] != ATOM_NONNULL;
	}
	if (n == NULL)
		return sv_const(ecl_null());
	v = sv_expr(n);
	v.atom = a;
	v.is_did = a == t->caller_atom;
	return v;
}

/* ------------------------------------------------------------------ states */

static state *
state_copy(tr *t, const state *s)
{
	uint32_t	nstack = t->p->max_stack + 1;
	state	   *c = talloc(t, sizeof(state));

	if (c == NULL)
		return NULL;
	*c = *s;
	c->stack = talloc(t, sizeof(sval) * nstack);
	c->locals = talloc(t, sizeof(sval) * (t->p->nlocals + 1));
	c->atoms = talloc(t, (size_t) t->natoms);
	c->pending = talloc(t, sizeof(ecl_tr_node *) * MAX_PENDING);
	if (c->stack == NULL || c->locals == NULL || c->atoms == NULL || c->pending == NULL)
		return NULL;
	memcpy(c->pending, s->pending, sizeof(ecl_tr_node *) * s->npending);
	memcpy(c->stack, s->stack, sizeof(sval) * nstack);
	memcpy(c->locals, s->locals, sizeof(sval) * (t->p->nlocals + 1));
	memcpy(c->atoms, s->atoms, (size_t) t->natoms);
	return c;
}

static void
settle_atom(tr *t, state *s, int a, uint8_t status)
{
	s->atoms[a] = status;
	for (uint32_t i = 0; i < s->sp; i++)
		if (s->stack[i].kind == SV_EXPR && s->stack[i].atom == a)
			s->stack[i] = atom_value(t, s, a);
	for (uint32_t i = 0; i < t->p->nlocals; i++)
		if (s->locals[i].kind == SV_EXPR && s->locals[i].atom == a)
			s->locals[i] = atom_value(t, s, a);
}

static ecl_tr_node *run(tr *t, state *s);

/*
 * The instruction at s->pc depends on whether atom a is null: run it both
 * ways, joined by CASE WHEN atom IS NULL.
 */
static ecl_tr_node *
split(tr *t, state *s, const sval *v)
{
	int			a = v->atom;
	state	   *sn = state_copy(t, s);
	state	   *sv = state_copy(t, s);
	ecl_tr_node *cond;

	if (sn == NULL || sv == NULL || a < 0)
	{
		refuse(t, "internal: split on a value that is no atom");
		return NULL;
	}
	cond = mk1(t, ECL_TR_IS_NULL, ECL_TR_BOOL, atom_value(t, s, a).e);
	settle_atom(t, sn, a, ATOM_NULL);
	settle_atom(t, sv, a, ATOM_NONNULL);
	return mk_case(t, cond, run(t, sn), run(t, sv));
}

/* ------------------------------------------------------------- operations */

/* truthy(v) as a non-NULL boolean node */
static ecl_tr_node *
truthy(tr *t, const sval *v)
{
	ecl_tr_node *n;

	switch (v->kind)
	{
		case SV_CONST:
			return mk_bool(t, ecl_truthy(v->k));
		case SV_INPUT:
		case SV_TRUST:
			return mk_bool(t, true);
		case SV_EXPR:
			break;
	}
	switch (v->e->type)
	{
		case ECL_TR_BOOL:
			n = v->e;
			break;
		case ECL_TR_NUM:
			n = mk2(t, ECL_TR_CMP, ECL_TR_BOOL, ECL_OP_NE, v->e, mk_num(t, 0));
			break;
		default:
			n = mk1(t, ECL_TR_NONEMPTY, ECL_TR_BOOL, v->e);
			if (n)
				n->nullable = v->e->nullable;
			break;
	}
	if (n && v->e->nullable)
		n = mk1(t, ECL_TR_IS_TRUE, ECL_TR_BOOL, n);
	return n;
}

static sval
bool_sval(ecl_tr_node *n)
{
	if (n != NULL && n->kind == ECL_TR_CONST)
		return sv_const(ecl_bool(n->b));
	return sv_expr(n);
}

/* ECL == as a non-NULL boolean node; NULL node and t->failed when refused */
static ecl_tr_node *
equal_node(tr *t, const sval *x, const sval *y)
{
	const sval *a = x,
			   *b = y;

	if (x->kind == SV_CONST && y->kind == SV_CONST)
		return mk_bool(t, ecl_equal(x->k, y->k));
	if (x->kind == SV_INPUT || x->kind == SV_TRUST ||
		y->kind == SV_INPUT || y->kind == SV_TRUST)
	{
		if (x->kind == y->kind)
			return mk_bool(t, true);	/* the same object / the same vector */
		/* an object or trust vector against a scalar or null */
		a = (x->kind == SV_INPUT || x->kind == SV_TRUST) ? y : x;
		if (a->kind == SV_CONST && const_tr_type(a->k) < 0 &&
			a->k.type != ECL_T_NULL)
		{
			refuse(t, "compares an object or trust vector with a constant");
			return NULL;
		}
		return mk_bool(t, false);
	}
	if (a->kind == SV_CONST)
	{
		a = y;
		b = x;
	}
	/* a is an expression now */
	if (b->kind == SV_CONST)
	{
		int			ct = const_tr_type(b->k);

		if (b->k.type == ECL_T_NULL)
			return a->e->nullable ? mk1(t, ECL_TR_IS_NULL, ECL_TR_BOOL, a->e)
				: mk_bool(t, false);
		if (ct != (int) a->e->type)
			return mk_bool(t, false);
		if (!a->e->nullable)
			return mk2(t, ECL_TR_CMP, ECL_TR_BOOL, ECL_OP_EQ, a->e, const_node(t, b->k));
		return mk_and(t, mk2(t, ECL_TR_CMP, ECL_TR_BOOL, ECL_OP_EQ, a->e, const_node(t, b->k)),
					  mk_not(t, mk1(t, ECL_TR_IS_NULL, ECL_TR_BOOL, a->e)));
	}
	/* two expressions */
	if (a->e->type != b->e->type)
	{
		if (a->e->nullable && b->e->nullable)
			return mk_and(t, mk1(t, ECL_TR_IS_NULL, ECL_TR_BOOL, a->e),
						  mk1(t, ECL_TR_IS_NULL, ECL_TR_BOOL, b->e));
		return mk_bool(t, false);
	}
	if (a->e->nullable && b->e->nullable)
		return mk2(t, ECL_TR_NOT_DISTINCT, ECL_TR_BOOL, 0, a->e, b->e);
	if (!a->e->nullable && !b->e->nullable)
		return mk2(t, ECL_TR_CMP, ECL_TR_BOOL, ECL_OP_EQ, a->e, b->e);
	if (b->e->nullable)
	{
		const sval *tmp = a;

		a = b;
		b = tmp;
	}
	/*
	 * a may be NULL, b not: "a = b AND a IS NOT NULL" is false, never NULL,
	 * when a is NULL, and it keeps "a = b" a separate, indexable conjunct.
	 */
	return mk_and(t, mk2(t, ECL_TR_CMP, ECL_TR_BOOL, ECL_OP_EQ, a->e, b->e),
				  mk_not(t, mk1(t, ECL_TR_IS_NULL, ECL_TR_BOOL, a->e)));
}

/* A constant result, or the error the VM gives, of op on two constants */
static ecl_tr_node *
const_binary(tr *t, state *s, ecl_opcode op, ecl_value x, ecl_value y)
{
	ecl_error	err;
	ecl_value	r;

	ecl_error_clear(&err);
	if (ecl_value_binary(ecl_arena_allocator(t->arena), op, x, y, &r, &err) != ECL_OK)
	{
		if (err.code == ECL_ERR_RESOURCE || err.code == ECL_ERR_MEMORY)
		{
			refuse(t, "a constant operation needs too much memory");
			return NULL;
		}
		return mk_raise(t, s, err.code, "%s", err.message);
	}
	s->stack[s->sp - 2] = sv_const(r);
	s->sp--;
	return NULL;
}

/* ------------------------------------------------------------ the executor */

static bool
over_budget(tr *t, const state *s)
{
	const ecl_tr_request *req = t->req;

	if (req->gas_limit > 0 && s->gas >= req->gas_limit)
	{
		refuse(t, "a path may use %lld gas, at or above ecl.gas_limit %lld",
			   (long long) s->gas, (long long) req->gas_limit);
		return true;
	}
	if (s->mana > req->mana_limit)
	{
		refuse(t, "a path may use %lld mana, above ecl.mana_limit %lld",
			   (long long) s->mana, (long long) req->mana_limit);
		return true;
	}
	return false;
}

static uint32_t sync_pending(tr *t, state *s, const ecl_tr_node *cond, ecl_tr_node **forced);
static ecl_tr_node *wrap_forced(tr *t, ecl_tr_node **forced, uint32_t n, ecl_tr_node *r);

/* An outcome: pending arithmetic is evaluated first, as the VM did */
static ecl_tr_node *
leaf(tr *t, state *s, ecl_tr_node *outcome)
{
	ecl_tr_node *forced[MAX_PENDING];
	uint32_t	n;

	if (over_budget(t, s))
		return NULL;
	n = sync_pending(t, s, outcome && outcome->kind != ECL_TR_RAISE ? outcome : NULL, forced);
	return wrap_forced(t, forced, n, outcome);
}

/* the pending nodes cond evaluates, in its evaluation order */
static void
pending_in(const state *s, const ecl_tr_node *n, const ecl_tr_node **seq,
		   uint32_t *nseq)
{
	if (n == NULL)
		return;
	pending_in(s, n->a, seq, nseq);
	pending_in(s, n->b_, seq, nseq);
	pending_in(s, n->c, seq, nseq);
	if (n->kind == ECL_TR_ARITH)
		for (uint32_t i = 0; i < s->npending; i++)
			if (s->pending[i] == n)
			{
				for (uint32_t j = 0; j < *nseq; j++)
					if (seq[j] == n)
						return;
				if (*nseq < MAX_PENDING)
					seq[(*nseq)++] = n;
				return;
			}
}

/*
 * A branch on cond (NULL: an outcome) is next.  Returns how many pending
 * nodes must be forced first (they are left in forced[]); clears pending.
 */
static uint32_t
sync_pending(tr *t, state *s, const ecl_tr_node *cond, ecl_tr_node **forced)
{
	const ecl_tr_node *seq[MAX_PENDING];
	uint32_t	nseq = 0;
	uint32_t	n = 0;
	bool		covered;

	if (s->npending == 0)
		return 0;
	pending_in(s, cond, seq, &nseq);
	covered = nseq == s->npending;
	for (uint32_t i = 0; covered && i < nseq; i++)
		covered = seq[i] == s->pending[i];
	if (!covered)
		for (uint32_t i = 0; i < s->npending; i++)
			forced[n++] = s->pending[i];
	/* evaluated once without error on this path: cannot raise after it */
	s->npending = 0;
	(void) t;
	return n;
}

/* CASE WHEN x IS NULL THEN false ELSE r END for each forced x, in order */
static ecl_tr_node *
wrap_forced(tr *t, ecl_tr_node **forced, uint32_t n, ecl_tr_node *r)
{
	for (uint32_t i = n; i-- > 0;)
	{
		ecl_tr_node *c;

		if (r == NULL)
			return NULL;
		c = node(t, ECL_TR_CASE, ECL_TR_BOOL);
		if (c == NULL)
			return NULL;
		c->a = mk1(t, ECL_TR_IS_NULL, ECL_TR_BOOL, forced[i]);
		if (c->a == NULL)
			return NULL;
		c->a->may_raise = true;
		c->b_ = mk_bool(t, false);
		c->c = r;
		c->may_raise = true;
		r = c;
	}
	return r;
}

#define POP() (s->stack[--s->sp])
#define TOP(i) (&s->stack[s->sp - 1 - (i)])
#define PUSH(v) (s->stack[s->sp++] = (v))

static ecl_tr_node *
run(tr *t, state *s)
{
	const ecl_program *p = t->p;

	for (;;)
	{
		ecl_instr	ins;
		ecl_opcode	op;
		uint32_t	arg;
		const ecl_opcode_info *info;

		if (t->failed)
			return NULL;
		if (s->pc >= p->ncode)
		{
			refuse(t, "internal: ran off the end of the program");
			return NULL;
		}
		ins = p->code[s->pc];
		op = ECL_INSTR_OP(ins);
		arg = ECL_INSTR_ARG(ins);
		info = &ecl_opcode_table[op];

		/* operands whose nullness decides what the instruction does */
		switch (op)
		{
			case ECL_OP_ADD:
			case ECL_OP_SUB:
			case ECL_OP_MUL:
			case ECL_OP_DIV:
			case ECL_OP_MOD:
			case ECL_OP_LT:
			case ECL_OP_LE:
			case ECL_OP_GT:
			case ECL_OP_GE:
				if (sv_nullable(TOP(1)))
					return split(t, s, TOP(1));
				if (sv_nullable(TOP(0)))
					return split(t, s, TOP(0));
				break;
			case ECL_OP_NEG:
			case ECL_OP_GET_FIELD:
			case ECL_OP_TRUST_DIM:
			case ECL_OP_LOAD_TRUST:
				if (sv_nullable(TOP(0)))
					return split(t, s, TOP(0));
				break;
			case ECL_OP_HAS_CREDENTIAL:
				if (sv_nullable(TOP(1)))
					return split(t, s, TOP(1));
				break;
			case ECL_OP_CALLER_TRUST:
				if (!s->trust_loaded && !t->req->caller.is_const &&
					t->req->caller.nullable && s->atoms[t->caller_atom] == ATOM_UNKNOWN)
				{
					sval		c = atom_value(t, s, t->caller_atom);

					return split(t, s, &c);
				}
				break;
			default:
				break;
		}

		s->gas += info->gas;

		switch (op)
		{
			case ECL_OP_PUSH_CONST:
				PUSH(sv_const(p->consts[arg]));
				break;
			case ECL_OP_PUSH_NULL:
				PUSH(sv_const(ecl_null()));
				break;
			case ECL_OP_PUSH_TRUE:
				PUSH(sv_const(ecl_bool(true)));
				break;
			case ECL_OP_PUSH_FALSE:
				PUSH(sv_const(ecl_bool(false)));
				break;
			case ECL_OP_POP:
				s->sp--;
				break;
			case ECL_OP_DUP:
				s->stack[s->sp] = s->stack[s->sp - 1];
				s->sp++;
				break;
			case ECL_OP_SWAP:
				{
					sval		tmp = *TOP(0);

					*TOP(0) = *TOP(1);
					*TOP(1) = tmp;
					break;
				}
			case ECL_OP_PICK:
				s->stack[s->sp] = *TOP(arg);
				s->sp++;
				break;
			case ECL_OP_LOAD_LOCAL:
				PUSH(s->locals[arg]);
				break;
			case ECL_OP_STORE_LOCAL:
				s->locals[arg] = POP();
				break;
			case ECL_OP_LOAD_CALLER:
				PUSH(atom_value(t, s, t->caller_atom));
				break;
			case ECL_OP_LOAD_REALM:
				PUSH(atom_value(t, s, t->realm_atom));
				break;
			case ECL_OP_LOAD_INPUT:
				if (!t->req->input_known)
				{
					refuse(t, "reads the whole input, which is not a jsonb_build_object(...) or '{}'");
					return NULL;
				}
				{
					sval		v;

					memset(&v, 0, sizeof(v));
					v.kind = SV_INPUT;
					v.atom = -1;
					PUSH(v);
				}
				break;
			case ECL_OP_LOAD_INPUT_FIELD:
				{
					const ecl_string *k = p->consts[arg].u.str;
					int			found = -1;

					if (!t->req->input_known)
					{
						refuse(t, "reads input field '%s' of an input that is not a jsonb_build_object(...) or '{}'",
							   k->data);
						return NULL;
					}
					for (int i = 0; i < t->req->nfields; i++)
						if (t->req->fields[i].name_len == k->len &&
							memcmp(t->req->fields[i].name, k->data, k->len) == 0)
							found = i;
					if (found < 0)
						return leaf(t, s, mk_raise(t, s, ECL_ERR_TYPE,
												   "missing input field '%s'", k->data));
					PUSH(atom_value(t, s, found));
					break;
				}
			case ECL_OP_GET_FIELD:
				{
					const ecl_string *k = p->consts[arg].u.str;
					sval	   *v = TOP(0);

					if (v->kind == SV_INPUT)
					{
						int			found = -1;

						for (int i = 0; i < t->req->nfields; i++)
							if (t->req->fields[i].name_len == k->len &&
								memcmp(t->req->fields[i].name, k->data, k->len) == 0)
								found = i;
						*v = found < 0 ? sv_const(ecl_null()) : atom_value(t, s, found);
					}
					else if (v->kind == SV_TRUST)
					{
						int			d = -1;

						for (int i = 0; i < ECL_TRUST_DIMS; i++)
							if (strlen(dim_names[i]) == k->len &&
								memcmp(dim_names[i], k->data, k->len) == 0)
								d = i;
						if (k->len == 1 && d < 0)
						{
							for (int i = 0; i < 5; i++)
								if (dim_names[i][0] == (char) (k->data[0] | 0x20))
									d = i;
						}
						if (k->len == 2 && memcmp(k->data, "\xCE\xA9", 2) == 0)
							d = 5;
						if (d < 0)
							return leaf(t, s, mk_raise(t, s, ECL_ERR_TYPE,
													   "cannot read field '%s' of trust_vector", k->data));
						{
							ecl_tr_node *n = node(t, ECL_TR_TRUST_DIM, ECL_TR_NUM);

							if (n)
								n->index = d;
							*v = sv_expr(n);
						}
					}
					else if (v->kind == SV_CONST &&
							 (v->k.type == ECL_T_OBJECT || v->k.type == ECL_T_TRUST))
					{
						refuse(t, "reads a field of a constant object");
						return NULL;
					}
					else
						return leaf(t, s, mk_raise(t, s, ECL_ERR_TYPE,
												   "cannot read field '%s' of %s",
												   k->data, sv_type_name(v)));
					break;
				}
			case ECL_OP_TRUST_DIM:
				{
					sval	   *v = TOP(0);

					if (v->kind == SV_TRUST)
					{
						ecl_tr_node *n = node(t, ECL_TR_TRUST_DIM, ECL_TR_NUM);

						if (n)
							n->index = (int) arg;
						*v = sv_expr(n);
					}
					else if (v->kind == SV_CONST && v->k.type == ECL_T_TRUST)
						*v = sv_const(ecl_number(v->k.u.trust->dim[arg]));
					else
						return leaf(t, s, mk_raise(t, s, ECL_ERR_TYPE,
												   "cannot read trust dimension '%s' of %s",
												   dim_names[arg], sv_type_name(v)));
					break;
				}
			case ECL_OP_ADD:
			case ECL_OP_SUB:
			case ECL_OP_MUL:
			case ECL_OP_DIV:
			case ECL_OP_MOD:
				{
					sval	   *x = TOP(1);
					sval	   *y = TOP(0);
					bool		xnum,
								ynum,
								xstr,
								ystr;
					ecl_tr_node *n;

					if (x->kind == SV_CONST && y->kind == SV_CONST)
					{
						n = const_binary(t, s, op, x->k, y->k);
						if (n != NULL || t->failed)
							return leaf(t, s, n);
						break;
					}
					xnum = x->kind == SV_CONST ? x->k.type == ECL_T_NUMBER
						: x->kind == SV_EXPR && x->e->type == ECL_TR_NUM;
					ynum = y->kind == SV_CONST ? y->k.type == ECL_T_NUMBER
						: y->kind == SV_EXPR && y->e->type == ECL_TR_NUM;
					xstr = x->kind == SV_CONST ? ecl_is_stringish(x->k)
						: x->kind == SV_EXPR && x->e->type == ECL_TR_STR;
					ystr = y->kind == SV_CONST ? ecl_is_stringish(y->k)
						: y->kind == SV_EXPR && y->e->type == ECL_TR_STR;
					if (xnum && ynum)
					{
						ecl_tr_node *a = x->kind == SV_CONST ? mk_num(t, x->k.u.num) : x->e;
						ecl_tr_node *b = y->kind == SV_CONST ? mk_num(t, y->k.u.num) : y->e;

						if ((op == ECL_OP_DIV || op == ECL_OP_MOD) &&
							y->kind == SV_CONST && y->k.u.num == 0)
							return leaf(t, s, mk_raise(t, s, ECL_ERR_DIV_ZERO, "division by zero"));
						n = mk2(t, ECL_TR_ARITH, ECL_TR_NUM, op, a, b);
						if (n)
						{
							char		site[ECL_ERROR_MSG_MAX];
							int			len;
							char	   *copy;

							/* the position the VM's error would name */
							len = snprintf(site, sizeof(site), "policy \"%s\", line %u:%u",
										   t->req->policy_name ? t->req->policy_name : p->name,
										   p->lines[s->pc], p->columns[s->pc]);
							if (len < 0 || (size_t) len >= sizeof(site))
								len = 0;
							copy = talloc(t, (size_t) len + 1);
							if (copy == NULL)
								return NULL;
							memcpy(copy, site, (size_t) len);
							n->str = copy;
							n->len = (size_t) len;
							n->may_raise = true;
							if (s->npending >= MAX_PENDING)
							{
								refuse(t, "has too much arithmetic between two branches");
								return NULL;
							}
							s->pending[s->npending++] = n;
						}
						s->sp--;
						*TOP(0) = sv_expr(n);
						break;
					}
					if (op == ECL_OP_ADD && (xstr || ystr))
					{
						ecl_tr_node *parts[2];
						const sval *sv2[2] = {x, y};

						for (int i = 0; i < 2; i++)
						{
							const sval *v = sv2[i];

							if (v->kind == SV_EXPR && v->e->type == ECL_TR_STR)
								parts[i] = v->e;
							else if (v->kind == SV_CONST)
							{
								ecl_value	txt;
								ecl_error	err;

								ecl_error_clear(&err);
								if (v->k.type != ECL_T_NULL && v->k.type != ECL_T_BOOL &&
									v->k.type != ECL_T_NUMBER && !ecl_is_stringish(v->k))
								{
									refuse(t, "concatenates an array, object or trust vector");
									return NULL;
								}
								if (ecl_value_to_text(ecl_arena_allocator(t->arena), v->k,
													  &txt, &err) != ECL_OK)
								{
									refuse(t, "out of memory");
									return NULL;
								}
								parts[i] = mk_str(t, txt.u.str->data, txt.u.str->len);
							}
							else
							{
								refuse(t, "concatenates a %s that is not a constant with a string (number and bool text forms stay in the VM)",
									   sv_type_name(v));
								return NULL;
							}
						}
						n = mk2(t, ECL_TR_CONCAT, ECL_TR_STR, 0, parts[0], parts[1]);
						s->sp--;
						*TOP(0) = sv_expr(n);
						break;
					}
					if (x->kind == SV_CONST && const_tr_type(x->k) < 0 && x->k.type != ECL_T_NULL)
					{
						refuse(t, "arithmetic on a constant array or object");
						return NULL;
					}
					return leaf(t, s, mk_raise(t, s, ECL_ERR_TYPE,
											   "cannot apply '%s' to %s and %s",
											   ecl_op_symbol(op), sv_type_name(x), sv_type_name(y)));
				}
			case ECL_OP_NEG:
				{
					sval	   *v = TOP(0);

					if (v->kind == SV_CONST)
					{
						ecl_error	err;
						ecl_value	r;

						ecl_error_clear(&err);
						if (ecl_value_unary(ecl_arena_allocator(t->arena), op, v->k, &r, &err) != ECL_OK)
							return leaf(t, s, mk_raise(t, s, err.code, "%s", err.message));
						*v = sv_const(r);
					}
					else if (v->kind == SV_EXPR && v->e->type == ECL_TR_NUM)
						*v = sv_expr(mk1(t, ECL_TR_NEG, ECL_TR_NUM, v->e));
					else
						return leaf(t, s, mk_raise(t, s, ECL_ERR_TYPE,
												   "cannot apply unary '-' to %s", sv_type_name(v)));
					break;
				}
			case ECL_OP_EQ:
			case ECL_OP_NE:
				{
					ecl_tr_node *n = equal_node(t, TOP(1), TOP(0));

					if (n == NULL)
						return NULL;
					if (op == ECL_OP_NE)
						n = mk_not(t, n);
					s->sp--;
					*TOP(0) = bool_sval(n);
					break;
				}
			case ECL_OP_LT:
			case ECL_OP_LE:
			case ECL_OP_GT:
			case ECL_OP_GE:
				{
					sval	   *x = TOP(1);
					sval	   *y = TOP(0);
					int			tx,
								ty;
					ecl_tr_node *n;

					if (x->kind == SV_CONST && y->kind == SV_CONST)
					{
						n = const_binary(t, s, op, x->k, y->k);
						if (n != NULL || t->failed)
							return leaf(t, s, n);
						break;
					}
					tx = x->kind == SV_CONST ? const_tr_type(x->k) :
						x->kind == SV_EXPR ? (int) x->e->type : -1;
					ty = y->kind == SV_CONST ? const_tr_type(y->k) :
						y->kind == SV_EXPR ? (int) y->e->type : -1;
					if (tx == ty && (tx == ECL_TR_NUM || tx == ECL_TR_STR))
					{
						n = mk2(t, ECL_TR_CMP, ECL_TR_BOOL, op,
								x->kind == SV_CONST ? const_node(t, x->k) : x->e,
								y->kind == SV_CONST ? const_node(t, y->k) : y->e);
						s->sp--;
						*TOP(0) = sv_expr(n);
						break;
					}
					return leaf(t, s, mk_raise(t, s, ECL_ERR_TYPE,
											   "cannot apply '%s' to %s and %s",
											   ecl_op_symbol(op), sv_type_name(x), sv_type_name(y)));
				}
			case ECL_OP_NOT:
				*TOP(0) = bool_sval(mk_not(t, truthy(t, TOP(0))));
				break;
			case ECL_OP_TO_BOOL:
				*TOP(0) = bool_sval(truthy(t, TOP(0)));
				break;
			case ECL_OP_JUMP:
				if (arg <= s->pc)
				{
					refuse(t, "has a loop");
					return NULL;
				}
				s->pc = arg;
				continue;
			case ECL_OP_JUMP_IF_FALSE:
			case ECL_OP_JUMP_IF_TRUE:
			case ECL_OP_AND:
			case ECL_OP_OR:
				{
					ecl_tr_node *c = truthy(t, TOP(0));
					bool		keep = op == ECL_OP_AND || op == ECL_OP_OR;
					bool		jump_when = op == ECL_OP_JUMP_IF_TRUE || op == ECL_OP_OR;
					state	   *sj,
							   *sf;

					if (c == NULL)
						return NULL;
					if (arg <= s->pc)
					{
						refuse(t, "has a loop");
						return NULL;
					}
					if (c->kind == ECL_TR_CONST)
					{
						if (c->b == jump_when)
						{
							if (keep)
								*TOP(0) = sv_const(ecl_bool(jump_when));
							else
								s->sp--;
							s->pc = arg;
						}
						else
						{
							s->sp--;
							s->pc++;
						}
						continue;
					}
					{
						ecl_tr_node *forced[MAX_PENDING];
						uint32_t	nf = sync_pending(t, s, c, forced);

						sj = state_copy(t, s);
						sf = state_copy(t, s);
						if (sj == NULL || sf == NULL)
							return NULL;
						if (keep)
							sj->stack[sj->sp - 1] = sv_const(ecl_bool(jump_when));
						else
							sj->sp--;
						sj->pc = arg;
						sf->sp--;
						sf->pc++;
						if (jump_when)
							return wrap_forced(t, forced, nf, mk_case(t, c, run(t, sj), run(t, sf)));
						return wrap_forced(t, forced, nf, mk_case(t, c, run(t, sf), run(t, sj)));
					}
				}
			case ECL_OP_REQUIRE:
			case ECL_OP_ASSERT:
				{
					ecl_tr_node *c = truthy(t, TOP(0));

					if (c == NULL)
						return NULL;
					s->sp--;
					if (c->kind == ECL_TR_CONST)
					{
						if (!c->b)
							return leaf(t, s, mk_bool(t, false));
						break;
					}
					{
						ecl_tr_node *forced[MAX_PENDING];
						uint32_t	nf = sync_pending(t, s, c, forced);
						state	   *sc = state_copy(t, s);
						ecl_tr_node *denied = leaf(t, s, mk_bool(t, false));

						if (sc == NULL)
							return NULL;
						sc->pc++;
						return wrap_forced(t, forced, nf, mk_case(t, c, run(t, sc), denied));
					}
				}
			case ECL_OP_DENY:
				return leaf(t, s, mk_bool(t, false));
			case ECL_OP_RETURN:
				return leaf(t, s, truthy(t, TOP(0)));
			case ECL_OP_CALLER_TRUST:
			case ECL_OP_LOAD_TRUST:
				{
					sval		c;
					sval		v;
					bool		charge = op == ECL_OP_LOAD_TRUST || !s->trust_loaded;

					if (op == ECL_OP_LOAD_TRUST)
					{
						c = POP();
						if (!(c.kind == SV_EXPR && c.atom == t->caller_atom) &&
							!(c.kind == SV_CONST && c.k.type == ECL_T_NULL))
						{
							refuse(t, "calls load_trust on something other than the caller");
							return NULL;
						}
					}
					else
						c = atom_value(t, s, t->caller_atom);
					if (c.kind == SV_CONST && c.k.type == ECL_T_NULL)
					{
						double		zero[ECL_TRUST_DIMS] = {0};
						ecl_value	tv;
						ecl_error	err;

						if (ecl_trust_new(ecl_arena_allocator(t->arena), zero, &tv, &err) != ECL_OK)
						{
							refuse(t, "out of memory");
							return NULL;
						}
						PUSH(sv_const(tv));
					}
					else if (c.kind == SV_CONST)
					{
						refuse(t, "reads the trust of a constant caller");
						return NULL;
					}
					else
					{
						memset(&v, 0, sizeof(v));
						v.kind = SV_TRUST;
						v.atom = -1;
						if (charge)
							s->mana += info->gas;
						PUSH(v);
					}
					if (op == ECL_OP_CALLER_TRUST)
						s->trust_loaded = true;
					break;
				}
			case ECL_OP_HAS_CREDENTIAL:
				{
					sval		schema = POP();
					sval		did = POP();

					if (!(schema.kind == SV_CONST && schema.k.type == ECL_T_STRING))
					{
						refuse(t, "calls has_credential with a schema that is not a constant string");
						return NULL;
					}
					if (did.kind == SV_CONST && did.k.type == ECL_T_NULL)
						PUSH(sv_const(ecl_bool(false)));
					else if (did.kind == SV_EXPR && did.atom == t->caller_atom)
					{
						ecl_tr_node *n = node(t, ECL_TR_CREDENTIAL, ECL_TR_BOOL);

						if (n)
						{
							n->str = schema.k.u.str->data;
							n->len = schema.k.u.str->len;
						}
						s->mana += info->gas;
						PUSH(sv_expr(n));
					}
					else
					{
						refuse(t, "calls has_credential for someone other than the caller");
						return NULL;
					}
					break;
				}
			default:
				refuse(t, "uses %s, which has no SQL translation",
					   op == ECL_OP_LOG ? "log()" : ecl_opcode_table[op].name);
				return NULL;
		}
		s->pc++;
	}
}

ecl_status
ecl_translate(ecl_arena *arena, const ecl_tr_request *req,
			  ecl_tr_node **out, char *reason, size_t reason_len)
{
	tr			t;
	state		s;
	const ecl_program *p = req->program;
	ecl_tr_node *n;

	memset(&t, 0, sizeof(t));
	t.arena = arena;
	t.req = req;
	t.p = p;
	t.natoms = req->nfields + 2;
	t.caller_atom = req->nfields;
	t.realm_atom = req->nfields + 1;
	t.max_nodes = req->max_nodes ? req->max_nodes : DEFAULT_MAX_NODES;
	t.reason = reason;
	t.reason_len = reason_len;
	if (reason && reason_len)
		reason[0] = '\0';
	*out = NULL;

	if (p->writes)
	{
		refuse(&t, "writes or emits (it cannot run read-only)");
		return ECL_FAIL;
	}
	if (req->max_stack_depth > 0 && p->max_stack > req->max_stack_depth)
	{
		refuse(&t, "needs a deeper stack than ecl.max_stack_depth");
		return ECL_FAIL;
	}
	if (ECL_BASE_MANA > req->mana_limit)
	{
		refuse(&t, "ecl.mana_limit is below the base mana of a run");
		return ECL_FAIL;
	}

	memset(&s, 0, sizeof(s));
	s.stack = talloc(&t, sizeof(sval) * (p->max_stack + 1));
	s.locals = talloc(&t, sizeof(sval) * (p->nlocals + 1));
	s.atoms = talloc(&t, (size_t) t.natoms);
	s.pending = talloc(&t, sizeof(ecl_tr_node *) * MAX_PENDING);
	if (t.failed)
		return ECL_FAIL;
	for (uint32_t i = 0; i < p->nlocals; i++)
		s.locals[i] = sv_const(ecl_null());
	s.mana = ECL_BASE_MANA;

	if (req->needs_caller && !(req->caller.is_const && req->caller.str != NULL) &&
		(req->caller.is_const || req->caller.nullable))
	{
		if (req->caller.is_const)
			n = mk_bool(&t, false);		/* no caller: denied */
		else
		{
			sval		c = atom_value(&t, &s, t.caller_atom);

			settle_atom(&t, &s, t.caller_atom, ATOM_NONNULL);
			n = mk_case(&t, mk1(&t, ECL_TR_IS_NULL, ECL_TR_BOOL, c.e),
						mk_bool(&t, false), run(&t, &s));
		}
	}
	else
		n = run(&t, &s);
	if (t.failed || n == NULL)
	{
		if (!t.failed)
			refuse(&t, "internal: no result");
		return ECL_FAIL;
	}
	*out = n;
	return ECL_OK;
}

/* ------------------------------------------------------------------- text */

static void
put_literal(ecl_textbuf *b, const char *s, size_t n)
{
	ecl_textbuf_puts(b, "'");
	for (size_t i = 0; i < n; i++)
	{
		if (s[i] == '\'')
			ecl_textbuf_puts(b, "'");
		ecl_textbuf_put(b, s + i, 1);
	}
	ecl_textbuf_puts(b, "'");
}

static const char *
cmp_symbol(ecl_opcode op)
{
	switch (op)
	{
		case ECL_OP_EQ:
			return " = ";
		case ECL_OP_NE:
			return " <> ";
		case ECL_OP_LT:
			return " < ";
		case ECL_OP_LE:
			return " <= ";
		case ECL_OP_GT:
			return " > ";
		case ECL_OP_GE:
			return " >= ";
		default:
			return " ? ";
	}
}

static const char *
arith_function(ecl_opcode op)
{
	switch (op)
	{
		case ECL_OP_ADD:
			return "ecl.policy_add";
		case ECL_OP_SUB:
			return "ecl.policy_sub";
		case ECL_OP_MUL:
			return "ecl.policy_mul";
		case ECL_OP_DIV:
			return "ecl.policy_div";
		default:
			return "ecl.policy_mod";
	}
}

typedef struct names
{
	const char *const *field_sql;
	const char *caller_sql;
	const char *realm_sql;
} names;

static void
text_of(ecl_textbuf *b, const ecl_tr_node *n, const names *nm)
{
	char		num[64];

	switch (n->kind)
	{
		case ECL_TR_CONST:
			if (n->type == ECL_TR_BOOL)
				ecl_textbuf_puts(b, n->b ? "true" : "false");
			else if (n->type == ECL_TR_NUM)
			{
				ecl_format_number(n->num, num);
				ecl_textbuf_puts(b, "'");
				ecl_textbuf_puts(b, num);
				ecl_textbuf_puts(b, "'::float8");
			}
			else
				put_literal(b, n->str, n->len);
			break;
		case ECL_TR_FIELD:
			ecl_textbuf_puts(b, nm->field_sql[n->index]);
			break;
		case ECL_TR_CALLER:
			ecl_textbuf_puts(b, nm->caller_sql);
			break;
		case ECL_TR_REALM:
			ecl_textbuf_puts(b, nm->realm_sql);
			break;
		case ECL_TR_TRUST_DIM:
			ecl_textbuf_puts(b, "(SELECT ecl.policy_trust(");
			ecl_textbuf_puts(b, nm->caller_sql);
			ecl_textbuf_puts(b, ", ");
			ecl_textbuf_puts(b, nm->realm_sql);
			snprintf(num, sizeof(num), ", %d))", n->index);
			ecl_textbuf_puts(b, num);
			break;
		case ECL_TR_CREDENTIAL:
			ecl_textbuf_puts(b, "(SELECT ecl.policy_credential(");
			ecl_textbuf_puts(b, nm->caller_sql);
			ecl_textbuf_puts(b, ", ");
			put_literal(b, n->str, n->len);
			ecl_textbuf_puts(b, "))");
			break;
		case ECL_TR_ARITH:
			ecl_textbuf_puts(b, arith_function(n->op));
			ecl_textbuf_puts(b, "(");
			text_of(b, n->a, nm);
			ecl_textbuf_puts(b, ", ");
			text_of(b, n->b_, nm);
			ecl_textbuf_puts(b, ", ");
			put_literal(b, n->str, n->len);
			ecl_textbuf_puts(b, ")");
			break;
		case ECL_TR_NEG:
			ecl_textbuf_puts(b, "(- ");
			text_of(b, n->a, nm);
			ecl_textbuf_puts(b, ")");
			break;
		case ECL_TR_CONCAT:
			ecl_textbuf_puts(b, "(");
			text_of(b, n->a, nm);
			ecl_textbuf_puts(b, " || ");
			text_of(b, n->b_, nm);
			ecl_textbuf_puts(b, ")");
			break;
		case ECL_TR_CMP:
			ecl_textbuf_puts(b, "(");
			text_of(b, n->a, nm);
			if (n->a->type == ECL_TR_STR && n->op != ECL_OP_EQ && n->op != ECL_OP_NE)
				ecl_textbuf_puts(b, " COLLATE \"C\"");
			ecl_textbuf_puts(b, cmp_symbol(n->op));
			text_of(b, n->b_, nm);
			ecl_textbuf_puts(b, ")");
			break;
		case ECL_TR_NOT_DISTINCT:
			ecl_textbuf_puts(b, "(");
			text_of(b, n->a, nm);
			ecl_textbuf_puts(b, " IS NOT DISTINCT FROM ");
			text_of(b, n->b_, nm);
			ecl_textbuf_puts(b, ")");
			break;
		case ECL_TR_IS_NULL:
			ecl_textbuf_puts(b, "(");
			text_of(b, n->a, nm);
			ecl_textbuf_puts(b, " IS NULL)");
			break;
		case ECL_TR_IS_TRUE:
			ecl_textbuf_puts(b, "(");
			text_of(b, n->a, nm);
			ecl_textbuf_puts(b, " IS TRUE)");
			break;
		case ECL_TR_NONEMPTY:
			ecl_textbuf_puts(b, "(octet_length(");
			text_of(b, n->a, nm);
			ecl_textbuf_puts(b, ") > 0)");
			break;
		case ECL_TR_NOT:
			ecl_textbuf_puts(b, "(NOT ");
			text_of(b, n->a, nm);
			ecl_textbuf_puts(b, ")");
			break;
		case ECL_TR_AND:
		case ECL_TR_OR:
			ecl_textbuf_puts(b, "(");
			text_of(b, n->a, nm);
			ecl_textbuf_puts(b, n->kind == ECL_TR_AND ? " AND " : " OR ");
			text_of(b, n->b_, nm);
			ecl_textbuf_puts(b, ")");
			break;
		case ECL_TR_CASE:
			ecl_textbuf_puts(b, "CASE WHEN ");
			text_of(b, n->a, nm);
			ecl_textbuf_puts(b, " THEN ");
			text_of(b, n->b_, nm);
			ecl_textbuf_puts(b, " ELSE ");
			text_of(b, n->c, nm);
			ecl_textbuf_puts(b, " END");
			break;
		case ECL_TR_RAISE:
			snprintf(num, sizeof(num), "ecl.policy_error(%d, ", (int) n->code);
			ecl_textbuf_puts(b, num);
			put_literal(b, n->str, n->len);
			ecl_textbuf_puts(b, ")");
			break;
	}
}

char *
ecl_tr_to_text(ecl_arena *arena, const ecl_tr_node *n,
			   const char *const *field_sql, const char *caller_sql,
			   const char *realm_sql)
{
	ecl_textbuf b;
	names		nm;

	ecl_textbuf_init(&b, ecl_arena_allocator(arena));
	nm.field_sql = field_sql;
	nm.caller_sql = caller_sql;
	nm.realm_sql = realm_sql;
	text_of(&b, n, &nm);
	return b.failed ? NULL : b.data;
}
