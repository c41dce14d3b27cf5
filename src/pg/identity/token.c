/*
 * token.c — the caller's identity per request (see token.h).
 *
 *   ecl.authenticate(token)   verify a compact JWS (alg EdDSA, Ed25519) and
 *                             make its sub the caller until the transaction
 *                             ends; every refusal is SQLSTATE 28000
 *   ecl.sign_token(...)       make such a token from a generate_identity key
 *
 * libsodium does the signatures, base64url and the replay-table key hash;
 * PostgreSQL's JSON parser and jsonb read the header and the claims, and
 * escape_json writes them.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>
#include <sodium.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/jsonapi.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "ecl/did_key.h"
#include "ecl_pg.h"
#include "statement_memo.h"
#include "identity.h"
#include "owner_spi.h"
#include "token.h"

PG_FUNCTION_INFO_V1(ecl_authenticate);
PG_FUNCTION_INFO_V1(ecl_sign_token);

char	   *ecl_token_audience = NULL;
int			ecl_token_max_lifetime = 3600;
int			ecl_token_leeway = 30;
int			ecl_token_replay_capacity = 65536;
char	   *ecl_claims_setting = NULL;
char	   *ecl_claims_did_field = NULL;

/* Longer tokens are refused before any decoding (a DoS bound, not a rule). */
#define TOKEN_MAX_LENGTH 8192
/* A sub longer than this is refused as malformed. */
#define SUB_MAX_LENGTH 1024

/* ---------------------------------------------------------------------
 * The authenticated DID of the current transaction
 * ---------------------------------------------------------------------
 */

static char *auth_did = NULL;	/* TopMemoryContext; NULL = none */
static LocalTransactionId auth_lxid = InvalidLocalTransactionId;
static int	auth_nest_level = 0;	/* subtransaction level that set it */

static void
forget_identity(void)
{
	if (auth_did != NULL)
	{
		pfree(auth_did);
		auth_did = NULL;
		/* the statement memo may hold the DID as the role's caller */
		ecl_memo_invalidate();
	}
	auth_lxid = InvalidLocalTransactionId;
	auth_nest_level = 0;
}

static void
token_xact_callback(XactEvent event, void *arg)
{
	if (ecl_xact_event_ends(event))
		forget_identity();
}

/*
 * An identity set inside a subtransaction that rolls back is forgotten, as a
 * SET LOCAL made there would be: ROLLBACK TO SAVEPOINT (or a PL/pgSQL
 * exception block) undoes the authenticate.  A committed subtransaction
 * hands it to its parent.
 */
static void
token_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	int			level;

	if (auth_did == NULL)
		return;
	level = GetCurrentTransactionNestLevel();
	if (event == SUBXACT_EVENT_ABORT_SUB && auth_nest_level >= level)
		forget_identity();
	else if (event == SUBXACT_EVENT_COMMIT_SUB && auth_nest_level >= level)
		auth_nest_level = level - 1;
}

static const char *
authenticated_did(void)
{
	if (auth_did != NULL && auth_lxid == ecl_current_lxid())
		return auth_did;
	return NULL;
}

/* ---------------------------------------------------------------------
 * The replay table (shared memory)
 * ---------------------------------------------------------------------
 */

#define ECL_TOKEN_TRANCHE "ecl_token_replay"

typedef struct ReplayKey
{
	uint8		hash[crypto_generichash_BYTES];	/* of sub, NUL, jti */
} ReplayKey;

typedef struct ReplayEntry
{
	ReplayKey	key;
	TimestampTz until;			/* exp + leeway: refused as expired after */
} ReplayEntry;

typedef struct ReplayShared
{
	LWLock	   *lock;
} ReplayShared;

static ReplayShared *replay_shared = NULL;
static HTAB *replay_table = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
token_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(add_size(MAXALIGN(sizeof(ReplayShared)),
									hash_estimate_size(ecl_token_replay_capacity,
													   sizeof(ReplayEntry))));
	RequestNamedLWLockTranche(ECL_TOKEN_TRANCHE, 1);
}

static void
token_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	replay_shared = ShmemInitStruct("ecl_token_replay", sizeof(ReplayShared),
									&found);
	if (!found)
		replay_shared->lock = &(GetNamedLWLockTranche(ECL_TOKEN_TRANCHE))->lock;
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(ReplayKey);
	info.entrysize = sizeof(ReplayEntry);
	replay_table = ShmemInitHash("ecl_token_replay jti",
								 ecl_token_replay_capacity,
								 ecl_token_replay_capacity,
								 &info, HASH_ELEM | HASH_BLOBS);
	LWLockRelease(AddinShmemInitLock);
}

