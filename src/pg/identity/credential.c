/*
 * credential.c — signed credentials (docs/sql-api.md, "The table host").
 *
 *   ecl.issue_credential(subject, schema, issuer_did, issuer_secret_key,
 *                        expires_at)  signs with Ed25519 and stores the row
 *   ecl.verify_credential(id)         the validity rule of identity.h
 *   ecl.has_credential(did, schema)   any valid credential of that schema
 *   ecl_credential_valid_for()        the same for the host's has_credential
 *
 * The signed message, version 1, is the UTF-8 text
 *
 *   "ecl-credential-v1\n"
 *   <n>:<subject>\n        n = length of the field in bytes, in decimal
 *   <n>:<schema>\n
 *   <n>:<issuer_did>\n
 *   <issued_at>\n          Unix epoch microseconds, decimal (may be negative)
 *   <expires_at>\n         the same, or "-" when the credential never expires
 *
 * (timestamps 'infinity' / '-infinity' are written as those words).  The
 * length prefixes keep the encoding unambiguous whatever the fields contain.
 * Signing the time fields means that moving issued_at or expires_at in the
 * table invalidates the signature, just as changing subject or schema does.
 */
#include "postgres.h"

#include <sodium.h>

#include "catalog/pg_type.h"
#include "common/int.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "direct_lookup.h"
#include "statement_memo.h"
#include "ecl/did_key.h"
#include "identity.h"
#include "owner_spi.h"
#include "signature_cache.h"

PG_FUNCTION_INFO_V1(ecl_issue_credential);
PG_FUNCTION_INFO_V1(ecl_verify_credential);
PG_FUNCTION_INFO_V1(ecl_has_credential_sql);

#define CREDENTIAL_MESSAGE_TAG "ecl-credential-v1\n"

/* microseconds from 1970-01-01 to 2000-01-01 (PostgreSQL's epoch) */
#define UNIX_TO_PG_EPOCH_USECS \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

/* What a validity decision needs to know about one credential row. */
typedef struct CredentialFacts
{
	const char *subject;
	const char *schema;
	const char *issuer;			/* NULL: no issuer */
	TimestampTz issued_at;
	bool		expires;
	TimestampTz expires_at;
	bool		revoked;
	TimestampTz revoked_at;
	bytea	   *signature;		/* NULL: unsigned */
	bool		issuer_registered;
	bool		issuer_revoked;
	bytea	   *issuer_key;		/* NULL: none stored */
	bool		subject_revoked;
} CredentialFacts;

/*
 * The columns every validity query selects, in this order; the issuer's and
 * the subject's identity rows are joined so one query answers everything.
 */
#define CREDENTIAL_FACTS_SELECT \
	"SELECT c.subject_did, c.schema, c.issuer_did, c.issued_at," \
	"       c.expires_at, c.revoked_at, c.signature," \
	"       i.did IS NOT NULL, i.revoked, i.public_key," \
	"       s.revoked" \
	"  FROM ecl.credentials c" \
	"  LEFT JOIN ecl.identities i" \
	"    ON i.did OPERATOR(pg_catalog.=) c.issuer_did" \
	"  LEFT JOIN ecl.identities s" \
	"    ON s.did OPERATOR(pg_catalog.=) c.subject_did"

/* Append a timestamp as Unix microseconds; false if it cannot be written. */
static bool
append_unix_micros(StringInfo buf, TimestampTz ts)
{
	int64		micros;

	if (TIMESTAMP_IS_NOBEGIN(ts))
		appendStringInfoString(buf, "-infinity");
	else if (TIMESTAMP_IS_NOEND(ts))
		appendStringInfoString(buf, "infinity");
	else if (pg_add_s64_overflow(ts, UNIX_TO_PG_EPOCH_USECS, &micros))
		return false;
	else
	{
		/* pg_lltoa, not a format: a scan checks thousands of these */
		char		digits[MAXINT8LEN + 1];

		appendBinaryStringInfo(buf, digits, pg_lltoa(micros, digits));
	}
	appendStringInfoChar(buf, '\n');
	return true;
}

