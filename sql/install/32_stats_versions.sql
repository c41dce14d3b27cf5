-- 32_stats_versions.sql — the statistics of each version of a registered
-- policy (docs/sql-api.md, "ecl.stat_eclvm_policy_versions"): which version
-- did what, next to ecl.stat_eclvm_policies, whose row sums all versions.

CREATE FUNCTION ecl.stat_eclvm_policy_version_counters(
    OUT dbid oid,
    OUT policy text,
    OUT version integer,
    OUT hash bytea,
    OUT calls bigint,
    OUT passed bigint,
    OUT denied bigint,
    OUT errors bigint,
    OUT total_gas bigint,
    OUT total_mana bigint,
    OUT total_time_us bigint,
    OUT mean_time_us double precision,
    OUT shadow_runs bigint,
    OUT shadow_disagreements bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ecl_stat_eclvm_policy_version_counters'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

CREATE VIEW ecl.stat_eclvm_policy_versions AS
    SELECT d.datname, s.policy, s.version, s.hash, s.calls, s.passed,
           s.denied, s.errors, s.total_gas, s.total_mana, s.total_time_us,
           s.mean_time_us, s.shadow_runs, s.shadow_disagreements
      FROM ecl.stat_eclvm_policy_version_counters() s
      JOIN pg_catalog.pg_database d ON d.oid OPERATOR(pg_catalog.=) s.dbid;

COMMENT ON VIEW ecl.stat_eclvm_policy_versions IS
    'ECLVM runs per database, registered policy and version (bounded by ecl.max_tracked)';

REVOKE ALL ON FUNCTION ecl.stat_eclvm_policy_version_counters() FROM PUBLIC;
REVOKE ALL ON ecl.stat_eclvm_policy_versions FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ecl.stat_eclvm_policy_version_counters()
    TO ecl_admin, pg_read_all_stats;
GRANT SELECT ON ecl.stat_eclvm_policy_versions TO ecl_admin, pg_read_all_stats;
