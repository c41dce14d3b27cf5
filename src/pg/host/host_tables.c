/*
 * host_tables.c — the ErynoaHost (docs/sql-api.md, "The table host"): host functions of ECL answered
 * from the ecl.* tables through SPI.
 *
 * Plans: every query is prepared once per backend (SPI_prepare +
 * SPI_keepplan) on first use.  All names are schema-qualified and operators
 * are written OPERATOR(pg_catalog.=), so the caller's search_path cannot
 * redirect a lookup to objects of its own.
 *
 * Privileges: the queries run as the owner of schema ecl
 * (ecl_begin_owner_lookup, identity.h), the same switch a SECURITY DEFINER
 * function makes, restored on every exit including errors.  Whoever may run
 * a policy at all is decided by the EXECUTE grants on ecl.run_policy,
 * ecl.check, ecl.allowed, ... (docs/security.md); a role that uses ecl.check inside
 * an RLS policy must not also need SELECT on ecl.trust or ecl.credentials,
 * and a policy's store writes are confined by this code to the run's realm
 * and the caller's own personal entries.
 *
 * Revocation: a revoked identity (ecl.identities.revoked) loses everything:
 * load_trust gives the zero vector, has_credential false (as subject or as
 * issuer, identity.h), get_balance 0 and resolve_did false.  Each lookup
 * asks ecl_did_revoked first; its answer is memoized for the statement like
 * the lookups themselves, so a revocation shows from the next statement on.
 *
 * Errors: a host function reports failures as ecl_error values (e.g. a
 * personal store without a caller, a value that cannot be converted).  SPI
 * itself may ereport; the runner's PG_CATCH reports and re-raises those.
 *
 * Memory: results for the VM come from the allocator it passes in; scratch
 * of one host call (detoasted jsonb, parameter texts) lives in call_cxt,
 * which is reset at the start of the next call; SPI result tables are freed
 * after each call.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "ecl/host.h"

#include "direct_lookup.h"
#include "ecl_pg.h"
#include "statement_memo.h"
#include "host_tables.h"
#include "identity.h"
#include "owner_spi.h"
#include "runner.h"
#include "stats.h"

/* ------------------------------------------------------------------ plans */

typedef enum HostPlan
{
	PLAN_TRUST,
	PLAN_BALANCE,
	PLAN_EMIT,
	PLAN_STORE_GET,
	PLAN_STORE_PUT,
	PLAN_STORE_DELETE,
	PLAN_STORE_EXISTS,
	PLAN_STORE_COUNT,
	PLAN_STORE_LIST,
	PLAN_COUNT
} HostPlan;

typedef struct HostPlanDef
{
	const char *sql;
	int			nargs;
	Oid			argtypes[5];
} HostPlanDef;

/* ecl.store rows are addressed by (realm_id, store_name, owner_did, key) */
#define STORE_KEY_WHERE \
	" WHERE s.realm_id OPERATOR(pg_catalog.=) $1" \
	"   AND s.store_name OPERATOR(pg_catalog.=) $2" \
	"   AND s.owner_did OPERATOR(pg_catalog.=) $3"

static const HostPlanDef plan_defs[PLAN_COUNT] = {
	/*
	 * The realm's row and the global row (realm_id ''), at most two, in one
	 * primary-key scan; work_trust prefers the realm's row, and no row means
	 * the zero vector.  (Choosing in C rather than with ORDER BY ... LIMIT 1
	 * keeps the plan a bare index scan, which halves its start-up cost.)
	 */
	[PLAN_TRUST] = {
		"SELECT t.realm_id OPERATOR(pg_catalog.=) '',"
		"       t.r::pg_catalog.float8, t.i::pg_catalog.float8,"
		"       t.c::pg_catalog.float8, t.p::pg_catalog.float8,"
		"       t.v::pg_catalog.float8, t.omega::pg_catalog.float8"
		"  FROM ecl.trust t"
		" WHERE t.did OPERATOR(pg_catalog.=) $1"
		"   AND t.realm_id OPERATOR(pg_catalog.=)"
		"       ANY (ARRAY[$2, ''::pg_catalog.text])",
		2, {TEXTOID, TEXTOID}
	},
	[PLAN_BALANCE] = {
		"SELECT b.amount::pg_catalog.float8 FROM ecl.balances b"
		" WHERE b.did OPERATOR(pg_catalog.=) $1",
		1, {TEXTOID}
	},
	[PLAN_EMIT] = {
		"INSERT INTO ecl.events (realm_id, policy, caller, event, payload)"
		" VALUES ($1, $2, $3, $4, $5) RETURNING id",
		5, {TEXTOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID}
	},
	[PLAN_STORE_GET] = {
		"SELECT s.value FROM ecl.store s" STORE_KEY_WHERE
		"   AND s.key OPERATOR(pg_catalog.=) $4",
		4, {TEXTOID, TEXTOID, TEXTOID, TEXTOID}
	},
	[PLAN_STORE_PUT] = {
		"INSERT INTO ecl.store AS s"
		"       (realm_id, store_name, owner_did, key, value)"
		" VALUES ($1, $2, $3, $4, $5)"
		" ON CONFLICT (realm_id, store_name, owner_did, key)"
		" DO UPDATE SET value = EXCLUDED.value,"
		"               updated_at = pg_catalog.now()",
		5, {TEXTOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID}
	},
	[PLAN_STORE_DELETE] = {
		"DELETE FROM ecl.store s" STORE_KEY_WHERE
		"   AND s.key OPERATOR(pg_catalog.=) $4",
		4, {TEXTOID, TEXTOID, TEXTOID, TEXTOID}
	},
	[PLAN_STORE_EXISTS] = {
		"SELECT EXISTS (SELECT FROM ecl.store s" STORE_KEY_WHERE ")",
		3, {TEXTOID, TEXTOID, TEXTOID}
	},
	[PLAN_STORE_COUNT] = {
		"SELECT pg_catalog.count(*)::pg_catalog.float8 FROM ecl.store s"
		STORE_KEY_WHERE,
		3, {TEXTOID, TEXTOID, TEXTOID}
	},
	/* bytewise order (COLLATE "C"), as every host must give (host.h) */
	[PLAN_STORE_LIST] = {
		"SELECT s.key FROM ecl.store s" STORE_KEY_WHERE
		"   AND ($4::pg_catalog.text IS NULL"
		"        OR pg_catalog.starts_with(s.key, $4))"
		" ORDER BY s.key COLLATE pg_catalog.\"C\""
		" LIMIT $5",
		5, {TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT8OID}
	},
};