static void
append_field(StringInfo buf, const char *value)
{
	size_t		len = strlen(value);
	char		digits[MAXINT8LEN + 1];

	appendBinaryStringInfo(buf, digits, pg_lltoa((int64) len, digits));
	appendStringInfoChar(buf, ':');
	appendBinaryStringInfo(buf, value, (int) len);
	appendStringInfoChar(buf, '\n');
}

/* Build the version 1 message into buf; false if a time is out of range. */
static bool
credential_message(StringInfo buf, const char *subject, const char *schema,
				   const char *issuer, TimestampTz issued_at,
				   bool expires, TimestampTz expires_at)
{
	appendStringInfoString(buf, CREDENTIAL_MESSAGE_TAG);
	append_field(buf, subject);
	append_field(buf, schema);
	append_field(buf, issuer);
	if (!append_unix_micros(buf, issued_at))
		return false;
	if (!expires)
	{
		appendStringInfoString(buf, "-\n");
		return true;
	}
	return append_unix_micros(buf, expires_at);
}

/*
 * The issuer's verification key: the stored public key, else the key a
 * did:key encodes.  False when there is none.
 */
static bool
issuer_public_key(const char *issuer, bytea *stored,
				  unsigned char pk[crypto_sign_PUBLICKEYBYTES])
{
	if (stored != NULL)
	{
		if (VARSIZE_ANY_EXHDR(stored) != crypto_sign_PUBLICKEYBYTES)
			return false;
		memcpy(pk, VARDATA_ANY(stored), crypto_sign_PUBLICKEYBYTES);
		return true;
	}
	return ecl_did_key_decode(issuer, strlen(issuer), pk) == ECL_DID_KEY_OK;
}

/*
 * Verified signatures, per backend.  Ed25519 verification is the most
 * expensive step of has_credential (tens of microseconds, more than the
 * lookup itself), and an RLS policy or WHERE clause asks about the same
 * credentials statement after statement.  The answer depends only on the
 * bytes (public key, message, signature), so it is remembered under the
 * BLAKE2b-256 digest of exactly those bytes (key and signature have fixed
 * lengths, so the concatenation is unambiguous).  An UPDATE of any signed
 * field, of the signature or of the issuer's key yields another digest and
 * a fresh verification; revocation, expiry and the revoked flags of the
 * subject and the issuer are not part of the digest and are checked first,
 * on every call, so a cached verification never outlives a revocation.  The table is
 * bounded and simply emptied when full.  Behind it, a table in shared memory
 * holds the verifications of every backend (signature_cache.h).
 */
#define SIGNATURE_CACHE_MAX 32768

StaticAssertDecl(crypto_generichash_BYTES == ECL_SIGNATURE_DIGEST_BYTES,
				 "the shared cache keeps BLAKE2b-256 digests");

typedef struct VerifiedSignature
{
	uint8		digest[crypto_generichash_BYTES];	/* key */
	bool		valid;
} VerifiedSignature;

static HTAB *signature_cache = NULL;

static HTAB *
signature_cache_create(void)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = crypto_generichash_BYTES;
	ctl.entrysize = sizeof(VerifiedSignature);
	return hash_create("ecl verified signatures", 1024, &ctl,
					   HASH_ELEM | HASH_BLOBS);
}

