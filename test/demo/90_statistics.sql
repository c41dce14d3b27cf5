-- Demo chapter 90: the statistics views (ECLVM state, pg_stat style).
\pset footer off

\echo
\echo '######## Statistics'
\echo
\echo '=== 1. ecl.stat_eclvm: one row for the whole cluster, kept in shared memory. Every run'
\echo '       of this demo is in it (the language chapter''s ad hoc evals and errors too).'
\x on
SELECT * FROM ecl.stat_eclvm;
\x off

\echo
\echo '=== 2. ecl.stat_eclvm_by_type: every run counted under its policy type, engines included.'
SELECT * FROM ecl.stat_eclvm_by_type WHERE executions > 0 ORDER BY policy_type;

\echo
\echo '=== 3. ecl.stat_eclvm_realms: per realm.'
SELECT * FROM ecl.stat_eclvm_realms ORDER BY realm_id;

\echo
\echo '=== 4. ecl.stat_eclvm_policies: per policy, like pg_stat_statements (times vary per run).'
SELECT policy, kind, realm_id, calls, passed, denied, errors, total_gas, total_mana
  FROM ecl.stat_eclvm_policies ORDER BY calls DESC, policy;

\echo
\echo '=== 5. Policies can read the statistics themselves with get_metric.'
SELECT ecl.eval($$ return {executed: get_metric("policies_executed"), crossing_allow_rate: get_metric("crossing_allow_rate")} $$) AS metrics;
