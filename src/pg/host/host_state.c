/*
 * host_state.c — the state-only host (docs/host-and-state.md): ECL's host functions over a
 * JSON snapshot, writes into an in-memory change list.  See host_state.h for
 * what each function answers; every answer mirrors host_tables.c, including
 * its argument checks and error messages, so that a policy behaves the same
 * (value, message, gas) on both hosts.
 *
 * Layout of this file: numbers and paths, validation of the snapshot,
 * lookups, identity functions, time/log/metrics, emit, the store with its
 * overlay of this run's writes, the vtable and the run-level API.
 */
#include "postgres.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "access/xact.h"
#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "ecl/host.h"

#include "ecl_pg.h"
#include "host_state.h"
#include "runner.h"

/* ------------------------------------------------------- numbers and paths */

/*
 * A jsonb numeric as a double, exactly as jsonb_bridge.c reads input and
 * store values (numeric_out, then strtod): the shortest text the snapshot
 * wrote for a float8 reads back as the same double.  false when out of range.
 */
static bool
numeric_to_double(Numeric num, double *out)
{
	char	   *text = DatumGetCString(DirectFunctionCall1(numeric_out,
														   NumericGetDatum(num)));
	char	   *end;
	double		d;

	/* ERANGE also flags subnormals and underflow: the nearest double, fine */
	d = strtod(text, &end);
	pfree(text);
	if (isinf(d))
		return false;
	*out = d;
	return true;
}

static bool
is_object(const JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data);
}

static bool
is_array(const JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data) &&
		!JsonContainerIsScalar(v->val.binary.data);
}

/* ----------------------------------------------------- validating a state */

/*
 * Validation walks the whole state once per run, so the success path does
 * no string work: the JSON path of the part being checked is a chain of
 * frames on the C stack, rendered into text only for the error message, and
 * numbers are range-checked by comparison, not converted.
 */
typedef enum PathKind
{
	PATH_ROOT,					/* state */
	PATH_FIELD,					/* .name (a field of the format) */
	PATH_KEY,					/* ["key"] (a DID, schema, store, key) */
	PATH_INDEX					/* [i] */
} PathKind;

typedef struct Path
{
	const struct Path *up;
	PathKind	kind;
	const char *name;
	int			len;
	int			index;
} Path;

/* Append .name for a plain identifier, else ["name"]. */
static void
render_field(StringInfo buf, const char *name, int len)
{
	bool		plain = len > 0 && !isdigit((unsigned char) name[0]);

	for (int i = 0; i < len && plain; i++)
		plain = isalnum((unsigned char) name[i]) || name[i] == '_';
	if (plain)
	{
		appendStringInfoChar(buf, '.');
		appendBinaryStringInfo(buf, name, len);
	}
	else
	{
		appendStringInfoChar(buf, '[');
		escape_json(buf, pnstrdup(name, len));
		appendStringInfoChar(buf, ']');
	}
}

static void
render_path(StringInfo buf, const Path *p)
{
	if (p->up != NULL)
		render_path(buf, p->up);
	switch (p->kind)
	{
		case PATH_ROOT:
			appendStringInfoString(buf, "state");
			break;
		case PATH_FIELD:
			render_field(buf, p->name, p->len);
			break;
		case PATH_KEY:
			appendStringInfoChar(buf, '[');
			escape_json(buf, pnstrdup(p->name, p->len));
			appendStringInfoChar(buf, ']');
			break;
		case PATH_INDEX:
			appendStringInfo(buf, "[%d]", p->index);
			break;
	}
}

pg_noreturn static void
bad_state(const Path *path, const char *what)
{
	StringInfoData buf;

	initStringInfo(&buf);
	render_path(&buf, path);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s %s", buf.data, what),
			 errhint("The state has the shape ecl.snapshot returns (snapshot format version %d); see docs/host-and-state.md.",
					 ECL_SNAPSHOT_VERSION)));
}

static Path
sub_path(const Path *up, PathKind kind, const char *name, int len)
{
	Path		p;

	p.up = up;
	p.kind = kind;
	p.name = name;
	p.len = len;
	p.index = 0;
	return p;
}

/* Numeric constants for the range checks, made once per backend. */
static Numeric num_zero,
			num_one,
			num_big,
			num_negbig;

static Numeric
make_numeric_const(const char *text)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
	Numeric		n = DatumGetNumeric(DirectFunctionCall3(numeric_in,
														CStringGetDatum(text),
														ObjectIdGetDatum(InvalidOid),
														Int32GetDatum(-1)));

	MemoryContextSwitchTo(old);
	return n;
}

static void
make_numeric_consts(void)
{
	if (num_zero == NULL)
	{
		num_zero = make_numeric_const("0");
		num_one = make_numeric_const("1");
		num_big = make_numeric_const("1e308");
		num_negbig = make_numeric_const("-1e308");
	}
}