static SPIPlanPtr plans[PLAN_COUNT];

static SPIPlanPtr
host_plan(HostPlan id)
{
	const HostPlanDef *def = &plan_defs[id];

	return ecl_keep_plan(&plans[id], def->sql, def->nargs, def->argtypes);
}

/* ------------------------------------------------------- one host call */

/*
 * Every SPI-using host function packs its arguments and results into a
 * struct and hands a worker to host_spi_call, which sets up the scratch
 * context, the SPI connection and the owner's privileges, and undoes the
 * latter on every exit.  A worker reports ECL-level failures through
 * call->err / call->failed; SPI failures ereport.
 */
typedef struct HostCall
{
	EclTableHost *h;
	ecl_error  *err;
	bool		failed;
} HostCall;

typedef void (*HostWorker) (HostCall *call, void *args);

static ecl_status
host_fail(HostCall *call, ecl_error_code code, const char *fmt, const char *arg)
{
	call->failed = true;
	return ecl_error_set(call->err, code, 0, 0, fmt, arg);
}

static ecl_status
host_spi_call(EclTableHost *h, ecl_error *err, HostWorker worker, void *args)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	EclSavedUser saved;
	HostCall	call;

	if (!h->may_connect)
		return ecl_error_set(err, ECL_ERR_HOST, 0, 0,
							 "the table host is not connected to a run");

	/* created on first use: runs answered from the memo never need it */
	if (h->call_cxt == NULL)
		h->call_cxt = AllocSetContextCreate(h->base.cxt, "ecl host call",
											ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(h->call_cxt);
	call.h = h;
	call.err = err;
	call.failed = false;

	if (!h->connected)
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "ECL table host: SPI_connect failed");
		h->connected = true;
	}
	MemoryContextSwitchTo(h->call_cxt);

	ecl_begin_owner_lookup(&saved);
	PG_TRY();
	{
		worker(&call, args);
		if (SPI_tuptable != NULL)
		{
			SPI_freetuptable(SPI_tuptable);
			SPI_tuptable = NULL;
		}
	}
	PG_FINALLY();
	{
		ecl_end_owner_lookup(&saved);
		MemoryContextSwitchTo(oldcxt);
	}
	PG_END_TRY();

	return call.failed ? ECL_FAIL : ECL_OK;
}

/* Execute a kept plan; back in the call's scratch context afterwards. */
static uint64
host_exec(HostCall *call, HostPlan id, Datum *values, const char *nulls,
		  bool read_only, long tcount, int expect)
{
	int			rc;

	rc = SPI_execute_plan(host_plan(id), values, nulls, read_only, tcount);
	/* SPI leaves CurrentMemoryContext at its own procedure context */
	MemoryContextSwitchTo(call->h->call_cxt);
	if (rc != expect)
		elog(ERROR, "ECL table host query failed: %s",
			 SPI_result_code_string(rc));
	return SPI_processed;
}

static Datum
text_datum(const char *data, size_t len)
{
	return PointerGetDatum(cstring_to_text_with_len(data, (int) len));
}

/* ---------------------------------------------------------- identity lookups */

typedef struct DidArgs
{
	const ecl_string *did;
	ecl_trust  *trust;
	bool		found;
	double		number;
	bool		flag;
} DidArgs;

static void
work_trust(HostCall *call, void *p)
{
	DidArgs    *a = (DidArgs *) p;
	Datum		values[2];
	int			d;

	uint64		n;
	uint64		row = 0;
	bool		isnull;

	values[0] = text_datum(a->did->data, a->did->len);
	values[1] = CStringGetTextDatum(call->h->base.realm);
	memset(a->trust, 0, sizeof(ecl_trust));
	n = host_exec(call, PLAN_TRUST, values, NULL, call->h->read_only, 2,
				  SPI_OK_SELECT);
	if (n == 0)
		return;
	/* two rows: take the realm's, not the global one */
	if (n > 1 && DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
											SPI_tuptable->tupdesc, 1, &isnull)))
		row = 1;
	for (d = 0; d < ECL_TRUST_DIMS; d++)
	{
		Datum		v = SPI_getbinval(SPI_tuptable->vals[row],
									  SPI_tuptable->tupdesc, d + 2, &isnull);

		a->trust->dim[d] = isnull ? 0.0 : DatumGetFloat8(v);
	}
}