static bool
signature_verifies_cached(const unsigned char *signature,
						  const unsigned char *msg, size_t msglen,
						  const unsigned char pk[crypto_sign_PUBLICKEYBYTES])
{
	crypto_generichash_state state;
	uint8		digest[crypto_generichash_BYTES];
	VerifiedSignature *entry;
	bool		valid;

	crypto_generichash_init(&state, NULL, 0, sizeof(digest));
	crypto_generichash_update(&state, pk, crypto_sign_PUBLICKEYBYTES);
	crypto_generichash_update(&state, signature, crypto_sign_BYTES);
	crypto_generichash_update(&state, msg, msglen);
	crypto_generichash_final(&state, digest, sizeof(digest));

	if (signature_cache == NULL)
		signature_cache = signature_cache_create();
	entry = hash_search(signature_cache, digest, HASH_FIND, NULL);
	if (entry != NULL)
		return entry->valid;

	/* another backend's verification (signature_cache.h), else our own */
	if (!ecl_signature_cache_get(digest, &valid))
	{
		valid = crypto_sign_verify_detached(signature, msg, msglen, pk) == 0;
		ecl_signature_cache_put(digest, valid);
	}

	if (hash_get_num_entries(signature_cache) >= SIGNATURE_CACHE_MAX)
	{
		hash_destroy(signature_cache);
		signature_cache = signature_cache_create();
	}
	entry = hash_search(signature_cache, digest, HASH_ENTER, NULL);
	entry->valid = valid;
	return valid;
}

static bool
credential_signature_verifies(const CredentialFacts *c)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	StringInfoData msg;
	bool		ok;

	if (c->signature == NULL)
		return true;			/* unsigned: trusted because it is in the table */
	if (c->issuer == NULL || !c->issuer_registered || c->issuer_revoked)
		return false;
	if (VARSIZE_ANY_EXHDR(c->signature) != crypto_sign_BYTES)
		return false;
	if (!issuer_public_key(c->issuer, c->issuer_key, pk))
		return false;

	initStringInfo(&msg);
	if (!credential_message(&msg, c->subject, c->schema, c->issuer,
							c->issued_at, c->expires, c->expires_at))
		ok = false;
	else
		ok = signature_verifies_cached((const unsigned char *) VARDATA_ANY(c->signature),
									   (const unsigned char *) msg.data,
									   msg.len, pk);
	pfree(msg.data);
	return ok;
}

/*
 * A revoked identity loses its credentials, as subject and as issuer, signed
 * or not; this is decided before the signature, so no verified signature
 * remembered from before the revocation can count.
 */
static bool
credential_valid(const CredentialFacts *c, TimestampTz now)
{
	if (c->subject_revoked || (c->issuer != NULL && c->issuer_revoked))
		return false;
	if (c->revoked && c->revoked_at <= now)
		return false;
	if (c->expires && c->expires_at <= now)
		return false;
	return credential_signature_verifies(c);
}

/* Read one row of CREDENTIAL_FACTS_SELECT (inside SPI). */
static void
read_credential_facts(HeapTuple tuple, TupleDesc desc, CredentialFacts *c)
{
	bool		isnull;
	Datum		d;

	c->subject = SPI_getvalue(tuple, desc, 1);
	c->schema = SPI_getvalue(tuple, desc, 2);
	c->issuer = SPI_getvalue(tuple, desc, 3);	/* NULL when SQL NULL */

	c->issued_at = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 4, &isnull));
	d = SPI_getbinval(tuple, desc, 5, &isnull);
	c->expires = !isnull;
	c->expires_at = isnull ? 0 : DatumGetTimestampTz(d);
	d = SPI_getbinval(tuple, desc, 6, &isnull);
	c->revoked = !isnull;
	c->revoked_at = isnull ? 0 : DatumGetTimestampTz(d);
	d = SPI_getbinval(tuple, desc, 7, &isnull);
	c->signature = isnull ? NULL : DatumGetByteaPP(d);

	c->issuer_registered = DatumGetBool(SPI_getbinval(tuple, desc, 8, &isnull));
	d = SPI_getbinval(tuple, desc, 9, &isnull);
	c->issuer_revoked = !isnull && DatumGetBool(d);
	d = SPI_getbinval(tuple, desc, 10, &isnull);
	c->issuer_key = isnull ? NULL : DatumGetByteaPP(d);
	d = SPI_getbinval(tuple, desc, 11, &isnull);
	c->subject_revoked = !isnull && DatumGetBool(d);
}

