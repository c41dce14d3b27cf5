/*
 * host_snapshot.c — the state-only host over a snapshot (host_snapshot.h),
 * shared by the database (ecl.simulate) and the ecl command (ecl run).
 * Every answer mirrors the table host (src/pg/host/host_tables.c) so that a
 * policy behaves the same — value, message, gas — on both.
 *
 * Layout: validating a snapshot (with the JSON path of the bad part),
 * lookups, identity functions, time/log/metrics, emit, the store with its
 * overlay of this run's writes, the vtable.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecl/host_snapshot.h"

/* ----------------------------------------------------- validating a state */

/*
 * The JSON path of the part being checked is a chain of frames on the C
 * stack, rendered into text only for an error message.
 */
typedef enum path_kind
{
	PATH_ROOT,					/* state */
	PATH_FIELD,					/* .name (a field of the format) */
	PATH_KEY,					/* ["key"] (a DID, schema, store, key) */
	PATH_INDEX					/* [i] */
} path_kind;

typedef struct path
{
	const struct path *up;
	path_kind	kind;
	const char *name;
	size_t		len;
	uint32_t	index;
} path;

typedef struct text_out
{
	char		buf[ECL_ERROR_MSG_MAX];
	size_t		len;
} text_out;

static void
put_bytes(text_out *t, const char *s, size_t n)
{
	for (size_t i = 0; i < n && t->len + 1 < sizeof(t->buf); i++)
		t->buf[t->len++] = s[i];
	t->buf[t->len] = '\0';
}

static void
put_str(text_out *t, const char *s)
{
	put_bytes(t, s, strlen(s));
}

/* A JSON string literal, escaped as PostgreSQL's escape_json does. */
static void
put_json_string(text_out *t, const char *s, size_t n)
{
	put_str(t, "\"");
	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];
		char		esc[8];

		switch (c)
		{
			case '"':
				put_str(t, "\\\"");
				break;
			case '\\':
				put_str(t, "\\\\");
				break;
			case '\b':
				put_str(t, "\\b");
				break;
			case '\f':
				put_str(t, "\\f");
				break;
			case '\n':
				put_str(t, "\\n");
				break;
			case '\r':
				put_str(t, "\\r");
				break;
			case '\t':
				put_str(t, "\\t");
				break;
			default:
				if (c < 0x20)
				{
					snprintf(esc, sizeof(esc), "\\u%04x", c);
					put_str(t, esc);
				}
				else
					put_bytes(t, (const char *) &s[i], 1);
		}
	}
	put_str(t, "\"");
}

static void
render_path(text_out *t, const path *p)
{
	bool		plain;
	char		num[16];

	if (p->up != NULL)
		render_path(t, p->up);
	switch (p->kind)
	{
		case PATH_ROOT:
			put_str(t, "state");
			break;
		case PATH_FIELD:
			/* .name for a plain identifier, else ["name"] */
			plain = p->len > 0 && !(p->name[0] >= '0' && p->name[0] <= '9');
			for (size_t i = 0; i < p->len && plain; i++)
			{
				char		c = p->name[i];

				plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
					(c >= '0' && c <= '9') || c == '_';
			}
			if (plain)
			{
				put_str(t, ".");
				put_bytes(t, p->name, p->len);
				break;
			}
			/* FALLTHROUGH */
		case PATH_KEY:
			put_str(t, "[");
			put_json_string(t, p->name, p->len);
			put_str(t, "]");
			break;
		case PATH_INDEX:
			snprintf(num, sizeof(num), "[%u]", p->index);
			put_str(t, num);
			break;
	}
}

static ecl_status
bad_state(const path *p, const char *what, ecl_error *err)
{
	text_out	t;

	t.len = 0;
	t.buf[0] = '\0';
	render_path(&t, p);
	return ecl_error_set(err, ECL_ERR_INVALID_ARG, 0, 0, "%s %s", t.buf, what);
}

static path
sub_path(const path *up, path_kind kind, const char *name, size_t len)
{
	path		p;

	p.up = up;
	p.kind = kind;
	p.name = name;
	p.len = len;
	p.index = 0;
	return p;
}

typedef ecl_status (*member_check) (const path *p, ecl_value v, ecl_error *err);

/* v must be an object; check(path["key"], value) for each member. */
static ecl_status
check_members(const path *p, ecl_value v, member_check check, ecl_error *err)
{
	if (v.type != ECL_T_OBJECT)
		return bad_state(p, "must be a JSON object", err);
	for (uint32_t i = 0; i < v.u.obj->len; i++)
	{
		const ecl_string *k = v.u.obj->keys[i];
		path		member = sub_path(p, PATH_KEY, k->data, k->len);

		if (check(&member, v.u.obj->vals[i], err) != ECL_OK)
			return ECL_FAIL;
	}
	return ECL_OK;
}

static ecl_status
check_number(const path *p, ecl_value v, bool null_ok, ecl_error *err)
{
	if (null_ok && v.type == ECL_T_NULL)
		return ECL_OK;
	if (v.type != ECL_T_NUMBER)
		return bad_state(p, null_ok ? "must be a number or null" : "must be a number", err);
	if (!isfinite(v.u.num))
		return bad_state(p, "is out of range for double precision", err);
	return ECL_OK;
}

