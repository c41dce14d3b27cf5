/*
 * snapshot.c — ecl.snapshot(realm text, dids text[] DEFAULT NULL) RETURNS
 * jsonb (docs/host-and-state.md): everything the host functions of a run in realm could
 * read, as one JSON document that the state-only host (host_state.h) answers
 * from.  Format version 1 (docs/host-and-state.md):
 *
 *   {"version": 1,
 *    "realm": "r" | null,
 *    "taken_at": statement start, Unix seconds,
 *    "timestamp": transaction start, Unix seconds (what get_timestamp says),
 *    "identities": {did: {"registered": true, "revoked": bool}},
 *    "trust": {did: {"realm": [R,I,C,P,V,Omega] | null,
 *                    "global": [R,I,C,P,V,Omega] | null}},
 *    "credentials": {did: {schema: bool}},     validity already decided
 *    "balances": {did: amount},
 *    "store": {"shared": {store: {key: value}},
 *              "personal": {did: {store: {key: value}}}},
 *    "metrics": {name: number}}                get_metric names
 *
 * With dids, only those DIDs' identities, trust, credentials, balances and
 * personal entries are included; the realm's shared store and the metrics
 * always are.
 *
 * Exactness: float8 columns (trust, balances) and metrics are written with
 * ecl_format_number, the shortest text that reads back as the same double,
 * so the state host computes with exactly the numbers the table host reads.
 * Credential validity comes from ecl_credential_valid_for (identity.h) at
 * the transaction start, the very function and time the table host uses.
 *
 * Revocation: identities carry "revoked"; a revoked DID's trust rows and
 * balance are written as the tables hold them, and the state host gives
 * them zero and 0 as the table host does, so that a simulation answers
 * alike (and a snapshot edited to lift the revocation shows what the DID
 * would have).  Its credentials are false, decided by the same function.
 *
 * Consistency: the function is STABLE and its queries run read-only, so all
 * sections come from one database snapshot.  They run as the owner of
 * schema ecl (identity.h), like the table host's lookups: EXECUTE on this
 * function (ecl_admin, ecl_executor) is the permission to read the data.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "ecl/value.h"

#include "ecl_pg.h"
#include "host_state.h"
#include "identity.h"
#include "owner_spi.h"
#include "stats.h"

PG_FUNCTION_INFO_V1(ecl_snapshot);

/* --------------------------------------------------------------- queries */

typedef enum SnapQuery
{
	Q_IDENTITIES,
	Q_TRUST,
	Q_CREDENTIALS,
	Q_BALANCES,
	Q_SHARED,
	Q_PERSONAL,
	Q_METRIC_NAMES,
	Q_COUNT
} SnapQuery;

/* $1 text[]: the DIDs or NULL for all; $2 text: the realm ('' = none) */
#define DID_FILTER(col) \
	" ($1 IS NULL OR " col " OPERATOR(pg_catalog.=) ANY ($1))"

