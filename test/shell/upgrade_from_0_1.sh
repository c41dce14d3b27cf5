#!/bin/bash
# ALTER EXTENSION ecl UPDATE from 0.1 (docs/operations.md, "Upgrading from
# 0.1"): a database made with the released 0.1 install script and holding
# realistic data is updated to the current version; then
#   - every row of every table 0.1 had is still there (md5 per table over
#     0.1's columns, before and after; the identity sequences too),
#   - the same decisions come out (checks, runs, crossings, credentials,
#     the caller's DID under a bound role) and the statistics are kept,
#   - the history table starts with each policy's current version,
#   - the extension's objects equal those of a fresh install in another
#     database, compared from the catalogs (test/shell/upgrade_catalog.sql);
#     the first differing line is named.
#
# Runs inside the throw-away cluster of test/run-all-tests.sh (PG* from
# pg_virtualenv), against the installed extension, which must serve the 0.1
# script with the current library until the update runs.  With
# ECL_BEFORE_UPDATE (test/upgrade-from-release.sh) the cluster starts with
# the released 0.1 library, and that command swaps in the current one just
# before the update.
set -eu

ROOT=${ECL_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
OLD=ecl_upgrade_old
FRESH=ecl_upgrade_fresh
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failures=0

PSQL=(psql -X -q -At -v ON_ERROR_STOP=1)

expect() {
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		echo "not ok - $1: expected [$2], got [$3]"
		failures=$((failures + 1))
	fi
}

"${PSQL[@]}" -d postgres <<SQL
DROP DATABASE IF EXISTS $OLD;
DROP DATABASE IF EXISTS $FRESH;
CREATE DATABASE $OLD;
CREATE DATABASE $FRESH;
DO \$\$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ecl_upgrade_app') THEN
		CREATE ROLE ecl_upgrade_app;
	END IF;
END \$\$;
SQL

"${PSQL[@]}" -d "$OLD" -c "CREATE EXTENSION ecl VERSION '0.1'"
expect "0.1 installed" "0.1" \
	"$("${PSQL[@]}" -d "$OLD" -c "SELECT extversion FROM pg_extension WHERE extname = 'ecl'")"

# Counters start from zero in this database (0.1's stat_reset(), no argument)
"${PSQL[@]}" -d "$OLD" -c "SELECT ecl.stat_reset()" >/dev/null

# ---------------------------------------------------------------- the data
# Keys live in a table of the user's (not ecl's), as an application would.
"${PSQL[@]}" -d "$OLD" >/dev/null <<'SQL'
CREATE TABLE app_keys AS
SELECT 'issuer' AS who, did, secret_key FROM ecl.generate_identity()
UNION ALL
SELECT 'carol', did, secret_key FROM ecl.generate_identity();

INSERT INTO ecl.identities (did) VALUES ('did:web:alice'), ('did:web:bob'), ('did:web:mallory');
UPDATE ecl.identities SET revoked = true WHERE did = 'did:web:mallory';
INSERT INTO ecl.trust (did, realm_id, r, i, c, p, v, omega) VALUES
	('did:web:alice', '', 0.9, 0.8, 0.7, 0.6, 0.5, 0.4),
	('did:web:alice', 'shop', 0.95, 0.9, 0.9, 0.9, 0.9, 0.9),
	('did:web:bob', '', 0.3, 0.3, 0.3, 0.3, 0.3, 0.3),
	('did:web:mallory', '', 1, 1, 1, 1, 1, 1);
INSERT INTO ecl.trust (did, r, i) SELECT did, 0.7, 0.6 FROM app_keys WHERE who = 'carol';
INSERT INTO ecl.balances VALUES ('did:web:alice', 250.5), ('did:web:bob', 3);

-- signed credentials: valid, expired, revoked; one issuer
SELECT ecl.issue_credential('did:web:alice', 'kyc', k.did, k.secret_key) FROM app_keys k WHERE who = 'issuer';
SELECT ecl.issue_credential('did:web:bob', 'kyc', k.did, k.secret_key, now() - interval '1 day') FROM app_keys k WHERE who = 'issuer';
SELECT ecl.issue_credential(c.did, 'staff', k.did, k.secret_key) FROM app_keys k, app_keys c WHERE k.who = 'issuer' AND c.who = 'carol';
SELECT ecl.issue_credential('did:web:bob', 'staff', k.did, k.secret_key) FROM app_keys k WHERE who = 'issuer';
UPDATE ecl.credentials SET revoked_at = now() WHERE subject_did = 'did:web:bob' AND schema = 'staff';

INSERT INTO ecl.realms (realm_id, name, min_trust, required_credentials, entry_policy)
VALUES ('shop', 'the shop', 0.5, '{kyc}', 'shop_entry'),
	   ('lobby', 'the lobby', 0, '{}', NULL);

-- policies, one re-registered twice (version 3), one per realm
SELECT ecl.register_policy('transfer', 'require trust.r >= 0.5, "too low"
return input.amount <= 10', 'transaction');
SELECT ecl.register_policy('transfer', 'require trust.r >= 0.5, "too low"
return input.amount <= 100', 'transaction');
SELECT ecl.register_policy('transfer', 'require trust.r >= 0.5, "reliability too low"
let limit = get_balance(caller)
return input.amount <= limit', 'transaction');
SELECT ecl.register_policy('kyc_only', 'return has_credential(caller, "kyc")', 'membership', 'shop');
SELECT ecl.register_policy('shop_entry', 'require trust.r >= 0.6, "entry needs reliability"
return true', 'crossing');

SELECT ecl.join_realm('did:web:alice', 'lobby', 'shop');
INSERT INTO ecl.realm_members (did, realm_id) VALUES ('did:web:bob', 'lobby');

-- handlers: one writes the store and emits events, one reads
SELECT ecl.register_handler('api', 'POST /orders/:id', $ecl$
require body.quantity >= 1, "quantity must be at least 1"
store_put("orders", params.id, {item: body.item, quantity: body.quantity, by: caller})
emit "order_created", {order: params.id}
return {status: 201, order: params.id}
$ecl$, 'shop');
SELECT ecl.register_handler('controller', 'docs.read', $ecl$
if resource.owner == caller {
    return true
}
require trust.r >= resource.level, "reliability below the document's level"
return true
$ecl$, 'shop');
SELECT ecl.run_api('POST /orders/:id', 'did:web:alice', 'shop',
	'{"method": "POST", "path": "/orders/o-1", "params": {"id": "o-1"}, "body": {"item": "lamp", "quantity": 2}}');
SELECT ecl.run_api('POST /orders/:id', 'did:web:bob', 'shop',
	'{"method": "POST", "path": "/orders/o-2", "params": {"id": "o-2"}, "body": {"item": "desk", "quantity": 1}}');

-- the caller's DID of a role
SELECT ecl.bind_role('ecl_upgrade_app', 'did:web:alice');
GRANT USAGE ON SCHEMA public TO ecl_upgrade_app;
SQL

# ------------------------------------------- 0.1's functions on this library
# Every function of the 0.1 script not used above, called as 0.1 declared
# it, on the current library (which must serve it until the update runs).
cat >"$WORK/surface.sql" <<'SQL'
SELECT 'compile ' || (octet_length(ecl.compile('return 1')) > 0);
SELECT 'disassemble ' || (count(*) > 0) FROM ecl.disassemble(ecl.compile('return 1'));
SELECT 'did_key ' || (ecl.did_key_from_public_key(ecl.did_key_public_key(did)) = did) FROM app_keys WHERE who = 'carol';
SELECT 'enforce ' || (ecl.enforce('transfer', 'did:web:alice', NULL, '{"amount": 1}')).passed;
SELECT 'allow_crossing ' || (ecl.allow_crossing('did:web:alice', 'lobby', 'shop') IS NOT NULL);
SELECT 'ui ' || (ecl.register_handler('ui', 'panel', 'return trust.r > 0.5', 'shop') IS NOT NULL)
	|| ' ' || (ecl.run_ui('panel', 'did:web:alice', 'shop', '{"component": "panel"}')).value::text;
SELECT 'datalogic ' || (ecl.register_handler('datalogic', 'big', 'return input.event.amount > 10') IS NOT NULL)
	|| ' ' || (ecl.run_datalogic('big', 'did:web:alice', NULL, '{"event": {"amount": 11}}')).value::text;
SELECT 'governance ' || (ecl.register_handler('governance', 'budget', 'return input.proposal.yes > input.proposal.no') IS NOT NULL)
	|| ' ' || (ecl.run_governance('budget', 'did:web:alice', NULL,
		'{"proposal": {"id": "p1", "yes": 3, "no": 1, "total": 4, "status": "open"}, "voter": "did:web:alice"}')).value::text;
SELECT 'snapshot ' || (ecl.snapshot('shop', ARRAY['did:web:alice']) ? 'identities');
SELECT 'simulate ' || (ecl.simulate('transfer', 'did:web:alice', NULL, '{"amount": 1}',
	ecl.snapshot('', ARRAY['did:web:alice']))).passed;
SELECT 'test_policy ' || string_agg(ok || ' ' || detail, ', ') FROM ecl.test_policy('kyc_only',
	'[{"caller": "did:web:alice", "realm": "shop", "expect": {"value": false}}]');
SELECT 'rate_limit ' || (count(*) >= 0) FROM ecl.rate_limit_accounts();
SELECT 'rate_limit_reset ' || (ecl.rate_limit_reset() >= 0);
SELECT 'drop_policy ' || (ecl.register_policy('temp', 'return 1') IS NOT NULL) || ' ' || ecl.drop_policy('temp');
SELECT 'drop_handler ' || (ecl.register_handler('ui', 'temp', 'return 1') IS NOT NULL) || ' ' || ecl.drop_handler('ui', 'temp');
SELECT 'unbind_role ' || ecl.bind_role('ecl_upgrade_app', 'did:web:bob')::text
	|| '/' || ecl.unbind_role('ecl_upgrade_app')::text
	|| '/' || ecl.bind_role('ecl_upgrade_app', 'did:web:alice')::text;
SELECT 'stat_eclvm ' || (policies_executed > 0) FROM ecl.stat_eclvm;
SELECT 'stat_eclvm_by_type ' || sum(executions) FILTER (WHERE policy_type = 'api') FROM ecl.stat_eclvm_by_type;
SELECT 'stat_eclvm_realms ' || (count(*) > 0) FROM ecl.stat_eclvm_realms WHERE realm_id = 'shop';
SQL
"${PSQL[@]}" -d "$OLD" -f "$WORK/surface.sql" >"$WORK/surface.out" 2>&1 || true
expect "0.1's functions work on this library before the update" \
"compile true
disassemble true
did_key true
enforce true
allow_crossing true
ui true true
datalogic true true
governance true true
snapshot true
simulate true
test_policy true ok
rate_limit true
rate_limit_reset true
drop_policy true true
drop_handler true true
unbind_role /true/
stat_eclvm true
stat_eclvm_by_type 2
stat_eclvm_realms true" "$(cat "$WORK/surface.out")"

# ---------------------------------------------------------------- decisions
# Read-only questions; every answer a deterministic text (no times, no gas).
cat >"$WORK/decisions.sql" <<'SQL'
SELECT 'check ' || d || ' ' || a || ': ' || ecl.check('transfer', d, 'shop', jsonb_build_object('amount', a))
  FROM unnest(ARRAY['did:web:alice', 'did:web:bob', 'did:web:mallory', 'did:web:nobody']) d,
	   unnest(ARRAY[1, 50, 300]) a
 ORDER BY d, a;
SELECT 'run ' || d || ': ' || r.passed || ' ' || coalesce(r.value::text, '-') || ' ' || coalesce(r.message, '-')
  FROM unnest(ARRAY['did:web:alice', 'did:web:bob']) d,
	   LATERAL ecl.run_policy('transfer', d, NULL, '{"amount": 3}') r
 ORDER BY d;
SELECT 'kyc ' || d || ': ' || ecl.check('kyc_only', d, 'shop')
  FROM unnest(ARRAY['did:web:alice', 'did:web:bob']) d ORDER BY d;
SELECT 'crossing ' || d || ': ' || c.allowed || ' ' || coalesce(c.violations::text, '-')
	   || ' ' || coalesce(c.dampened_trust::text, '-') || ' ' || coalesce(c.policy, '-')
  FROM unnest(ARRAY['did:web:alice', 'did:web:bob']) d,
	   LATERAL ecl.validate_crossing(d, 'lobby', 'shop') c
 ORDER BY d;
SELECT 'credential ' || subject_did || ' ' || schema || ': ' || ecl.verify_credential(id)
	   || ' has=' || ecl.has_credential(subject_did, schema)
  FROM ecl.credentials ORDER BY id;
SELECT 'controller ' || d || ': ' || r.passed || ' ' || coalesce(r.message, '-')
  FROM unnest(ARRAY['did:web:alice', 'did:web:bob']) d,
	   LATERAL ecl.run_controller('docs.read', d, 'shop',
		   '{"permission": "docs.read", "resource": {"owner": "did:web:carol", "level": 0.5}}') r
 ORDER BY d;
SELECT 'eval: ' || ecl.eval('return 1 + 2 * input.x', '{"x": 4}')::text;
SET ROLE ecl_upgrade_app;
SELECT 'role: ' || coalesce(ecl.current_did(), '-') || ' allowed=' || ecl.allowed('kyc_only', 'shop');
RESET ROLE;
SQL

# Every table of 0.1 with the columns it has now: the same query, run again
# after the update, compares the same columns.
"${PSQL[@]}" -d "$OLD" >"$WORK/md5.sql" <<'SQL'
SELECT format('SELECT %L || '' '' || count(*) || '' '' || coalesce(md5(string_agg(r, E''\n'' ORDER BY r COLLATE "C")), ''-'') FROM (SELECT ROW(%s)::text AS r FROM %s) t;',
			  c.oid::regclass, string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum), c.oid::regclass)
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relnamespace = 'ecl'::regnamespace AND c.relkind = 'r'
 GROUP BY c.oid ORDER BY c.oid::regclass::text;
SELECT format('SELECT %L || '' '' || last_value || '' '' || is_called FROM %s;', c.oid::regclass, c.oid::regclass)
  FROM pg_class c WHERE c.relnamespace = 'ecl'::regnamespace AND c.relkind = 'S'
 ORDER BY 1;
SQL

# The statistics through each view, by column name (0.1's names are kept);
# WHERE is added after the update, when the views show every database.
stats_queries=(
	"SELECT policies_compiled, policy_compile_errors, policies_executed, policies_passed, policies_denied, policy_runtime_errors, out_of_gas_aborts, mana_rate_limited, total_gas_consumed, total_mana_consumed, crossing_evaluations, crossings_allowed, crossings_denied, events_emitted, avg_evaluation_time_us, policy_success_rate, crossing_allow_rate, stats_reset FROM ecl.stat_eclvm"
	"SELECT policy_type, executions, passed, denied, errors FROM ecl.stat_eclvm_by_type"
	"SELECT realm_id, policies_executed, passed, denied, success_rate, gas_consumed, mana_consumed, crossing_policies FROM ecl.stat_eclvm_realms"
	"SELECT policy, kind, realm_id, calls, passed, denied, errors, total_gas, total_mana, total_time_us, mean_time_us, min_time_us, max_time_us FROM ecl.stat_eclvm_policies"
)
stats() {
	for q in "${stats_queries[@]}"; do
		"${PSQL[@]}" -d "$OLD" -c "$q $1 ORDER BY 1, 2, 3"
	done
}
"${PSQL[@]}" -d "$OLD" -f "$WORK/decisions.sql" >"$WORK/decisions.before"
"${PSQL[@]}" -d "$OLD" -f "$WORK/md5.sql" >"$WORK/md5.before"
stats "" >"$WORK/stats.before"
expect "the data is there (rows in identities, credentials, policies, handlers, store, events)" \
	"5 4 8 5 2 2" \
	"$("${PSQL[@]}" -d "$OLD" -c "SELECT (SELECT count(*) FROM ecl.identities) || ' ' || (SELECT count(*) FROM ecl.credentials) || ' ' || (SELECT count(*) FROM ecl.policies) || ' ' || (SELECT count(*) FROM ecl.handlers) || ' ' || (SELECT count(*) FROM ecl.store) || ' ' || (SELECT count(*) FROM ecl.events)")"

# ---------------------------------------------------------------- the update
# test/upgrade-from-release.sh runs this test on a cluster that has the
# released library: here it installs the current one and restarts.
if [ -n "${ECL_BEFORE_UPDATE:-}" ]; then
	eval "$ECL_BEFORE_UPDATE"
	"${PSQL[@]}" -d "$OLD" -f "$WORK/decisions.sql" >"$WORK/decisions.between"
	if diff -u "$WORK/decisions.before" "$WORK/decisions.between" >"$WORK/decisions.diff"; then
		echo "ok - the same decisions from 0.1's objects on the new library, before the update"
	else
		echo "not ok - the new library decides differently on 0.1's objects:"; sed 's/^/    /' "$WORK/decisions.diff"
		failures=$((failures + 1))
	fi
fi

expect "the update path 0.1 -> current exists" \
	"0.1--$("${PSQL[@]}" -d "$OLD" -c "SELECT default_version FROM pg_available_extensions WHERE name = 'ecl'")" \
	"$("${PSQL[@]}" -d "$OLD" -c "SELECT source || '--' || target FROM pg_extension_update_paths('ecl') WHERE source = '0.1' AND path IS NOT NULL AND target = (SELECT default_version FROM pg_available_extensions WHERE name = 'ecl')")"

current=$("${PSQL[@]}" -d "$OLD" -c "SELECT default_version FROM pg_available_extensions WHERE name = 'ecl'")
"${PSQL[@]}" -d "$OLD" -c "ALTER EXTENSION ecl UPDATE TO '$current'"
expect "updated to $current" "$current" \
	"$("${PSQL[@]}" -d "$OLD" -c "SELECT extversion FROM pg_extension WHERE extname = 'ecl'")"

"${PSQL[@]}" -d "$OLD" -f "$WORK/md5.sql" >"$WORK/md5.after"
if diff -u "$WORK/md5.before" "$WORK/md5.after" >"$WORK/md5.diff"; then
	echo "ok - every row of every 0.1 table kept ($(wc -l <"$WORK/md5.before") tables and sequences)"
else
	echo "not ok - rows changed by the update:"; sed 's/^/    /' "$WORK/md5.diff"
	failures=$((failures + 1))
fi

# the statistics the 0.1 objects showed are what the new views show for
# this database (before any new run)
if [ -z "${ECL_BEFORE_UPDATE:-}" ]; then
	stats "WHERE datname = current_database()" >"$WORK/stats.after"
	expect "statistics kept across the update, every counter of the four views ($(wc -l <"$WORK/stats.before") rows)" \
		"$(cat "$WORK/stats.before")" "$(cat "$WORK/stats.after")"
else
	echo "ok - statistics not compared: the server restarted with another library (docs/operations.md)"
fi

"${PSQL[@]}" -d "$OLD" -f "$WORK/decisions.sql" >"$WORK/decisions.after"
if diff -u "$WORK/decisions.before" "$WORK/decisions.after" >"$WORK/decisions.diff"; then
	echo "ok - the same $(wc -l <"$WORK/decisions.before") decisions after the update"
else
	echo "not ok - decisions changed by the update:"; sed 's/^/    /' "$WORK/decisions.diff"
	failures=$((failures + 1))
fi

# the history starts with each current version, as its registration would
# have written it; the next registration continues the numbering
expect "policy_versions = the current policies" \
	"$("${PSQL[@]}" -d "$OLD" -c "SELECT string_agg(name || ':' || version || ':' || md5(source) || ':' || encode(hash, 'hex') || ':' || kind || ':' || coalesce(realm_id, '-') || ':' || updated_at, ',' ORDER BY name) FROM ecl.policies")" \
	"$("${PSQL[@]}" -d "$OLD" -c "SELECT string_agg(name || ':' || version || ':' || md5(source) || ':' || encode(hash, 'hex') || ':' || kind || ':' || coalesce(realm_id, '-') || ':' || registered_at, ',' ORDER BY name) FROM ecl.policy_versions WHERE registered_by = session_user")"
"${PSQL[@]}" -d "$OLD" -c "SELECT ecl.register_policy('transfer', 'return false', 'transaction')" >/dev/null
expect "re-registering after the update continues the numbering: version 4, history 3 and 4" \
	"4|3,4" \
	"$("${PSQL[@]}" -d "$OLD" -c "SELECT (SELECT version FROM ecl.policies WHERE name = 'transfer') || '|' || (SELECT string_agg(version::text, ',' ORDER BY version) FROM ecl.policy_versions WHERE name = 'transfer')")"
"${PSQL[@]}" -d "$OLD" -c "SELECT ecl.rollback_policy('transfer', 3)" >/dev/null
expect "rolling back to the version 0.1 registered: version 5 with its source" "5 true" \
	"$("${PSQL[@]}" -d "$OLD" -c "SELECT version || ' ' || (source LIKE '%get_balance%') FROM ecl.policies WHERE name = 'transfer'")"

# the references are kept by the triggers now, as in a fresh install
expect "deleting an identity takes its rows along (triggers, not foreign keys)" \
	"0 0 0 1" \
	"$("${PSQL[@]}" -d "$OLD" -c "DELETE FROM ecl.identities WHERE did = 'did:web:bob'" -c "SELECT (SELECT count(*) FROM ecl.trust WHERE did = 'did:web:bob') || ' ' || (SELECT count(*) FROM ecl.credentials WHERE subject_did = 'did:web:bob') || ' ' || (SELECT count(*) FROM ecl.balances WHERE did = 'did:web:bob') || ' ' || (SELECT count(*) FROM pg_constraint WHERE conrelid = 'ecl.handlers'::regclass AND contype = 'p')")"
expect "a dangling reference is refused with 23503" "23503" \
	"$("${PSQL[@]}" -d "$OLD" -c "\\set VERBOSITY sqlstate" -c "INSERT INTO ecl.trust (did) VALUES ('did:web:ghost')" 2>&1 | sed -n 's/^ERROR: *//p')"

# ---------------------------------------------------------------- the catalog
"${PSQL[@]}" -d "$FRESH" -c "CREATE EXTENSION ecl"
"${PSQL[@]}" -d "$OLD" -f "$ROOT/test/shell/upgrade_catalog.sql" >"$WORK/catalog.updated"
"${PSQL[@]}" -d "$FRESH" -f "$ROOT/test/shell/upgrade_catalog.sql" >"$WORK/catalog.fresh"
if diff "$WORK/catalog.fresh" "$WORK/catalog.updated" >"$WORK/catalog.diff"; then
	echo "ok - the updated extension's objects equal a fresh install's ($(wc -l <"$WORK/catalog.fresh") catalog lines)"
else
	echo "not ok - the updated extension differs from a fresh install; first difference:"
	# the first hunk: "<" lines are the fresh install's, ">" the updated one's
	awk '/^[0-9]/ { if (n++) exit } n' "$WORK/catalog.diff" | head -20 |
		sed -e 's/^< /    fresh:   /' -e 's/^> /    updated: /'
	echo "    ($(grep -c '^[<>]' "$WORK/catalog.diff") differing lines in all)"
	failures=$((failures + 1))
fi

"${PSQL[@]}" -d postgres -c "DROP DATABASE $OLD" -c "DROP DATABASE $FRESH"
"${PSQL[@]}" -d postgres -c "DROP ROLE ecl_upgrade_app" 2>/dev/null || true

if [ "$failures" -gt 0 ]; then
	echo "$failures check(s) failed"
	exit 1
fi
echo "all upgrade checks passed"