/*
 * Read-only runs (ecl.check, ecl.allowed: the WHERE and RLS path) probe the
 * primary key of ecl.trust directly (direct_lookup.h), under the statement's
 * snapshot exactly as the read-only SPI query would.  Rows of the DID are
 * scanned once; the realm's row wins over the global one ('').
 */
static const char *const trust_columns[] = {
	"realm_id", "r", "i", "c", "p", "v", "omega", NULL
};
static EclDirectTable trust_table =
	ECL_DIRECT_TABLE("trust", "trust_did_realm_lookup_idx", trust_columns);

typedef struct TrustRowPick
{
	const char *realm;
	size_t		realm_len;
	ecl_trust  *out;
	bool		have_global;
	bool		have_realm;
} TrustRowPick;

static bool
pick_trust_row(Datum *values, bool *isnull, void *arg)
{
	TrustRowPick *pick = (TrustRowPick *) arg;
	text	   *realm = DatumGetTextPP(values[0]);
	size_t		len = VARSIZE_ANY_EXHDR(realm);
	bool		is_realm;

	if (len == 0)
		is_realm = pick->realm_len == 0;
	else if (len == pick->realm_len &&
			 memcmp(VARDATA_ANY(realm), pick->realm, len) == 0)
		is_realm = true;
	else
		return true;			/* another realm's row */

	if (is_realm || !pick->have_realm)
	{
		for (int d = 0; d < ECL_TRUST_DIMS; d++)
			pick->out->dim[d] = isnull[d + 1] ? 0.0 : DatumGetFloat8(values[d + 1]);
		if (is_realm)
			pick->have_realm = true;
		else
			pick->have_global = true;
	}
	return !pick->have_realm;	/* the realm's row ends the search */
}

static bool
direct_load_trust(EclTableHost *h, const ecl_string *did, ecl_trust *out)
{
	TrustRowPick pick;
	Datum		key = PointerGetDatum(cstring_to_text_with_len(did->data, (int) did->len));
	bool		ok;

	memset(out, 0, sizeof(*out));
	memset(&pick, 0, sizeof(pick));
	pick.realm = h->base.realm;
	pick.realm_len = strlen(h->base.realm);
	pick.out = out;
	ok = ecl_direct_scan(&trust_table, 1, &key, pick_trust_row, &pick);
	pfree(DatumGetPointer(key));
	return ok;
}

/*
 * Whole answer sets (statement_memo.h): once a read-only statement has
 * missed the memo ECL_MEMO_BULK_AFTER times for one realm's trust or one
 * credential schema, every answer is read in one scan, under the same
 * snapshot and by the same rules as the probes, and put into the memo; a
 * DID still missing afterwards has the default answer (no trust row: the
 * zero vector; no valid credential: false).  Tables larger than
 * BULK_MAX_ROWS, or than the memo has room for, stay with the probes.
 */
#define BULK_MAX_ROWS ((double) ECL_MEMO_MAX / 4)

static bool
bulk_possible(const EclTableHost *h)
{
	return h->read_only && h->may_connect && ecl_memo_has_room((int64) BULK_MAX_ROWS);
}

static const char *const trust_all_columns[] = {
	"did", "realm_id", "r", "i", "c", "p", "v", "omega", NULL
};
static EclDirectTable trust_all_table =
	ECL_DIRECT_TABLE("trust", "trust_did_realm_lookup_idx", trust_all_columns);

typedef struct TrustRow
{
	struct TrustRow *next;
	ecl_trust	trust;
	uint32		len;
	char		did[FLEXIBLE_ARRAY_MEMBER];
} TrustRow;

typedef struct RealmTrustScan
{
	const char *realm;
	size_t		realm_len;
	EclTrustRowFn fn;
	void	   *arg;
	MemoryContext caller_cxt;	/* fn runs here: what it keeps must last */
	TrustRow   *global_rows;	/* '' rows of another realm, reported last */
} RealmTrustScan;

/* report one row, as load_trust answers it: a revoked DID has zero trust */
static void
report_trust(RealmTrustScan *scan, const char *did, size_t len,
			 const ecl_trust *trust)
{
	ecl_trust	zero;
	MemoryContext old;

	if (ecl_did_revoked(did, len))
	{
		memset(&zero, 0, sizeof(zero));
		trust = &zero;
	}
	old = MemoryContextSwitchTo(scan->caller_cxt);
	scan->fn(did, len, trust, scan->arg);
	MemoryContextSwitchTo(old);
}

