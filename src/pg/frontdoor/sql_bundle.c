/*
 * sql_bundle.c — signed bundles of a realm's policies (docs/lifecycle.md,
 * "Signed bundles"):
 *
 *   ecl.export_bundle(realm) -> jsonb          the realm's current policies
 *   ecl.sign_bundle(bundle, signer_did, secret_key) -> jsonb
 *   ecl.import_bundle(bundle) -> (name, action, version)
 *
 * A bundle is the whole desired state of one realm (or of the realm-less
 * policies): importing it registers every policy it holds through the one
 * registration path (ecl_register_policy_source: identical source is a
 * no-op, a change a new version in ecl.policy_versions) and drops the
 * realm's policies it does not hold, in the calling statement, so any error
 * leaves everything as it was.  Handlers travel as what they are, policies
 * named "<engine>:<key>" of kind <engine> (ecl.register_handler); importing
 * one binds its handler again.
 *
 * A bundle's hash and version say what the exporting database had; import
 * compiles the source with this build and numbers versions itself, so they
 * may be null in a bundle built from sources (CI), and a hash that differs
 * from this build's is a NOTICE, not a refusal: the source is what is signed.
 *
 * The signature is Ed25519 (libsodium) by a did:key over the canonical
 * serialization of the bundle without its "signature" member.  The bundle's
 * shape is fixed (parse_bundle refuses any other member), so the canonical
 * form needs only what the shape holds: objects with their members in
 * byte order of the names, strings with the minimal JSON escapes (PostgreSQL's
 * escape_json: \" \\ \b \f \n \r \t, other controls as \u00xx, everything
 * else as UTF-8), integers in decimal, null, arrays in order, no whitespace.
 * That is RFC 8785 (JCS) restricted to a bundle, and what Python's
 * json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
 * prints for it, so CI can sign without the database.  The form is written
 * here by hand because neither jsonb's output (keys ordered by length, with
 * spaces) nor any library PostgreSQL links is canonical JSON.
 *
 * Privileges: export and import read and write ecl.* as the owner of schema
 * ecl (owner_spi.h), so EXECUTE is the gate (ecl_admin); sign_bundle uses
 * nothing but its arguments and is open to all, like ecl.sign_token.
 */
#include "postgres.h"

#include <sodium.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "ecl/did_key.h"

#include "ecl_pg.h"
#include "identity.h"
#include "owner_spi.h"
#include "policy_catalog.h"
#include "sql_policy.h"

PG_FUNCTION_INFO_V1(ecl_export_bundle);
PG_FUNCTION_INFO_V1(ecl_sign_bundle);
PG_FUNCTION_INFO_V1(ecl_import_bundle);

#define BUNDLE_FORMAT "ecl-bundle"
#define BUNDLE_VERSION 1

typedef struct BundlePolicy
{
	char	   *name;
	char	   *kind;
	char	   *realm;			/* NULL: realm-less */
	char	   *source;
	char	   *hash;			/* hex, as exported; NULL: not given */
	int32		version;		/* as exported; 0: not given (null) */
} BundlePolicy;

typedef struct Bundle
{
	char	   *realm;			/* NULL: the realm-less policies */
	int			npolicies;
	BundlePolicy *policies;
	bool		has_signature;
	char	   *signer;
	char	   *signature;		/* hex */
} Bundle;

/* ------------------------------------------------------------- parsing */

static void
malformed(const char *fmt, const char *arg)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("malformed bundle"),
			 errdetail_internal(fmt, arg),
			 errhint("A bundle is what ecl.export_bundle returns, optionally signed by ecl.sign_bundle.")));
}

/* Every member of object c is one of allowed (NULL-terminated). */
static void
check_members(JsonbContainer *c, const char *const *allowed, const char *where)
{
	JsonbIterator *it = JsonbIteratorInit(c);
	JsonbValue	v;
	JsonbIteratorToken tok;

	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		const char *const *a;
		char	   *key;

		if (tok != WJB_KEY)
			continue;
		key = pnstrdup(v.val.string.val, v.val.string.len);
		for (a = allowed; *a != NULL; a++)
			if (strcmp(*a, key) == 0)
				break;
		if (*a == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("malformed bundle"),
					 errdetail("%s has an unknown member \"%s\".", where, key)));
	}
}