static const char *const snap_sql[Q_COUNT] = {
	[Q_IDENTITIES] =
	"SELECT i.did, i.revoked FROM ecl.identities i WHERE" DID_FILTER("i.did"),

	/* the realm's row and the global row (realm_id ''), grouped by did */
	[Q_TRUST] =
	"SELECT t.did, t.realm_id OPERATOR(pg_catalog.=) '' AS global,"
	"       t.r::pg_catalog.float8, t.i::pg_catalog.float8,"
	"       t.c::pg_catalog.float8, t.p::pg_catalog.float8,"
	"       t.v::pg_catalog.float8, t.omega::pg_catalog.float8"
	"  FROM ecl.trust t"
	" WHERE (t.realm_id OPERATOR(pg_catalog.=) $2"
	"        OR t.realm_id OPERATOR(pg_catalog.=) '')"
	"   AND" DID_FILTER("t.did")
	" ORDER BY t.did",

	[Q_CREDENTIALS] =
	"SELECT DISTINCT c.subject_did, c.schema FROM ecl.credentials c"
	" WHERE" DID_FILTER("c.subject_did")
	" ORDER BY 1, 2",

	[Q_BALANCES] =
	"SELECT b.did, b.amount::pg_catalog.float8 FROM ecl.balances b"
	" WHERE" DID_FILTER("b.did"),

	[Q_SHARED] =
	"SELECT pg_catalog.jsonb_object_agg(x.store_name, x.entries)"
	"  FROM (SELECT s.store_name,"
	"               pg_catalog.jsonb_object_agg(s.key, s.value) AS entries"
	"          FROM ecl.store s"
	"         WHERE s.realm_id OPERATOR(pg_catalog.=) $2"
	"           AND s.owner_did OPERATOR(pg_catalog.=) ''"
	"         GROUP BY s.store_name) x",

	[Q_PERSONAL] =
	"SELECT pg_catalog.jsonb_object_agg(y.owner_did, y.stores)"
	"  FROM (SELECT x.owner_did,"
	"               pg_catalog.jsonb_object_agg(x.store_name, x.entries) AS stores"
	"          FROM (SELECT s.owner_did, s.store_name,"
	"                       pg_catalog.jsonb_object_agg(s.key, s.value) AS entries"
	"                  FROM ecl.store s"
	"                 WHERE s.realm_id OPERATOR(pg_catalog.=) $2"
	"                   AND s.owner_did OPERATOR(pg_catalog.<>) ''"
	"                   AND" DID_FILTER("s.owner_did")
	"                 GROUP BY s.owner_did, s.store_name) x"
	"         GROUP BY x.owner_did) y",

	/*
	 * The get_metric names are, by their documented contract (sql-api.md),
	 * the columns of ecl.stat_eclvm and "realm." + the columns of
	 * ecl.stat_eclvm_realms; ecl_stats_metric decides which of them are
	 * metrics (it refuses datname, stats_reset, realm_id: the current
	 * database's numbers are the only ones a policy reads).
	 */
	[Q_METRIC_NAMES] =
	"SELECT a.attname::pg_catalog.text,"
	"       a.attrelid OPERATOR(pg_catalog.=)"
	"           pg_catalog.to_regclass('ecl.stat_eclvm_realms') AS per_realm"
	"  FROM pg_catalog.pg_attribute a"
	" WHERE a.attrelid OPERATOR(pg_catalog.=) ANY (ARRAY["
	"           pg_catalog.to_regclass('ecl.stat_eclvm'),"
	"           pg_catalog.to_regclass('ecl.stat_eclvm_realms')])"
	"   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped"
	" ORDER BY a.attrelid, a.attnum",
};

static SPIPlanPtr snap_plans[Q_COUNT];

/* Run a kept plan read-only with ($1 dids, $2 realm). */
static void
snap_exec(SnapQuery q, Datum dids, bool dids_null, const char *realm)
{
	Datum		values[2];
	char		nulls[2] = {' ', ' '};
	int			rc;

	static const Oid argtypes[2] = {TEXTARRAYOID, TEXTOID};

	ecl_keep_plan(&snap_plans[q], snap_sql[q], 2, argtypes);
	values[0] = dids;
	if (dids_null)
		nulls[0] = 'n';
	values[1] = CStringGetTextDatum(realm);
	rc = SPI_execute_plan(snap_plans[q], values, nulls, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "ecl.snapshot query failed: %s", SPI_result_code_string(rc));
}

/* ------------------------------------------------------------ JSON output */

static void
push_scalar(JsonbParseState **ps, JsonbIteratorToken tok, JsonbValue *v)
{
	pushJsonbValue(ps, tok, v);
}

/* the shortest text that reads back as d (as ECL values are written) */
static void
number_value(double d, JsonbValue *v)
{
	char		buf[32];

	ecl_format_number(d, buf);
	v->type = jbvNumeric;
	v->val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in,
														 CStringGetDatum(buf),
														 ObjectIdGetDatum(InvalidOid),
														 Int32GetDatum(-1)));
}

static void
push_number(JsonbParseState **ps, JsonbIteratorToken tok, double d)
{
	JsonbValue	v;

	number_value(d, &v);
	push_scalar(ps, tok, &v);
}

static void
push_bool(JsonbParseState **ps, bool b)
{
	JsonbValue	v;

	v.type = jbvBool;
	v.val.boolean = b;
	push_scalar(ps, WJB_VALUE, &v);
}