typedef enum ReplayResult
{
	REPLAY_RECORDED,
	REPLAY_SEEN,
	REPLAY_FULL,
	REPLAY_UNAVAILABLE
} ReplayResult;

/*
 * Record (sub, jti) until the token's end.  A full table first drops the
 * entries whose tokens have expired (those tokens are refused as expired
 * anyway); if it is still full the token is refused, never accepted
 * unrecorded.
 */
static ReplayResult
replay_record(const char *sub, const char *jti, size_t jtilen,
			  TimestampTz until, TimestampTz now)
{
	ReplayKey	key;
	crypto_generichash_state st;
	ReplayEntry *e;
	bool		found;
	ReplayResult result;

	if (replay_shared == NULL || replay_table == NULL)
		return REPLAY_UNAVAILABLE;

	crypto_generichash_init(&st, NULL, 0, sizeof(key.hash));
	crypto_generichash_update(&st, (const unsigned char *) sub, strlen(sub) + 1);
	crypto_generichash_update(&st, (const unsigned char *) jti, jtilen);
	crypto_generichash_final(&st, key.hash, sizeof(key.hash));

	LWLockAcquire(replay_shared->lock, LW_EXCLUSIVE);
	e = (ReplayEntry *) hash_search(replay_table, &key, HASH_FIND, NULL);
	if (e != NULL)
	{
		if (e->until > now)
			result = REPLAY_SEEN;
		else
		{
			e->until = until;
			result = REPLAY_RECORDED;
		}
	}
	else
	{
		if (hash_get_num_entries(replay_table) >= ecl_token_replay_capacity)
		{
			HASH_SEQ_STATUS seq;
			ReplayEntry *old;

			hash_seq_init(&seq, replay_table);
			while ((old = (ReplayEntry *) hash_seq_search(&seq)) != NULL)
			{
				if (old->until <= now)
					hash_search(replay_table, &old->key, HASH_REMOVE, NULL);
			}
		}
		if (hash_get_num_entries(replay_table) >= ecl_token_replay_capacity)
			result = REPLAY_FULL;
		else
		{
			e = (ReplayEntry *) hash_search(replay_table, &key, HASH_ENTER_NULL,
											&found);
			if (e == NULL)
				result = REPLAY_FULL;
			else
			{
				e->until = until;
				result = REPLAY_RECORDED;
			}
		}
	}
	LWLockRelease(replay_shared->lock);
	return result;
}

void
ecl_token_init(void)
{
	RegisterXactCallback(token_xact_callback, NULL);
	RegisterSubXactCallback(token_subxact_callback, NULL);

	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = token_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = token_shmem_startup;
}

/* ---------------------------------------------------------------------
 * Refusals
 * ---------------------------------------------------------------------
 */

/*
 * Every refusal: SQLSTATE 28000, "token refused: <reason>", the specifics
 * in the detail.  Nothing of the token itself is echoed beyond its claims.
 */
#define REFUSE(reason, ...) \
	ereport(ERROR, \
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION), \
			 errmsg("token refused: %s", reason), \
			 errdetail(__VA_ARGS__)))

#define REFUSE_HINT(reason, hint, ...) \
	ereport(ERROR, \
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION), \
			 errmsg("token refused: %s", reason), \
			 errdetail(__VA_ARGS__), \
			 errhint("%s", hint)))

/* ---------------------------------------------------------------------
 * Decoding
 * ---------------------------------------------------------------------
 */