static JsonbValue *
member(JsonbContainer *c, const char *key)
{
	return getKeyJsonValueFromContainer(c, key, strlen(key), NULL);
}

static char *
string_member(JsonbContainer *c, const char *key, bool null_ok, const char *where)
{
	JsonbValue *v = member(c, key);

	if (v == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("malformed bundle"),
				 errdetail("Member \"%s\" is missing from %s.", key, where)));
	if (v->type == jbvNull && null_ok)
		return NULL;
	if (v->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("malformed bundle"),
				 errdetail("\"%s\" of %s must be a string%s.", key, where,
						   null_ok ? " or null" : "")));
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/*
 * An integer member, written without fraction or exponent: the canonical
 * form prints integers only, so 1.0 must not pass for 1.
 */
static int64
integer_member(JsonbContainer *c, const char *key, const char *where,
			   bool null_ok, int64 if_null)
{
	JsonbValue *v = member(c, key);
	char	   *text;
	const char *p;
	int64		result;

	if (v == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("malformed bundle"),
				 errdetail("Member \"%s\" is missing from %s.", key, where)));
	if (v->type == jbvNull && null_ok)
		return if_null;
	if (v->type != jbvNumeric)
		malformed("\"%s\" must be an integer.", key);
	text = DatumGetCString(DirectFunctionCall1(numeric_out,
											   NumericGetDatum(v->val.numeric)));
	p = text[0] == '-' ? text + 1 : text;
	if (*p == '\0' || strspn(p, "0123456789") != strlen(p) || strlen(p) > 9)
		malformed("\"%s\" must be an integer.", key);
	result = strtol(text, NULL, 10);
	return result;
}

