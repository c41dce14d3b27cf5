-- 30_stats.sql — ECLVM statistics views (SPEC §8) and the rate limiter's
-- admin functions (SPEC §5).  Needs shared_preload_libraries = 'ecl';
-- without it the views raise "ecl statistics are not available".
-- Readable by ecl_admin and pg_read_all_stats; reset by ecl_admin (SPEC §11).

-- Global counters (in the library's order: see src/pg/stats_internal.h),
-- then the derived rates and the reset time.
CREATE FUNCTION ecl.stat_eclvm_counters(
    OUT policies_compiled bigint,
    OUT policy_compile_errors bigint,
    OUT policies_executed bigint,
    OUT policies_passed bigint,
    OUT policies_denied bigint,
    OUT policy_runtime_errors bigint,
    OUT out_of_gas_aborts bigint,
    OUT mana_rate_limited bigint,
    OUT total_gas_consumed bigint,
    OUT total_mana_consumed bigint,
    OUT total_time_us bigint,
    OUT crossing_evaluations bigint,
    OUT crossings_allowed bigint,
    OUT crossings_denied bigint,
    OUT events_emitted bigint,
    OUT avg_evaluation_time_us double precision,
    OUT policy_success_rate double precision,
    OUT crossing_allow_rate double precision,
    OUT stats_reset timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ecl_stat_eclvm_counters'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

CREATE FUNCTION ecl.stat_eclvm_kind_counters(
    OUT policy_type text,
    OUT executions bigint,
    OUT passed bigint,
    OUT denied bigint,
    OUT errors bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ecl_stat_eclvm_kind_counters'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

CREATE FUNCTION ecl.stat_eclvm_realm_counters(
    OUT realm_id text,
    OUT policies_executed bigint,
    OUT passed bigint,
    OUT denied bigint,
    OUT success_rate double precision,
    OUT gas_consumed bigint,
    OUT mana_consumed bigint,
    OUT crossing_policies bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ecl_stat_eclvm_realm_counters'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

CREATE FUNCTION ecl.stat_eclvm_policy_counters(
    OUT policy text,
    OUT kind text,
    OUT realm_id text,
    OUT calls bigint,
    OUT passed bigint,
    OUT denied bigint,
    OUT errors bigint,
    OUT total_gas bigint,
    OUT total_mana bigint,
    OUT total_time_us bigint,
    OUT mean_time_us double precision,
    OUT min_time_us bigint,
    OUT max_time_us bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ecl_stat_eclvm_policy_counters'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

CREATE FUNCTION ecl.stat_reset()
RETURNS void
AS 'MODULE_PATHNAME', 'ecl_stat_reset'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION ecl.stat_reset() IS
    'zero all ECLVM statistics (ecl.stat_eclvm*) and set stats_reset';

CREATE VIEW ecl.stat_eclvm AS
    SELECT policies_compiled, policy_compile_errors, policies_executed,
           policies_passed, policies_denied, policy_runtime_errors,
           out_of_gas_aborts, mana_rate_limited, total_gas_consumed,
           total_mana_consumed, crossing_evaluations, crossings_allowed,
           crossings_denied, events_emitted, avg_evaluation_time_us,
           policy_success_rate, crossing_allow_rate, stats_reset
      FROM ecl.stat_eclvm_counters();

CREATE VIEW ecl.stat_eclvm_by_type AS
    SELECT policy_type, executions, passed, denied, errors
      FROM ecl.stat_eclvm_kind_counters();

CREATE VIEW ecl.stat_eclvm_realms AS
    SELECT realm_id, policies_executed, passed, denied, success_rate,
           gas_consumed, mana_consumed, crossing_policies
      FROM ecl.stat_eclvm_realm_counters();

CREATE VIEW ecl.stat_eclvm_policies AS
    SELECT policy, kind, realm_id, calls, passed, denied, errors,
           total_gas, total_mana, total_time_us, mean_time_us,
           min_time_us, max_time_us
      FROM ecl.stat_eclvm_policy_counters();

COMMENT ON VIEW ecl.stat_eclvm IS 'ECLVM statistics: one row of global counters';
COMMENT ON VIEW ecl.stat_eclvm_by_type IS 'ECLVM runs per policy type (kind)';
COMMENT ON VIEW ecl.stat_eclvm_realms IS 'ECLVM runs per realm (bounded by ecl.max_tracked)';
COMMENT ON VIEW ecl.stat_eclvm_policies IS 'ECLVM runs per policy and realm (bounded by ecl.max_tracked)';

-- Per-DID mana accounts (ecl.rate_limit).
CREATE FUNCTION ecl.rate_limit_accounts(
    OUT did text,
    OUT mana double precision,
    OUT max_mana double precision,
    OUT regen_per_second double precision,
    OUT updated_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ecl_rate_limit_accounts'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

CREATE FUNCTION ecl.rate_limit_reset(did text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecl_rate_limit_reset'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION ecl.rate_limit_reset(text) IS
    'forget the mana account of one DID (or of all DIDs for NULL): it starts full again';

-- Privileges (SPEC §11).  Functions called by a view are checked against
-- the querying role, so the functions are restricted as well as the views.
REVOKE ALL ON FUNCTION ecl.stat_eclvm_counters(), ecl.stat_eclvm_kind_counters(),
    ecl.stat_eclvm_realm_counters(), ecl.stat_eclvm_policy_counters(),
    ecl.rate_limit_accounts(), ecl.stat_reset(), ecl.rate_limit_reset(text)
    FROM PUBLIC;
REVOKE ALL ON ecl.stat_eclvm, ecl.stat_eclvm_by_type, ecl.stat_eclvm_realms,
    ecl.stat_eclvm_policies FROM PUBLIC;

GRANT EXECUTE ON FUNCTION ecl.stat_eclvm_counters(), ecl.stat_eclvm_kind_counters(),
    ecl.stat_eclvm_realm_counters(), ecl.stat_eclvm_policy_counters(),
    ecl.rate_limit_accounts()
    TO ecl_admin, pg_read_all_stats;
GRANT SELECT ON ecl.stat_eclvm, ecl.stat_eclvm_by_type, ecl.stat_eclvm_realms,
    ecl.stat_eclvm_policies TO ecl_admin, pg_read_all_stats;
GRANT EXECUTE ON FUNCTION ecl.stat_reset(), ecl.rate_limit_reset(text) TO ecl_admin;