static bool
collect_trust_row(Datum *values, bool *isnull, void *arg)
{
	RealmTrustScan *scan = (RealmTrustScan *) arg;
	text	   *did = DatumGetTextPP(values[0]);
	text	   *realm = DatumGetTextPP(values[1]);
	size_t		realm_len = VARSIZE_ANY_EXHDR(realm);
	size_t		len = VARSIZE_ANY_EXHDR(did);
	TrustRow   *row;

	if (realm_len != 0 &&
		(realm_len != scan->realm_len ||
		 memcmp(VARDATA_ANY(realm), scan->realm, realm_len) != 0))
		return true;			/* another realm's row */

	row = palloc(offsetof(TrustRow, did) + len);
	for (int d = 0; d < ECL_TRUST_DIMS; d++)
		row->trust.dim[d] = isnull[d + 2] ? 0.0 : DatumGetFloat8(values[d + 2]);
	row->len = (uint32) len;
	memcpy(row->did, VARDATA_ANY(did), len);
	if (realm_len == scan->realm_len)
	{
		/* the realm's row wins: reported now, the global rows after the scan */
		report_trust(scan, row->did, len, &row->trust);
		pfree(row);
	}
	else
	{
		row->next = scan->global_rows;
		scan->global_rows = row;
	}
	return true;
}

bool
ecl_realm_trust_rows(const char *realm, double max_rows, EclTrustRowFn fn,
					 void *arg)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "ecl realm trust",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	RealmTrustScan scan;
	bool		complete;

	memset(&scan, 0, sizeof(scan));
	scan.caller_cxt = old;
	ecl_did_revoked_many_ahead();
	scan.realm = realm;
	scan.realm_len = strlen(realm);
	scan.fn = fn;
	scan.arg = arg;
	complete = ecl_direct_scan_all(&trust_all_table, max_rows,
								   collect_trust_row, &scan);
	if (complete)
		for (TrustRow *row = scan.global_rows; row != NULL; row = row->next)
			report_trust(&scan, row->did, row->len, &row->trust);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return complete;
}

/* ecl_realm_trust_rows' callback: into the memo (a held key keeps its value) */
static void
put_trust(const char *did, size_t len, const ecl_trust *trust, void *arg)
{
	const char *realm = (const char *) arg;
	EclMemoValue mv;

	memset(&mv, 0, sizeof(mv));
	mv.u.trust = *trust;
	ecl_memo_put(ECL_MEMO_TRUST, did, len, realm, strlen(realm), &mv);
}

/*
 * Read the whole answer set of a question: every DID's trust in a realm, or
 * every holder of a schema, into the memo.  False when the table is too
 * large (see above).
 */
typedef bool (*AnswerSetLoader) (const char *b, size_t blen);

static bool
load_realm_trust(const char *realm, size_t len)
{
	return ecl_realm_trust_rows(realm, BULK_MAX_ROWS, put_trust, (void *) realm);
}

/* ecl_credential_holders' callback: a holder of the schema in arg */
static void
put_holder(const char *subject, size_t len, void *arg)
{
	const char *schema = (const char *) arg;
	EclMemoValue mv;

	memset(&mv, 0, sizeof(mv));
	mv.flag = true;
	ecl_memo_put(ECL_MEMO_CREDENTIAL, subject, len, schema, strlen(schema), &mv);
}

static bool
load_holders(const char *schema, size_t len)
{
	return ecl_credential_holders(schema, GetCurrentTransactionStartTimestamp(),
								  BULK_MAX_ROWS, put_holder, (void *) schema);
}

/*
 * The memo's answer to (kind, did, b), or, after the whole answer set of
 * (kind, b) was read (by load, when statement_memo.h says it is due), the
 * default one: a zeroed value, remembered so that the DID's next row is a
 * plain hit.  False: look the DID up by key.  b is NUL-terminated (the
 * loaders read it as a C string).
 */
static bool
answer_from_memo(EclTableHost *h, EclMemoKind kind, const ecl_string *did,
				 const char *b, size_t blen, AnswerSetLoader load,
				 EclMemoValue *out)
{
	for (int attempt = 0; attempt < 2; attempt++)
	{
		if (ecl_memo_get(kind, did->data, did->len, b, blen, out))
			return true;
		if (attempt > 0 || !bulk_possible(h))
			return false;
		switch (ecl_memo_bulk_miss(kind, b, blen))
		{
			case ECL_MEMO_BULK_NOT_YET:
				return false;
			case ECL_MEMO_BULK_COMPLETE:
				memset(out, 0, sizeof(*out));
				ecl_memo_put(kind, did->data, did->len, b, blen, out);
				return true;
			case ECL_MEMO_BULK_DUE:
				{
					uint64		clears = ecl_memo_clears();

					if (load(b, blen))
						ecl_memo_bulk_loaded(kind, b, blen, clears);
				}
				break;			/* and look again */
		}
	}
	return false;
}

static ecl_status
host_load_trust(void *hctx, const ecl_string *did, ecl_trust *out,
				ecl_error *err)
{
	EclTableHost *h = (EclTableHost *) hctx;
	EclMemoValue mv;
	DidArgs		args;

	if (answer_from_memo(h, ECL_MEMO_TRUST, did, h->base.realm,
						 strlen(h->base.realm), load_realm_trust, &mv))
	{
		*out = mv.u.trust;
		return ECL_OK;
	}
	/* a revoked identity has the zero vector, whatever rows it kept */
	if (ecl_did_revoked(did->data, did->len))
		memset(out, 0, sizeof(*out));
	else if (!(h->read_only && h->may_connect && direct_load_trust(h, did, out)))
	{
		memset(&args, 0, sizeof(args));
		args.did = did;
		args.trust = out;
		if (host_spi_call(h, err, work_trust, &args) != ECL_OK)
			return ECL_FAIL;
	}

	memset(&mv, 0, sizeof(mv));
	mv.u.trust = *out;
	ecl_memo_put(ECL_MEMO_TRUST, did->data, did->len,
				 h->base.realm, strlen(h->base.realm), &mv);
	return ECL_OK;
}