static bool
realms_equal(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
		(a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool
is_lower_hex(const char *s, size_t len)
{
	return strlen(s) == len && strspn(s, "0123456789abcdef") == len;
}

/*
 * The bundle in jb, checked for shape.  The format and its version are
 * checked before anything else, so a bundle of a later version is refused
 * as that (0A000), not as malformed.
 */
static void
parse_bundle(Jsonb *jb, Bundle *b)
{
	static const char *const top_members[] = {
		"format", "bundle_version", "realm", "policies", "signature", NULL
	};
	static const char *const policy_members[] = {
		"name", "kind", "realm", "source", "hash", "version", NULL
	};
	static const char *const signature_members[] = {"signer", "value", NULL};
	JsonbContainer *root = &jb->root;
	JsonbValue *v;
	JsonbContainer *list;
	char	   *format;
	int64		bundle_version;
	int			i;

	memset(b, 0, sizeof(*b));
	if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
		malformed("%s", "A bundle is a JSON object.");
	v = member(root, "format");
	if (v == NULL || v->type != jbvString)
		malformed("%s", "It has no \"format\": \"" BUNDLE_FORMAT "\".");
	format = pnstrdup(v->val.string.val, v->val.string.len);
	if (strcmp(format, BUNDLE_FORMAT) != 0)
		malformed("Its format is \"%s\", not \"" BUNDLE_FORMAT "\".", format);
	bundle_version = integer_member(root, "bundle_version", "the bundle", false, 0);
	if (bundle_version != BUNDLE_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("bundle version " INT64_FORMAT " is not supported",
						bundle_version),
				 errhint("This server reads bundle version %d.", BUNDLE_VERSION)));
	check_members(root, top_members, "The bundle");

	b->realm = string_member(root, "realm", true, "the bundle");

	v = member(root, "policies");
	if (v == NULL || v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		malformed("%s", "\"policies\" must be an array.");
	list = v->val.binary.data;
	b->npolicies = JsonContainerSize(list);
	b->policies = palloc0(sizeof(BundlePolicy) * Max(b->npolicies, 1));
	for (i = 0; i < b->npolicies; i++)
	{
		BundlePolicy *p = &b->policies[i];
		JsonbValue *e = getIthJsonbValueFromContainer(list, i);
		JsonbContainer *o;
		char		where[64];
		int			j;

		snprintf(where, sizeof(where), "policy %d", i + 1);
		if (e->type != jbvBinary || !JsonContainerIsObject(e->val.binary.data))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("malformed bundle"),
					 errdetail("Element %d of \"policies\" is not an object.", i + 1)));
		o = e->val.binary.data;
		check_members(o, policy_members, where);
		p->name = string_member(o, "name", false, where);
		p->kind = string_member(o, "kind", false, where);
		p->realm = string_member(o, "realm", true, where);
		p->source = string_member(o, "source", false, where);
		p->hash = string_member(o, "hash", true, where);
		p->version = (int32) integer_member(o, "version", where, true, 0);
		if (p->name[0] == '\0')
			malformed("The name of %s is empty.", where);
		if (p->version < 0 || (p->version == 0 && member(o, "version")->type != jbvNull))
			malformed("The version of policy \"%s\" is not a positive integer.", p->name);
		if (p->hash != NULL && !is_lower_hex(p->hash, 64))
			malformed("The hash of policy \"%s\" is not 64 lowercase hex digits.", p->name);
		if (!realms_equal(p->realm, b->realm))
			malformed("Policy \"%s\" belongs to another realm than the bundle.", p->name);
		for (j = 0; j < i; j++)
			if (strcmp(b->policies[j].name, p->name) == 0)
				malformed("Policy \"%s\" appears twice.", p->name);
	}

	v = member(root, "signature");
	if (v != NULL)
	{
		JsonbContainer *s;

		if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
			malformed("%s", "\"signature\" must be an object.");
		s = v->val.binary.data;
		check_members(s, signature_members, "The signature");
		b->has_signature = true;
		b->signer = string_member(s, "signer", false, "the signature");
		b->signature = string_member(s, "value", false, "the signature");
	}
}

/* --------------------------------------------------- canonical serialization */

static void
put_string(StringInfo out, const char *s)
{
	if (s == NULL)
		appendStringInfoString(out, "null");
	else
		escape_json(out, s);
}

/*
 * The bytes that are signed: the bundle without its signature, members in
 * byte order of their names (written out in that order below).
 */
static void
canonical_bundle(const Bundle *b, StringInfo out)
{
	int			i;

	appendStringInfo(out, "{\"bundle_version\":%d,\"format\":\"%s\",\"policies\":[",
					 BUNDLE_VERSION, BUNDLE_FORMAT);
	for (i = 0; i < b->npolicies; i++)
	{
		const BundlePolicy *p = &b->policies[i];

		if (i > 0)
			appendStringInfoChar(out, ',');
		appendStringInfoString(out, "{\"hash\":");
		put_string(out, p->hash);
		appendStringInfoString(out, ",\"kind\":");
		put_string(out, p->kind);
		appendStringInfoString(out, ",\"name\":");
		put_string(out, p->name);
		appendStringInfoString(out, ",\"realm\":");
		put_string(out, p->realm);
		appendStringInfoString(out, ",\"source\":");
		put_string(out, p->source);
		if (p->version > 0)
			appendStringInfo(out, ",\"version\":%d}", p->version);
		else
			appendStringInfoString(out, ",\"version\":null}");
	}
	appendStringInfoString(out, "],\"realm\":");
	put_string(out, b->realm);
	appendStringInfoChar(out, '}');
}

static Jsonb *
jsonb_from_text(const char *json)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

/* ------------------------------------------------------------------ export */

typedef struct ExportArgs
{
	const char *realm;
	MemoryContext cxt;
	bool		realm_exists;
	Bundle	   *bundle;
} ExportArgs;

static SPIPlanPtr export_realm_plan = NULL;
static SPIPlanPtr export_plan = NULL;

