/*
 * ecl.c — module entry point: PG_MODULE_MAGIC, _PG_init and the GUCs.
 *
 * The budgets (docs/sql-api.md, "Registered policies") are user-settable so a session or a function's SET
 * clause can adjust them; switches that protect other users (rate limiting,
 * statistics tracking) are superuser-only; ecl.max_tracked sizes shared
 * memory and can only be set at server start.
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "decision_queue.h"
#include "decision_worker.h"
#include "ecl_pg.h"
#include "planner_support.h"
#include "rate_limit.h"
#include "signature_cache.h"
#include "stats.h"
#include "token.h"

PG_MODULE_MAGIC;

int			ecl_gas_limit = 50000;
int			ecl_mana_limit = 10000;
int			ecl_timeout_ms = 5000;
int			ecl_max_stack_depth = 1024;
bool		ecl_rate_limit = false;
bool		ecl_track = true;
int			ecl_max_tracked = 1000;
int			ecl_memory_limit_kb = 64 * 1024;

/* identity: callers without a DID */
bool		ecl_allow_anonymous = false;

int			ecl_rls_errors = ECL_RLS_ERRORS_RAISE;

void		_PG_init(void);

/* ---- rate limiting and errors under RLS ---- */

static const struct config_enum_entry rls_errors_options[] = {
	{"raise", ECL_RLS_ERRORS_RAISE, false},
	{"deny", ECL_RLS_ERRORS_DENY, false},
	{NULL, 0, false}
};

/*
 * Whether the postmaster loaded us through shared_preload_libraries: only
 * then do the mana accounts exist.  Known in _PG_init, before shared memory
 * is attached (the postmaster checks postgresql.conf's value while loading
 * us), and inherited by every backend it starts.
 */
static bool loaded_at_server_start = false;

/*
 * ecl.rate_limit = on without the accounts would limit nothing while SHOW
 * says it is on: refuse it, whatever the source.  Refusing never stops a
 * server or a backend from starting: PostgreSQL reports a refused value
 * from postgresql.conf, ALTER SYSTEM's file or ALTER ROLE/DATABASE SET as
 * a LOG line or WARNING and keeps the default (off); SET, ALTER SYSTEM and
 * ALTER ROLE SET are refused with 55000.  Without the preload the
 * postmaster never loads us, so it never checks the value at all.
 */
static bool
check_rate_limit(bool *newval, void **extra, GucSource source)
{
	if (!*newval || loaded_at_server_start)
		return true;
	GUC_check_errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE);
	GUC_check_errmsg("ecl.rate_limit cannot be turned on: ecl is not in shared_preload_libraries");
	GUC_check_errdetail("The mana accounts live in shared memory, which exists only when the server loads ecl at start.");
	GUC_check_errhint("Add ecl to shared_preload_libraries and restart the server.");
	return false;
}

/* ---- end rate limiting and errors under RLS ---- */

/* ---- the decision log (src/pg/decisions) ---- */

static const struct config_enum_entry decision_log_options[] = {
	{"off", ECL_DECISION_LOG_OFF, false},
	{"errors", ECL_DECISION_LOG_ERRORS, false},
	{"denied", ECL_DECISION_LOG_DENIED, false},
	{"all", ECL_DECISION_LOG_ALL, false},
	{NULL, 0, false}
};

/* As ecl.rate_limit: a log that is on must be able to log. */
static bool
check_decision_log(int *newval, void **extra, GucSource source)
{
	if (*newval == ECL_DECISION_LOG_OFF || loaded_at_server_start)
		return true;
	GUC_check_errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE);
	GUC_check_errmsg("ecl.decision_log cannot be turned on: ecl is not in shared_preload_libraries");
	GUC_check_errdetail("The decision queue lives in shared memory, which exists only when the server loads ecl at start.");
	GUC_check_errhint("Add ecl to shared_preload_libraries and restart the server.");
	return false;
}

/* ---- end the decision log ---- */

/* ---- policies the planner can see (planner_support.c) ---- */

/*
 * A plan that embeds a translated policy was made under these settings;
 * when one of them changes, the backend's cached plans are replanned.
 */
static void
assign_translation_int(int newval, void *extra)
{
	ecl_translation_setting_changed();
}

static void
assign_translation_bool(bool newval, void *extra)
{
	ecl_translation_setting_changed();
}

/* ---- end policies the planner can see ---- */

