/*
 * identity.c — Ed25519 identities, did:key helpers and role bindings
 * (docs/sql-api.md, "The table host"; docs/security.md).
 *
 *   ecl.generate_identity()          new key pair, registered; the secret key
 *                                    is returned once and never stored
 *   ecl.did_key_public_key(did)      the public key a did:key encodes
 *   ecl.did_key_from_public_key(pk)  the did:key of a public key
 *   ecl.current_did()                the caller: the DID authenticated in
 *                                    this transaction, else a trusted
 *                                    claim, else the role's binding (NULL
 *                                    when revoked)
 *
 * and the identity facts every lookup consults first: a revoked DID loses
 * everything (trust, credentials, balance, resolution, its role binding).
 */
#include "postgres.h"

#include <sodium.h>

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

#include "ecl/did_key.h"
#include "ecl_pg.h"
#include "did_index.h"
#include "direct_lookup.h"
#include "statement_memo.h"
#include "identity.h"
#include "owner_spi.h"
#include "token.h"

PG_FUNCTION_INFO_V1(ecl_generate_identity);
PG_FUNCTION_INFO_V1(ecl_did_key_public_key);
PG_FUNCTION_INFO_V1(ecl_did_key_from_public_key);
PG_FUNCTION_INFO_V1(ecl_current_did_sql);

void
ecl_sodium_init(void)
{
	static bool initialized = false;

	if (initialized)
		return;
	/* 0: initialized now, 1: already initialized (by another module) */
	if (sodium_init() < 0)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not initialize libsodium")));
	initialized = true;
}

/* ---------------------------------------------------------------------
 * Role bindings
 * ---------------------------------------------------------------------
 */

static SPIPlanPtr role_did_plan = NULL;

typedef struct RoleDidQuery
{
	Datum		role_name;
	MemoryContext result_cxt;
	char	   *did;
} RoleDidQuery;

static void
work_did_for_role(void *arg)
{
	RoleDidQuery *q = (RoleDidQuery *) arg;
	Oid			argtypes[1] = {NAMEOID};

	ecl_owner_select(&role_did_plan, "SELECT did FROM ecl.role_dids"
					 " WHERE role_name OPERATOR(pg_catalog.=) $1",
					 1, argtypes, &q->role_name, 1, false,
					 "role binding lookup");
	q->did = ecl_spi_first_text(q->result_cxt);
}

char *
ecl_did_for_role(Oid roleid)
{
	char	   *rolename = GetUserNameFromId(roleid, true);
	RoleDidQuery q;

	if (rolename == NULL)
		return NULL;			/* role dropped meanwhile: no binding */
	q.role_name = DirectFunctionCall1(namein, CStringGetDatum(rolename));
	q.result_cxt = CurrentMemoryContext;
	q.did = NULL;
	ecl_as_owner(work_did_for_role, &q);
	return q.did;
}

/* ---------------------------------------------------------------------
 * Identity facts
 * ---------------------------------------------------------------------
 */

static const char *const identity_columns[] = {"revoked", "public_key", NULL};
static EclDirectTable identity_table =
	ECL_DIRECT_TABLE("identities", "identities_did_lookup_idx", identity_columns);

static bool
read_identity_row(Datum *values, bool *isnull, void *arg)
{
	EclIdentityFacts *f = (EclIdentityFacts *) arg;

	f->registered = true;
	f->revoked = !isnull[0] && DatumGetBool(values[0]);
	if (!isnull[1])
	{
		bytea	   *key = DatumGetByteaPP(values[1]);

		/* the table's CHECK allows only 32-byte keys */
		if (VARSIZE_ANY_EXHDR(key) == sizeof(f->public_key))
		{
			f->has_key = true;
			memcpy(f->public_key, VARDATA_ANY(key), sizeof(f->public_key));
		}
	}
	return false;				/* a primary key: one row */
}

static SPIPlanPtr identity_plan = NULL;

typedef struct IdentityQuery
{
	Datum		did;
	EclIdentityFacts *facts;
} IdentityQuery;