/*
 * The realm comparison is written out (CASE ... OPERATOR(pg_catalog.=))
 * rather than IS NOT DISTINCT FROM, which would look "=" up on the
 * search_path.
 */
#define SAME_REALM(col) \
	"(CASE WHEN $1 IS NULL THEN " col " IS NULL" \
	" ELSE " col " OPERATOR(pg_catalog.=) $1 END)"

static void
work_export(void *p)
{
	ExportArgs *a = (ExportArgs *) p;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	char		nulls[1] = {' '};
	int			rc;
	uint64		i;

	if (a->realm != NULL)
		values[0] = CStringGetTextDatum(a->realm);
	else
		nulls[0] = 'n';

	if (a->realm != NULL)
	{
		rc = SPI_execute_plan(ecl_keep_plan(&export_realm_plan,
										   "SELECT FROM ecl.realms r"
										   " WHERE r.realm_id OPERATOR(pg_catalog.=) $1",
										   1, argtypes),
							  values, nulls, true, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "realm lookup failed: %s", SPI_result_code_string(rc));
		a->realm_exists = SPI_processed > 0;
		if (!a->realm_exists)
			return;
	}

	/* by name in byte order, so one state exports (and signs) one way */
	rc = SPI_execute_plan(ecl_keep_plan(&export_plan,
									   "SELECT p.name, p.kind, p.realm_id, p.source,"
									   "       pg_catalog.encode(p.hash, 'hex'), p.version"
									   "  FROM ecl.policies p"
									   " WHERE " SAME_REALM("p.realm_id")
									   " ORDER BY p.name COLLATE \"C\"",
									   1, argtypes),
						  values, nulls, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "policy export failed: %s", SPI_result_code_string(rc));

	{
		MemoryContext old = MemoryContextSwitchTo(a->cxt);
		Bundle	   *b = palloc0(sizeof(Bundle));

		b->realm = a->realm != NULL ? pstrdup(a->realm) : NULL;
		b->npolicies = (int) SPI_processed;
		b->policies = palloc0(sizeof(BundlePolicy) * Max(SPI_processed, 1));
		for (i = 0; i < SPI_processed; i++)
		{
			HeapTuple	row = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			BundlePolicy *bp = &b->policies[i];
			bool		isnull;

			bp->name = SPI_getvalue(row, desc, 1);
			bp->kind = SPI_getvalue(row, desc, 2);
			bp->realm = SPI_getvalue(row, desc, 3);
			bp->source = SPI_getvalue(row, desc, 4);
			bp->hash = SPI_getvalue(row, desc, 5);
			bp->version = DatumGetInt32(SPI_getbinval(row, desc, 6, &isnull));
		}
		a->bundle = b;
		MemoryContextSwitchTo(old);
	}
}

/* ecl.export_bundle(realm text) RETURNS jsonb; NULL: the realm-less policies */
Datum
ecl_export_bundle(PG_FUNCTION_ARGS)
{
	ExportArgs	a;
	StringInfoData out;

	memset(&a, 0, sizeof(a));
	a.realm = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	a.cxt = CurrentMemoryContext;
	ecl_as_owner(work_export, &a);
	if (a.realm != NULL && !a.realm_exists)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("realm \"%s\" does not exist", a.realm)));

	initStringInfo(&out);
	canonical_bundle(a.bundle, &out);
	PG_RETURN_JSONB_P(jsonb_from_text(out.data));
}

/* -------------------------------------------------------------------- sign */

/*
 * ecl.sign_bundle(bundle jsonb, signer_did text, secret_key bytea) RETURNS jsonb
 *
 * The bundle with "signature": {"signer": signer_did, "value": <hex>}; a
 * signature it had is replaced.  The secret key must be the one of the
 * did:key: the key pair is re-derived from its seed and compared, so a
 * bundle is never signed by a key its DID does not name.
 */