/* ---------------------------------------------------------------------
 * Validity lookups for the host and for ecl.verify_credential
 * ---------------------------------------------------------------------
 */

static SPIPlanPtr valid_for_plan = NULL;
static SPIPlanPtr by_id_plan = NULL;

typedef struct ValidCredentialQuery
{
	SPIPlanPtr *plan;
	const char *query;
	int			nargs;
	Oid		   *argtypes;
	Datum	   *args;
	TimestampTz now;
	bool		found;
} ValidCredentialQuery;

static void
work_any_valid_credential(void *arg)
{
	ValidCredentialQuery *q = (ValidCredentialQuery *) arg;
	uint64		n = ecl_owner_select(q->plan, q->query, q->nargs, q->argtypes,
									 q->args, 0, false, "credential lookup");

	for (uint64 i = 0; i < n && !q->found; i++)
	{
		CredentialFacts c;

		read_credential_facts(SPI_tuptable->vals[i],
							  SPI_tuptable->tupdesc, &c);
		q->found = credential_valid(&c, q->now);
	}
}

/*
 * Run plan with args as the schema owner and return whether any row it
 * yields is a valid credential.
 */
static bool
any_valid_credential(SPIPlanPtr *plan, const char *query, int nargs,
					 Oid *argtypes, Datum *args, TimestampTz now)
{
	ValidCredentialQuery q;

	q.plan = plan;
	q.query = query;
	q.nargs = nargs;
	q.argtypes = argtypes;
	q.args = args;
	q.now = now;
	q.found = false;
	ecl_sodium_init();
	ecl_as_owner(work_any_valid_credential, &q);
	return q.found;
}

/*
 * The same decision by direct index probes (direct_lookup.h) instead of
 * SPI: ecl.credentials through (subject_did, schema), and for a signed
 * credential the issuer's row of ecl.identities.  Same snapshot as the
 * read-only SPI query (the statement's), same validity rule.
 */
static const char *const credential_columns[] = {
	"subject_did", "schema", "issuer_did", "issued_at", "expires_at",
	"revoked_at", "signature", NULL
};
static EclDirectTable credential_table =
	ECL_DIRECT_TABLE("credentials", "credentials_subject_schema_lookup_idx",
					 credential_columns);

typedef struct DirectCredentialSearch
{
	TimestampTz now;
	bool		found;
} DirectCredentialSearch;

/*
 * The issuer's row, memoized for the statement (identity.h): a scan over
 * many subjects meets the same few issuers again and again.
 */
static void
issuer_facts(CredentialFacts *c)
{
	EclIdentityFacts f;

	ecl_identity_facts(c->issuer, strlen(c->issuer), &f);
	c->issuer_registered = f.registered;
	c->issuer_revoked = f.revoked;
	c->issuer_key = NULL;
	if (f.has_key)
	{
		c->issuer_key = palloc(VARHDRSZ + sizeof(f.public_key));
		SET_VARSIZE(c->issuer_key, VARHDRSZ + sizeof(f.public_key));
		memcpy(VARDATA(c->issuer_key), f.public_key, sizeof(f.public_key));
	}
}

/* Neither revoked nor expired at now (one row of credential_table)? */
static bool
credential_row_live(Datum *values, bool *isnull, TimestampTz now)
{
	return (isnull[5] || DatumGetTimestampTz(values[5]) > now) &&
		(isnull[4] || DatumGetTimestampTz(values[4]) > now);
}

/*
 * One row of credential_table, for a subject found unrevoked: valid at now?
 * Allocates in CurrentMemoryContext.
 */