static void
work_identity_facts(void *arg)
{
	IdentityQuery *q = (IdentityQuery *) arg;
	Oid			argtypes[1] = {TEXTOID};

	if (ecl_owner_select(&identity_plan, "SELECT i.revoked, i.public_key"
						 "  FROM ecl.identities i"
						 " WHERE i.did OPERATOR(pg_catalog.=) $1",
						 1, argtypes, &q->did, 1, false,
						 "identity lookup") > 0)
	{
		Datum		values[2];
		bool		isnull[2];

		for (int i = 0; i < 2; i++)
			values[i] = SPI_getbinval(SPI_tuptable->vals[0],
									  SPI_tuptable->tupdesc, i + 1,
									  &isnull[i]);
		read_identity_row(values, isnull, q->facts);
	}
}

/* The same row through SPI, when the direct probe cannot run. */
static void
identity_facts_spi(const char *did, size_t len, EclIdentityFacts *f)
{
	IdentityQuery q;

	q.did = PointerGetDatum(cstring_to_text_with_len(did, (int) len));
	q.facts = f;
	ecl_as_owner(work_identity_facts, &q);
}

static void identity_facts_probe(const char *did, size_t len,
								 EclIdentityFacts *out);

void
ecl_identity_facts(const char *did, size_t len, EclIdentityFacts *out)
{
	EclMemoValue mv;

	memset(out, 0, sizeof(*out));
	if (ecl_memo_get(ECL_MEMO_IDENTITY, did, len, "", 0, &mv))
	{
		out->registered = mv.flag;
		out->revoked = mv.u.identity.revoked;
		out->has_key = mv.u.identity.has_key;
		memcpy(out->public_key, mv.u.identity.public_key,
			   sizeof(out->public_key));
		return;
	}
	identity_facts_probe(did, len, out);
}

/* The row of a DID the memo does not hold, then memoized. */
static void
identity_facts_probe(const char *did, size_t len, EclIdentityFacts *out)
{
	EclMemoValue mv;
	Datum		key;

	memset(out, 0, sizeof(*out));
	/* no stored DID contains NUL (or is empty) */
	if (len > 0 && memchr(did, '\0', len) == NULL)
	{
		key = PointerGetDatum(cstring_to_text_with_len(did, (int) len));
		if (!ecl_direct_scan(&identity_table, 1, &key, read_identity_row, out))
			identity_facts_spi(did, len, out);
		pfree(DatumGetPointer(key));
	}

	memset(&mv, 0, sizeof(mv));
	mv.flag = out->registered;
	mv.u.identity.revoked = out->revoked;
	mv.u.identity.has_key = out->has_key;
	memcpy(mv.u.identity.public_key, out->public_key,
		   sizeof(mv.u.identity.public_key));
	ecl_memo_put(ECL_MEMO_IDENTITY, did, len, "", 0, &mv);
}

/*
 * The revoked identities of a statement, in one read.
 *
 * Every host lookup asks whether its DID is revoked; a statement that meets
 * many distinct DIDs (ecl.check in a WHERE clause over a table of callers)
 * would probe ecl.identities once per DID on top of the lookup itself.
 * Revoked identities are few, so once a statement has probed
 * REVOKED_SET_AFTER DIDs, the set of revoked DIDs is read in one query and
 * answers the question for the rest of the statement (when there are more
 * than REVOKED_SET_MAX, the probes go on).  The set lives exactly as long as
 * the statement memo does (ecl_memo_generation), so it answers what the
 * memo would: the rows as of the statement.  A DID the memo already holds
 * is answered by the memo, so one statement never gives two answers.
 */
#define REVOKED_SET_AFTER 256
#define REVOKED_SET_MAX 4096

typedef enum
{
	REVOKED_SET_NONE,			/* counting probes */
	REVOKED_SET_LOADED,
	REVOKED_SET_UNUSABLE		/* too many revoked DIDs for this statement */
} RevokedSetState;

static struct
{
	uint64		generation;
	RevokedSetState state;
	int			probes;
	MemoryContext cxt;
	EclDidIndex dids;			/* when LOADED */
} revoked_set;

static SPIPlanPtr revoked_plan = NULL;