void
_PG_init(void)
{
	DefineCustomIntVariable("ecl.gas_limit",
							"Gas budget of one ECL run.",
							"Every executed instruction costs gas; a run that would exceed this budget fails with SQLSTATE EC002.",
							&ecl_gas_limit,
							50000, 1, INT_MAX,
							PGC_USERSET, 0,
							NULL, assign_translation_int, NULL);

	DefineCustomIntVariable("ecl.mana_limit",
							"Mana (I/O) budget of one ECL run.",
							"Each run costs 10 mana plus the cost of its network and storage host calls; exceeding the budget fails with SQLSTATE EC003.",
							&ecl_mana_limit,
							10000, 1, INT_MAX,
							PGC_USERSET, 0,
							NULL, assign_translation_int, NULL);

	DefineCustomIntVariable("ecl.timeout_ms",
							"Wall-clock limit of one ECL run.",
							"A run still executing after this time fails with SQLSTATE EC004. 0 disables the limit (statement_timeout still applies).",
							&ecl_timeout_ms,
							5000, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("ecl.max_stack_depth",
							"Largest operand stack an ECL program may need.",
							"Bytecode whose computed stack depth exceeds this is rejected with SQLSTATE EC005.",
							&ecl_max_stack_depth,
							1024, 1, 1024 * 1024,
							PGC_USERSET, 0,
							NULL, assign_translation_int, NULL);

	/* ---- rate limiting and errors under RLS ---- */
	loaded_at_server_start = process_shared_preload_libraries_in_progress;

	DefineCustomBoolVariable("ecl.rate_limit",
							 "Enables per-identity mana rate limiting.",
							 "Each DID has a mana account in shared memory that runs draw from and that regenerates with the DID's reliability; ecl.check and ecl.allowed pay once per statement per policy and caller, other calls once per run.",
							 &ecl_rate_limit,
							 false,
							 PGC_SUSET, 0,
							 check_rate_limit, assign_translation_bool, NULL);

	/*
	 * USERSET: deny can only hide more rows than raise shows, so a user
	 * gains nothing by choosing it.
	 */
	DefineCustomEnumVariable("ecl.rls_errors",
							 "What ecl.check and ecl.allowed do when the policy run fails.",
							 "raise: the run's error ends the statement. deny: the row is hidden (false), the run counts as an error, and one WARNING per statement and policy names the error.",
							 &ecl_rls_errors,
							 ECL_RLS_ERRORS_RAISE,
							 rls_errors_options,
							 PGC_USERSET, 0,
							 NULL, assign_translation_int, NULL);
	/* ---- end rate limiting and errors under RLS ---- */

	DefineCustomBoolVariable("ecl.track",
							 "Collects ECLVM statistics.",
							 NULL,
							 &ecl_track,
							 true,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	/*
	 * Identity.  A setting any role could flip would let every role without
	 * a DID through RLS policies written for identified callers: superuser
	 * only.
	 */
	DefineCustomBoolVariable("ecl.allow_anonymous",
							 "Runs ecl.allowed for callers without an identity.",
							 "Off: ecl.allowed is false without running the policy when ecl.current_did() is NULL, counted as a denied run. On: the policy runs with a null caller.",
							 &ecl_allow_anonymous,
							 false,
							 PGC_SUSET, 0,
							 NULL, assign_translation_bool, NULL);

	/*
	 * Sizing shared memory only means something while the postmaster loads
	 * us; defining a PGC_POSTMASTER variable later (LOAD, or the first call
	 * without the preload) is refused by PostgreSQL with FATAL.
	 */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomIntVariable("ecl.max_tracked",
								"Number of policies tracked in ecl.stat_eclvm_policies.",
								NULL,
								&ecl_max_tracked,
								1000, 10, 1000000,
								PGC_POSTMASTER, 0,
								NULL, NULL, NULL);

	/*
	 * The caller's identity per request (token.c).  Superuser-only: a client
	 * that could widen the leeway or the lifetime, change the audience or
	 * point the trusted claims at a setting it controls would defeat them.
	 */
	DefineCustomStringVariable("ecl.token_audience",
							   "Audience (aud) that tokens given to ecl.authenticate must name.",
							   "Empty: tokens must carry no aud claim.",
							   &ecl_token_audience,
							   "",
							   PGC_SUSET, 0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("ecl.token_max_lifetime",
							"Longest lifetime (exp - iat, or exp - now) of a token ecl.authenticate accepts.",
							NULL,
							&ecl_token_max_lifetime,
							3600, 1, INT_MAX,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("ecl.token_leeway",
							"Clock skew tolerated when ecl.authenticate checks exp, nbf and iat.",
							NULL,
							&ecl_token_leeway,
							30, 0, 86400,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomStringVariable("ecl.claims_setting",
							   "Setting holding claims verified by an authenticator in front of the database (e.g. request.jwt.claims).",
							   "Empty (the default) trusts no claims. ecl.current_did() takes the DID from the field ecl.claims_did_field of this JSON object.",
							   &ecl_claims_setting,
							   "",
							   PGC_SUSET, 0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("ecl.claims_did_field",
							   "Field of the trusted claims that holds the caller's DID.",
							   NULL,
							   &ecl_claims_did_field,
							   "sub",
							   PGC_SUSET, 0,
							   NULL, NULL, NULL);

	if (process_shared_preload_libraries_in_progress)
		DefineCustomIntVariable("ecl.token_replay_capacity",
								"Number of token ids (jti) remembered against replay.",
								"When full of unexpired entries, tokens with a jti are refused.",
								&ecl_token_replay_capacity,
								65536, 16, 16 * 1024 * 1024,
								PGC_POSTMASTER, 0,
								NULL, NULL, NULL);

	/*
	 * Memory is a budget like gas, but superuser-only: a role that could
	 * raise it could make its runs take the server's memory, and the OOM
	 * killer then restarts the whole cluster.  Superusers set it per role
	 * or database (ALTER ROLE/DATABASE ... SET ecl.memory_limit).
	 */
	DefineCustomIntVariable("ecl.memory_limit",
							"Memory budget of one ECL run.",
							"Everything a run allocates (values, converted input, host results, logs, written values) counts; a run that would exceed it fails with SQLSTATE EC008.",
							&ecl_memory_limit_kb,
							64 * 1024, 64, MAX_KILOBYTES,
							PGC_SUSET, GUC_UNIT_KB,
							NULL, NULL, NULL);

	/* ---- policies the planner can see ---- */
	DefineCustomBoolVariable("ecl.translate",
							 "Lets the planner replace ecl.check and ecl.allowed calls by equivalent SQL.",
							 "On: a call with a constant policy name and an input of '{}' or jsonb_build_object(...) whose policy lies in the translatable subset becomes an SQL condition the planner can use indexes for (docs/planner.md). Off: every call runs in the VM.",
							 &ecl_translate_enabled,
							 true,
							 PGC_USERSET, 0,
							 NULL, assign_translation_bool, NULL);
	/* ---- end policies the planner can see ---- */

	/*
	 * ---- the decision log ----  Superuser-only: a role that could turn
	 * the log off, lower its sample rate or hide inputs could hide its own
	 * decisions from the audit.  ALTER ROLE ... SET by a superuser can
	 * still log one application's roles more closely than others.
	 */
	DefineCustomEnumVariable("ecl.decision_log",
							 "Which policy decisions are written to ecl.decision_log.",
							 "off: none. errors: runs that ended in an error. denied: errors and denials. all: every decision (passes sampled by ecl.decision_log_sample_rate).",
							 &ecl_decision_log,
							 ECL_DECISION_LOG_OFF,
							 decision_log_options,
							 PGC_SUSET, 0,
							 check_decision_log, assign_translation_int, NULL);

	DefineCustomRealVariable("ecl.decision_log_sample_rate",
							 "Fraction of passing decisions logged under ecl.decision_log = all.",
							 "Denials and errors are always logged.",
							 &ecl_decision_log_sample_rate,
							 1.0, 0.0, 1.0,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("ecl.decision_log_inputs",
							 "Logs each decision's input, not only its SHA-256 digest.",
							 "On: inputs of up to 512 bytes of JSON text are logged whole (and can be replayed with ecl.replay); longer ones only as their digest.",
							 &ecl_decision_log_inputs,
							 false,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("ecl.decision_log_retention",
							"Age after which the decision log writer deletes logged decisions.",
							"0 keeps them until ecl.trim_decision_log deletes them.",
							&ecl_decision_log_retention_s,
							0, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("ecl.decision_log_flush_interval",
							"How often the decision log launcher empties the queue.",
							"It also wakes when the queue is half full.",
							&ecl_decision_log_flush_interval_ms,
							1000, 10, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	if (process_shared_preload_libraries_in_progress)
		DefineCustomIntVariable("ecl.decision_log_queue_size",
								"Number of decisions the shared-memory queue holds.",
								"A decision that finds the queue full is dropped and counted in decisions_dropped (on a hot standby the oldest is dropped instead).",
								&ecl_decision_log_queue_size,
								4096, 16, 1024 * 1024,
								PGC_POSTMASTER, 0,
								NULL, NULL, NULL);
	/* ---- end the decision log ---- */

	MarkGUCPrefixReserved("ecl");

	/*
	 * Shared memory for the statistics and for the rate limiter's accounts;
	 * each does nothing unless we are being loaded through
	 * shared_preload_libraries.
	 */
	ecl_stats_init();
	ecl_rate_limit_init();
	ecl_decision_queue_init();
	if (process_shared_preload_libraries_in_progress)
		ecl_decision_worker_register();

	/* transaction callbacks; the jti replay table when preloaded */
	ecl_token_init();
	/* verified signatures shared by all backends, when preloaded */
	ecl_signature_cache_init();
}