/* base64url without padding, canonical only; returns palloc'd bytes */
static bool
b64url_decode(const char *in, size_t inlen, unsigned char **out, size_t *outlen)
{
	size_t		maxlen = inlen * 3 / 4 + 1;
	unsigned char *buf = palloc(maxlen + 1);
	const char *end = NULL;

	if (inlen == 0 ||
		sodium_base642bin(buf, maxlen, in, inlen, NULL, outlen, &end,
						  sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
		end != in + inlen)
	{
		pfree(buf);
		return false;
	}
	buf[*outlen] = '\0';
	*out = buf;
	return true;
}

static char *
b64url_encode(const unsigned char *in, size_t inlen)
{
	size_t		len = sodium_base64_ENCODED_LEN(inlen,
												sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char	   *out = palloc(len);

	sodium_bin2base64(out, len, in, inlen,
					  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

/*
 * One base64url segment as a JSON object, or NULL when it is not one.  The
 * text is validated with PostgreSQL's JSON parser (which reports instead of
 * raising) before jsonb reads it, so a bad segment is a refusal, not an
 * input-syntax error.
 */
static Jsonb *
segment_object(const char *seg, size_t seglen)
{
	unsigned char *raw;
	size_t		rawlen;
	JsonLexContext *lex;
	Jsonb	   *jb;

	if (!b64url_decode(seg, seglen, &raw, &rawlen))
		return NULL;
	if (!pg_verifymbstr((const char *) raw, (int) rawlen, true))
		return NULL;
	lex = makeJsonLexContextCstringLen((char *) raw, (int) rawlen,
									   GetDatabaseEncoding(), true);
	if (pg_parse_json(lex, &nullSemAction) != JSON_SUCCESS)
		return NULL;
	jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum((char *) raw)));
	if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
		return NULL;
	return jb;
}

static JsonbValue *
field(Jsonb *jb, const char *name)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) name;
	k.val.string.len = strlen(name);
	return findJsonbValueFromContainer(&jb->root, JB_FOBJECT, &k);
}

static bool
string_is(const JsonbValue *v, const char *s)
{
	return v->type == jbvString && v->val.string.len == (int) strlen(s) &&
		memcmp(v->val.string.val, s, v->val.string.len) == 0;
}

/* A NumericDate claim as Unix seconds; false when present but not a number */
static bool
numeric_date(Jsonb *claims, const char *name, bool *present, double *out)
{
	JsonbValue *v = field(claims, name);

	*present = (v != NULL);
	if (v == NULL)
		return true;
	if (v->type != jbvNumeric)
		return false;
	*out = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
											  NumericGetDatum(v->val.numeric)));
	return !isnan(*out);
}

/* ---------------------------------------------------------------------
 * ecl.authenticate(token text) RETURNS text
 * ---------------------------------------------------------------------
 */

static TimestampTz
timestamp_from_unix(double secs)
{
	double		us = (secs - (double) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) *
					  SECS_PER_DAY) * USECS_PER_SEC;

	if (us >= (double) PG_INT64_MAX)
		return DT_NOEND;
	if (us <= (double) PG_INT64_MIN)
		return DT_NOBEGIN;
	return (TimestampTz) us;
}