Datum
ecl_sign_bundle(PG_FUNCTION_ARGS)
{
	Bundle		b;
	char	   *signer;
	bytea	   *secret_key;
	uint8		did_pk[ECL_ED25519_PUBLIC_KEY_BYTES];
	unsigned char seed[crypto_sign_SEEDBYTES];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	unsigned char sig[crypto_sign_BYTES];
	char		sig_hex[crypto_sign_BYTES * 2 + 1];
	ecl_did_key_status st;
	StringInfoData msg;
	StringInfoData out;
	bool		matches;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("bundle must not be NULL")));
	signer = ecl_required_text(fcinfo, 1, "signer_did");
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("secret_key must not be NULL")));
	secret_key = PG_GETARG_BYTEA_PP(2);

	parse_bundle(PG_GETARG_JSONB_P(0), &b);

	st = ecl_did_key_decode(signer, strlen(signer), did_pk);
	if (st != ECL_DID_KEY_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bundle signer \"%s\" is not an Ed25519 did:key", signer),
				 errdetail("%s", ecl_did_key_status_message(st))));
	if (VARSIZE_ANY_EXHDR(secret_key) != crypto_sign_SECRETKEYBYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an Ed25519 secret key has %d bytes, got %d",
						crypto_sign_SECRETKEYBYTES,
						(int) VARSIZE_ANY_EXHDR(secret_key)),
				 errhint("Use the secret_key returned by ecl.generate_identity().")));

	initStringInfo(&msg);
	canonical_bundle(&b, &msg);

	ecl_sodium_init();
	crypto_sign_ed25519_sk_to_seed(seed,
								   (const unsigned char *) VARDATA_ANY(secret_key));
	crypto_sign_seed_keypair(pk, sk, seed);
	sodium_memzero(seed, sizeof(seed));
	matches = sodium_memcmp(pk, did_pk, sizeof(pk)) == 0;
	if (matches)
		crypto_sign_detached(sig, NULL, (const unsigned char *) msg.data,
							 msg.len, sk);
	sodium_memzero(sk, sizeof(sk));
	if (!matches)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("secret key does not belong to \"%s\"", signer),
				 errdetail("The public key derived from the secret key differs from the key the did:key encodes.")));
	sodium_bin2hex(sig_hex, sizeof(sig_hex), sig, sizeof(sig));

	/* the canonical text, its closing brace replaced by the signature */
	initStringInfo(&out);
	appendBinaryStringInfo(&out, msg.data, msg.len - 1);
	appendStringInfoString(&out, ",\"signature\":{\"signer\":");
	escape_json(&out, signer);
	appendStringInfo(&out, ",\"value\":\"%s\"}}", sig_hex);
	PG_RETURN_JSONB_P(jsonb_from_text(out.data));
}

/* ------------------------------------------------------------------ import */

static void
refuse_signature(const char *message, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
			 errmsg("bundle refused: %s", message),
			 detail ? errdetail("%s", detail) : 0));
}

/* The signature verifies with the key of its did:key signer (28000 if not). */
static void
verify_signature(const Bundle *b)
{
	uint8		pk[ECL_ED25519_PUBLIC_KEY_BYTES];
	unsigned char sig[crypto_sign_BYTES];
	size_t		siglen = 0;
	StringInfoData msg;

	if (!b->has_signature)
		refuse_signature("it is not signed",
						 "Sign it with ecl.sign_bundle or the recipe of the lifecycle documentation.");
	if (ecl_did_key_decode(b->signer, strlen(b->signer), pk) != ECL_DID_KEY_OK)
		refuse_signature("its signer is not an Ed25519 did:key", NULL);
	if (!is_lower_hex(b->signature, crypto_sign_BYTES * 2) ||
		sodium_hex2bin(sig, sizeof(sig), b->signature, strlen(b->signature),
					   NULL, &siglen, NULL) != 0 ||
		siglen != crypto_sign_BYTES)
		refuse_signature("its signature is not 128 lowercase hex digits", NULL);

	initStringInfo(&msg);
	canonical_bundle(b, &msg);
	ecl_sodium_init();
	if (crypto_sign_verify_detached(sig, (const unsigned char *) msg.data,
									msg.len, pk) != 0)
		refuse_signature("the signature does not verify",
						 "The bundle was changed after it was signed, or signed with another key than the signer's.");
}

