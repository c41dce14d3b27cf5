/*
 * ecl.c — module entry point: PG_MODULE_MAGIC, _PG_init and the GUCs.
 *
 * The budgets (SPEC §5) are user-settable so a session or a function's SET
 * clause can adjust them; switches that protect other users (rate limiting,
 * statistics tracking) are superuser-only; ecl.max_tracked sizes shared
 * memory and can only be set at server start.
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "ecl_pg.h"
#include "stats.h"

PG_MODULE_MAGIC;

int			ecl_gas_limit = 50000;
int			ecl_mana_limit = 10000;
int			ecl_timeout_ms = 5000;
int			ecl_max_stack_depth = 1024;
bool		ecl_rate_limit = false;
bool		ecl_track = true;
int			ecl_max_tracked = 1000;

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

void
_PG_init(void)
{
	DefineCustomIntVariable("ecl.gas_limit",
							"Gas budget of one ECL run.",
							"Every executed instruction costs gas; a run that would exceed this budget fails with SQLSTATE EC002.",
							&ecl_gas_limit,
							50000, 1, INT_MAX,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("ecl.mana_limit",
							"Mana (I/O) budget of one ECL run.",
							"Each run costs 10 mana plus the cost of its network and storage host calls; exceeding the budget fails with SQLSTATE EC003.",
							&ecl_mana_limit,
							10000, 1, INT_MAX,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

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
							NULL, NULL, NULL);

	/* ---- rate limiting and errors under RLS ---- */
	loaded_at_server_start = process_shared_preload_libraries_in_progress;

	DefineCustomBoolVariable("ecl.rate_limit",
							 "Enables per-identity mana rate limiting.",
							 "Each DID has a mana account in shared memory that runs draw from and that regenerates with the DID's reliability; ecl.check and ecl.allowed pay once per statement per policy and caller, other calls once per run.",
							 &ecl_rate_limit,
							 false,
							 PGC_SUSET, 0,
							 check_rate_limit, NULL, NULL);

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
							 NULL, NULL, NULL);
	/* ---- end rate limiting and errors under RLS ---- */

	DefineCustomBoolVariable("ecl.track",
							 "Collects ECLVM statistics.",
							 NULL,
							 &ecl_track,
							 true,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

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

	MarkGUCPrefixReserved("ecl");

	/*
	 * Shared memory for the statistics and the rate limiter; does nothing
	 * unless we are being loaded through shared_preload_libraries.
	 */
	ecl_stats_init();
}