Datum
ecl_authenticate(PG_FUNCTION_ARGS)
{
	text	   *token_text;
	char	   *token;
	size_t		toklen;
	char	   *dot1,
			   *dot2;
	Jsonb	   *header,
			   *claims;
	JsonbValue *v;
	char	   *sub;
	EclIdentityFacts row;
	uint8		pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char *sig;
	size_t		siglen;
	TimestampTz now_ts;
	double		now,
				exp,
				nbf = 0,
				iat = 0;
	bool		has_exp,
				has_nbf,
				has_iat;
	double		leeway = ecl_token_leeway;
	double		max_lifetime = ecl_token_max_lifetime;
	const char *current;

	if (InSecurityRestrictedOperation())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot authenticate inside a security-restricted operation")));

	if (PG_ARGISNULL(0))
		REFUSE("malformed token", "The token is NULL.");
	token_text = PG_GETARG_TEXT_PP(0);
	toklen = VARSIZE_ANY_EXHDR(token_text);
	if (toklen > TOKEN_MAX_LENGTH)
		REFUSE("malformed token", "The token is %zu bytes long; at most %d are accepted.",
			   toklen, TOKEN_MAX_LENGTH);
	token = text_to_cstring(token_text);

	/* header.payload.signature */
	dot1 = strchr(token, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (dot1 == NULL || dot2 == NULL || strchr(dot2 + 1, '.') != NULL)
		REFUSE("malformed token",
			   "A token is a compact JWS: three base64url parts separated by dots.");

	ecl_sodium_init();

	header = segment_object(token, dot1 - token);
	if (header == NULL)
		REFUSE("malformed token", "The header is not a base64url-encoded JSON object.");
	v = field(header, "alg");
	if (v == NULL || !string_is(v, "EdDSA"))
		REFUSE("unsupported algorithm",
			   "The header alg must be \"EdDSA\" (Ed25519); got %s.",
			   v == NULL ? "none" :
			   v->type == jbvString ?
			   psprintf("\"%.*s\"", Min(v->val.string.len, 32), v->val.string.val) :
			   "a non-string value");
	if (field(header, "crit") != NULL)
		REFUSE("malformed token", "The header has a \"crit\" parameter; no extension is supported.");

	claims = segment_object(dot1 + 1, dot2 - dot1 - 1);
	if (claims == NULL)
		REFUSE("malformed token", "The payload is not a base64url-encoded JSON object.");

	v = field(claims, "sub");
	if (v == NULL || v->type != jbvString || v->val.string.len == 0)
		REFUSE("malformed token", "The claim \"sub\" (the DID) is missing or not a string.");
	if (v->val.string.len > SUB_MAX_LENGTH)
		REFUSE("malformed token", "The claim \"sub\" is longer than %d bytes.", SUB_MAX_LENGTH);
	sub = pnstrdup(v->val.string.val, v->val.string.len);

	/* the key: a did:key carries it, any other DID must be registered */
	ecl_identity_facts(sub, strlen(sub), &row);
	if (strncmp(sub, "did:key:", 8) == 0)
	{
		ecl_did_key_status st = ecl_did_key_decode(sub, strlen(sub), pk);

		if (st != ECL_DID_KEY_OK)
			REFUSE("malformed token", "The claim \"sub\" is not a valid did:key: %s.",
				   ecl_did_key_status_message(st));
	}
	else
	{
		if (!row.registered)
			REFUSE("unknown DID", "DID \"%s\" is not registered in ecl.identities.", sub);
		if (!row.has_key)
			REFUSE("unknown DID", "DID \"%s\" has no Ed25519 public key in ecl.identities.", sub);
		memcpy(pk, row.public_key, sizeof(pk));
	}

	if (!b64url_decode(dot2 + 1, strlen(dot2 + 1), &sig, &siglen) ||
		siglen != crypto_sign_BYTES)
		REFUSE("bad signature", "The signature is not 64 base64url-encoded bytes.");
	if (crypto_sign_verify_detached(sig, (const unsigned char *) token,
									dot2 - token, pk) != 0)
		REFUSE("bad signature", "The signature does not verify with the key of DID \"%s\".", sub);

	/* from here on the token is the DID holder's own statement */
	if (row.registered && row.revoked)
		REFUSE("revoked DID", "DID \"%s\" is revoked.", sub);

	now_ts = GetCurrentTimestamp();
	now = ecl_unix_seconds(now_ts);
	if (!numeric_date(claims, "exp", &has_exp, &exp) || !has_exp)
		REFUSE("malformed token", "The claim \"exp\" is missing or not a number.");
	if (!numeric_date(claims, "nbf", &has_nbf, &nbf))
		REFUSE("malformed token", "The claim \"nbf\" is not a number.");
	if (!numeric_date(claims, "iat", &has_iat, &iat))
		REFUSE("malformed token", "The claim \"iat\" is not a number.");

	if (now >= exp + leeway)
		REFUSE("expired", "The token expired at %.0f (Unix time), now is %.0f; ecl.token_leeway is %d s.",
			   exp, now, ecl_token_leeway);
	if (has_nbf && nbf > now + leeway)
		REFUSE("not yet valid", "The token is valid from %.0f (Unix time), now is %.0f; ecl.token_leeway is %d s.",
			   nbf, now, ecl_token_leeway);
	if (has_iat && iat > now + leeway)
		REFUSE("not yet valid", "The token was issued at %.0f (Unix time), in the future (now is %.0f).",
			   iat, now);
	if (has_iat ? exp - iat > max_lifetime : exp - now > max_lifetime + leeway)
		REFUSE_HINT("lifetime too long",
					"A token may live at most ecl.token_max_lifetime.",
					"The token lives %.0f s (exp - %s); ecl.token_max_lifetime is %d s.",
					has_iat ? exp - iat : exp - now, has_iat ? "iat" : "now",
					ecl_token_max_lifetime);

	/* aud */
	v = field(claims, "aud");
	if (ecl_token_audience != NULL && ecl_token_audience[0] != '\0')
	{
		bool		match = false;

		if (v != NULL && v->type == jbvString)
			match = string_is(v, ecl_token_audience);
		else if (v != NULL && v->type == jbvBinary)
		{
			/* an array of audiences: one of them must be ours */
			JsonbValue	want;

			want.type = jbvString;
			want.val.string.val = ecl_token_audience;
			want.val.string.len = strlen(ecl_token_audience);
			match = findJsonbValueFromContainer(v->val.binary.data, JB_FARRAY,
												&want) != NULL;
		}
		if (!match)
			REFUSE("wrong audience", "The claim \"aud\" must name \"%s\" (ecl.token_audience); %s.",
				   ecl_token_audience,
				   v == NULL ? "it is missing" : "it does not");
	}
	else if (v != NULL)
		REFUSE_HINT("wrong audience",
					"Set ecl.token_audience to accept tokens for an audience.",
					"The token names an audience, and this database accepts only tokens without \"aud\" (ecl.token_audience is empty).");

	/* one DID per transaction */
	current = authenticated_did();
	if (current != NULL && strcmp(current, sub) != 0)
		REFUSE("already authenticated",
			   "This transaction is already authenticated as another DID; a transaction has one caller.");

	/* jti last: a refused token must not use up its jti */
	v = field(claims, "jti");
	if (v != NULL)
	{
		ReplayResult rr;

		if (v->type != jbvString)
			REFUSE("malformed token", "The claim \"jti\" is not a string.");
		rr = replay_record(sub, v->val.string.val, v->val.string.len,
						   timestamp_from_unix(exp + leeway), now_ts);
		if (rr == REPLAY_SEEN)
			REFUSE("replayed", "A token of DID \"%s\" with this jti was already accepted.", sub);
		if (rr == REPLAY_FULL)
			REFUSE_HINT("replay table full",
						"Raise ecl.token_replay_capacity (server start) or shorten token lifetimes.",
						"The table of used jti values holds %d unexpired entries; a token with a jti cannot be recorded, so it is refused.",
						ecl_token_replay_capacity);
		if (rr == REPLAY_UNAVAILABLE)
			REFUSE_HINT("replay protection unavailable",
						"Add ecl to shared_preload_libraries, or make tokens without a jti.",
						"A token with a jti is accepted once per cluster, which needs the shared memory of shared_preload_libraries = 'ecl'.");
	}

	if (current == NULL)
	{
		forget_identity();
		auth_did = MemoryContextStrdup(TopMemoryContext, sub);
		auth_lxid = ecl_current_lxid();
		auth_nest_level = GetCurrentTransactionNestLevel();
		ecl_memo_invalidate();
	}
	PG_RETURN_TEXT_P(cstring_to_text(sub));
}

/* ---------------------------------------------------------------------
 * ecl.sign_token(did, secret_key, ttl, audience, jti) RETURNS text
 * ---------------------------------------------------------------------
 */

static void
json_field(StringInfo buf, const char *name, const char *value)
{
	if (buf->len > 1)
		appendStringInfoChar(buf, ',');
	escape_json(buf, name);
	appendStringInfoChar(buf, ':');
	escape_json(buf, value);
}

Datum
ecl_sign_token(PG_FUNCTION_ARGS)
{
	char	   *did;
	bytea	   *sk_arg;
	Interval   *ttl;
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char sig[crypto_sign_BYTES];
	int64		ttl_s;
	int64		iat;
	StringInfoData claims;
	StringInfoData out;
	const char *header = "{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}";
	char	   *b64;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("did, secret_key and ttl must not be NULL")));
	did = text_to_cstring(PG_GETARG_TEXT_PP(0));
	sk_arg = PG_GETARG_BYTEA_PP(1);
	ttl = PG_GETARG_INTERVAL_P(2);

	ecl_sodium_init();
	if (VARSIZE_ANY_EXHDR(sk_arg) == crypto_sign_SECRETKEYBYTES)
	{
		memcpy(sk, VARDATA_ANY(sk_arg), sizeof(sk));
		crypto_sign_ed25519_sk_to_pk(pk, sk);
	}
	else if (VARSIZE_ANY_EXHDR(sk_arg) == crypto_sign_SEEDBYTES)
		crypto_sign_seed_keypair(pk, sk, (const unsigned char *) VARDATA_ANY(sk_arg));
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an Ed25519 secret key has %d bytes (or a seed %d), got %d",
						crypto_sign_SECRETKEYBYTES, crypto_sign_SEEDBYTES,
						(int) VARSIZE_ANY_EXHDR(sk_arg))));

	if (strncmp(did, "did:key:", 8) == 0)
	{
		uint8		didpk[ECL_ED25519_PUBLIC_KEY_BYTES];

		if (ecl_did_key_decode(did, strlen(did), didpk) != ECL_DID_KEY_OK ||
			memcmp(didpk, pk, sizeof(pk)) != 0)
		{
			sodium_memzero(sk, sizeof(sk));
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the secret key does not belong to \"%s\"", did)));
		}
	}

	if (ttl->month != 0)
		ttl_s = INT64_MAX;		/* months have no fixed length: too long anyway */
	else
		ttl_s = (ttl->time + (int64) ttl->day * USECS_PER_DAY) / USECS_PER_SEC;
	if (ttl_s <= 0 || ttl_s > (int64) 100 * 365 * SECS_PER_DAY)
	{
		sodium_memzero(sk, sizeof(sk));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ttl must be between 1 second and 100 years")));
	}
	iat = (int64) floor(ecl_unix_seconds(GetCurrentTimestamp()));

	initStringInfo(&claims);
	appendStringInfoChar(&claims, '{');
	json_field(&claims, "sub", did);
	appendStringInfo(&claims, ",\"iat\":" INT64_FORMAT ",\"exp\":" INT64_FORMAT,
					 iat, iat + ttl_s);
	if (!PG_ARGISNULL(3))
		json_field(&claims, "aud", text_to_cstring(PG_GETARG_TEXT_PP(3)));
	if (!PG_ARGISNULL(4))
		json_field(&claims, "jti", text_to_cstring(PG_GETARG_TEXT_PP(4)));
	appendStringInfoChar(&claims, '}');

	initStringInfo(&out);
	b64 = b64url_encode((const unsigned char *) header, strlen(header));
	appendStringInfoString(&out, b64);
	appendStringInfoChar(&out, '.');
	b64 = b64url_encode((const unsigned char *) claims.data, claims.len);
	appendStringInfoString(&out, b64);

	crypto_sign_detached(sig, NULL, (const unsigned char *) out.data, out.len, sk);
	sodium_memzero(sk, sizeof(sk));

	appendStringInfoChar(&out, '.');
	appendStringInfoString(&out, b64url_encode(sig, sizeof(sig)));
	PG_RETURN_TEXT_P(cstring_to_text_with_len(out.data, out.len));
}