typedef struct ImportArgs
{
	const Bundle *bundle;
	bool		realm_exists;
	/* signer check */
	bool		signer_listed;
	bool		signer_revoked;
	/* per policy: the current row of a name */
	const char *name;
	bool		exists;
	char	   *current_realm;
	int32		current_version;
	/* handler binding */
	const char *engine;
	const char *key;
	/* the drop */
	ArrayType  *keep;
	MemoryContext cxt;
	int			ndropped;
	char	  **dropped_names;
	int32	   *dropped_versions;
} ImportArgs;

static SPIPlanPtr signer_plan = NULL;
static SPIPlanPtr current_plan = NULL;
static SPIPlanPtr handler_plan = NULL;
static SPIPlanPtr drop_plan = NULL;

static void
work_signer(void *p)
{
	ImportArgs *a = (ImportArgs *) p;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	bool		isnull;
	int			rc;

	values[0] = CStringGetTextDatum(a->bundle->signer);
	rc = SPI_execute_plan(ecl_keep_plan(&signer_plan,
									   "SELECT EXISTS (SELECT FROM ecl.bundle_signers s"
									   "                WHERE s.did OPERATOR(pg_catalog.=) $1),"
									   "       EXISTS (SELECT FROM ecl.identities i"
									   "                WHERE i.did OPERATOR(pg_catalog.=) $1"
									   "                  AND i.revoked)",
									   1, argtypes),
						  values, NULL, true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "bundle signer lookup failed: %s", SPI_result_code_string(rc));
	a->signer_listed = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
												  SPI_tuptable->tupdesc, 1, &isnull));
	a->signer_revoked = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
												   SPI_tuptable->tupdesc, 2, &isnull));
}

static void
work_import_realm(void *p)
{
	ImportArgs *a = (ImportArgs *) p;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	int			rc;

	values[0] = CStringGetTextDatum(a->bundle->realm);
	rc = SPI_execute_plan(ecl_keep_plan(&export_realm_plan,
									   "SELECT FROM ecl.realms r"
									   " WHERE r.realm_id OPERATOR(pg_catalog.=) $1",
									   1, argtypes),
						  values, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "realm lookup failed: %s", SPI_result_code_string(rc));
	a->realm_exists = SPI_processed > 0;
}

static void
work_current(void *p)
{
	ImportArgs *a = (ImportArgs *) p;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	bool		isnull;
	int			rc;

	values[0] = CStringGetTextDatum(a->name);
	rc = SPI_execute_plan(ecl_keep_plan(&current_plan,
									   "SELECT p.realm_id, p.version FROM ecl.policies p"
									   " WHERE p.name OPERATOR(pg_catalog.=) $1",
									   1, argtypes),
						  values, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "policy lookup failed: %s", SPI_result_code_string(rc));
	a->exists = SPI_processed > 0;
	if (a->exists)
	{
		MemoryContext old = MemoryContextSwitchTo(a->cxt);

		a->current_realm = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		a->current_version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
														 SPI_tuptable->tupdesc, 2,
														 &isnull));
		MemoryContextSwitchTo(old);
	}
}

/* The handler row ecl.register_handler would write for this policy. */
static void
work_bind_handler(void *p)
{
	ImportArgs *a = (ImportArgs *) p;
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];
	int			rc;

	values[0] = CStringGetTextDatum(a->engine);
	values[1] = CStringGetTextDatum(a->key);
	values[2] = CStringGetTextDatum(a->name);
	rc = SPI_execute_plan(ecl_keep_plan(&handler_plan,
									   "INSERT INTO ecl.handlers AS h (engine, key, policy_name)"
									   " VALUES ($1, $2, $3)"
									   " ON CONFLICT ON CONSTRAINT handlers_pkey"
									   " DO UPDATE SET policy_name = EXCLUDED.policy_name"
									   " WHERE h.policy_name OPERATOR(pg_catalog.<>) EXCLUDED.policy_name",
									   3, argtypes),
						  values, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "handler binding failed: %s", SPI_result_code_string(rc));
}