static bool
credential_row_valid(Datum *values, bool *isnull, TimestampTz now)
{
	CredentialFacts c;

	/* what the SQL query filters out before reading the row */
	if (!credential_row_live(values, isnull, now))
		return false;
	memset(&c, 0, sizeof(c));
	c.revoked = !isnull[5];
	c.revoked_at = c.revoked ? DatumGetTimestampTz(values[5]) : 0;
	c.expires = !isnull[4];
	c.expires_at = c.expires ? DatumGetTimestampTz(values[4]) : 0;

	c.subject = TextDatumGetCString(values[0]);
	c.schema = TextDatumGetCString(values[1]);
	c.issuer = isnull[2] ? NULL : TextDatumGetCString(values[2]);
	c.issued_at = DatumGetTimestampTz(values[3]);
	/* read while the row is: no copy */
	c.signature = isnull[6] ? NULL : DatumGetByteaPP(values[6]);
	if (c.issuer != NULL)
		issuer_facts(&c);
	return credential_valid(&c, now);
}

static bool
check_credential_row(Datum *values, bool *isnull, void *arg)
{
	DirectCredentialSearch *search = (DirectCredentialSearch *) arg;

	/* the subject was found unrevoked before the scan */
	search->found = credential_row_valid(values, isnull, search->now);
	return !search->found;
}

static bool
direct_valid_for(const char *subject, const char *schema, TimestampTz now,
				 bool *found)
{
	DirectCredentialSearch search;
	Datum		keys[2];

	ecl_sodium_init();
	memset(&search, 0, sizeof(search));
	search.now = now;
	keys[0] = CStringGetTextDatum(subject);
	keys[1] = CStringGetTextDatum(schema);
	if (!ecl_direct_scan(&credential_table, 2, keys, check_credential_row,
						 &search))
		return false;
	*found = search.found;
	return true;
}

bool
ecl_credential_valid_for(const char *subject, const char *schema,
						 TimestampTz now)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TIMESTAMPTZOID};
	Datum		args[3];
	bool		found;

	/* the WHERE clause only narrows; credential_valid decides */
	static const char query[] =
		CREDENTIAL_FACTS_SELECT
		" WHERE c.subject_did OPERATOR(pg_catalog.=) $1"
		"   AND c.schema OPERATOR(pg_catalog.=) $2"
		"   AND (c.revoked_at IS NULL OR c.revoked_at OPERATOR(pg_catalog.>) $3)"
		"   AND (c.expires_at IS NULL OR c.expires_at OPERATOR(pg_catalog.>) $3)";

	/* a revoked subject has no credentials; no need to look at them */
	if (ecl_did_revoked(subject, strlen(subject)))
		return false;

	/* direct index probes; SPI only if they cannot run */
	if (direct_valid_for(subject, schema, now, &found))
		return found;

	args[0] = CStringGetTextDatum(subject);
	args[1] = CStringGetTextDatum(schema);
	args[2] = TimestampTzGetDatum(now);
	return any_valid_credential(&valid_for_plan, query, 3, argtypes, args, now);
}

/* ecl_credential_holders: one row of the scan over every credential */
typedef struct HolderScan
{
	const char *schema;
	size_t		schema_len;
	TimestampTz now;
	EclCredentialHolderFn fn;
	void	   *arg;
	MemoryContext row_cxt;
} HolderScan;

static bool
report_holder(Datum *values, bool *isnull, void *arg)
{
	HolderScan *scan = (HolderScan *) arg;
	text	   *schema = DatumGetTextPP(values[1]);
	text	   *subject;
	MemoryContext old;
	bool		valid;

	if (VARSIZE_ANY_EXHDR(schema) != scan->schema_len ||
		memcmp(VARDATA_ANY(schema), scan->schema, scan->schema_len) != 0)
		return true;

	/* revoked or expired: nothing else to ask (the probe filters these too) */
	if (!credential_row_live(values, isnull, scan->now))
		return true;

	old = MemoryContextSwitchTo(scan->row_cxt);
	subject = DatumGetTextPP(values[0]);
	valid = !ecl_did_revoked(VARDATA_ANY(subject), VARSIZE_ANY_EXHDR(subject)) &&
		credential_row_valid(values, isnull, scan->now);
	MemoryContextSwitchTo(old);
	/* in the caller's context: what fn keeps must outlive this row */
	if (valid)
		scan->fn(VARDATA_ANY(subject), VARSIZE_ANY_EXHDR(subject), scan->arg);
	MemoryContextReset(scan->row_cxt);
	return true;
}