static void
push_null(JsonbParseState **ps)
{
	JsonbValue	v;

	v.type = jbvNull;
	push_scalar(ps, WJB_VALUE, &v);
}

static void
push_string(JsonbParseState **ps, const char *s)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) s;
	v.val.string.len = strlen(s);
	push_scalar(ps, WJB_VALUE, &v);
}

/* A jsonb document as a value (an object; NULL gives {}). */
static void
push_document(JsonbParseState **ps, Jsonb *jb)
{
	JsonbValue	v;

	if (jb == NULL)
	{
		pushJsonbValue(ps, WJB_BEGIN_OBJECT, NULL);
		pushJsonbValue(ps, WJB_END_OBJECT, NULL);
		return;
	}
	v.type = jbvBinary;
	v.val.binary.data = &jb->root;
	v.val.binary.len = VARSIZE(jb) - VARHDRSZ;
	pushJsonbValue(ps, WJB_VALUE, &v);
}

/* ----------------------------------------------------------- the sections */

static char *
col_text(HeapTuple tup, TupleDesc desc, int col)
{
	return SPI_getvalue(tup, desc, col);
}

static double
col_float8(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? 0.0 : DatumGetFloat8(d);
}

static bool
col_bool(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return !isnull && DatumGetBool(d);
}

/* The single jsonb of a one-row result, copied into cxt; NULL when null. */
static Jsonb *
single_jsonb(MemoryContext cxt)
{
	bool		isnull;
	Datum		d;
	Jsonb	   *jb;
	Jsonb	   *copy;

	if (SPI_processed != 1)
		return NULL;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return NULL;
	jb = DatumGetJsonbP(d);
	copy = MemoryContextAlloc(cxt, VARSIZE(jb));
	memcpy(copy, jb, VARSIZE(jb));
	return copy;
}

static void
section_identities(JsonbParseState **ps)
{
	ecl_jsonb_push_key(ps, "identities");
	pushJsonbValue(ps, WJB_BEGIN_OBJECT, NULL);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;

		ecl_jsonb_push_key(ps, col_text(tup, desc, 1));
		pushJsonbValue(ps, WJB_BEGIN_OBJECT, NULL);
		ecl_jsonb_push_key(ps, "registered");
		push_bool(ps, true);
		ecl_jsonb_push_key(ps, "revoked");
		push_bool(ps, col_bool(tup, desc, 2));
		pushJsonbValue(ps, WJB_END_OBJECT, NULL);
	}
	pushJsonbValue(ps, WJB_END_OBJECT, NULL);
}

static void
push_vector(JsonbParseState **ps, HeapTuple tup, TupleDesc desc)
{
	pushJsonbValue(ps, WJB_BEGIN_ARRAY, NULL);
	for (int d = 0; d < ECL_TRUST_DIMS; d++)
		push_number(ps, WJB_ELEM, col_float8(tup, desc, 3 + d));
	pushJsonbValue(ps, WJB_END_ARRAY, NULL);
}

/* rows come ordered by did, at most one realm row and one global row each */
static void
section_trust(JsonbParseState **ps)
{
	TupleDesc	desc = SPI_tuptable->tupdesc;
	uint64		i = 0;

	ecl_jsonb_push_key(ps, "trust");
	pushJsonbValue(ps, WJB_BEGIN_OBJECT, NULL);
	while (i < SPI_processed)
	{
		char	   *did = col_text(SPI_tuptable->vals[i], desc, 1);
		HeapTuple	realm_row = NULL;
		HeapTuple	global_row = NULL;

		for (; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			char	   *d = col_text(tup, desc, 1);

			if (strcmp(d, did) != 0)
				break;
			if (col_bool(tup, desc, 2))
				global_row = tup;
			else
				realm_row = tup;
		}
		ecl_jsonb_push_key(ps, did);
		pushJsonbValue(ps, WJB_BEGIN_OBJECT, NULL);
		ecl_jsonb_push_key(ps, "realm");
		if (realm_row != NULL)
			push_vector(ps, realm_row, desc);
		else
			push_null(ps);
		ecl_jsonb_push_key(ps, "global");
		if (global_row != NULL)
			push_vector(ps, global_row, desc);
		else
			push_null(ps);
		pushJsonbValue(ps, WJB_END_OBJECT, NULL);
	}
	pushJsonbValue(ps, WJB_END_OBJECT, NULL);
}