static ecl_status
host_has_credential(void *hctx, const ecl_string *did,
					const ecl_string *schema, bool *out, ecl_error *err)
{
	EclMemoValue mv;

	/* the probe reads both as C strings: a NUL is not a key a set has */
	if (memchr(schema->data, '\0', schema->len) == NULL &&
		memchr(did->data, '\0', did->len) == NULL &&
		answer_from_memo((EclTableHost *) hctx, ECL_MEMO_CREDENTIAL, did,
						 schema->data, schema->len, load_holders, &mv))
	{
		*out = mv.flag;
		return ECL_OK;
	}

	/*
	 * identity.c owns the validity rule (expiry, revocation, the Ed25519
	 * signature by the issuer); it connects to SPI and switches to the owner
	 * itself.
	 */
	*out = ecl_credential_valid_for(did->data, schema->data,
									GetCurrentTransactionStartTimestamp());

	memset(&mv, 0, sizeof(mv));
	mv.flag = *out;
	ecl_memo_put(ECL_MEMO_CREDENTIAL, did->data, did->len,
				 schema->data, schema->len, &mv);
	return ECL_OK;
}

/* registered and not revoked, from the identity's memoized row */
static ecl_status
host_resolve_did(void *hctx, const ecl_string *did, bool *out, ecl_error *err)
{
	EclIdentityFacts f;

	ecl_identity_facts(did->data, did->len, &f);
	*out = f.registered && !f.revoked;
	return ECL_OK;
}

static void
work_balance(HostCall *call, void *p)
{
	DidArgs    *a = (DidArgs *) p;
	Datum		values[1];
	bool		isnull;
	Datum		v;

	values[0] = text_datum(a->did->data, a->did->len);
	a->number = 0.0;
	if (host_exec(call, PLAN_BALANCE, values, NULL, call->h->read_only, 1,
				  SPI_OK_SELECT) == 0)
		return;
	v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	a->number = isnull ? 0.0 : DatumGetFloat8(v);
}

static ecl_status
host_get_balance(void *hctx, const ecl_string *did, double *out,
				 ecl_error *err)
{
	EclTableHost *h = (EclTableHost *) hctx;
	EclMemoValue mv;
	DidArgs		args;

	if (ecl_memo_get(ECL_MEMO_BALANCE, did->data, did->len, "", 0, &mv))
	{
		*out = mv.u.number;
		return ECL_OK;
	}
	if (ecl_did_revoked(did->data, did->len))
		*out = 0.0;				/* a revoked identity has nothing to spend */
	else
	{
		memset(&args, 0, sizeof(args));
		args.did = did;
		if (host_spi_call(h, err, work_balance, &args) != ECL_OK)
			return ECL_FAIL;
		*out = args.number;
	}

	memset(&mv, 0, sizeof(mv));
	mv.u.number = *out;
	ecl_memo_put(ECL_MEMO_BALANCE, did->data, did->len, "", 0, &mv);
	return ECL_OK;
}

/* ---------------------------------------------------------------- metrics */

static ecl_status
host_get_metric(void *hctx, const ecl_alloc *a, const ecl_string *name,
				ecl_value *out, ecl_error *err)
{
	EclTableHost *h = (EclTableHost *) hctx;
	double		d;

	*out = ecl_null();
	if (ecl_stats_metric(name->data, h->base.realm[0] ? h->base.realm : NULL, &d))
		*out = ecl_number(d);
	return ECL_OK;
}

/* ------------------------------------------------------------------- emit */

/*
 * pg_notify payloads must stay below async.c's limit (BLCKSZ - NAMEDATALEN
 * - 128, not exported); a longer notification is sent without the payload
 * and says so, since the event row in ecl.events has it anyway.
 */
#define NOTIFY_PAYLOAD_LIMIT (BLCKSZ - NAMEDATALEN - 128)

typedef struct EmitArgs
{
	const ecl_string *event;
	Jsonb	   *payload;
	int64		id;
} EmitArgs;

static void
json_field(StringInfo buf, const char *key, const char *val, bool first)
{
	if (!first)
		appendStringInfoChar(buf, ',');
	escape_json(buf, key);
	appendStringInfoChar(buf, ':');
	if (val == NULL)
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, val);
}

static char *
notification_text(const EclTableHost *h, const EmitArgs *a, bool with_payload)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"id\":" INT64_FORMAT, a->id);
	json_field(&buf, "realm", h->base.realm[0] ? h->base.realm : NULL, false);
	json_field(&buf, "policy", h->base.policy, false);
	json_field(&buf, "caller", h->base.caller, false);
	json_field(&buf, "event", a->event->data, false);
	appendStringInfoString(&buf, ",\"payload\":");
	if (with_payload)
		appendStringInfoString(&buf, JsonbToCString(NULL, &a->payload->root,
													VARSIZE(a->payload)));
	else
		appendStringInfoString(&buf, "null,\"payload_omitted\":true");
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