static ecl_status
check_bool(const path *p, ecl_value v, ecl_error *err)
{
	if (v.type != ECL_T_BOOL)
		return bad_state(p, "must be true or false", err);
	return ECL_OK;
}

/* A field of a fixed-shape object: .name appended for the check. */
typedef struct field_check
{
	const char *name;
	member_check check;
} field_check;

static ecl_status
check_fields(const path *p, ecl_value v, const field_check *fields,
			 ecl_error *err)
{
	if (v.type != ECL_T_OBJECT)
		return bad_state(p, "must be a JSON object", err);
	for (uint32_t i = 0; i < v.u.obj->len; i++)
	{
		const ecl_string *k = v.u.obj->keys[i];
		path		field = sub_path(p, PATH_FIELD, k->data, k->len);
		const field_check *f;

		for (f = fields; f->name != NULL; f++)
			if (strlen(f->name) == k->len && memcmp(f->name, k->data, k->len) == 0)
				break;
		if (f->name == NULL)
			return bad_state(&field, "is not part of the snapshot format", err);
		if (f->check(&field, v.u.obj->vals[i], err) != ECL_OK)
			return ECL_FAIL;
	}
	return ECL_OK;
}

static ecl_status
check_trust_vector(const path *p, ecl_value v, ecl_error *err)
{
	if (v.type == ECL_T_NULL)
		return ECL_OK;
	if (v.type != ECL_T_ARRAY || v.u.arr->len != ECL_TRUST_DIMS)
		return bad_state(p, "must be null or an array of 6 numbers (R, I, C, P, V, Omega)", err);
	for (uint32_t i = 0; i < ECL_TRUST_DIMS; i++)
	{
		ecl_value	e = v.u.arr->items[i];

		if (e.type != ECL_T_NUMBER || !(e.u.num >= 0.0 && e.u.num <= 1.0))
		{
			path		elem = sub_path(p, PATH_INDEX, NULL, 0);

			elem.index = i;
			return bad_state(&elem, "must be a number in [0,1]", err);
		}
	}
	return ECL_OK;
}

static const field_check trust_fields[] = {
	{"realm", check_trust_vector},
	{"global", check_trust_vector},
	{NULL, NULL}
};

static ecl_status
check_trust_entry(const path *p, ecl_value v, ecl_error *err)
{
	return check_fields(p, v, trust_fields, err);
}

static const field_check identity_fields[] = {
	{"registered", check_bool},
	{"revoked", check_bool},
	{NULL, NULL}
};

static ecl_status
check_identity(const path *p, ecl_value v, ecl_error *err)
{
	return check_fields(p, v, identity_fields, err);
}

static ecl_status
check_credential_set(const path *p, ecl_value v, ecl_error *err)
{
	return check_members(p, v, check_bool, err);
}

static ecl_status
check_plain_number(const path *p, ecl_value v, ecl_error *err)
{
	return check_number(p, v, false, err);
}

static ecl_status
check_number_or_null(const path *p, ecl_value v, ecl_error *err)
{
	return check_number(p, v, true, err);
}

/*
 * Store values are any JSON (what ecl.store.value may hold), but every
 * number in them must be a double, as a policy reads it.
 */
static ecl_status
check_any(const path *p, ecl_value v, ecl_error *err)
{
	path		sub;

	switch (v.type)
	{
		case ECL_T_NUMBER:
			return check_number(p, v, false, err);
		case ECL_T_ARRAY:
			for (uint32_t i = 0; i < v.u.arr->len; i++)
			{
				sub = sub_path(p, PATH_INDEX, NULL, 0);
				sub.index = i;
				if (check_any(&sub, v.u.arr->items[i], err) != ECL_OK)
					return ECL_FAIL;
			}
			return ECL_OK;
		case ECL_T_OBJECT:
			return check_members(p, v, check_any, err);
		default:
			return ECL_OK;
	}
}

static ecl_status
check_store_entries(const path *p, ecl_value v, ecl_error *err)
{
	return check_members(p, v, check_any, err);
}

static ecl_status
check_store_set(const path *p, ecl_value v, ecl_error *err)
{
	return check_members(p, v, check_store_entries, err);
}

static ecl_status
check_personal(const path *p, ecl_value v, ecl_error *err)
{
	return check_members(p, v, check_store_set, err);
}

static const field_check store_fields[] = {
	{"shared", check_store_set},
	{"personal", check_personal},
	{NULL, NULL}
};

static ecl_status
check_version(const path *p, ecl_value v, ecl_error *err)
{
	if (v.type != ECL_T_NUMBER || v.u.num != ECL_SNAPSHOT_VERSION)
		return bad_state(p, "must be 1 (the snapshot format version this build reads)", err);
	return ECL_OK;
}

static ecl_status
check_realm(const path *p, ecl_value v, ecl_error *err)
{
	if (v.type != ECL_T_NULL && v.type != ECL_T_STRING)
		return bad_state(p, "must be a string or null", err);
	return ECL_OK;
}