bool
ecl_credential_holders(const char *schema, TimestampTz now, double max_rows,
					   EclCredentialHolderFn fn, void *arg)
{
	HolderScan	scan;
	bool		complete;

	ecl_sodium_init();
	ecl_did_revoked_many_ahead();
	scan.schema = schema;
	scan.schema_len = strlen(schema);
	scan.now = now;
	scan.fn = fn;
	scan.arg = arg;
	scan.row_cxt = AllocSetContextCreate(CurrentMemoryContext,
										 "ecl credential holders",
										 ALLOCSET_SMALL_SIZES);
	complete = ecl_direct_scan_all(&credential_table, max_rows,
								   report_holder, &scan);
	MemoryContextDelete(scan.row_cxt);
	return complete;
}

bool
ecl_credential_valid(int64 credential_id, TimestampTz now)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1];
	static const char query[] =
		CREDENTIAL_FACTS_SELECT
		" WHERE c.id OPERATOR(pg_catalog.=) $1";

	args[0] = Int64GetDatum(credential_id);
	return any_valid_credential(&by_id_plan, query, 1, argtypes, args, now);
}

Datum
ecl_verify_credential(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(ecl_credential_valid(PG_GETARG_INT64(0),
										GetCurrentTransactionStartTimestamp()));
}

/* SQL twin of the ECL built-in has_credential(did, schema). */
Datum
ecl_has_credential_sql(PG_FUNCTION_ARGS)
{
	char	   *subject = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *schema = text_to_cstring(PG_GETARG_TEXT_PP(1));

	PG_RETURN_BOOL(ecl_credential_valid_for(subject, schema,
											GetCurrentTransactionStartTimestamp()));
}

/* ---------------------------------------------------------------------
 * ecl.issue_credential
 * ---------------------------------------------------------------------
 */

static void
require_argument(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
}

/*
 * Look up an identity; false when it does not exist.  *public_key is NULL
 * when none is stored.  Runs inside SPI; results live in the SPI context.
 */
static bool
lookup_identity(const char *did, bool *revoked, bytea **public_key)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	bool		isnull;
	Datum		d;
	int			rc;

	args[0] = CStringGetTextDatum(did);
	rc = SPI_execute_with_args("SELECT revoked, public_key FROM ecl.identities"
							   " WHERE did OPERATOR(pg_catalog.=) $1",
							   1, argtypes, args, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "identity lookup failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		return false;
	*revoked = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
										  SPI_tuptable->tupdesc, 1, &isnull));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	*public_key = isnull ? NULL : DatumGetByteaPP(d);
	return true;
}

/*
 * Check that secret_key belongs to the issuer and sign msg with it.  The key
 * pair is re-derived from the seed (the first half of a libsodium secret key),
 * so a secret key whose stored public half was swapped is caught too.
 */
static void
sign_as_issuer(const char *issuer, bytea *secret_key,
			   const unsigned char expected_pk[crypto_sign_PUBLICKEYBYTES],
			   StringInfo msg,
			   unsigned char signature[crypto_sign_BYTES])
{
	unsigned char seed[crypto_sign_SEEDBYTES];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	bool		matches;

	crypto_sign_ed25519_sk_to_seed(seed,
								   (const unsigned char *) VARDATA_ANY(secret_key));
	crypto_sign_seed_keypair(pk, sk, seed);
	sodium_memzero(seed, sizeof(seed));

	matches = sodium_memcmp(pk, expected_pk, sizeof(pk)) == 0;
	if (matches)
		crypto_sign_detached(signature, NULL, (const unsigned char *) msg->data,
							 msg->len, sk);
	sodium_memzero(sk, sizeof(sk));

	if (!matches)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("secret key does not belong to issuer \"%s\"", issuer),
				 errdetail("The public key derived from the secret key differs from the issuer's registered key.")));
}

