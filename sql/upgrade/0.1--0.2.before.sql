-- 0.1--0.2.before.sql — what the install fragments cannot say about the
-- objects 0.1 created; runs before the fragments in ecl--0.1--0.2.sql
-- (docs/architecture.md, "Changing SQL objects").
--
-- Here: changes to 0.1's tables, types and indexes (the fragments' CREATE
-- TABLE of them is left out), and objects that CREATE OR REPLACE cannot
-- change — a function whose result type or parameters changed, a view whose
-- columns changed other than at the end — dropped so that the fragments
-- create them anew.

-- References between ecl's tables are kept by triggers since 0.2 (pg_restore
-- -j; 10_tables.sql explains).  The triggers, created by the fragment, take
-- the foreign keys' names; the rows were checked by the foreign keys, so
-- nothing needs checking again.
ALTER TABLE ecl.trust DROP CONSTRAINT trust_did_fkey;
ALTER TABLE ecl.credentials DROP CONSTRAINT credentials_subject_did_fkey;
ALTER TABLE ecl.credentials DROP CONSTRAINT credentials_issuer_did_fkey;
ALTER TABLE ecl.balances DROP CONSTRAINT balances_did_fkey;
ALTER TABLE ecl.realm_members DROP CONSTRAINT realm_members_did_fkey;
ALTER TABLE ecl.realm_members DROP CONSTRAINT realm_members_realm_id_fkey;
ALTER TABLE ecl.role_dids DROP CONSTRAINT role_dids_did_fkey;
ALTER TABLE ecl.handlers DROP CONSTRAINT handlers_policy_name_fkey;

-- Statistics are per database since 0.2: the views gain datname as their
-- first column and the functions behind them a dbid OUT parameter (a new
-- result type).  Grants a user added on these views are not kept.
DROP VIEW ecl.stat_eclvm;
DROP VIEW ecl.stat_eclvm_by_type;
DROP VIEW ecl.stat_eclvm_realms;
DROP VIEW ecl.stat_eclvm_policies;
DROP FUNCTION ecl.stat_eclvm_counters();
DROP FUNCTION ecl.stat_eclvm_kind_counters();
DROP FUNCTION ecl.stat_eclvm_realm_counters();
DROP FUNCTION ecl.stat_eclvm_policy_counters();

-- stat_reset(all_databases boolean DEFAULT false) replaces stat_reset():
-- calls without an argument mean what they meant.
DROP FUNCTION ecl.stat_reset();

-- The shadow candidate of a policy (ecl.set_shadow), at the end of the table
-- as in the fragment.
ALTER TABLE ecl.policies
	ADD COLUMN shadow_source text,
	ADD COLUMN shadow_bytecode bytea,
	ADD COLUMN shadow_hash bytea,
	ADD COLUMN shadow_set_by name,
	ADD COLUMN shadow_set_at timestamptz,
	ADD CONSTRAINT policies_shadow_complete CHECK (
		(shadow_source IS NULL) = (shadow_bytecode IS NULL) AND
		(shadow_source IS NULL) = (shadow_hash IS NULL));
