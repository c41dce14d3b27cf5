-- Demo chapter 20: the gateway — an ECL entry policy, a crossing allowed and
-- one denied.
\pset footer off

\echo
\echo '######## Crossing into a realm (the unified gateway)'
\echo
\echo '=== 1. The vault also has an ECL entry policy: it runs after the rule checks'
\echo '       (min_trust, credentials), with input {from_realm, to_realm}.'
SELECT ecl.register_policy('vault_entry', $ecl$
policy vault_entry {
    require from_realm == "market", "the vault is entered from the market"
    require trust.i >= 0.6, "integrity too low for the vault"
    log("vault entry granted")
    return true
}
$ecl$, 'crossing', 'vault') IS NOT NULL AS registered;
UPDATE ecl.realms SET entry_policy = 'vault_entry' WHERE realm_id = 'vault';

\echo
\echo '=== 2. ecl.validate_crossing decides: alice (trusted, valid kyc) is let in; bob is'
\echo '       refused, with every reason. Trust carried across is dampened (R, I, C, P shrink).'
SELECT p.name, c.allowed, c.violations, c.policy,
       (SELECT array_agg(round(x::numeric, 3)) FROM unnest(c.original_trust) AS x) AS trust,
       (SELECT array_agg(round(x::numeric, 3)) FROM unnest(c.dampened_trust) AS x) AS dampened
  FROM people p, LATERAL ecl.validate_crossing(p.did, 'market', 'vault') AS c
 WHERE p.name IN ('alice', 'bob') ORDER BY p.name;

\echo
\echo '=== 3. The entry policy itself denies a crossing from the wrong realm.'
SELECT c.allowed, c.violations
  FROM people p, LATERAL ecl.validate_crossing(p.did, 'elsewhere', 'vault') AS c
 WHERE p.name = 'alice';

\echo
\echo '=== 4. ecl.join_realm crosses and records the membership (or raises EC001 when refused).'
SELECT (SELECT array_agg(round(x::numeric, 3))
          FROM unnest(ecl.join_realm(did, 'market', 'vault')) AS x) AS alice_dampened_trust
  FROM people WHERE name = 'alice';
SELECT p.name, m.realm_id, m.from_realm FROM ecl.realm_members m JOIN people p USING (did);