static void
work_revoked_set(void *arg)
{
	uint64		n;

	n = ecl_owner_select(&revoked_plan, "SELECT i.did FROM ecl.identities i"
						 " WHERE i.revoked",
						 0, NULL, NULL, REVOKED_SET_MAX + 1, false,
						 "revoked identities lookup");
	if (n > REVOKED_SET_MAX)
		return;

	if (revoked_set.cxt == NULL)
		revoked_set.cxt = AllocSetContextCreate(TopMemoryContext,
												"ecl revoked identities",
												ALLOCSET_SMALL_SIZES);
	MemoryContextReset(revoked_set.cxt);
	ecl_did_index_init(&revoked_set.dids, revoked_set.cxt, (uint32) n);
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i],
									  SPI_tuptable->tupdesc, 1, &isnull);
		text	   *t;
		bool		added;

		if (isnull)
			continue;
		t = DatumGetTextPP(d);
		ecl_did_index_enter_copy(&revoked_set.dids, VARDATA_ANY(t),
								 VARSIZE_ANY_EXHDR(t), &added);
	}
	revoked_set.state = REVOKED_SET_LOADED;
}

/* the statement's state of the revoked set, started afresh per statement */
static void
revoked_set_for_statement(void)
{
	uint64		generation = ecl_memo_generation();

	if (revoked_set.generation != generation)
	{
		revoked_set.generation = generation;
		revoked_set.state = REVOKED_SET_NONE;
		revoked_set.probes = 0;
	}
}

void
ecl_did_revoked_many_ahead(void)
{
	revoked_set_for_statement();
	if (revoked_set.probes < REVOKED_SET_AFTER)
		revoked_set.probes = REVOKED_SET_AFTER;
}

bool
ecl_did_revoked(const char *did, size_t len)
{
	EclIdentityFacts f;
	EclMemoValue mv;

	revoked_set_for_statement();
	if (ecl_memo_get(ECL_MEMO_IDENTITY, did, len, "", 0, &mv))
		return mv.u.identity.revoked;
	if (revoked_set.state == REVOKED_SET_NONE &&
		++revoked_set.probes > REVOKED_SET_AFTER)
	{
		/* loading sets LOADED; an error or too many rows leave it unused */
		revoked_set.state = REVOKED_SET_UNUSABLE;
		ecl_as_owner(work_revoked_set, NULL);
	}
	if (revoked_set.state == REVOKED_SET_LOADED)
		return ecl_did_index_find(&revoked_set.dids, did, (uint32) len) != NULL;

	identity_facts_probe(did, len, &f);
	return f.revoked;
}

/* ---------------------------------------------------------------------
 * The caller's identity
 * ---------------------------------------------------------------------
 */

/* A revoked identity is no identity, whichever way it was named. */
static char *
unless_revoked(char *did)
{
	if (did != NULL && ecl_did_revoked(did, strlen(did)))
	{
		elog(DEBUG1, "ecl: identity %s is revoked; the caller has no identity",
			 did);
		pfree(did);
		return NULL;
	}
	return did;
}

/*
 * The caller, in the order the docs give (identity.md): the DID
 * authenticated in this transaction, else the trusted claim, else the role
 * binding; a revoked DID from any of them is no identity.
 *
 * The token step runs first and unmemoized: it is a pointer check, and an
 * ecl.authenticate in the middle of a statement must be seen by the rows
 * after it.  The role binding, an index probe, is memoized per statement
 * (an RLS policy asks once per row); the revocation facts are memoized per
 * statement by ecl_identity_facts.
 */
char *
ecl_current_did(void)
{
	char		key[16];
	int			keylen;
	EclMemoValue mv;
	char	   *did;

	if (ecl_token_identity(&did))
		return unless_revoked(did);

	keylen = snprintf(key, sizeof(key), "%u", GetUserId());
	if (ecl_memo_get(ECL_MEMO_ROLE_DID, key, keylen, "", 0, &mv))
		return mv.u.text ? pstrdup(mv.u.text) : NULL;

	did = unless_revoked(ecl_did_for_role(GetUserId()));

	memset(&mv, 0, sizeof(mv));
	mv.u.text = did;			/* copied into the memo */
	ecl_memo_put(ECL_MEMO_ROLE_DID, key, keylen, "", 0, &mv);
	return did;
}

/*
 * ecl.current_did() is not declared SECURITY DEFINER: inside such a function
 * current_user is the owner, not the caller.  It reads the caller's role
 * first and then looks the binding up as the owner.
 */