static void
section_balances(JsonbParseState **ps)
{
	ecl_jsonb_push_key(ps, "balances");
	pushJsonbValue(ps, WJB_BEGIN_OBJECT, NULL);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];

		ecl_jsonb_push_key(ps, col_text(tup, SPI_tuptable->tupdesc, 1));
		push_number(ps, WJB_VALUE, col_float8(tup, SPI_tuptable->tupdesc, 2));
	}
	pushJsonbValue(ps, WJB_END_OBJECT, NULL);
}

/* What is kept from the SPI phase for the phases that need no SPI. */
typedef struct Gathered
{
	int			ncreds;
	char	  **cred_subject;	/* ordered by subject, then schema */
	char	  **cred_schema;
	int			nmetric_names;
	char	  **metric_names;	/* "x" or "realm.x" */
} Gathered;

static void
gather_credentials(Gathered *g, MemoryContext cxt)
{
	TupleDesc	desc = SPI_tuptable->tupdesc;

	g->ncreds = (int) SPI_processed;
	g->cred_subject = MemoryContextAlloc(cxt, sizeof(char *) * (g->ncreds + 1));
	g->cred_schema = MemoryContextAlloc(cxt, sizeof(char *) * (g->ncreds + 1));
	for (int i = 0; i < g->ncreds; i++)
	{
		g->cred_subject[i] = MemoryContextStrdup(cxt, col_text(SPI_tuptable->vals[i], desc, 1));
		g->cred_schema[i] = MemoryContextStrdup(cxt, col_text(SPI_tuptable->vals[i], desc, 2));
	}
}

static void
gather_metric_names(Gathered *g, MemoryContext cxt)
{
	TupleDesc	desc = SPI_tuptable->tupdesc;
	int			n = 0;

	/* + total_time_us, a metric that is not a view column (sql-api.md) */
	g->metric_names = MemoryContextAlloc(cxt, sizeof(char *) * (SPI_processed + 1));
	g->metric_names[n++] = "total_time_us";
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		char	   *name = col_text(tup, desc, 1);

		g->metric_names[n++] = col_bool(tup, desc, 2)
			? MemoryContextStrdup(cxt, psprintf("realm.%s", name))
			: MemoryContextStrdup(cxt, name);
	}
	g->nmetric_names = n;
}

/* credentials: {subject: {schema: valid}}, decided by identity.c */
static void
section_credentials(JsonbParseState **ps, const Gathered *g)
{
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	int			i = 0;

	ecl_jsonb_push_key(ps, "credentials");
	pushJsonbValue(ps, WJB_BEGIN_OBJECT, NULL);
	while (i < g->ncreds)
	{
		const char *subject = g->cred_subject[i];

		ecl_jsonb_push_key(ps, subject);
		pushJsonbValue(ps, WJB_BEGIN_OBJECT, NULL);
		for (; i < g->ncreds && strcmp(g->cred_subject[i], subject) == 0; i++)
		{
			ecl_jsonb_push_key(ps, g->cred_schema[i]);
			push_bool(ps, ecl_credential_valid_for(subject, g->cred_schema[i], now));
		}
		pushJsonbValue(ps, WJB_END_OBJECT, NULL);
	}
	pushJsonbValue(ps, WJB_END_OBJECT, NULL);
}

/* metrics: every name ecl_stats_metric answers for this realm */
static void
section_metrics(JsonbParseState **ps, const Gathered *g, const char *realm)
{
	ecl_jsonb_push_key(ps, "metrics");
	pushJsonbValue(ps, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < g->nmetric_names; i++)
	{
		double		d;

		if (ecl_stats_metric(g->metric_names[i], realm[0] ? realm : NULL, &d))
		{
			ecl_jsonb_push_key(ps, g->metric_names[i]);
			push_number(ps, WJB_VALUE, d);
		}
	}
	pushJsonbValue(ps, WJB_END_OBJECT, NULL);
}