static void
work_drop_absent(void *p)
{
	ImportArgs *a = (ImportArgs *) p;
	Oid			argtypes[2] = {TEXTOID, TEXTARRAYOID};
	Datum		values[2];
	char		nulls[2] = {' ', ' '};
	int			rc;
	uint64		i;
	MemoryContext old;

	if (a->bundle->realm != NULL)
		values[0] = CStringGetTextDatum(a->bundle->realm);
	else
		nulls[0] = 'n';
	values[1] = PointerGetDatum(a->keep);
	rc = SPI_execute_plan(ecl_keep_plan(&drop_plan,
									   "DELETE FROM ecl.policies p"
									   " WHERE " SAME_REALM("p.realm_id")
									   "   AND NOT (p.name OPERATOR(pg_catalog.=) ANY ($2))"
									   " RETURNING p.name, p.version",
									   2, argtypes),
						  values, nulls, false, 0);
	if (rc != SPI_OK_DELETE_RETURNING)
		elog(ERROR, "policy drop failed: %s", SPI_result_code_string(rc));

	old = MemoryContextSwitchTo(a->cxt);
	a->ndropped = (int) SPI_processed;
	a->dropped_names = palloc0(sizeof(char *) * Max(SPI_processed, 1));
	a->dropped_versions = palloc0(sizeof(int32) * Max(SPI_processed, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		a->dropped_names[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		a->dropped_versions[i] = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i],
															 SPI_tuptable->tupdesc, 2,
															 &isnull));
	}
	MemoryContextSwitchTo(old);
}

static const char *const handler_engines[] = {
	"api", "ui", "datalogic", "governance", "controller", NULL
};

/*
 * The engine of a handler policy ("<engine>:<key>" of kind <engine>, as
 * ecl.register_handler names it), else NULL; *key is set to the key.
 */
static const char *
handler_engine(const BundlePolicy *p, const char **key)
{
	const char *const *e;
	size_t		len;

	for (e = handler_engines; *e != NULL; e++)
	{
		len = strlen(*e);
		if (strcmp(p->kind, *e) == 0 && strncmp(p->name, *e, len) == 0 &&
			p->name[len] == ':' && p->name[len + 1] != '\0')
		{
			*key = p->name + len + 1;
			return *e;
		}
	}
	return NULL;
}