static void
work_emit(HostCall *call, void *p)
{
	EmitArgs   *a = (EmitArgs *) p;
	EclTableHost *h = call->h;
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	bool		isnull;
	char	   *note;

	if (h->base.realm[0])
		values[0] = CStringGetTextDatum(h->base.realm);
	else
		nulls[0] = 'n';
	if (h->base.policy)
		values[1] = CStringGetTextDatum(h->base.policy);
	else
		nulls[1] = 'n';
	if (h->base.caller)
		values[2] = CStringGetTextDatum(h->base.caller);
	else
		nulls[2] = 'n';
	values[3] = text_datum(a->event->data, a->event->len);
	values[4] = JsonbPGetDatum(a->payload);

	if (host_exec(call, PLAN_EMIT, values, nulls, false, 0,
				  SPI_OK_INSERT_RETURNING) != 1)
		elog(ERROR, "ECL table host: event insert returned no row");
	a->id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
										SPI_tuptable->tupdesc, 1, &isnull));

	note = notification_text(h, a, true);
	if (strlen(note) >= NOTIFY_PAYLOAD_LIMIT)
		note = notification_text(h, a, false);
	/*
	 * Still too long (a huge caller, policy, realm or event name): only the
	 * id, rather than failing the run in Async_Notify.  The row has the rest.
	 */
	if (strlen(note) >= NOTIFY_PAYLOAD_LIMIT)
		note = psprintf("{\"id\":" INT64_FORMAT ",\"payload\":null,"
						"\"payload_omitted\":true,\"fields_omitted\":true}",
						a->id);
	Async_Notify("ecl_events", note);
}

/* {event, payload} for the run's result, built in the host's context */
static Jsonb *
event_summary(const ecl_string *event, ecl_value payload, ecl_error *err)
{
	ecl_alloc	a;
	ecl_value	obj;

	ecl_pg_alloc_init(&a, CurrentMemoryContext);
	if (ecl_object_new(&a, 2, &obj, err) != ECL_OK)
		return NULL;
	{
		ecl_value	ev;

		if (ecl_string_new(&a, event->data, event->len, &ev, err) != ECL_OK ||
			ecl_object_set(&a, &obj, "event", 5, ev, err) != ECL_OK ||
			ecl_object_set(&a, &obj, "payload", 7, payload, err) != ECL_OK)
			return NULL;
	}
	return ecl_value_to_jsonb_budget(obj, "keeping the event of emit", err);
}

static ecl_status
host_emit(void *hctx, const ecl_string *event, ecl_value payload,
		  ecl_error *err)
{
	EclTableHost *h = (EclTableHost *) hctx;
	EmitArgs	args;
	MemoryContext old;
	Jsonb	   *summary;

	memset(&args, 0, sizeof(args));
	args.event = event;

	/* in the host context: host_spi_call resets call_cxt */
	old = MemoryContextSwitchTo(h->base.cxt);
	args.payload = ecl_value_to_jsonb_budget(payload,
											 "writing the payload of emit", err);
	summary = args.payload ? event_summary(event, payload, err) : NULL;
	MemoryContextSwitchTo(old);
	if (summary == NULL)
		return ECL_FAIL;

	if (host_spi_call(h, err, work_emit, &args) != ECL_OK)
		return ECL_FAIL;

	old = MemoryContextSwitchTo(h->base.cxt);
	h->base.events = lappend(h->base.events, summary);
	MemoryContextSwitchTo(old);
	pfree(args.payload);
	h->base.events_emitted++;
	return ECL_OK;
}

/* ------------------------------------------------------------------ store */

typedef struct StoreArgs
{
	const ecl_alloc *alloc;
	const ecl_string *store;
	const ecl_string *key;		/* or the prefix for list_keys; may be NULL */
	const char *owner;			/* caller for personal, "" for shared */
	Jsonb	   *value;			/* put */
	int64		limit;			/* list_keys: < 0 = none */
	ecl_value  *out;
	bool		flag;
	double		number;
} StoreArgs;

/* Fill the owner (the VM has checked the arguments: builtins.c). */
static ecl_status
store_prepare(EclTableHost *h, StoreArgs *a, const ecl_string *store,
			  const ecl_string *key, bool personal, ecl_error *err)
{
	memset(a, 0, sizeof(*a));
	a->store = store;
	a->key = key;
	Assert(!personal || h->base.caller != NULL);
	a->owner = personal ? h->base.caller : "";
	return ECL_OK;
}

static void
store_key_values(const HostCall *call, const StoreArgs *a, Datum *values)
{
	values[0] = CStringGetTextDatum(call->h->base.realm);
	values[1] = text_datum(a->store->data, a->store->len);
	values[2] = CStringGetTextDatum(a->owner);
	if (a->key != NULL)
		values[3] = text_datum(a->key->data, a->key->len);
}

static void
work_store_get(HostCall *call, void *p)
{
	StoreArgs  *a = (StoreArgs *) p;
	Datum		values[4];
	bool		isnull;
	Datum		v;

	store_key_values(call, a, values);
	*a->out = ecl_null();
	if (host_exec(call, PLAN_STORE_GET, values, NULL, call->h->read_only, 1,
				  SPI_OK_SELECT) == 0)
		return;
	v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return;
	if (ecl_value_from_jsonb(a->alloc, DatumGetJsonbP(v), a->out,
							 call->err) != ECL_OK)
		call->failed = true;
}