/* Declared SECURITY DEFINER (ecl_admin only); returns the new id. */
Datum
ecl_issue_credential(PG_FUNCTION_ARGS)
{
	char	   *subject;
	char	   *schema;
	char	   *issuer;
	bytea	   *secret_key;
	bool		expires = !PG_ARGISNULL(4);
	TimestampTz expires_at = expires ? PG_GETARG_TIMESTAMPTZ(4) : 0;
	TimestampTz issued_at = GetCurrentTransactionStartTimestamp();
	bool		issuer_revoked;
	bytea	   *stored_key;
	unsigned char issuer_pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char signature[crypto_sign_BYTES];
	StringInfoData msg;
	Oid			argtypes[6] = {TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID,
	TIMESTAMPTZOID, BYTEAOID};
	Datum		args[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	bytea	   *signature_datum;
	bool		isnull;
	int64		id;
	int			rc;

	require_argument(fcinfo, 0, "subject");
	require_argument(fcinfo, 1, "schema");
	require_argument(fcinfo, 2, "issuer_did");
	require_argument(fcinfo, 3, "issuer_secret_key");
	subject = text_to_cstring(PG_GETARG_TEXT_PP(0));
	schema = text_to_cstring(PG_GETARG_TEXT_PP(1));
	issuer = text_to_cstring(PG_GETARG_TEXT_PP(2));
	secret_key = PG_GETARG_BYTEA_PP(3);

	if (schema[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("credential schema must not be empty")));
	if (VARSIZE_ANY_EXHDR(secret_key) != crypto_sign_SECRETKEYBYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an Ed25519 secret key has %d bytes, got %d",
						crypto_sign_SECRETKEYBYTES,
						(int) VARSIZE_ANY_EXHDR(secret_key)),
				 errhint("Use the secret_key returned by ecl.generate_identity().")));

	ecl_sodium_init();
	initStringInfo(&msg);
	if (!credential_message(&msg, subject, schema, issuer, issued_at,
							expires, expires_at))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("expires_at is out of range for a credential")));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	{
		bool		subject_revoked;
		bytea	   *subject_key;

		if (!lookup_identity(subject, &subject_revoked, &subject_key))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("identity \"%s\" does not exist", subject)));
	}
	if (!lookup_identity(issuer, &issuer_revoked, &stored_key))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("issuer identity \"%s\" does not exist", issuer)));
	if (issuer_revoked)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("issuer identity \"%s\" is revoked", issuer)));
	if (!issuer_public_key(issuer, stored_key, issuer_pk))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("issuer identity \"%s\" has no Ed25519 public key", issuer),
				 errhint("Register the key in ecl.identities.public_key or use a did:key issuer.")));

	sign_as_issuer(issuer, secret_key, issuer_pk, &msg, signature);

	signature_datum = (bytea *) palloc(VARHDRSZ + crypto_sign_BYTES);
	SET_VARSIZE(signature_datum, VARHDRSZ + crypto_sign_BYTES);
	memcpy(VARDATA(signature_datum), signature, crypto_sign_BYTES);

	args[0] = CStringGetTextDatum(subject);
	args[1] = CStringGetTextDatum(schema);
	args[2] = CStringGetTextDatum(issuer);
	args[3] = TimestampTzGetDatum(issued_at);
	args[4] = TimestampTzGetDatum(expires_at);
	if (!expires)
		nulls[4] = 'n';
	args[5] = PointerGetDatum(signature_datum);

	rc = SPI_execute_with_args("INSERT INTO ecl.credentials"
							   " (subject_did, schema, issuer_did, issued_at,"
							   "  expires_at, signature)"
							   " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
							   6, argtypes, args, nulls, false, 0);
	if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "could not store credential: %s",
			 SPI_result_code_string(rc));
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									 SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();

	PG_RETURN_INT64(id);
}