static int
num_cmp(Numeric a, Numeric b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(a),
											 NumericGetDatum(b)));
}

/* Readable as a finite double (what jsonb_bridge.c accepts)? */
static bool
numeric_fits_double(Numeric n)
{
	double		d;

	if (num_cmp(n, num_big) < 0 && num_cmp(n, num_negbig) > 0)
		return true;
	return numeric_to_double(n, &d);	/* the rare huge number: exactly */
}

typedef void (*MemberCheck) (const Path *path, JsonbValue *v);

/*
 * v must be an object; check(path["key"], value) for each member.  Keys and
 * values point into the jsonb, which outlives the iteration.
 */
static void
check_members(const Path *path, JsonbValue *v, MemberCheck check)
{
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	key;
	JsonbValue	val;

	if (!is_object(v))
		bad_state(path, "must be a JSON object");
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &key, true)) != WJB_DONE)
	{
		Path		member;

		if (tok != WJB_KEY)
			continue;
		tok = JsonbIteratorNext(&it, &val, true);
		Assert(tok == WJB_VALUE);
		member = sub_path(path, PATH_KEY, key.val.string.val, key.val.string.len);
		check(&member, &val);
	}
}

static void
check_number(const Path *path, JsonbValue *v, bool null_ok)
{
	if (null_ok && v->type == jbvNull)
		return;
	if (v->type != jbvNumeric)
		bad_state(path, null_ok ? "must be a number or null" : "must be a number");
	if (!numeric_fits_double(v->val.numeric))
		bad_state(path, "is out of range for double precision");
}

static void
check_bool(const Path *path, JsonbValue *v)
{
	if (v->type != jbvBool)
		bad_state(path, "must be true or false");
}

/* A field of a fixed-shape object: .name appended for the check. */
typedef struct FieldCheck
{
	const char *name;
	void		(*check) (const Path *path, JsonbValue *v);
} FieldCheck;

static void
check_fields(const Path *path, JsonbValue *v, const FieldCheck *fields)
{
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	key;
	JsonbValue	val;

	if (!is_object(v))
		bad_state(path, "must be a JSON object");
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &key, true)) != WJB_DONE)
	{
		const FieldCheck *f;
		Path		field;

		if (tok != WJB_KEY)
			continue;
		tok = JsonbIteratorNext(&it, &val, true);
		Assert(tok == WJB_VALUE);
		field = sub_path(path, PATH_FIELD, key.val.string.val, key.val.string.len);
		for (f = fields; f->name != NULL; f++)
			if (strlen(f->name) == (size_t) key.val.string.len &&
				memcmp(f->name, key.val.string.val, key.val.string.len) == 0)
				break;
		if (f->name == NULL)
			bad_state(&field, "is not part of the snapshot format");
		f->check(&field, &val);
	}
}

static void
check_trust_vector(const Path *path, JsonbValue *v)
{
	JsonbContainer *c;

	if (v->type == jbvNull)
		return;
	if (!is_array(v) || JsonContainerSize(v->val.binary.data) != ECL_TRUST_DIMS)
		bad_state(path, "must be null or an array of 6 numbers (R, I, C, P, V, Omega)");
	c = v->val.binary.data;
	for (int i = 0; i < ECL_TRUST_DIMS; i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(c, i);

		if (e->type != jbvNumeric || num_cmp(e->val.numeric, num_zero) < 0 ||
			num_cmp(e->val.numeric, num_one) > 0)
		{
			Path		elem = sub_path(path, PATH_INDEX, NULL, 0);

			elem.index = i;
			bad_state(&elem, "must be a number in [0,1]");
		}
		pfree(e);
	}
}

static const FieldCheck trust_fields[] = {
	{"realm", check_trust_vector},
	{"global", check_trust_vector},
	{NULL, NULL}
};

static void
check_trust_entry(const Path *path, JsonbValue *v)
{
	check_fields(path, v, trust_fields);
}

static const FieldCheck identity_fields[] = {
	{"registered", check_bool},
	{"revoked", check_bool},
	{NULL, NULL}
};

static void
check_identity(const Path *path, JsonbValue *v)
{
	check_fields(path, v, identity_fields);
}

static void
check_credential_set(const Path *path, JsonbValue *v)
{
	check_members(path, v, check_bool);
}

static void
check_plain_number(const Path *path, JsonbValue *v)
{
	check_number(path, v, false);
}

static void
check_number_or_null(const Path *path, JsonbValue *v)
{
	check_number(path, v, true);
}

/* store values are any JSON: what ecl.store.value may hold */
static void
check_any(const Path *path, JsonbValue *v)
{
}

static void
check_store_entries(const Path *path, JsonbValue *v)
{
	check_members(path, v, check_any);
}

static void
check_store_set(const Path *path, JsonbValue *v)
{
	check_members(path, v, check_store_entries);
}