static ecl_status
host_store_get(void *hctx, const ecl_alloc *alloc, const ecl_string *store,
			   const ecl_string *key, bool personal, ecl_value *out,
			   ecl_error *err)
{
	EclTableHost *h = (EclTableHost *) hctx;
	StoreArgs	a;

	if (store_prepare(h, &a, store, key, personal, err) != ECL_OK)
		return ECL_FAIL;
	a.alloc = alloc;
	a.out = out;
	return host_spi_call(h, err, work_store_get, &a);
}

static void
work_store_put(HostCall *call, void *p)
{
	StoreArgs  *a = (StoreArgs *) p;
	Datum		values[5];

	store_key_values(call, a, values);
	values[4] = JsonbPGetDatum(a->value);
	host_exec(call, PLAN_STORE_PUT, values, NULL, false, 0, SPI_OK_INSERT);
}

static ecl_status
host_store_put(void *hctx, const ecl_string *store, const ecl_string *key,
			   ecl_value value, bool personal, ecl_error *err)
{
	EclTableHost *h = (EclTableHost *) hctx;
	StoreArgs	a;
	MemoryContext old;
	Jsonb	   *jb;

	if (store_prepare(h, &a, store, key, personal, err) != ECL_OK)
		return ECL_FAIL;
	/* convert in the host context: host_spi_call resets call_cxt */
	old = MemoryContextSwitchTo(h->base.cxt);
	jb = ecl_value_to_jsonb_budget(value, "writing the value of store_put", err);
	MemoryContextSwitchTo(old);
	if (jb == NULL)
		return ECL_FAIL;
	a.value = jb;
	if (host_spi_call(h, err, work_store_put, &a) != ECL_OK)
		return ECL_FAIL;
	pfree(jb);
	return ECL_OK;
}

static void
work_store_delete(HostCall *call, void *p)
{
	StoreArgs  *a = (StoreArgs *) p;
	Datum		values[4];

	store_key_values(call, a, values);
	a->flag = host_exec(call, PLAN_STORE_DELETE, values, NULL, false, 0,
						SPI_OK_DELETE) > 0;
}

static ecl_status
host_store_delete(void *hctx, const ecl_string *store, const ecl_string *key,
				  bool personal, bool *existed, ecl_error *err)
{
	EclTableHost *h = (EclTableHost *) hctx;
	StoreArgs	a;

	if (store_prepare(h, &a, store, key, personal, err) != ECL_OK)
		return ECL_FAIL;
	if (host_spi_call(h, err, work_store_delete, &a) != ECL_OK)
		return ECL_FAIL;
	*existed = a.flag;
	return ECL_OK;
}

static void
work_store_exists(HostCall *call, void *p)
{
	StoreArgs  *a = (StoreArgs *) p;
	Datum		values[3];
	bool		isnull;

	store_key_values(call, a, values);
	host_exec(call, PLAN_STORE_EXISTS, values, NULL, call->h->read_only, 1,
			  SPI_OK_SELECT);
	a->flag = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
										 SPI_tuptable->tupdesc, 1, &isnull));
}

static ecl_status
host_store_exists(void *hctx, const ecl_string *store, bool personal,
				  bool *out, ecl_error *err)
{
	EclTableHost *h = (EclTableHost *) hctx;
	StoreArgs	a;

	if (store_prepare(h, &a, store, NULL, personal, err) != ECL_OK)
		return ECL_FAIL;
	if (host_spi_call(h, err, work_store_exists, &a) != ECL_OK)
		return ECL_FAIL;
	*out = a.flag;
	return ECL_OK;
}

static void
work_store_count(HostCall *call, void *p)
{
	StoreArgs  *a = (StoreArgs *) p;
	Datum		values[3];
	bool		isnull;

	store_key_values(call, a, values);
	host_exec(call, PLAN_STORE_COUNT, values, NULL, call->h->read_only, 1,
			  SPI_OK_SELECT);
	a->number = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0],
											 SPI_tuptable->tupdesc, 1,
											 &isnull));
}

static ecl_status
host_store_count(void *hctx, const ecl_string *store, bool personal,
				 double *out, ecl_error *err)
{
	EclTableHost *h = (EclTableHost *) hctx;
	StoreArgs	a;

	if (store_prepare(h, &a, store, NULL, personal, err) != ECL_OK)
		return ECL_FAIL;
	if (host_spi_call(h, err, work_store_count, &a) != ECL_OK)
		return ECL_FAIL;
	*out = a.number;
	return ECL_OK;
}

static void
work_store_list(HostCall *call, void *p)
{
	StoreArgs  *a = (StoreArgs *) p;
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	uint64		n;
	uint64		i;

	values[0] = CStringGetTextDatum(call->h->base.realm);
	values[1] = text_datum(a->store->data, a->store->len);
	values[2] = CStringGetTextDatum(a->owner);
	if (a->key != NULL)
		values[3] = text_datum(a->key->data, a->key->len);
	else
		nulls[3] = 'n';
	if (a->limit >= 0)
		values[4] = Int64GetDatum(a->limit);
	else
		nulls[4] = 'n';

	n = host_exec(call, PLAN_STORE_LIST, values, nulls, call->h->read_only, 0,
				  SPI_OK_SELECT);
	if (n > ECL_MAX_COLLECTION)
	{
		host_fail(call, ECL_ERR_RESOURCE, "store \"%s\" has too many keys",
				  a->store->data);
		return;
	}
	if (ecl_array_new(a->alloc, (uint32_t) n, a->out, call->err) != ECL_OK)
	{
		call->failed = true;
		return;
	}
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		text	   *t = DatumGetTextPP(SPI_getbinval(SPI_tuptable->vals[i],
													 SPI_tuptable->tupdesc,
													 1, &isnull));

		if (ecl_string_new(a->alloc, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t),
						   &a->out->u.arr->items[i], call->err) != ECL_OK)
		{
			call->failed = true;
			return;
		}
	}
}

