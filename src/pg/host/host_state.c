/*
 * host_state.c — the database's state-only host: a thin wrapper over the
 * core's snapshot host (include/ecl/host_snapshot.h, src/core/host_snapshot.c),
 * which answers every host function; see host_state.h for what is added
 * here.
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "ecl/host.h"
#include "ecl/host_snapshot.h"

#include "ecl_pg.h"
#include "host_state.h"
#include "runner.h"

/* ------------------------------------------------------ the kept snapshot */

/*
 * The last snapshot loaded: its jsonb bytes (to recognise it) and the
 * parsed, validated state, in a context of its own.  jsonb is NULL while
 * nothing valid is kept (also when a load failed half-way).
 */
static MemoryContext kept_cxt;
static Jsonb *kept_jsonb;
static ecl_snapshot_state kept_snapshot;

pg_noreturn static void
bad_state(const ecl_error *err)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", err->message),
			 errhint("%s", ECL_SNAPSHOT_HINT)));
}

static const ecl_snapshot_state *
load_snapshot(Jsonb *state)
{
	static ecl_snapshot_state empty;
	MemoryContext old;
	ecl_alloc	alloc;
	ecl_error	err;
	char	   *text;

	if (state == NULL)
	{
		ecl_snapshot_empty(&empty);
		return &empty;
	}
	if (kept_jsonb != NULL && VARSIZE(kept_jsonb) == VARSIZE(state) &&
		memcmp(kept_jsonb, state, VARSIZE(state)) == 0)
		return &kept_snapshot;

	if (kept_cxt == NULL)
		kept_cxt = AllocSetContextCreate(TopMemoryContext, "ecl kept snapshot",
										 ALLOCSET_DEFAULT_SIZES);
	kept_jsonb = NULL;
	MemoryContextReset(kept_cxt);
	old = MemoryContextSwitchTo(kept_cxt);
	/* numbers print as numeric_out does: the text reads back as the double */
	text = JsonbToCString(NULL, &state->root, VARSIZE(state));
	ecl_pg_alloc_init(&alloc, kept_cxt);
	ecl_error_clear(&err);
	if (ecl_snapshot_load(&alloc, text, strlen(text), &kept_snapshot, &err) != ECL_OK)
	{
		MemoryContextSwitchTo(old);
		MemoryContextReset(kept_cxt);
		bad_state(&err);
	}
	pfree(text);
	kept_jsonb = palloc(VARSIZE(state));
	memcpy(kept_jsonb, state, VARSIZE(state));
	MemoryContextSwitchTo(old);
	return &kept_snapshot;
}

static void
check_realm(const ecl_snapshot_state *snap, const char *realm)
{
	ecl_error	err;

	ecl_error_clear(&err);
	if (ecl_snapshot_check_realm(snap, realm, &err) != ECL_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s", err.message),
				 errhint("Take the snapshot of the realm the policy runs in: ecl.snapshot(realm).")));
}

void
ecl_state_validate(Jsonb *state, const char *realm)
{
	const ecl_snapshot_state *snap = load_snapshot(state);

	if (realm != NULL)
		check_realm(snap, realm);
}

/* ---------------------------------------------------- the wrapped entries */

/*
 * log() and emit keep what the runner reports (host_base.h) and charge it
 * to the run's memory budget, as on the table host; the core collects the
 * emit's change record.
 */
static ecl_status
state_emit(void *hctx, const ecl_string *event, ecl_value payload,
		   ecl_error *err)
{
	EclStateHost *h = (EclStateHost *) hctx;
	JsonbParseState *ps = NULL;
	MemoryContext old;
	Jsonb	   *pj;
	JsonbValue	v;

	old = MemoryContextSwitchTo(h->base.cxt);
	pj = ecl_value_to_jsonb_budget(payload, "writing the payload of emit", err);
	if (pj == NULL)
	{
		MemoryContextSwitchTo(old);
		return ECL_FAIL;
	}
	pushJsonbValue(&ps, WJB_BEGIN_OBJECT, NULL);
	ecl_jsonb_push_key(&ps, "event");
	v.type = jbvString;
	v.val.string.val = (char *) event->data;
	v.val.string.len = (int) event->len;
	pushJsonbValue(&ps, WJB_VALUE, &v);
	ecl_jsonb_push_key(&ps, "payload");
	v.type = jbvBinary;
	v.val.binary.data = &pj->root;
	v.val.binary.len = VARSIZE(pj) - VARHDRSZ;
	pushJsonbValue(&ps, WJB_VALUE, &v);
	h->base.events = lappend(h->base.events,
							 JsonbValueToJsonb(pushJsonbValue(&ps, WJB_END_OBJECT, NULL)));
	MemoryContextSwitchTo(old);
	if (ecl_snapshot_host_emit(&h->core, event, payload, err) != ECL_OK)
		return ECL_FAIL;
	/* the event is kept twice (result and change list) */
	return ecl_run_memory_check(err, "keeping the event of emit");
}