static void
check_personal(const Path *path, JsonbValue *v)
{
	check_members(path, v, check_store_set);
}

static const FieldCheck store_fields[] = {
	{"shared", check_store_set},
	{"personal", check_personal},
	{NULL, NULL}
};

static void
check_version(const Path *path, JsonbValue *v)
{
	if (v->type != jbvNumeric || num_cmp(v->val.numeric, num_one) != 0)
		bad_state(path, psprintf("must be %d (the snapshot format version this build reads)",
								 ECL_SNAPSHOT_VERSION));
}

static void
check_realm(const Path *path, JsonbValue *v)
{
	if (v->type != jbvNull && v->type != jbvString)
		bad_state(path, "must be a string or null");
}

static void
check_identities(const Path *path, JsonbValue *v)
{
	check_members(path, v, check_identity);
}

static void
check_trust(const Path *path, JsonbValue *v)
{
	check_members(path, v, check_trust_entry);
}

static void
check_credentials(const Path *path, JsonbValue *v)
{
	check_members(path, v, check_credential_set);
}

static void
check_balances(const Path *path, JsonbValue *v)
{
	check_members(path, v, check_plain_number);
}

static void
check_store(const Path *path, JsonbValue *v)
{
	check_fields(path, v, store_fields);
}

static void
check_metrics(const Path *path, JsonbValue *v)
{
	check_members(path, v, check_number_or_null);
}

static const FieldCheck state_fields[] = {
	{"version", check_version},
	{"realm", check_realm},
	{"taken_at", check_number_or_null},
	{"timestamp", check_number_or_null},
	{"identities", check_identities},
	{"trust", check_trust},
	{"credentials", check_credentials},
	{"balances", check_balances},
	{"store", check_store},
	{"metrics", check_metrics},
	{NULL, NULL}
};

/*
 * States validated lately, by length and 64-bit hash of their bytes: a
 * loop that simulates many runs on one snapshot (ecl.test_policy, a
 * what-if over many callers) validates it once.  A false hit could only
 * skip validation, and every lookup checks the types it reads anyway.
 */
#define VALIDATED_MEMORY 8

typedef struct ValidatedState
{
	uint32		len;
	uint64		hash;
} ValidatedState;

static ValidatedState validated[VALIDATED_MEMORY];
static int	validated_next;

static bool
validated_lately(const ValidatedState *vs)
{
	for (int i = 0; i < VALIDATED_MEMORY; i++)
		if (validated[i].len == vs->len && validated[i].hash == vs->hash)
			return true;
	return false;
}

static void
remember_validated(const ValidatedState *vs)
{
	validated[validated_next] = *vs;
	validated_next = (validated_next + 1) % VALIDATED_MEMORY;
}

/* the run's realm must be the state's (when the state names one) */
static void
check_state_realm(Jsonb *state, const char *realm)
{
	JsonbValue	r;
	const char *state_realm;
	StringInfoData a;
	StringInfoData b;

	if (getKeyJsonValueFromContainer(&state->root, "realm", 5, &r) == NULL)
		return;
	state_realm = r.type == jbvString ?
		pnstrdup(r.val.string.val, r.val.string.len) : "";
	if (strcmp(state_realm, realm) == 0)
		return;

	initStringInfo(&a);
	initStringInfo(&b);
	if (state_realm[0])
		escape_json(&a, state_realm);
	else
		appendStringInfoString(&a, "null");
	if (realm[0])
		escape_json(&b, realm);
	else
		appendStringInfoString(&b, "null");
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("state.realm is %s but the run's realm is %s", a.data, b.data),
			 errhint("Take the snapshot of the realm the policy runs in: ecl.snapshot(realm).")));
}

void
ecl_state_validate(Jsonb *state, const char *realm)
{
	Path		root_path;
	JsonbValue	root;
	ValidatedState vs;

	if (state == NULL)
		return;
	make_numeric_consts();
	root_path = sub_path(NULL, PATH_ROOT, NULL, 0);
	if (!JB_ROOT_IS_OBJECT(state) || JB_ROOT_IS_SCALAR(state))
		bad_state(&root_path, "must be a JSON object");

	vs.len = VARSIZE(state);
	vs.hash = hash_bytes_extended((const unsigned char *) state,
								   VARSIZE(state), 0);
	if (!validated_lately(&vs))
	{
		root.type = jbvBinary;
		root.val.binary.data = &state->root;
		root.val.binary.len = VARSIZE(state) - VARHDRSZ;
		check_fields(&root_path, &root, state_fields);
		remember_validated(&vs);
	}

	/* a snapshot of one realm says nothing about the stores of another */
	if (realm != NULL)
		check_state_realm(state, realm);
}

/* ----------------------------------------------------------------- lookups */