static ecl_status
host_store_list_keys(void *hctx, const ecl_alloc *alloc,
					 const ecl_string *store, const ecl_string *prefix,
					 int64_t limit, ecl_value *out, ecl_error *err)
{
	EclTableHost *h = (EclTableHost *) hctx;
	StoreArgs	a;

	/* list_keys reads the shared store (host.h) */
	if (store_prepare(h, &a, store, prefix, false, err) != ECL_OK)
		return ECL_FAIL;
	a.alloc = alloc;
	a.limit = limit;
	a.out = out;
	return host_spi_call(h, err, work_store_list, &a);
}

/* ------------------------------------------------------------- the vtable */

const ecl_host ecl_table_host = {
	.load_trust = host_load_trust,
	.has_credential = host_has_credential,
	.resolve_did = host_resolve_did,
	.get_balance = host_get_balance,
	.get_timestamp = ecl_host_get_timestamp,
	.log = ecl_host_log,
	.emit = host_emit,
	.get_metric = host_get_metric,
	.store_get = host_store_get,
	.store_put = host_store_put,
	.store_delete = host_store_delete,
	.store_exists = host_store_exists,
	.store_count = host_store_count,
	.store_list_keys = host_store_list_keys,
};

/* ------------------------------------------------------ run-level API */

void
ecl_table_host_begin(EclTableHost *h, const char *caller, const char *realm,
					 const char *policy, bool read_only)
{
	memset(h, 0, sizeof(*h));
	ecl_host_base_begin(&h->base, caller, realm, policy);
	h->read_only = read_only;
	h->call_cxt = NULL;
}

void
ecl_table_host_connect(EclTableHost *h)
{
	h->may_connect = true;
}

void
ecl_table_host_disconnect(EclTableHost *h)
{
	if (h->connected)
	{
		MemoryContext old = CurrentMemoryContext;

		h->connected = false;
		if (SPI_finish() != SPI_OK_FINISH)
			elog(ERROR, "ECL table host: SPI_finish failed");
		MemoryContextSwitchTo(old);
	}
	h->may_connect = false;
}

static void
discard_events(EclTableHost *h)
{
	h->base.events = NIL;
	h->base.events_emitted = 0;
}

/*
 * Re-raise an error saved with CopyErrorData after the subtransaction is
 * gone.  CopyErrorData copies every string, including filename, funcname
 * and the message domains, into the current context (the run's, which the
 * runner deletes as the error passes through it); ReThrowError copies the
 * message fields again but keeps those four pointers.  Left in the run's
 * context they dangle by the time the error is sent to the client, which
 * crashed the backend (a statement timeout or a stack overflow during a
 * run that writes).  ErrorContext lives exactly as long as the error.
 */
static void
rethrow_saved_error(ErrorData *edata)
{
	MemoryContext old = MemoryContextSwitchTo(ErrorContext);

	if (edata->filename)
		edata->filename = pstrdup(edata->filename);
	if (edata->funcname)
		edata->funcname = pstrdup(edata->funcname);
	if (edata->domain)
		edata->domain = pstrdup(edata->domain);
	if (edata->context_domain)
		edata->context_domain = pstrdup(edata->context_domain);
	MemoryContextSwitchTo(old);
	ReThrowError(edata);
}

/*
 * Call fn(arg) with SPI available to the host and, when the program can
 * write, inside a subtransaction (see host_tables.h).
 */
static void
table_execute(void *hctx, bool writes, EclHostRunFn fn, void *arg)
{
	EclTableHost *h = (EclTableHost *) hctx;
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool keep = false;

	if (!writes)
	{
		/*
		 * Nothing to undo.  On an error the SPI connection is closed by the
		 * abort of the (sub)transaction the error aborts.
		 */
		ecl_table_host_connect(h);
		(void) fn(arg);
		ecl_table_host_disconnect(h);
		return;
	}

	/*
	 * The SPI connection is opened inside the subtransaction and closed
	 * before it ends, so that releasing or rolling it back finds a clean SPI
	 * stack (a rollback closes it for us).
	 */
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		ecl_table_host_connect(h);
		keep = fn(arg);
		ecl_table_host_disconnect(h);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		h->connected = false;
		h->may_connect = false;
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		discard_events(h);
		rethrow_saved_error(edata);
	}
	PG_END_TRY();

	if (keep)
		ReleaseCurrentSubTransaction();
	else
	{
		RollbackAndReleaseCurrentSubTransaction();
		discard_events(h);
	}
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
}

static void
table_begin(void *hctx, const EclRunRequest *req, const ecl_alloc *alloc)
{
	ecl_table_host_begin((EclTableHost *) hctx, req->caller_did,
						 req->realm_id, req->policy_name, req->read_only);
}

const EclHostOps ecl_table_host_ops = {
	.vtable = &ecl_table_host,
	.begin = table_begin,
	.execute = table_execute,
	.writes = NULL,
	.live = true,
};