static ecl_status
check_identities(const path *p, ecl_value v, ecl_error *err)
{
	return check_members(p, v, check_identity, err);
}

static ecl_status
check_trust(const path *p, ecl_value v, ecl_error *err)
{
	return check_members(p, v, check_trust_entry, err);
}

static ecl_status
check_credentials(const path *p, ecl_value v, ecl_error *err)
{
	return check_members(p, v, check_credential_set, err);
}

static ecl_status
check_balances(const path *p, ecl_value v, ecl_error *err)
{
	return check_members(p, v, check_plain_number, err);
}

static ecl_status
check_store(const path *p, ecl_value v, ecl_error *err)
{
	return check_fields(p, v, store_fields, err);
}

static ecl_status
check_metrics(const path *p, ecl_value v, ecl_error *err)
{
	return check_members(p, v, check_number_or_null, err);
}

static const field_check state_fields[] = {
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

/* ----------------------------------------------------------------- lookups */

static const ecl_value *
obj_get(const ecl_object *o, const char *key, size_t len)
{
	return o == NULL ? NULL : ecl_object_get(o, key, len);
}

/* The object under key, or NULL (absent, null, or not an object). */
static const ecl_object *
obj_get_object(const ecl_object *o, const char *key, size_t len)
{
	const ecl_value *v = obj_get(o, key, len);

	return v != NULL && v->type == ECL_T_OBJECT ? v->u.obj : NULL;
}

static bool
obj_get_number(const ecl_object *o, const char *key, size_t len, double *out)
{
	const ecl_value *v = obj_get(o, key, len);

	if (v == NULL || v->type != ECL_T_NUMBER)
		return false;
	*out = v->u.num;
	return true;
}

static bool
obj_get_bool(const ecl_object *o, const char *key, size_t len, bool dflt)
{
	const ecl_value *v = obj_get(o, key, len);

	return v != NULL && v->type == ECL_T_BOOL ? v->u.b : dflt;
}

void
ecl_snapshot_empty(ecl_snapshot_state *out)
{
	memset(out, 0, sizeof(*out));
	out->root = ecl_null();
}

ecl_status
ecl_snapshot_from_value(ecl_value root, ecl_snapshot_state *out, ecl_error *err)
{
	path		root_path = sub_path(NULL, PATH_ROOT, NULL, 0);
	const ecl_object *store;
	const ecl_value *realm;

	ecl_snapshot_empty(out);
	if (check_fields(&root_path, root, state_fields, err) != ECL_OK)
		return ECL_FAIL;
	out->root = root;
	out->identities = obj_get_object(root.u.obj, "identities", 10);
	out->trust = obj_get_object(root.u.obj, "trust", 5);
	out->credentials = obj_get_object(root.u.obj, "credentials", 11);
	out->balances = obj_get_object(root.u.obj, "balances", 8);
	out->metrics = obj_get_object(root.u.obj, "metrics", 7);
	store = obj_get_object(root.u.obj, "store", 5);
	out->shared = obj_get_object(store, "shared", 6);
	out->personal = obj_get_object(store, "personal", 8);
	out->has_timestamp = obj_get_number(root.u.obj, "timestamp", 9,
										&out->timestamp);
	realm = obj_get(root.u.obj, "realm", 5);
	out->has_realm = realm != NULL;
	out->realm = realm != NULL && realm->type == ECL_T_STRING ? realm->u.str : NULL;
	return ECL_OK;
}

ecl_status
ecl_snapshot_load(const ecl_alloc *a, const char *text, size_t len,
				  ecl_snapshot_state *out, ecl_error *err)
{
	ecl_value	root;

	if (ecl_json_parse_keep_huge(a, text, len, &root, err) != ECL_OK)
		return ECL_FAIL;
	return ecl_snapshot_from_value(root, out, err);
}

ecl_status
ecl_snapshot_check_realm(const ecl_snapshot_state *s, const char *realm,
						 ecl_error *err)
{
	const char *state_realm;
	text_out	a;
	text_out	b;

	if (realm == NULL)
		realm = "";
	if (!s->has_realm)
		return ECL_OK;
	state_realm = s->realm != NULL ? s->realm->data : "";
	if (strcmp(state_realm, realm) == 0)
		return ECL_OK;
	a.len = b.len = 0;
	a.buf[0] = b.buf[0] = '\0';
	if (state_realm[0])
		put_json_string(&a, state_realm, strlen(state_realm));
	else
		put_str(&a, "null");
	if (realm[0])
		put_json_string(&b, realm, strlen(realm));
	else
		put_str(&b, "null");
	return ecl_error_set(err, ECL_ERR_INVALID_ARG, 0, 0,
						 "state.realm is %s but the run's realm is %s",
						 a.buf, b.buf);
}

/* -------------------------------------------------------- collected lists */

static ecl_status
push_item(const ecl_alloc *a, ecl_value **items, uint32_t *n, uint32_t *cap,
		  ecl_value v, ecl_error *err)
{
	if (*n == *cap)
	{
		uint32_t	ncap = *cap ? *cap * 2 : 8;
		ecl_value  *nitems;

		if (*n >= ECL_MAX_COLLECTION)
			return ecl_error_set(err, ECL_ERR_RESOURCE, 0, 0,
								 "a run may not make more than %u changes",
								 ECL_MAX_COLLECTION);
		nitems = ecl_realloc(a, *items, (size_t) *cap * sizeof(ecl_value),
							 (size_t) ncap * sizeof(ecl_value));
		if (nitems == NULL)
			return ecl_alloc_failed(a, err, "the run's change list");
		*items = nitems;
		*cap = ncap;
	}
	(*items)[(*n)++] = v;
	return ECL_OK;
}

ecl_status
ecl_snapshot_host_list(const ecl_snapshot_host *h, const ecl_value *items,
					   uint32_t n, bool kept, ecl_value *out, ecl_error *err)
{
	if (!kept)
		n = 0;
	if (ecl_array_new(h->alloc, n, out, err) != ECL_OK)
		return ECL_FAIL;
	for (uint32_t i = 0; i < n; i++)
		out->u.arr->items[i] = items[i];
	return ECL_OK;
}

/* An object of n (key, value) pairs; a NULL key ends early. */
static ecl_status
make_record(const ecl_alloc *a, ecl_value *out, ecl_error *err, int n,
			const char *const *keys, const ecl_value *vals)
{
	if (ecl_object_new(a, (uint32_t) n, out, err) != ECL_OK)
		return ECL_FAIL;
	for (int i = 0; i < n && keys[i] != NULL; i++)
		if (ecl_object_set(a, out, keys[i], strlen(keys[i]), vals[i], err) != ECL_OK)
			return ECL_FAIL;
	return ECL_OK;
}

static ecl_status
text_value(const ecl_alloc *a, const char *s, size_t len, ecl_value *out,
		   ecl_error *err)
{
	if (s == NULL)
	{
		*out = ecl_null();
		return ECL_OK;
	}
	return ecl_string_new(a, s, len, out, err);
}

/* --------------------------------------------------------- identity lookups */

/* A trust vector of the snapshot; false when absent or null. */
static bool
trust_vector(const ecl_object *entry, const char *which, ecl_trust *out)
{
	const ecl_value *v = obj_get(entry, which, strlen(which));

	if (v == NULL || v->type != ECL_T_ARRAY || v->u.arr->len != ECL_TRUST_DIMS)
		return false;
	for (int i = 0; i < ECL_TRUST_DIMS; i++)
	{
		if (v->u.arr->items[i].type != ECL_T_NUMBER)
			return false;
		out->dim[i] = v->u.arr->items[i].u.num;
	}
	return true;
}

/*
 * state.identities[did].revoked: a revoked identity loses everything, as on
 * the table host, whatever trust, credentials or balance the snapshot still
 * lists for it.
 */
static bool
revoked(const ecl_snapshot_host *h, const ecl_string *did)
{
	const ecl_object *entry = obj_get_object(h->snap->identities, did->data, did->len);

	return entry != NULL && obj_get_bool(entry, "revoked", 7, false);
}

/* The realm's vector, else the global one, else zeros (deny by default). */
static ecl_status
snap_load_trust(void *hctx, const ecl_string *did, ecl_trust *out,
				ecl_error *err)
{
	ecl_snapshot_host *h = hctx;
	const ecl_object *entry = revoked(h, did) ? NULL
		: obj_get_object(h->snap->trust, did->data, did->len);

	if (entry != NULL && h->realm[0] && trust_vector(entry, "realm", out))
		return ECL_OK;
	if (entry != NULL && trust_vector(entry, "global", out))
		return ECL_OK;
	memset(out, 0, sizeof(*out));
	return ECL_OK;
}

static ecl_status
snap_has_credential(void *hctx, const ecl_string *did,
					const ecl_string *schema, bool *out, ecl_error *err)
{
	ecl_snapshot_host *h = hctx;
	const ecl_object *set = obj_get_object(h->snap->credentials, did->data, did->len);

	/* a revoked issuer is already decided in the snapshot's flags */
	*out = !revoked(h, did) && obj_get_bool(set, schema->data, schema->len, false);
	return ECL_OK;
}

static ecl_status
snap_resolve_did(void *hctx, const ecl_string *did, bool *out, ecl_error *err)
{
	ecl_snapshot_host *h = hctx;
	const ecl_object *entry = obj_get_object(h->snap->identities, did->data, did->len);

	*out = entry != NULL &&
		obj_get_bool(entry, "registered", 10, true) &&
		!obj_get_bool(entry, "revoked", 7, false);
	return ECL_OK;
}

static ecl_status
snap_get_balance(void *hctx, const ecl_string *did, double *out,
				 ecl_error *err)
{
	ecl_snapshot_host *h = hctx;

	if (revoked(h, did) ||
		!obj_get_number(h->snap->balances, did->data, did->len, out))
		*out = 0.0;
	return ECL_OK;
}

/* ------------------------------------------------------ time, log, metrics */

static ecl_status
snap_get_timestamp(void *hctx, double *out, ecl_error *err)
{
	ecl_snapshot_host *h = hctx;

	*out = h->snap->has_timestamp ? h->snap->timestamp : h->now;
	return ECL_OK;
}

ecl_status
ecl_snapshot_host_log(void *hctx, const ecl_string *msg, ecl_error *err)
{
	ecl_snapshot_host *h = hctx;
	ecl_value	v;

	if (ecl_string_new(h->alloc, msg->data, msg->len, &v, err) != ECL_OK)
		return ECL_FAIL;
	return push_item(h->alloc, &h->logs, &h->nlogs, &h->caplogs, v, err);
}

static ecl_status
snap_get_metric(void *hctx, const ecl_alloc *a, const ecl_string *name,
				ecl_value *out, ecl_error *err)
{
	ecl_snapshot_host *h = hctx;
	double		d;

	*out = ecl_null();
	if (obj_get_number(h->snap->metrics, name->data, name->len, &d))
		*out = ecl_number(d);
	return ECL_OK;
}

/* ------------------------------------------------------------------- emit */

/* jsonb's key order: shorter first, then bytewise */
static int
stored_key_cmp(const void *a, const void *b)
{
	const ecl_string *ka = *(const ecl_string *const *) a;
	const ecl_string *kb = *(const ecl_string *const *) b;

	if (ka->len != kb->len)
		return ka->len < kb->len ? -1 : 1;
	return memcmp(ka->data, kb->data, ka->len);
}

/* v (already plain JSON values) with its objects' keys in stored order */
static ecl_status
stored_order(const ecl_alloc *a, ecl_value v, ecl_value *out, ecl_error *err,
			 int depth)
{
	if (depth > ECL_MAX_NESTING)
		return ecl_error_set(err, ECL_ERR_RESOURCE, 0, 0,
							 "value nested deeper than %d levels", ECL_MAX_NESTING);
	if (v.type == ECL_T_ARRAY)
	{
		if (ecl_array_new(a, v.u.arr->len, out, err) != ECL_OK)
			return ECL_FAIL;
		for (uint32_t i = 0; i < v.u.arr->len; i++)
			if (stored_order(a, v.u.arr->items[i], &out->u.arr->items[i], err,
							 depth + 1) != ECL_OK)
				return ECL_FAIL;
		return ECL_OK;
	}
	if (v.type == ECL_T_OBJECT)
	{
		uint32_t	n = v.u.obj->len;
		const ecl_string **keys = ecl_malloc(a, (n ? n : 1) * sizeof(*keys));

		if (keys == NULL)
			return ecl_alloc_failed(a, err, "an object");
		if (n > 0)
			memcpy(keys, v.u.obj->keys, n * sizeof(*keys));
		qsort(keys, n, sizeof(*keys), stored_key_cmp);
		if (ecl_object_new(a, n, out, err) != ECL_OK)
			return ECL_FAIL;
		for (uint32_t i = 0; i < n; i++)
		{
			ecl_value	item;

			if (stored_order(a, *ecl_object_get(v.u.obj, keys[i]->data, keys[i]->len),
							 &item, err, depth + 1) != ECL_OK ||
				ecl_object_set(a, out, keys[i]->data, keys[i]->len, item, err) != ECL_OK)
				return ECL_FAIL;
		}
		ecl_free(a, keys);
		return ECL_OK;
	}
	*out = v;
	return ECL_OK;
}

ecl_status
ecl_snapshot_stored_form(const ecl_alloc *a, ecl_value v, ecl_value *out,
						 ecl_error *err)
{
	char	   *text;
	size_t		len;
	ecl_value	plain;
	ecl_status	st;

	/* dids and trust vectors as JSON has them */
	if (v.type == ECL_T_DID || v.type == ECL_T_TRUST ||
		v.type == ECL_T_ARRAY || v.type == ECL_T_OBJECT)
	{
		if (ecl_json_write(a, v, &text, &len, err) != ECL_OK)
			return ECL_FAIL;
		st = ecl_json_parse(a, text, len, &plain, err);
		ecl_free(a, text);
		if (st != ECL_OK)
			return ECL_FAIL;
	}
	else
		plain = v;
	return stored_order(a, plain, out, err, 0);
}

ecl_status
ecl_snapshot_host_emit(void *hctx, const ecl_string *event, ecl_value payload,
					   ecl_error *err)
{
	ecl_snapshot_host *h = hctx;
	static const char *const summary_keys[] = {"event", "payload"};
	static const char *const change_keys[] = {"op", "event", "payload"};
	ecl_value	vals[3];
	ecl_value	summary;
	ecl_value	change;
	ecl_value	ev;
	ecl_value	stored;

	if (ecl_string_new(h->alloc, event->data, event->len, &ev, err) != ECL_OK ||
		ecl_snapshot_stored_form(h->alloc, payload, &stored, err) != ECL_OK)
		return ECL_FAIL;
	vals[0] = ev;
	vals[1] = stored;
	if (make_record(h->alloc, &summary, err, 2, summary_keys, vals) != ECL_OK)
		return ECL_FAIL;
	if (text_value(h->alloc, "emit", 4, &vals[0], err) != ECL_OK)
		return ECL_FAIL;
	vals[1] = ev;
	vals[2] = stored;
	if (make_record(h->alloc, &change, err, 3, change_keys, vals) != ECL_OK)
		return ECL_FAIL;
	if (push_item(h->alloc, &h->events, &h->nevents, &h->capevents, summary, err) != ECL_OK)
		return ECL_FAIL;
	return push_item(h->alloc, &h->changes, &h->nchanges, &h->capchanges, change, err);
}

/* ------------------------------------------------------------------ store */

/*
 * The overlay: this run's writes, keyed by the bytes
 *   'k' owner NUL store NUL key   an entry: present (value) or deleted
 *   's' owner NUL store           a store: its count relative to the snapshot
 * (owner is "" for the shared store; no part contains NUL: the VM checks).
 */
typedef struct store_ref
{
	const char *owner;			/* caller for personal, "" for shared */
	const ecl_string *store;
	const ecl_object *snap;		/* the store's entries in the snapshot, or NULL */
} store_ref;

static store_ref
make_store_ref(ecl_snapshot_host *h, const ecl_string *store, bool personal)
{
	store_ref	r;

	r.store = store;
	r.owner = personal && h->caller != NULL ? h->caller : "";
	if (personal)
		r.snap = obj_get_object(obj_get_object(h->snap->personal, r.owner,
												strlen(r.owner)),
								store->data, store->len);
	else
		r.snap = obj_get_object(h->snap->shared, store->data, store->len);
	return r;
}

/* Overlay key bytes, from the run's allocator (NULL on no memory). */
static char *
overlay_key(ecl_snapshot_host *h, char tag, const store_ref *r,
			const char *key, size_t keylen, size_t *lenp)
{
	size_t		olen = strlen(r->owner);
	size_t		len = 1 + olen + 1 + r->store->len;
	char	   *b;
	char	   *p;

	if (tag == 'k')
		len += 1 + keylen;
	b = ecl_malloc(h->alloc, len);
	if (b == NULL)
		return NULL;
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
	*lenp = len;
	return b;
}

/* The overlay entry, or NULL; *failed on no memory (err set). */
static ecl_snapshot_overlay_entry *
overlay_find(ecl_snapshot_host *h, char tag, const store_ref *r,
			 const char *key, size_t keylen, bool create, ecl_error *err,
			 bool *failed)
{
	size_t		len;
	char	   *k = overlay_key(h, tag, r, key, keylen, &len);
	const ecl_value *slot;
	ecl_snapshot_overlay_entry *e = NULL;

	*failed = false;
	if (k == NULL)
	{
		*failed = true;
		ecl_alloc_failed(h->alloc, err, "the run's store writes");
		return NULL;
	}
	slot = ecl_object_get(h->overlay.u.obj, k, len);
	if (slot != NULL)
		e = &h->entries[(uint32_t) slot->u.num];
	else if (create)
	{
		if (h->nentries == h->capentries)
		{
			uint32_t	ncap = h->capentries ? h->capentries * 2 : 16;
			ecl_snapshot_overlay_entry *n;

			n = ecl_realloc(h->alloc, h->entries,
							(size_t) h->capentries * sizeof(*n),
							(size_t) ncap * sizeof(*n));
			if (n == NULL)
			{
				*failed = true;
				ecl_alloc_failed(h->alloc, err, "the run's store writes");
				ecl_free(h->alloc, k);
				return NULL;
			}
			h->entries = n;
			h->capentries = ncap;
		}
		if (ecl_object_set(h->alloc, &h->overlay, k, len,
						   ecl_number((double) h->nentries), err) != ECL_OK)
		{
			*failed = true;
			ecl_free(h->alloc, k);
			return NULL;
		}
		e = &h->entries[h->nentries++];
		e->present = false;
		e->value = ecl_null();
		e->delta = 0;
	}
	ecl_free(h->alloc, k);
	return e;
}

/*
 * Is the entry there, after this run's writes?  *val is its value (this
 * run's when it wrote one, else the snapshot's).
 */
static ecl_status
entry_lookup(ecl_snapshot_host *h, const store_ref *r, const char *key,
			 size_t keylen, bool *present, ecl_value *val, ecl_error *err)
{
	bool		failed;
	ecl_snapshot_overlay_entry *e = overlay_find(h, 'k', r, key, keylen,
												 false, err, &failed);
	const ecl_value *sv;

	if (failed)
		return ECL_FAIL;
	if (e != NULL)
	{
		*present = e->present;
		*val = e->value;
		return ECL_OK;
	}
	sv = obj_get(r->snap, key, keylen);
	*present = sv != NULL;
	*val = sv != NULL ? *sv : ecl_null();
	return ECL_OK;
}

static ecl_status
record_store_change(ecl_snapshot_host *h, const char *op, const store_ref *r,
					const ecl_string *key, const ecl_value *value,
					ecl_error *err)
{
	static const char *const keys[] = {"op", "personal", "owner", "store", "key", "value"};
	bool		personal = r->owner[0] != '\0';
	ecl_value	vals[6];
	ecl_value	rec;

	if (text_value(h->alloc, op, strlen(op), &vals[0], err) != ECL_OK ||
		text_value(h->alloc, personal ? r->owner : NULL, strlen(r->owner),
				   &vals[2], err) != ECL_OK ||
		text_value(h->alloc, r->store->data, r->store->len, &vals[3], err) != ECL_OK ||
		text_value(h->alloc, key->data, key->len, &vals[4], err) != ECL_OK)
		return ECL_FAIL;
	vals[1] = ecl_bool(personal);
	if (value != NULL)
		vals[5] = *value;
	if (make_record(h->alloc, &rec, err, value != NULL ? 6 : 5, keys, vals) != ECL_OK)
		return ECL_FAIL;
	return push_item(h->alloc, &h->changes, &h->nchanges, &h->capchanges, rec, err);
}

static ecl_status
snap_store_get(void *hctx, const ecl_alloc *a, const ecl_string *store,
			   const ecl_string *key, bool personal, ecl_value *out,
			   ecl_error *err)
{
	ecl_snapshot_host *h = hctx;
	store_ref	r = make_store_ref(h, store, personal);
	bool		present;

	*out = ecl_null();
	if (entry_lookup(h, &r, key->data, key->len, &present, out, err) != ECL_OK)
		return ECL_FAIL;
	/* values are immutable: the snapshot's may be handed out as they are */
	return ECL_OK;
}

static ecl_status
snap_store_put(void *hctx, const ecl_string *store, const ecl_string *key,
			   ecl_value value, bool personal, ecl_error *err)
{
	ecl_snapshot_host *h = hctx;
	store_ref	r = make_store_ref(h, store, personal);
	bool		existed;
	bool		failed;
	ecl_value	old;
	ecl_value	stored;
	ecl_snapshot_overlay_entry *e;

	if (ecl_snapshot_stored_form(h->alloc, value, &stored, err) != ECL_OK ||
		entry_lookup(h, &r, key->data, key->len, &existed, &old, err) != ECL_OK)
		return ECL_FAIL;
	e = overlay_find(h, 'k', &r, key->data, key->len, true, err, &failed);
	if (failed)
		return ECL_FAIL;
	e->present = true;
	e->value = stored;
	if (!existed)
	{
		e = overlay_find(h, 's', &r, NULL, 0, true, err, &failed);
		if (failed)
			return ECL_FAIL;
		e->delta++;
	}
	return record_store_change(h, "put", &r, key, &stored, err);
}

static ecl_status
snap_store_delete(void *hctx, const ecl_string *store, const ecl_string *key,
				  bool personal, bool *existed, ecl_error *err)
{
	ecl_snapshot_host *h = hctx;
	store_ref	r = make_store_ref(h, store, personal);
	ecl_value	old;
	bool		failed;
	ecl_snapshot_overlay_entry *e;

	if (entry_lookup(h, &r, key->data, key->len, existed, &old, err) != ECL_OK)
		return ECL_FAIL;
	/* deleting nothing changes nothing: no record, like DELETE of 0 rows */
	if (!*existed)
		return ECL_OK;
	e = overlay_find(h, 'k', &r, key->data, key->len, true, err, &failed);
	if (failed)
		return ECL_FAIL;
	e->present = false;
	e->value = ecl_null();
	e = overlay_find(h, 's', &r, NULL, 0, true, err, &failed);
	if (failed)
		return ECL_FAIL;
	e->delta--;
	return record_store_change(h, "delete", &r, key, NULL, err);
}

static ecl_status
store_size(ecl_snapshot_host *h, const store_ref *r, int64_t *out,
		   ecl_error *err)
{
	bool		failed;
	ecl_snapshot_overlay_entry *e = overlay_find(h, 's', r, NULL, 0, false,
												 err, &failed);

	if (failed)
		return ECL_FAIL;
	*out = (r->snap != NULL ? (int64_t) r->snap->len : 0) +
		(e != NULL ? e->delta : 0);
	return ECL_OK;
}

static ecl_status
snap_store_exists(void *hctx, const ecl_string *store, bool personal,
				  bool *out, ecl_error *err)
{
	ecl_snapshot_host *h = hctx;
	store_ref	r = make_store_ref(h, store, personal);
	int64_t		n;

	if (store_size(h, &r, &n, err) != ECL_OK)
		return ECL_FAIL;
	*out = n > 0;
	return ECL_OK;
}

static ecl_status
snap_store_count(void *hctx, const ecl_string *store, bool personal,
				 double *out, ecl_error *err)
{
	ecl_snapshot_host *h = hctx;
	store_ref	r = make_store_ref(h, store, personal);
	int64_t		n;

	if (store_size(h, &r, &n, err) != ECL_OK)
		return ECL_FAIL;
	*out = (double) n;
	return ECL_OK;
}

/* bytewise, shorter first on a common prefix: ORDER BY key COLLATE "C" */
static int
key_cmp(const void *a, const void *b)
{
	const ecl_string *ka = *(const ecl_string *const *) a;
	const ecl_string *kb = *(const ecl_string *const *) b;
	int			c = memcmp(ka->data, kb->data, ka->len < kb->len ? ka->len : kb->len);

	if (c != 0)
		return c;
	return (ka->len > kb->len) - (ka->len < kb->len);
}

static bool
has_prefix(const ecl_string *k, const ecl_string *prefix)
{
	return prefix == NULL ||
		(k->len >= prefix->len && memcmp(k->data, prefix->data, prefix->len) == 0);
}

static ecl_status
snap_store_list_keys(void *hctx, const ecl_alloc *alloc,
					 const ecl_string *store, const ecl_string *prefix,
					 int64_t limit, ecl_value *out, ecl_error *err)
{
	ecl_snapshot_host *h = hctx;
	/* list_keys reads the shared store (host.h) */
	store_ref	r = make_store_ref(h, store, false);
	const ecl_object *ov = h->overlay.u.obj;
	size_t		cap = (r.snap != NULL ? r.snap->len : 0) + ov->len + 1;
	size_t		nkeys = 0;
	const ecl_string **keys;
	size_t		hlen;
	char	   *head;

	keys = ecl_malloc(h->alloc, cap * sizeof(*keys));
	head = overlay_key(h, 'k', &r, "", 0, &hlen);	/* 'k' "" NUL store NUL */
	if (keys == NULL || head == NULL)
		return ecl_alloc_failed(h->alloc, err, "the keys of a store");

	/* the snapshot's keys this run did not delete */
	for (uint32_t i = 0; r.snap != NULL && i < r.snap->len; i++)
	{
		const ecl_string *k = r.snap->keys[i];
		bool		present;
		ecl_value	v;

		if (!has_prefix(k, prefix))
			continue;
		if (entry_lookup(h, &r, k->data, k->len, &present, &v, err) != ECL_OK)
			return ECL_FAIL;
		if (present)
			keys[nkeys++] = k;
	}

	/* keys this run added: present in the overlay, absent in the snapshot */
	for (uint32_t i = 0; i < ov->len; i++)
	{
		const ecl_string *ok = ov->keys[i];
		const ecl_snapshot_overlay_entry *e = &h->entries[(uint32_t) ov->vals[i].u.num];
		ecl_value	k;

		if (!e->present || ok->len < hlen || memcmp(ok->data, head, hlen) != 0)
			continue;
		if (obj_get(r.snap, ok->data + hlen, ok->len - hlen) != NULL)
			continue;
		if (ecl_string_new(h->alloc, ok->data + hlen, ok->len - hlen, &k, err) != ECL_OK)
			return ECL_FAIL;
		if (!has_prefix(k.u.str, prefix))
			continue;
		keys[nkeys++] = k.u.str;
	}
	ecl_free(h->alloc, head);

	qsort(keys, nkeys, sizeof(*keys), key_cmp);
	if (limit >= 0 && (uint64_t) limit < nkeys)
		nkeys = (size_t) limit;
	if (nkeys > ECL_MAX_COLLECTION)
		return ecl_error_set(err, ECL_ERR_RESOURCE, 0, 0,
							 "store \"%s\" has too many keys", store->data);
	if (ecl_array_new(alloc, (uint32_t) nkeys, out, err) != ECL_OK)
		return ECL_FAIL;
	for (size_t i = 0; i < nkeys; i++)
		if (ecl_string_new(alloc, keys[i]->data, keys[i]->len,
						   &out->u.arr->items[i], err) != ECL_OK)
			return ECL_FAIL;
	ecl_free(h->alloc, keys);
	return ECL_OK;
}

/* ------------------------------------------------------------- the vtable */

const ecl_host ecl_snapshot_host_vtable = {
	.load_trust = snap_load_trust,
	.has_credential = snap_has_credential,
	.resolve_did = snap_resolve_did,
	.get_balance = snap_get_balance,
	.get_timestamp = snap_get_timestamp,
	.log = ecl_snapshot_host_log,
	.emit = ecl_snapshot_host_emit,
	.get_metric = snap_get_metric,
	.store_get = snap_store_get,
	.store_put = snap_store_put,
	.store_delete = snap_store_delete,
	.store_exists = snap_store_exists,
	.store_count = snap_store_count,
	.store_list_keys = snap_store_list_keys,
};

ecl_status
ecl_snapshot_host_begin(ecl_snapshot_host *h, const ecl_snapshot_state *snap,
						const char *caller, const char *realm,
						const ecl_alloc *alloc, double now, ecl_error *err)
{
	memset(h, 0, sizeof(*h));
	h->snap = snap;
	h->caller = caller;
	h->realm = realm != NULL ? realm : "";
	h->alloc = alloc;
	h->now = now;
	if (ecl_snapshot_check_realm(snap, h->realm, err) != ECL_OK)
		return ECL_FAIL;
	return ecl_object_new(alloc, 0, &h->overlay, err);
}