static bool
obj_get(JsonbContainer *c, const char *key, size_t len, JsonbValue *out)
{
	if (c == NULL || len > INT_MAX || !JsonContainerIsObject(c))
		return false;
	return getKeyJsonValueFromContainer(c, key, (int) len, out) != NULL;
}

/* The object under key, or NULL (absent, null, or not an object). */
static JsonbContainer *
obj_get_object(JsonbContainer *c, const char *key, size_t len)
{
	JsonbValue	v;

	if (!obj_get(c, key, len, &v) || !is_object(&v))
		return NULL;
	return v.val.binary.data;
}

static bool
obj_get_number(JsonbContainer *c, const char *key, size_t len, double *out)
{
	JsonbValue	v;

	return obj_get(c, key, len, &v) && v.type == jbvNumeric &&
		numeric_to_double(v.val.numeric, out);
}

static bool
obj_get_bool(JsonbContainer *c, const char *key, size_t len, bool dflt)
{
	JsonbValue	v;

	if (obj_get(c, key, len, &v) && v.type == jbvBool)
		return v.val.boolean;
	return dflt;
}

/* A snapshot value (scalar or container) as an ECL value. */
static ecl_status
jsonb_value_to_ecl(const ecl_alloc *a, JsonbValue *v, ecl_value *out,
				   ecl_error *err)
{
	Jsonb	   *jb = JsonbValueToJsonb(v);
	ecl_status	st = ecl_value_from_jsonb(a, jb, out, err);

	pfree(jb);
	return st;
}

/* ---------------------------------------------------------- identity lookups */

/* A trust vector of the snapshot; false when absent or null. */
static bool
trust_vector(JsonbContainer *entry, const char *which, ecl_trust *out)
{
	JsonbValue	v;

	if (!obj_get(entry, which, strlen(which), &v) || !is_array(&v) ||
		JsonContainerSize(v.val.binary.data) != ECL_TRUST_DIMS)
		return false;
	for (int i = 0; i < ECL_TRUST_DIMS; i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(v.val.binary.data, i);

		if (e->type != jbvNumeric || !numeric_to_double(e->val.numeric, &out->dim[i]))
			return false;
	}
	return true;
}

/*
 * state.identities[did].revoked: a revoked identity loses everything, as on
 * the table host (host_tables.c), whatever trust, credentials or balance the
 * snapshot still lists for it.
 */
static bool
state_revoked(const EclStateHost *h, const ecl_string *did)
{
	JsonbContainer *entry = obj_get_object(h->identities, did->data, did->len);

	return entry != NULL && obj_get_bool(entry, "revoked", 7, false);
}

/*
 * The realm's vector, else the global one, else zeros (deny by default);
 * zeros for a revoked identity.
 */
static ecl_status
state_load_trust(void *hctx, const ecl_string *did, ecl_trust *out,
				 ecl_error *err)
{
	EclStateHost *h = (EclStateHost *) hctx;
	JsonbContainer *entry = state_revoked(h, did) ? NULL
		: obj_get_object(h->trust, did->data, did->len);

	if (entry != NULL && h->base.realm[0] && trust_vector(entry, "realm", out))
		return ECL_OK;
	if (entry != NULL && trust_vector(entry, "global", out))
		return ECL_OK;
	memset(out, 0, sizeof(*out));
	return ECL_OK;
}

static ecl_status
state_has_credential(void *hctx, const ecl_string *did,
					 const ecl_string *schema, bool *out, ecl_error *err)
{
	EclStateHost *h = (EclStateHost *) hctx;
	JsonbContainer *set = obj_get_object(h->credentials, did->data, did->len);

	/* a revoked issuer is already decided in the snapshot's flags */
	*out = !state_revoked(h, did) &&
		obj_get_bool(set, schema->data, schema->len, false);
	return ECL_OK;
}

static ecl_status
state_resolve_did(void *hctx, const ecl_string *did, bool *out, ecl_error *err)
{
	EclStateHost *h = (EclStateHost *) hctx;
	JsonbContainer *entry = obj_get_object(h->identities, did->data, did->len);

	*out = entry != NULL &&
		obj_get_bool(entry, "registered", 10, true) &&
		!obj_get_bool(entry, "revoked", 7, false);
	return ECL_OK;
}

static ecl_status
state_get_balance(void *hctx, const ecl_string *did, double *out,
				  ecl_error *err)
{
	EclStateHost *h = (EclStateHost *) hctx;

	if (state_revoked(h, did) ||
		!obj_get_number(h->balances, did->data, did->len, out))
		*out = 0.0;
	return ECL_OK;
}

/* ---------------------------------------------------------------- metrics */

static ecl_status
state_get_metric(void *hctx, const ecl_alloc *a, const ecl_string *name,
				 ecl_value *out, ecl_error *err)
{
	EclStateHost *h = (EclStateHost *) hctx;
	double		d;

	*out = ecl_null();
	if (obj_get_number(h->metrics, name->data, name->len, &d))
		*out = ecl_number(d);
	return ECL_OK;
}

