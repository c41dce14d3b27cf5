#!/bin/bash
# `ecl run` = ecl.simulate: for every ECL example policy in docs/ and
# README.md and every policy of examples/, on a snapshot of a database with
# realistic data (did:key and plain identities, realm and global trust, a
# revoked identity, signed and unsigned credentials, balances, shared and
# personal stores), the command and the database give the same passed,
# value, message, gas_used, mana_used, logs, events and writes (everything
# ecl.simulate returns but duration_us), or the same error (SQLSTATE and
# message), for several callers and inputs.  The first difference is
# named.  Examples that are not whole policies or scripts (fragments: ecl
# check refuses them) are skipped and counted.
#
# Runs inside the throw-away cluster of test/run-all-tests.sh.
set -eu

ROOT=${ECL_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
ECL=${ECL:-$("${PG_CONFIG:-pg_config}" --bindir)/ecl}
EXT=${ECL_EXTENSION:-ecl}
DB=ecl_cli_run_test
WORK=$(mktemp -d /tmp/ecl-cli-run.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

[ -x "$ECL" ] || fail "$ECL is not installed"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -c "CREATE EXTENSION $EXT"
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

# --- the data: what the examples read ----------------------------------------------
sql <<'SQL'
CREATE TABLE ex_dids (name text PRIMARY KEY, did text);
INSERT INTO ex_dids SELECT 'alice', did FROM ecl.generate_identity();
INSERT INTO ex_dids VALUES ('bob', 'did:ex:bob'), ('carol', 'did:ex:carol'),
	('dave', 'did:ex:dave');
INSERT INTO ecl.identities (did) VALUES ('did:ex:bob'), ('did:ex:carol'), ('did:ex:dave');
INSERT INTO ecl.realms (realm_id) VALUES ('ex-realm');
INSERT INTO ecl.trust (did, realm_id, r, i, c, p, v, omega)
SELECT d.did, t.realm, t.r, t.i, t.c, t.p, t.v, t.omega
  FROM (VALUES ('alice', 'ex-realm', 0.85, 0.9, 0.30000000000000004, 0.6, 0.9, 0.55),
			   ('alice', '', 0.2, 0.25, 0.2, 0.2, 0.2, 0.1),
			   ('bob', '', 0.55, 0.5, 0.9, 0.4, 0.5, 0.123456789012345678),
			   ('carol', 'ex-realm', 0.95, 0.95, 0.95, 0.95, 0.95, 0.95))
	   AS t(who, realm, r, i, c, p, v, omega)
  JOIN ex_dids d ON d.name = t.who;
INSERT INTO ecl.balances (did, amount)
SELECT d.did, b.amount
  FROM (VALUES ('alice', 12500.5), ('bob', 40), ('carol', 99999)) AS b(who, amount)
  JOIN ex_dids d ON d.name = b.who;
SQL
# alice: signed kyc-level-2 and staff credentials, an expired kyc; bob: an
# unsigned staff; carol (revoked): a signed kyc-level-2
sql <<'SQL'
CREATE TABLE ex_keys AS SELECT did, secret_key FROM ecl.generate_identity();
SELECT count(ecl.issue_credential(s.did, c.schema, k.did, k.secret_key, c.expires))
  FROM (VALUES ('alice', 'kyc-level-2', now() + interval '1 day'),
			   ('alice', 'staff', NULL::timestamptz),
			   ('alice', 'kyc', now() - interval '1 day'),
			   ('carol', 'kyc-level-2', NULL)) AS c(who, schema, expires)
  JOIN ex_dids s ON s.name = c.who, ex_keys k;
INSERT INTO ecl.credentials (subject_did, schema) VALUES ('did:ex:bob', 'staff');
UPDATE ecl.identities SET revoked = true WHERE did = 'did:ex:carol';
INSERT INTO ecl.store (realm_id, store_name, owner_did, key, value) VALUES
	('ex-realm', 'orders', '', 'o-0', '{"item": "ink", "quantity": 2, "by": "did:ex:bob"}'),
	('ex-realm', 'orders', '', 'o-9', '{"item": "pad", "quantity": 1, "by": "did:ex:bob"}'),
	('ex-realm', 'limits', '', 'daily', '1000'),
	('ex-realm', 'limits', '', 'per_transfer', '250.75'),
	('ex-realm', 'docs', '', 'doc-1', '{"owner": "did:ex:bob", "classification": "internal", "level": 1}'),
	('ex-realm', 'docs', '', 'doc-2', '{"owner": "did:ex:bob", "classification": "secret", "level": 4}'),
	('ex-realm', 'spent', 'did:ex:bob', 'today', '30');
SQL
alice=$(sql -c "SELECT did FROM ex_dids WHERE name = 'alice'")
[ -n "$alice" ] || fail "no alice"
[ "$(sql -c "SELECT count(*) FROM ecl.credentials")" -ge 5 ] || fail "credentials were not issued"

# the snapshot both sides run on; its own time, so get_timestamp() agrees
sql -c "CREATE TABLE ex_state AS SELECT jsonb_set(ecl.snapshot('ex-realm'), '{timestamp}', '1767225600') AS s"
sql -c "SELECT s FROM ex_state" >"$WORK/state.json"
grep -q '"kyc-level-2": true' "$WORK/state.json" || fail "the snapshot has no valid credential: $(cat "$WORK/state.json")"

# --- the policies ---------------------------------------------------------------
mkdir "$WORK/ex"
python3 "$ROOT/test/shell/lib/ecl_examples.py" "$WORK/ex" "$ROOT"/docs/*.md "$ROOT/README.md"
for f in "$ROOT"/examples/*.ecl; do
	[ -e "$f" ] && cp "$f" "$WORK/ex/examples-$(basename "$f")"
done
# and one that shows the order of object keys, which jsonb sets (shorter
# first, then bytewise) whatever order the text had: of the input, of a
# stored value, of a value the run wrote and reads back
cat >"$WORK/ex/zz-key-order.ecl" <<'ECL'
store_put("notes", "n", {zz: 1, b: 2, aa: {yy: 1, c: 2}})
return [keys(input), keys(store_get("docs", "doc-1")), keys(store_get("notes", "n")),
        keys(store_get("notes", "n").aa), input]
ECL

# --- runs: the command now, ecl.simulate in the same SQL script ---------------------
python3 - "$ECL" "$WORK" "$alice" >"$WORK/runs.sql" <<'PY'
import json, os, re, subprocess, sys

ecl, work, alice = sys.argv[1:4]
bob, carol = "did:ex:bob", "did:ex:carol"
callers = [alice, bob, carol, "did:ex:dave", "did:ex:nobody", None]
# inputs naming what the examples read: the fields of the docs' policies and
# handlers (amount, body, params, resource, event, proposal, ...) and of
# examples/
inputs = [
    {},
    {"amount": 500, "fee": 2, "owner": alice, "classification": "internal",
     "level": 2, "body": {"item": "pen", "quantity": 3}, "params": {"id": "o-1"},
     "method": "POST", "path": "/orders", "props": {"section": "refunds"},
     "event": {"currency": "EUR", "amount": 1500},
     "events": [{"currency": "EUR", "amount": 10}, {"currency": "USD", "amount": 5}],
     "voter": {"trust": {"r": 0.7}}, "proposal": {"yes": 5, "no": 2, "total": 10, "status": "open"},
     "resource": {"owner": alice, "level": 0.5}, "doc": "doc-1", "action": "read",
     "recipient": bob, "currency": "EUR", "purpose": "payroll"},
    {"amount": 7000, "fee": 0.1, "owner": bob, "classification": "secret",
     "level": 4, "body": {"item": "desk", "quantity": 2.5}, "params": {"id": "o-2"},
     "method": "GET", "path": "/orders/o-0", "props": {"section": "sales"},
     "event": {"currency": "USD", "amount": 50}, "events": [],
     "voter": {"trust": {"r": 0.9}}, "proposal": {"yes": 1, "no": 8, "total": 10, "status": "open"},
     "resource": {"owner": bob, "level": 0.9}, "doc": "doc-2", "action": "write",
     "recipient": "did:ex:nobody", "currency": "USD", "purpose": "gift"},
]

def lit(s):
    """An SQL literal for any text: a dollar quote with an unused tag."""
    if s is None:
        return "NULL"
    n = 0
    while f"$q{n}$" in s:
        n += 1
    return f"$q{n}${s}$q{n}$"

names = sorted(os.listdir(f"{work}/ex"))
policies = fragments = runs = 0
print("CREATE TEMP TABLE runs (id serial, file text, name text, script bool, caller text, input jsonb, cli jsonb, sim jsonb);")
for i, name in enumerate(names):
    path = f"{work}/ex/{name}"
    if subprocess.run([ecl, "check", path], capture_output=True).returncode != 0:
        fragments += 1
        continue
    src = open(path, encoding="utf-8").read()
    declared = re.findall(r"^\s*policy\s+([A-Za-z_][A-Za-z0-9_]*)", src, re.M)
    # one registration per policy of the file: a file of several is
    # registered under each policy's own name, a single policy or a script
    # under a name of its own (so examples that share a name do not clash)
    targets = [(p, p) for p in declared] if len(declared) > 1 else [(None, f"ex_{i:03d}")]
    for pick, regname in targets:
        policies += 1
        print(f"SELECT ecl.register_policy({lit(regname)}, {lit(src)}) IS NOT NULL AS registered \\gset")
        for caller in callers:
            for inp in inputs:
                cmd = [ecl, "run", path, "--state", f"@{work}/state.json",
                       "--realm", "ex-realm", "--input", json.dumps(inp)]
                if pick:
                    cmd += ["-p", pick]
                if caller:
                    cmd += ["--caller", caller]
                out = subprocess.run(cmd, capture_output=True, text=True)
                if out.returncode not in (0, 1) or not out.stdout.strip():
                    sys.exit(f"ecl run {name} failed ({out.returncode}): {out.stdout}{out.stderr}")
                runs += 1
                print("INSERT INTO runs (file, name, script, caller, input, cli, sim) VALUES "
                      f"({lit(name)}, {lit(regname)}, {'true' if not declared else 'false'}, "
                      f"{lit(caller)}, {lit(json.dumps(inp))}, {lit(out.stdout.strip())}, "
                      f"pg_temp.sim({lit(regname)}, {lit(caller)}, {lit(json.dumps(inp))}));")
with open(f"{work}/counts", "w") as f:
    f.write(f"{policies} {fragments} {runs}\n")
PY
read -r policies fragments runs <"$WORK/counts"

cat >"$WORK/compare.sql" <<'SQL'
\set ON_ERROR_STOP 1
-- ecl.simulate's row as JSON, or the error it raised
CREATE FUNCTION pg_temp.sim(p text, c text, i jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	RETURN (SELECT to_jsonb(r) - 'duration_us'
			  FROM ecl.simulate(p, c, 'ex-realm', i, (SELECT s FROM ex_state)) r);
EXCEPTION WHEN OTHERS THEN
	RETURN jsonb_build_object('error', jsonb_build_object('sqlstate', SQLSTATE, 'message', SQLERRM));
END $$;
SQL
cat "$WORK/runs.sql" >>"$WORK/compare.sql"
cat >>"$WORK/compare.sql" <<'SQL'
-- the first difference of each run, in the order of ecl.simulate's columns;
-- errors: the SQLSTATE, then the message (the policy's name left out, since
-- a registered name may differ from the name in the file)
CREATE TEMP TABLE diffs AS
SELECT id, file, caller, input, cli, sim,
	   CASE WHEN sim ? 'error' OR cli ? 'error' THEN
			CASE WHEN NOT (sim ? 'error' AND cli ? 'error') THEN 'error'
				 WHEN sim #>> '{error,sqlstate}' IS DISTINCT FROM cli #>> '{error,sqlstate}' THEN 'error.sqlstate'
				 WHEN regexp_replace(sim #>> '{error,message}', '^policy "[^"]*"[,:] ?', '')
					  IS DISTINCT FROM regexp_replace(cli #>> '{error,message}', '^policy "[^"]*"[,:] ?', '')
					  THEN 'error.message'
			END
	   ELSE (SELECT k FROM unnest(ARRAY['passed', 'value', 'message', 'gas_used', 'mana_used',
										'logs', 'events', 'writes']
								  || ARRAY(SELECT jsonb_object_keys(sim) ORDER BY 1)) WITH ORDINALITY AS u(k, n)
			  WHERE sim -> k IS DISTINCT FROM cli -> k ORDER BY n LIMIT 1)
	   END AS diff
  FROM runs;
-- the table host keeps that order too: run_policy = simulate on it
SELECT ecl.register_policy('ex_key_order', :'key_order_src') IS NOT NULL AS registered \gset
SELECT CASE WHEN r.value = s.value THEN 'key order: run_policy = simulate'
			ELSE 'DIFF key order: ecl.run_policy ' || r.value::text || ', ecl.simulate ' || s.value::text END
  FROM ecl.simulate('ex_key_order', NULL, 'ex-realm', '{"bb": 1, "a": 2}',
					(SELECT s FROM ex_state)) s,
	   ecl.run_policy('ex_key_order', NULL, 'ex-realm', '{"bb": 1, "a": 2}') r;
SELECT 'runs ' || count(*) || ', passed ' || count(*) FILTER (WHERE sim @> '{"passed": true}')
	   || ', denied ' || count(*) FILTER (WHERE sim @> '{"passed": false}')
	   || ', errors ' || count(*) FILTER (WHERE sim ? 'error')
	   || ', with writes ' || count(*) FILTER (WHERE jsonb_array_length(coalesce(sim -> 'writes', '[]')) > 0)
  FROM runs;
SELECT format('DIFF %s in %s (caller %s, input %s): ecl.simulate %s, ecl run %s',
			  diff, file, coalesce(caller, 'null'), input,
			  CASE WHEN diff LIKE 'error%' THEN sim -> 'error' ELSE sim -> diff END,
			  CASE WHEN diff LIKE 'error%' THEN cli -> 'error' ELSE cli -> diff END)
  FROM diffs WHERE diff IS NOT NULL ORDER BY id LIMIT 1;
SQL
sql -v key_order_src="$(cat "$WORK/ex/zz-key-order.ecl")" -f "$WORK/compare.sql" >"$WORK/result" 2>"$WORK/err" || { cat "$WORK/err" >&2; fail "the comparison script failed"; }
cat "$WORK/result"
if grep -q '^DIFF' "$WORK/result"; then
	fail "ecl run and ecl.simulate differ: $(grep '^DIFF' "$WORK/result")"
fi
echo "ecl run = ecl.simulate for $policies policies ($fragments fragments skipped), $runs runs"
# the docs held 18 whole ECL examples when this was written, examples/
# holds 4, plus the key order one: fewer means the extraction broke; every kind of outcome occurs
[ "$policies" -ge 23 ] || fail "only $policies policies found"
grep -qx 'key order: run_policy = simulate' "$WORK/result" || fail "no key order check: $(cat "$WORK/result")"
grep -q '^runs [0-9]*, passed [1-9][0-9]*, denied [1-9][0-9]*, errors [1-9][0-9]*, with writes [1-9]' "$WORK/result" \
	|| fail "not every outcome occurred: $(cat "$WORK/result")"
psql -X -q -d postgres -c "DROP DATABASE $DB"
echo "ok"