/*
 * Everything ecl.snapshot reads with SPI, as the owner.  The parse state
 * lives in cxt; SPI switches to its own context, so every push switches
 * back to cxt first.
 */
typedef struct SnapshotWork
{
	MemoryContext cxt;
	const char *realm;
	Datum		dids;
	bool		dids_null;
	JsonbParseState **ps;
	Gathered   *g;
	Jsonb	   *shared;
	Jsonb	   *personal;
} SnapshotWork;

static void
work_read_sections(void *arg)
{
	SnapshotWork *w = (SnapshotWork *) arg;

	snap_exec(Q_IDENTITIES, w->dids, w->dids_null, w->realm);
	MemoryContextSwitchTo(w->cxt);
	section_identities(w->ps);

	snap_exec(Q_TRUST, w->dids, w->dids_null, w->realm);
	MemoryContextSwitchTo(w->cxt);
	section_trust(w->ps);

	snap_exec(Q_BALANCES, w->dids, w->dids_null, w->realm);
	MemoryContextSwitchTo(w->cxt);
	section_balances(w->ps);

	snap_exec(Q_CREDENTIALS, w->dids, w->dids_null, w->realm);
	gather_credentials(w->g, w->cxt);

	snap_exec(Q_SHARED, w->dids, w->dids_null, w->realm);
	w->shared = single_jsonb(w->cxt);
	snap_exec(Q_PERSONAL, w->dids, w->dids_null, w->realm);
	w->personal = single_jsonb(w->cxt);

	snap_exec(Q_METRIC_NAMES, w->dids, w->dids_null, w->realm);
	gather_metric_names(w->g, w->cxt);
}

/* ---------------------------------------------------------------- the SQL */

/* ecl.snapshot(realm text, dids text[] DEFAULT NULL) RETURNS jsonb */
Datum
ecl_snapshot(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = CurrentMemoryContext;
	const char *realm = PG_ARGISNULL(0) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(0));
	bool		dids_null = PG_ARGISNULL(1);
	Datum		dids = dids_null ? (Datum) 0 : PG_GETARG_DATUM(1);
	JsonbParseState *ps = NULL;
	JsonbValue *root;
	Gathered	g;
	SnapshotWork w;

	memset(&g, 0, sizeof(g));

	pushJsonbValue(&ps, WJB_BEGIN_OBJECT, NULL);
	ecl_jsonb_push_key(&ps, "version");
	push_number(&ps, WJB_VALUE, ECL_SNAPSHOT_VERSION);
	ecl_jsonb_push_key(&ps, "realm");
	if (realm[0])
		push_string(&ps, realm);
	else
		push_null(&ps);
	ecl_jsonb_push_key(&ps, "taken_at");
	push_number(&ps, WJB_VALUE, ecl_unix_seconds(GetCurrentStatementStartTimestamp()));
	ecl_jsonb_push_key(&ps, "timestamp");
	push_number(&ps, WJB_VALUE, ecl_unix_seconds(GetCurrentTransactionStartTimestamp()));

	memset(&w, 0, sizeof(w));
	w.cxt = cxt;
	w.realm = realm;
	w.dids = dids;
	w.dids_null = dids_null;
	w.ps = &ps;
	w.g = &g;
	ecl_as_owner(work_read_sections, &w);

	/* identity.c connects to SPI itself for each validity decision */
	section_credentials(&ps, &g);

	ecl_jsonb_push_key(&ps, "store");
	pushJsonbValue(&ps, WJB_BEGIN_OBJECT, NULL);
	ecl_jsonb_push_key(&ps, "shared");
	push_document(&ps, w.shared);
	ecl_jsonb_push_key(&ps, "personal");
	push_document(&ps, w.personal);
	pushJsonbValue(&ps, WJB_END_OBJECT, NULL);

	section_metrics(&ps, &g, realm);

	root = pushJsonbValue(&ps, WJB_END_OBJECT, NULL);
	PG_RETURN_JSONB_P(JsonbValueToJsonb(root));
}
