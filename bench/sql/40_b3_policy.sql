-- 40_b3_policy.sql — B3: the policy pgbench runs through ecl.run_policy.
-- One trust lookup through SPI per transaction (each pgbench transaction is
-- a new statement, so the per-statement memo never helps here).
\set ON_ERROR_STOP 1
SELECT ecl.register_policy('b3', $ecl$
policy b3 {
    require amount > 0, "amount must be positive"
    return trust.r >= 0.2 && amount <= 1000
}
$ecl$, 'transaction', 'bench');