/* ----------------------------------------------------------- change records */

static void
push_text(JsonbParseState **ps, const char *key, const char *val, size_t len)
{
	JsonbValue	v;

	ecl_jsonb_push_key(ps, key);
	if (val == NULL)
		v.type = jbvNull;
	else
	{
		v.type = jbvString;
		v.val.string.val = (char *) val;
		v.val.string.len = (int) len;
	}
	pushJsonbValue(ps, WJB_VALUE, &v);
}

static void
push_bool(JsonbParseState **ps, const char *key, bool val)
{
	JsonbValue	v;

	ecl_jsonb_push_key(ps, key);
	v.type = jbvBool;
	v.val.boolean = val;
	pushJsonbValue(ps, WJB_VALUE, &v);
}

static void
push_jsonb(JsonbParseState **ps, const char *key, Jsonb *jb)
{
	JsonbValue	v;

	ecl_jsonb_push_key(ps, key);
	v.type = jbvBinary;
	v.val.binary.data = &jb->root;
	v.val.binary.len = VARSIZE(jb) - VARHDRSZ;
	pushJsonbValue(ps, WJB_VALUE, &v);
}

static Jsonb *
finish_object(JsonbParseState **ps)
{
	return JsonbValueToJsonb(pushJsonbValue(ps, WJB_END_OBJECT, NULL));
}

/* ------------------------------------------------------------------- emit */

static ecl_status
state_emit(void *hctx, const ecl_string *event, ecl_value payload,
		   ecl_error *err)
{
	EclStateHost *h = (EclStateHost *) hctx;
	JsonbParseState *ps = NULL;
	MemoryContext old;
	Jsonb	   *pj;
	Jsonb	   *summary;
	Jsonb	   *change;

	old = MemoryContextSwitchTo(h->base.cxt);
	pj = ecl_value_to_jsonb_budget(payload, "writing the payload of emit", err);
	if (pj == NULL)
	{
		MemoryContextSwitchTo(old);
		return ECL_FAIL;
	}

	pushJsonbValue(&ps, WJB_BEGIN_OBJECT, NULL);
	push_text(&ps, "event", event->data, event->len);
	push_jsonb(&ps, "payload", pj);
	summary = finish_object(&ps);

	ps = NULL;
	pushJsonbValue(&ps, WJB_BEGIN_OBJECT, NULL);
	push_text(&ps, "op", "emit", 4);
	push_text(&ps, "event", event->data, event->len);
	push_jsonb(&ps, "payload", pj);
	change = finish_object(&ps);

	h->base.events = lappend(h->base.events, summary);
	h->changes = lappend(h->changes, change);
	MemoryContextSwitchTo(old);
	/* the event is kept twice (result and change list) */
	return ecl_run_memory_check(err, "keeping the event of emit");
}

/* ------------------------------------------------------------------ store */

/*
 * The overlay: this run's writes, keyed by the bytes
 *   'k' owner NUL store NUL key   an entry: present (value) or deleted
 *   's' owner NUL store           a store: its count relative to the snapshot
 * (owner is "" for the shared store; no part contains NUL, store_ref checks).
 */
typedef struct OverlayKey
{
	const char *bytes;
	Size		len;
} OverlayKey;

typedef struct OverlayEntry
{
	OverlayKey	key;			/* must be first */
	bool		present;		/* 'k': written (true) or deleted (false) */
	Jsonb	   *value;			/* 'k' present: the value written */
	int64		delta;			/* 's': entries added minus removed */
} OverlayEntry;

static uint32
overlay_hash(const void *key, Size keysize)
{
	const OverlayKey *k = (const OverlayKey *) key;

	return hash_bytes((const unsigned char *) k->bytes, (int) k->len);
}

static int
overlay_match(const void *a, const void *b, Size keysize)
{
	const OverlayKey *ka = (const OverlayKey *) a;
	const OverlayKey *kb = (const OverlayKey *) b;

	return (ka->len == kb->len && memcmp(ka->bytes, kb->bytes, ka->len) == 0) ? 0 : 1;
}

/* What one store operation addresses. */
typedef struct StoreRef
{
	const char *owner;			/* caller for personal, "" for shared */
	const ecl_string *store;
	JsonbContainer *snap;		/* the store's entries in the snapshot, or NULL */
} StoreRef;

/*
 * What a store operation addresses (the VM has checked the arguments as it
 * does for every host: builtins.c).
 */