static void
put_summary(ReturnSetInfo *rsinfo, const char *name, const char *action,
			int32 version)
{
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	values[0] = CStringGetTextDatum(name);
	values[1] = CStringGetTextDatum(action);
	values[2] = Int32GetDatum(version);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * ecl.import_bundle(bundle jsonb)
 *   RETURNS TABLE(name text, action text, version integer)
 *
 * One row per policy: added, updated, unchanged (bundle order), then
 * dropped.  Refusals: malformed 22023, unsupported bundle version 0A000,
 * unsigned or bad signature 28000, signer not in ecl.bundle_signers or
 * revoked 42501, a name that belongs to another realm 42710; a policy that
 * does not compile raises its compile error.  Every refusal is an ERROR
 * raised before or during the statement's writes, so nothing of the bundle
 * stays.
 */
Datum
ecl_import_bundle(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Bundle		b;
	ImportArgs	a;
	Datum	   *names;
	int			i;
	int			added = 0;
	int			updated = 0;

	if (XactReadOnly)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot execute ecl.import_bundle() in a read-only transaction"),
				 RecoveryInProgress() ?
				 errhint("This server is a hot standby: import bundles on the primary; the change reaches the standby by replication.") : 0));
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("bundle must not be NULL")));
	parse_bundle(PG_GETARG_JSONB_P(0), &b);
	verify_signature(&b);

	memset(&a, 0, sizeof(a));
	a.bundle = &b;
	a.cxt = CurrentMemoryContext;
	ecl_as_owner(work_signer, &a);
	if (!a.signer_listed)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("bundle refused: signer \"%s\" is not in ecl.bundle_signers",
						b.signer),
				 errhint("An ecl_admin trusts a signer with INSERT INTO ecl.bundle_signers (did) VALUES (...).")));
	if (a.signer_revoked)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("bundle refused: signer \"%s\" is revoked", b.signer)));

	/* before anything changes, also for a bundle without policies */
	if (b.realm != NULL)
	{
		ecl_as_owner(work_import_realm, &a);
		if (!a.realm_exists)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("realm \"%s\" does not exist", b.realm)));
	}

	InitMaterializedSRF(fcinfo, 0);

	names = palloc(sizeof(Datum) * Max(b.npolicies, 1));
	for (i = 0; i < b.npolicies; i++)
	{
		BundlePolicy *p = &b.policies[i];
		bool		existed;
		int32		before;
		const char *engine;
		const char *key = NULL;
		bytea	   *hash;
		int32		after;

		names[i] = CStringGetTextDatum(p->name);
		a.name = p->name;
		ecl_as_owner(work_current, &a);
		existed = a.exists;
		before = a.current_version;
		if (existed && !realms_equal(a.current_realm, b.realm))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("bundle refused: policy \"%s\" belongs to %s%s%s",
							p->name,
							a.current_realm ? "realm \"" : "no realm",
							a.current_realm ? a.current_realm : "",
							a.current_realm ? "\"" : ""),
					 errdetail("A bundle holds the policies of one realm; it does not move policies between realms."),
					 errhint("Drop the policy, or import it with a bundle of its own realm.")));

		hash = ecl_register_policy_source(p->name, p->kind, b.realm,
										  cstring_to_text(p->source));

		/*
		 * The bundle's hash is what the exporting build compiled; another
		 * build may compile the same source to other bytes.  That is no
		 * reason to refuse (the source is what was signed), but whoever
		 * reviewed the bytecode should hear of it.
		 */
		if (p->hash != NULL)
		{
			char		hex[ECL_POLICY_HASH_BYTES * 2 + 1];

			sodium_bin2hex(hex, sizeof(hex), (const unsigned char *) VARDATA(hash),
						   VARSIZE(hash) - VARHDRSZ);
			if (strcmp(hex, p->hash) != 0)
				ereport(NOTICE,
						(errmsg("policy \"%s\" compiled to another hash than the bundle's", p->name),
						 errdetail("The bundle says %s, this build compiled %s.", p->hash, hex)));
		}
		engine = handler_engine(p, &key);
		if (engine != NULL)
		{
			a.engine = engine;
			a.key = key;
			ecl_as_owner(work_bind_handler, &a);
		}

		ecl_as_owner(work_current, &a);
		after = a.current_version;
		if (!existed)
			added++;
		else if (after != before)
			updated++;
		put_summary(rsinfo, p->name,
					!existed ? "added" : after == before ? "unchanged" : "updated",
					after);
	}

	a.keep = construct_array(names, b.npolicies, TEXTOID, -1, false, TYPALIGN_INT);
	ecl_as_owner(work_drop_absent, &a);
	for (i = 0; i < a.ndropped; i++)
		put_summary(rsinfo, a.dropped_names[i], "dropped", a.dropped_versions[i]);

	/* the server log says which signer changed what (policy_versions says who ran it) */
	if (added + updated + a.ndropped > 0)
		ereport(LOG,
				(errmsg("ecl bundle for %s%s%s signed by \"%s\" imported: %d added, %d updated, %d dropped",
						b.realm ? "realm \"" : "the realm-less policies",
						b.realm ? b.realm : "", b.realm ? "\"" : "",
						b.signer, added, updated, a.ndropped),
				 errhidestmt(true)));

	return (Datum) 0;
}