/* The value as the table host would store it, with the same errors first. */
static ecl_status
state_store_put(void *hctx, const ecl_string *store, const ecl_string *key,
				ecl_value value, bool personal, ecl_error *err)
{
	EclStateHost *h = (EclStateHost *) hctx;
	Jsonb	   *jb = ecl_value_to_jsonb_budget(value, "writing the value of store_put", err);

	if (jb == NULL)
		return ECL_FAIL;
	pfree(jb);
	return ecl_snapshot_host_vtable.store_put(&h->core, store, key, value,
											  personal, err);
}

/* The core's entries, called on the core part of the host. */
#define CORE(h) (&((EclStateHost *) (h))->core)

static ecl_status
state_load_trust(void *hctx, const ecl_string *did, ecl_trust *out, ecl_error *err)
{
	return ecl_snapshot_host_vtable.load_trust(CORE(hctx), did, out, err);
}

static ecl_status
state_has_credential(void *hctx, const ecl_string *did, const ecl_string *schema,
					 bool *out, ecl_error *err)
{
	return ecl_snapshot_host_vtable.has_credential(CORE(hctx), did, schema, out, err);
}

static ecl_status
state_resolve_did(void *hctx, const ecl_string *did, bool *out, ecl_error *err)
{
	return ecl_snapshot_host_vtable.resolve_did(CORE(hctx), did, out, err);
}

static ecl_status
state_get_balance(void *hctx, const ecl_string *did, double *out, ecl_error *err)
{
	return ecl_snapshot_host_vtable.get_balance(CORE(hctx), did, out, err);
}

static ecl_status
state_get_timestamp(void *hctx, double *out, ecl_error *err)
{
	return ecl_snapshot_host_vtable.get_timestamp(CORE(hctx), out, err);
}

static ecl_status
state_get_metric(void *hctx, const ecl_alloc *a, const ecl_string *name,
				 ecl_value *out, ecl_error *err)
{
	return ecl_snapshot_host_vtable.get_metric(CORE(hctx), a, name, out, err);
}

static ecl_status
state_store_get(void *hctx, const ecl_alloc *a, const ecl_string *store,
				const ecl_string *key, bool personal, ecl_value *out,
				ecl_error *err)
{
	return ecl_snapshot_host_vtable.store_get(CORE(hctx), a, store, key,
											  personal, out, err);
}

static ecl_status
state_store_delete(void *hctx, const ecl_string *store, const ecl_string *key,
				   bool personal, bool *existed, ecl_error *err)
{
	return ecl_snapshot_host_vtable.store_delete(CORE(hctx), store, key,
												 personal, existed, err);
}

static ecl_status
state_store_exists(void *hctx, const ecl_string *store, bool personal,
				   bool *out, ecl_error *err)
{
	return ecl_snapshot_host_vtable.store_exists(CORE(hctx), store, personal,
												 out, err);
}

static ecl_status
state_store_count(void *hctx, const ecl_string *store, bool personal,
				  double *out, ecl_error *err)
{
	return ecl_snapshot_host_vtable.store_count(CORE(hctx), store, personal,
												out, err);
}

static ecl_status
state_store_list_keys(void *hctx, const ecl_alloc *a, const ecl_string *store,
					  const ecl_string *prefix, int64_t limit, ecl_value *out,
					  ecl_error *err)
{
	return ecl_snapshot_host_vtable.store_list_keys(CORE(hctx), a, store,
													prefix, limit, out, err);
}

const ecl_host ecl_state_host = {
	.load_trust = state_load_trust,
	.has_credential = state_has_credential,
	.resolve_did = state_resolve_did,
	.get_balance = state_get_balance,
	.get_timestamp = state_get_timestamp,
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

void
ecl_state_host_begin(EclStateHost *h, Jsonb *state, const char *caller,
					 const char *realm, const char *policy,
					 const ecl_alloc *alloc)
{
	const ecl_snapshot_state *snap;
	ecl_error	err;

	memset(h, 0, sizeof(*h));
	ecl_host_base_begin(&h->base, caller, realm, policy);
	h->base.simulated = true;

	snap = load_snapshot(state);
	check_realm(snap, h->base.realm);
	ecl_error_clear(&err);
	if (ecl_snapshot_host_begin(&h->core, snap, caller, h->base.realm, alloc,
								ecl_unix_seconds(GetCurrentTransactionStartTimestamp()),
								&err) != ECL_OK)
		ecl_raise(&err, policy);
}

Jsonb *
ecl_state_host_writes(const EclStateHost *h, bool kept)
{
	ecl_value	list;
	ecl_error	err;

	ecl_error_clear(&err);
	if (ecl_snapshot_host_list(&h->core, h->core.changes, h->core.nchanges,
							   kept, &list, &err) != ECL_OK)
		ecl_raise(&err, h->base.policy);
	return ecl_value_to_jsonb(list);
}

static void
state_begin(void *hctx, const EclRunRequest *req, const ecl_alloc *alloc)
{
	ecl_state_host_begin((EclStateHost *) hctx, req->state, req->caller_did,
						 req->realm_id, req->policy_name, alloc);
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
