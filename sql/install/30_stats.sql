-- 30_stats.sql — ECLVM statistics views (docs/sql-api.md, "Statistics") and the rate limiter's
-- admin functions (docs/sql-api.md, "Registered policies").  Needs shared_preload_libraries = 'ecl';
-- without it the views raise "ecl statistics are not available".
-- Readable by ecl_admin and pg_read_all_stats; reset by ecl_admin (docs/security.md).
--
-- Statistics are per database, as pg_stat_statements keys by dbid: each
-- function returns the database's oid first and the views join pg_database
-- for datname (rows of a dropped database are not shown).  Members of
-- pg_read_all_stats (and superusers) see every database's rows, any other
-- reader the current database's only (decided in the library).

-- Per database: the global counters (in the library's order: see
-- src/pg/stats/stats_internal.h), then the derived rates and the reset time.
CREATE FUNCTION ecl.stat_eclvm_counters(
    OUT dbid oid,
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
    OUT decisions_logged bigint,
    OUT decisions_dropped bigint,
    OUT avg_evaluation_time_us double precision,
    OUT policy_success_rate double precision,
    OUT crossing_allow_rate double precision,
    OUT stats_reset timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ecl_stat_eclvm_counters'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

CREATE FUNCTION ecl.stat_eclvm_kind_counters(
    OUT dbid oid,
    OUT policy_type text,
    OUT executions bigint,
    OUT passed bigint,
    OUT denied bigint,
    OUT errors bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ecl_stat_eclvm_kind_counters'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

CREATE FUNCTION ecl.stat_eclvm_realm_counters(
    OUT dbid oid,
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
    OUT dbid oid,
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
    OUT max_time_us bigint,
    OUT shadow_runs bigint,
    OUT shadow_disagreements bigint,
    OUT translated_executions bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ecl_stat_eclvm_policy_counters'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

-- Not STRICT: NULL resets the current database only, like the default.
CREATE FUNCTION ecl.stat_reset(all_databases boolean DEFAULT false)
RETURNS void
AS 'MODULE_PATHNAME', 'ecl_stat_reset'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION ecl.stat_reset(boolean) IS
    'zero the current database''s ECLVM statistics (ecl.stat_eclvm*) and set its stats_reset; '
    'with true, every database''s (superusers only)';

CREATE VIEW ecl.stat_eclvm AS
    SELECT d.datname, s.policies_compiled, s.policy_compile_errors,
           s.policies_executed, s.policies_passed, s.policies_denied,
           s.policy_runtime_errors, s.out_of_gas_aborts, s.mana_rate_limited,
           s.total_gas_consumed, s.total_mana_consumed, s.crossing_evaluations,
           s.crossings_allowed, s.crossings_denied, s.events_emitted,
           s.avg_evaluation_time_us, s.policy_success_rate,
           s.crossing_allow_rate, s.stats_reset,
           s.decisions_logged, s.decisions_dropped
      FROM ecl.stat_eclvm_counters() s
      JOIN pg_catalog.pg_database d ON d.oid OPERATOR(pg_catalog.=) s.dbid;

CREATE VIEW ecl.stat_eclvm_by_type AS
    SELECT d.datname, s.policy_type, s.executions, s.passed, s.denied, s.errors
      FROM ecl.stat_eclvm_kind_counters() s
      JOIN pg_catalog.pg_database d ON d.oid OPERATOR(pg_catalog.=) s.dbid;

CREATE VIEW ecl.stat_eclvm_realms AS
    SELECT d.datname, s.realm_id, s.policies_executed, s.passed, s.denied,
           s.success_rate, s.gas_consumed, s.mana_consumed, s.crossing_policies
      FROM ecl.stat_eclvm_realm_counters() s
      JOIN pg_catalog.pg_database d ON d.oid OPERATOR(pg_catalog.=) s.dbid;

CREATE VIEW ecl.stat_eclvm_policies AS
    SELECT d.datname, s.policy, s.kind, s.realm_id, s.calls, s.passed,
           s.denied, s.errors, s.total_gas, s.total_mana, s.total_time_us,
           s.mean_time_us, s.min_time_us, s.max_time_us,
           s.shadow_runs, s.shadow_disagreements,
           s.translated_executions
      FROM ecl.stat_eclvm_policy_counters() s
      JOIN pg_catalog.pg_database d ON d.oid OPERATOR(pg_catalog.=) s.dbid;

COMMENT ON VIEW ecl.stat_eclvm IS
    'ECLVM statistics: one row of global counters per database';
COMMENT ON VIEW ecl.stat_eclvm_by_type IS
    'ECLVM runs per database and policy type (kind)';
COMMENT ON VIEW ecl.stat_eclvm_realms IS
    'ECLVM runs per database and realm (bounded by ecl.max_tracked)';
COMMENT ON VIEW ecl.stat_eclvm_policies IS
    'ECLVM runs per database, policy and realm (bounded by ecl.max_tracked)';

-- Per-DID mana accounts (ecl.rate_limit): cluster-wide, not per database,
-- since a DID is one caller whichever database it calls.
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

-- Privileges (docs/security.md).  Functions called by a view are checked against
-- the querying role, so the functions are restricted as well as the views.
REVOKE ALL ON FUNCTION ecl.stat_eclvm_counters(), ecl.stat_eclvm_kind_counters(),
    ecl.stat_eclvm_realm_counters(), ecl.stat_eclvm_policy_counters(),
    ecl.rate_limit_accounts(), ecl.stat_reset(boolean), ecl.rate_limit_reset(text)
    FROM PUBLIC;
REVOKE ALL ON ecl.stat_eclvm, ecl.stat_eclvm_by_type, ecl.stat_eclvm_realms,
    ecl.stat_eclvm_policies FROM PUBLIC;

GRANT EXECUTE ON FUNCTION ecl.stat_eclvm_counters(), ecl.stat_eclvm_kind_counters(),
    ecl.stat_eclvm_realm_counters(), ecl.stat_eclvm_policy_counters(),
    ecl.rate_limit_accounts()
    TO ecl_admin, pg_read_all_stats;
GRANT SELECT ON ecl.stat_eclvm, ecl.stat_eclvm_by_type, ecl.stat_eclvm_realms,
    ecl.stat_eclvm_policies TO ecl_admin, pg_read_all_stats;
GRANT EXECUTE ON FUNCTION ecl.stat_reset(boolean), ecl.rate_limit_reset(text) TO ecl_admin;