Datum
ecl_current_did_sql(PG_FUNCTION_ARGS)
{
	char	   *did = ecl_current_did();

	if (did == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(did));
}

/* ---------------------------------------------------------------------
 * did:key helpers
 * ---------------------------------------------------------------------
 */

Datum
ecl_did_key_public_key(PG_FUNCTION_ARGS)
{
	text	   *did = PG_GETARG_TEXT_PP(0);
	uint8_t		pk[ECL_ED25519_PUBLIC_KEY_BYTES];
	ecl_did_key_status status;
	bytea	   *result;

	status = ecl_did_key_decode(VARDATA_ANY(did), VARSIZE_ANY_EXHDR(did), pk);
	if (status != ECL_DID_KEY_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid did:key \"%s\": %s",
						text_to_cstring(did),
						ecl_did_key_status_message(status))));

	result = (bytea *) palloc(VARHDRSZ + sizeof(pk));
	SET_VARSIZE(result, VARHDRSZ + sizeof(pk));
	memcpy(VARDATA(result), pk, sizeof(pk));
	PG_RETURN_BYTEA_P(result);
}

Datum
ecl_did_key_from_public_key(PG_FUNCTION_ARGS)
{
	bytea	   *pk = PG_GETARG_BYTEA_PP(0);
	char		did[ECL_DID_KEY_BUFSIZE];

	if (VARSIZE_ANY_EXHDR(pk) != ECL_ED25519_PUBLIC_KEY_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an Ed25519 public key has %d bytes, got %d",
						ECL_ED25519_PUBLIC_KEY_BYTES,
						(int) VARSIZE_ANY_EXHDR(pk))));
	if (ecl_did_key_encode((const uint8_t *) VARDATA_ANY(pk), did,
						   sizeof(did)) == 0)
		elog(ERROR, "did:key buffer too small");
	PG_RETURN_TEXT_P(cstring_to_text(did));
}

/* ---------------------------------------------------------------------
 * ecl.generate_identity()
 * ---------------------------------------------------------------------
 */

static bytea *
bytea_from(const unsigned char *data, size_t len)
{
	bytea	   *b = (bytea *) palloc(VARHDRSZ + len);

	SET_VARSIZE(b, VARHDRSZ + len);
	memcpy(VARDATA(b), data, len);
	return b;
}

static void
register_identity(const char *did, bytea *public_key)
{
	Oid			argtypes[2] = {TEXTOID, BYTEAOID};
	Datum		args[2];
	int			rc;

	args[0] = CStringGetTextDatum(did);
	args[1] = PointerGetDatum(public_key);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_with_args("INSERT INTO ecl.identities (did, public_key)"
							   " VALUES ($1, $2)",
							   2, argtypes, args, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "could not register identity: %s",
			 SPI_result_code_string(rc));
	SPI_finish();
}

/*
 * Declared SECURITY DEFINER (ecl_admin only).  The secret key exists in this
 * backend's memory only while the result row is built and sent.
 */
Datum
ecl_generate_identity(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Tuplestorestate *tupstore;
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	char		did[ECL_DID_KEY_BUFSIZE];
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	bytea	   *public_key;
	bytea	   *secret_key;

	tupstore = ecl_begin_materialized_srf(fcinfo, &tupdesc);
	ecl_sodium_init();
	StaticAssertStmt(crypto_sign_PUBLICKEYBYTES == ECL_ED25519_PUBLIC_KEY_BYTES,
					 "libsodium and did:key agree on the key size");
	if (crypto_sign_keypair(pk, sk) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not generate an Ed25519 key pair")));
	if (ecl_did_key_encode(pk, did, sizeof(did)) == 0)
		elog(ERROR, "did:key buffer too small");

	public_key = bytea_from(pk, sizeof(pk));
	secret_key = bytea_from(sk, sizeof(sk));
	sodium_memzero(sk, sizeof(sk));

	register_identity(did, public_key);

	values[0] = CStringGetTextDatum(did);
	values[1] = PointerGetDatum(public_key);
	values[2] = PointerGetDatum(secret_key);
	tuplestore_putvalues(tupstore, tupdesc, values, nulls);

	/* the tuple store holds its own copy */
	sodium_memzero(VARDATA(secret_key), crypto_sign_SECRETKEYBYTES);
	return (Datum) 0;
}