/* ---------------------------------------------------------------------
 * The first steps of ecl.current_did()
 * ---------------------------------------------------------------------
 */

static void
claims_context(void *arg)
{
	errcontext("reading the trusted claims in setting \"%s\" (ecl.claims_setting)",
			   (const char *) arg);
}

/*
 * The trusted claim: the DID field of the JSON object in the setting that
 * ecl.claims_setting names.  Returns false when the setting or the field is
 * absent (the role binding decides); a revoked DID is "no identity".
 * Invalid JSON in the setting is an error: the authenticator in front is
 * broken, and guessing would not be failing closed.
 */
static bool
trusted_claim(char **did)
{
	const char *raw;
	EclMemoValue mv;
	Jsonb	   *jb;
	JsonbValue *v;
	ErrorContextCallback errcb;
	EclIdentityFacts row;

	if (ecl_claims_setting == NULL || ecl_claims_setting[0] == '\0')
		return false;
	raw = GetConfigOption(ecl_claims_setting, true, false);
	if (raw == NULL || raw[0] == '\0')
		return false;

	/* per statement, keyed by the claims text (role keys are numbers) */
	if (ecl_memo_get(ECL_MEMO_ROLE_DID, "claims", 6, raw, strlen(raw), &mv))
	{
		*did = mv.u.text ? pstrdup(mv.u.text) : NULL;
		return mv.flag;
	}

	errcb.callback = claims_context;
	errcb.arg = ecl_claims_setting;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(raw)));
	error_context_stack = errcb.previous;

	memset(&mv, 0, sizeof(mv));
	*did = NULL;
	v = NULL;
	if (JB_ROOT_IS_OBJECT(jb) && !JB_ROOT_IS_SCALAR(jb))
		v = field(jb, ecl_claims_did_field ? ecl_claims_did_field : "sub");
	if (v != NULL && v->type == jbvString && v->val.string.len > 0)
	{
		char	   *claimed = pnstrdup(v->val.string.val, v->val.string.len);

		mv.flag = true;
		ecl_identity_facts(claimed, strlen(claimed), &row);
		if (!(row.registered && row.revoked))
			*did = claimed;
	}
	mv.u.text = *did;
	ecl_memo_put(ECL_MEMO_ROLE_DID, "claims", 6, raw, strlen(raw), &mv);
	return mv.flag;
}

bool
ecl_token_identity(char **did)
{
	const char *authenticated = authenticated_did();

	if (authenticated != NULL)
	{
		*did = pstrdup(authenticated);
		return true;
	}
	return trusted_claim(did);
}