static ecl_status
store_ref(EclStateHost *h, const ecl_string *store, const ecl_string *key,
		  bool personal, StoreRef *r, ecl_error *err)
{
	memset(r, 0, sizeof(*r));
	r->store = store;
	Assert(!personal || h->base.caller != NULL);
	r->owner = personal ? h->base.caller : "";
	if (personal)
		r->snap = obj_get_object(obj_get_object(h->personal, r->owner,
												strlen(r->owner)),
								 store->data, store->len);
	else
		r->snap = obj_get_object(h->shared, store->data, store->len);
	return ECL_OK;
}

/* Overlay key bytes, in the host's context (kept when inserted). */
static OverlayKey
overlay_key(EclStateHost *h, char tag, const StoreRef *r,
			const char *key, size_t keylen)
{
	size_t		olen = strlen(r->owner);
	Size		len = 1 + olen + 1 + r->store->len;
	char	   *b;
	char	   *p;
	OverlayKey	k;

	if (tag == 'k')
		len += 1 + keylen;
	b = MemoryContextAlloc(h->base.cxt, len);
	p = b;
	*p++ = tag;
	memcpy(p, r->owner, olen);
	p += olen;
	*p++ = '\0';
	memcpy(p, r->store->data, r->store->len);
	p += r->store->len;
	if (tag == 'k')
	{
		*p++ = '\0';
		memcpy(p, key, keylen);
	}
	k.bytes = b;
	k.len = len;
	return k;
}

static OverlayEntry *
overlay_find(EclStateHost *h, char tag, const StoreRef *r,
			 const char *key, size_t keylen)
{
	OverlayKey	k = overlay_key(h, tag, r, key, keylen);
	OverlayEntry *e = hash_search(h->overlay, &k, HASH_FIND, NULL);

	pfree((char *) k.bytes);
	return e;
}

static OverlayEntry *
overlay_enter(EclStateHost *h, char tag, const StoreRef *r,
			  const char *key, size_t keylen)
{
	OverlayKey	k = overlay_key(h, tag, r, key, keylen);
	bool		found;
	OverlayEntry *e = hash_search(h->overlay, &k, HASH_ENTER, &found);

	if (found)
		pfree((char *) k.bytes);
	else
	{
		e->present = false;
		e->value = NULL;
		e->delta = 0;
	}
	return e;
}

/*
 * Is the entry there, after this run's writes?  *written is this run's
 * value when it wrote one; else *snapval is the snapshot's.
 */
static bool
entry_lookup(EclStateHost *h, const StoreRef *r, const char *key,
			 size_t keylen, Jsonb **written, JsonbValue *snapval)
{
	OverlayEntry *e = overlay_find(h, 'k', r, key, keylen);

	*written = NULL;
	if (e != NULL)
	{
		*written = e->present ? e->value : NULL;
		return e->present;
	}
	return obj_get(r->snap, key, keylen, snapval);
}

static void
record_store_change(EclStateHost *h, const char *op, const StoreRef *r,
					const ecl_string *key, Jsonb *value)
{
	JsonbParseState *ps = NULL;
	bool		personal = r->owner[0] != '\0';
	MemoryContext old = MemoryContextSwitchTo(h->base.cxt);

	pushJsonbValue(&ps, WJB_BEGIN_OBJECT, NULL);
	push_text(&ps, "op", op, strlen(op));
	push_bool(&ps, "personal", personal);
	push_text(&ps, "owner", personal ? r->owner : NULL, strlen(r->owner));
	push_text(&ps, "store", r->store->data, r->store->len);
	push_text(&ps, "key", key->data, key->len);
	if (value != NULL)
		push_jsonb(&ps, "value", value);
	h->changes = lappend(h->changes, finish_object(&ps));
	MemoryContextSwitchTo(old);
}

static ecl_status
state_store_get(void *hctx, const ecl_alloc *alloc, const ecl_string *store,
				const ecl_string *key, bool personal, ecl_value *out,
				ecl_error *err)
{
	EclStateHost *h = (EclStateHost *) hctx;
	StoreRef	r;
	Jsonb	   *written;
	JsonbValue	snapval;

	if (store_ref(h, store, key, personal, &r, err) != ECL_OK)
		return ECL_FAIL;
	*out = ecl_null();
	if (!entry_lookup(h, &r, key->data, key->len, &written, &snapval))
		return ECL_OK;
	if (written != NULL)
		return ecl_value_from_jsonb(alloc, written, out, err);
	return jsonb_value_to_ecl(alloc, &snapval, out, err);
}

static ecl_status
state_store_put(void *hctx, const ecl_string *store, const ecl_string *key,
				ecl_value value, bool personal, ecl_error *err)
{
	EclStateHost *h = (EclStateHost *) hctx;
	StoreRef	r;
	Jsonb	   *written;
	JsonbValue	snapval;
	bool		existed;
	OverlayEntry *e;
	MemoryContext old;
	Jsonb	   *jb;

	if (store_ref(h, store, key, personal, &r, err) != ECL_OK)
		return ECL_FAIL;
	/* what the table host would store: the value as jsonb (same errors) */
	old = MemoryContextSwitchTo(h->base.cxt);
	jb = ecl_value_to_jsonb_budget(value, "writing the value of store_put", err);
	MemoryContextSwitchTo(old);
	if (jb == NULL)
		return ECL_FAIL;

	existed = entry_lookup(h, &r, key->data, key->len, &written, &snapval);
	e = overlay_enter(h, 'k', &r, key->data, key->len);
	e->present = true;
	e->value = jb;
	if (!existed)
		overlay_enter(h, 's', &r, NULL, 0)->delta++;
	record_store_change(h, "put", &r, key, jb);
	return ECL_OK;
}

static ecl_status
state_store_delete(void *hctx, const ecl_string *store, const ecl_string *key,
				   bool personal, bool *existed, ecl_error *err)
{
	EclStateHost *h = (EclStateHost *) hctx;
	StoreRef	r;
	Jsonb	   *written;
	JsonbValue	snapval;
	OverlayEntry *e;

	if (store_ref(h, store, key, personal, &r, err) != ECL_OK)
		return ECL_FAIL;
	*existed = entry_lookup(h, &r, key->data, key->len, &written, &snapval);
	/* deleting nothing changes nothing: no record, like DELETE of 0 rows */
	if (!*existed)
		return ECL_OK;
	e = overlay_enter(h, 'k', &r, key->data, key->len);
	e->present = false;
	e->value = NULL;
	overlay_enter(h, 's', &r, NULL, 0)->delta--;
	record_store_change(h, "delete", &r, key, NULL);
	return ECL_OK;
}

static int64
store_size(EclStateHost *h, const StoreRef *r)
{
	int64		n = r->snap != NULL ? (int64) JsonContainerSize(r->snap) : 0;
	OverlayEntry *e = overlay_find(h, 's', r, NULL, 0);

	return n + (e != NULL ? e->delta : 0);
}

static ecl_status
state_store_exists(void *hctx, const ecl_string *store, bool personal,
				   bool *out, ecl_error *err)
{
	EclStateHost *h = (EclStateHost *) hctx;
	StoreRef	r;

	if (store_ref(h, store, NULL, personal, &r, err) != ECL_OK)
		return ECL_FAIL;
	*out = store_size(h, &r) > 0;
	return ECL_OK;
}

static ecl_status
state_store_count(void *hctx, const ecl_string *store, bool personal,
				  double *out, ecl_error *err)
{
	EclStateHost *h = (EclStateHost *) hctx;
	StoreRef	r;

	if (store_ref(h, store, NULL, personal, &r, err) != ECL_OK)
		return ECL_FAIL;
	*out = (double) store_size(h, &r);
	return ECL_OK;
}

typedef struct KeyRef
{
	const char *data;
	size_t		len;
} KeyRef;

/* bytewise, shorter first on a common prefix: ORDER BY key COLLATE "C" */
static int
key_cmp(const void *a, const void *b)
{
	const KeyRef *ka = (const KeyRef *) a;
	const KeyRef *kb = (const KeyRef *) b;
	int			c = memcmp(ka->data, kb->data, Min(ka->len, kb->len));

	if (c != 0)
		return c;
	return (ka->len > kb->len) - (ka->len < kb->len);
}

static bool
has_prefix(const char *data, size_t len, const ecl_string *prefix)
{
	return prefix == NULL ||
		(len >= prefix->len && memcmp(data, prefix->data, prefix->len) == 0);
}

static ecl_status
state_store_list_keys(void *hctx, const ecl_alloc *alloc,
					  const ecl_string *store, const ecl_string *prefix,
					  int64_t limit, ecl_value *out, ecl_error *err)
{
	EclStateHost *h = (EclStateHost *) hctx;
	StoreRef	r;
	KeyRef	   *keys;
	size_t		nkeys = 0;
	size_t		cap;
	OverlayKey	head;
	HASH_SEQ_STATUS seq;
	OverlayEntry *e;

	/* list_keys reads the shared store (host.h) */
	if (store_ref(h, store, prefix, false, &r, err) != ECL_OK)
		return ECL_FAIL;

	cap = 16 + (r.snap != NULL ? JsonContainerSize(r.snap) : 0) +
		hash_get_num_entries(h->overlay);
	keys = palloc(sizeof(KeyRef) * cap);

	/* the snapshot's keys this run did not delete */
	if (r.snap != NULL)
	{
		JsonbIterator *it = JsonbIteratorInit(r.snap);
		JsonbIteratorToken tok;
		JsonbValue	v;

		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			const char *k;
			size_t		klen;

			if (tok != WJB_KEY)
				continue;
			k = v.val.string.val;
			klen = v.val.string.len;
			if (!has_prefix(k, klen, prefix))
				continue;
			e = overlay_find(h, 'k', &r, k, klen);
			if (e != NULL && !e->present)
				continue;
			keys[nkeys].data = k;
			keys[nkeys].len = klen;
			nkeys++;
		}
	}

	/* keys this run added: present in the overlay, absent in the snapshot */
	head = overlay_key(h, 'k', &r, "", 0);	/* 'k' "" NUL store NUL */
	hash_seq_init(&seq, h->overlay);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		const char *k;
		size_t		klen;
		JsonbValue	v;

		if (!e->present || e->key.len < head.len ||
			memcmp(e->key.bytes, head.bytes, head.len) != 0)
			continue;
		k = e->key.bytes + head.len;
		klen = e->key.len - head.len;
		if (!has_prefix(k, klen, prefix) || obj_get(r.snap, k, klen, &v))
			continue;
		Assert(nkeys < cap);
		keys[nkeys].data = k;
		keys[nkeys].len = klen;
		nkeys++;
	}
	pfree((char *) head.bytes);

	qsort(keys, nkeys, sizeof(KeyRef), key_cmp);
	if (limit >= 0 && (uint64) limit < nkeys)
		nkeys = (size_t) limit;
	if (nkeys > ECL_MAX_COLLECTION)
	{
		pfree(keys);
		return ecl_error_set(err, ECL_ERR_RESOURCE, 0, 0,
							 "store \"%s\" has too many keys", store->data);
	}
	if (ecl_array_new(alloc, (uint32_t) nkeys, out, err) != ECL_OK)
		return ECL_FAIL;
	for (size_t i = 0; i < nkeys; i++)
		if (ecl_string_new(alloc, keys[i].data, keys[i].len,
						   &out->u.arr->items[i], err) != ECL_OK)
			return ECL_FAIL;
	pfree(keys);
	return ECL_OK;
}

/* ------------------------------------------------------------- the vtable */

const ecl_host ecl_state_host = {
	.load_trust = state_load_trust,
	.has_credential = state_has_credential,
	.resolve_did = state_resolve_did,
	.get_balance = state_get_balance,
	.get_timestamp = ecl_host_get_timestamp,
	.log = ecl_host_log,
	.emit = state_emit,
	.get_metric = state_get_metric,
	.store_get = state_store_get,
	.store_put = state_store_put,
	.store_delete = state_store_delete,
	.store_exists = state_store_exists,
	.store_count = state_store_count,
	.store_list_keys = state_store_list_keys,
};

/* ------------------------------------------------------ run-level API */

static JsonbContainer *
section(Jsonb *state, const char *name)
{
	if (state == NULL)
		return NULL;
	return obj_get_object(&state->root, name, strlen(name));
}

void
ecl_state_host_begin(EclStateHost *h, Jsonb *state, const char *caller,
					 const char *realm, const char *policy)
{
	HASHCTL		ctl;
	JsonbContainer *store;

	memset(h, 0, sizeof(*h));
	ecl_host_base_begin(&h->base, caller, realm, policy);
	h->base.simulated = true;

	ecl_state_validate(state, h->base.realm);

	h->identities = section(state, "identities");
	h->trust = section(state, "trust");
	h->credentials = section(state, "credentials");
	h->balances = section(state, "balances");
	h->metrics = section(state, "metrics");
	store = section(state, "store");
	h->shared = obj_get_object(store, "shared", 6);
	h->personal = obj_get_object(store, "personal", 8);
	if (state != NULL)
		h->base.has_timestamp = obj_get_number(&state->root, "timestamp", 9,
										  &h->base.timestamp);

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(OverlayKey);
	ctl.entrysize = sizeof(OverlayEntry);
	ctl.hash = overlay_hash;
	ctl.match = overlay_match;
	ctl.hcxt = h->base.cxt;
	h->overlay = hash_create("ecl state host overlay", 64, &ctl,
							 HASH_ELEM | HASH_FUNCTION | HASH_COMPARE |
							 HASH_CONTEXT);
}

Jsonb *
ecl_state_host_writes(const EclStateHost *h, bool kept)
{
	return ecl_jsonb_array_of(kept ? h->changes : NIL);
}

static void
state_begin(void *hctx, const EclRunRequest *req)
{
	ecl_state_host_begin((EclStateHost *) hctx, req->state, req->caller_did,
						 req->realm_id, req->policy_name);
}

/* Nothing to set up or undo: writes go to the change list. */
static void
state_execute(void *hctx, bool writes, EclHostRunFn fn, void *arg)
{
	(void) fn(arg);
}

static Jsonb *
state_writes(void *hctx, bool kept)
{
	return ecl_state_host_writes((EclStateHost *) hctx, kept);
}

const EclHostOps ecl_state_host_ops = {
	.vtable = &ecl_state_host,
	.begin = state_begin,
	.execute = state_execute,
	.writes = state_writes,
	.live = false,
};
