#!/bin/bash
# Signed bundles made outside the database, as CI would (docs/lifecycle.md,
# "Signed bundles"): Python with cryptography's Ed25519 builds a bundle from
# policy sources (text with quotes, backslashes, tabs, newlines, a control
# character and characters outside ASCII), serializes it canonically with
# json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False),
# signs it and ecl.import_bundle accepts it; the did:key Python computes is
# the database's; a bundle the database exports, signed in Python, carries
# byte for byte the signature ecl.sign_bundle gives it (Ed25519 is
# deterministic, so the two canonical forms are the same bytes); a changed
# source is a new version, a policy or handler left out is dropped, a null
# realm is the realm-less policies only; tampered after signing, signed by a
# key not in ecl.bundle_signers or over another serialization, it is refused.
# Last, the CI recipe of docs/lifecycle.md runs as documented.
#
# Runs inside the throw-away cluster of test/run-all-tests.sh.
set -eu

EXT=${ECL_EXTENSION:-ecl}
DB=ecl_bundle_signer_test
PY=/usr/bin/python3
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -c "CREATE EXTENSION $EXT"

PGDATABASE=$DB "$PY" - <<'PY'
import json
import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

conn = psycopg.connect(autocommit=True)
failures = []


def check(name, ok, *detail):
    print(("ok   " if ok else "FAIL ") + name)
    if not ok:
        failures.append(name)
        for d in detail:
            print("     ", d)


B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def did_key(public_key: bytes) -> str:
    """did:key of an Ed25519 key: multibase base58btc of 0xed 0x01 || key"""
    data = b"\xed\x01" + public_key
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "did:key:z" + "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def canonical(bundle: dict) -> bytes:
    body = {k: v for k, v in bundle.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def sign(bundle: dict, key, did: str) -> dict:
    signed = dict(bundle)
    signed["signature"] = {"signer": did, "value": key.sign(canonical(bundle)).hex()}
    return signed


def import_bundle(bundle: dict):
    """rows, or (sqlstate, message)"""
    try:
        with conn.transaction():
            return conn.execute(
                "SELECT name, action, version FROM ecl.import_bundle(%s::jsonb)",
                (json.dumps(bundle),)).fetchall()
    except psycopg.Error as e:
        return (e.sqlstate, e.diag.message_primary)


key = Ed25519PrivateKey.generate()
public = key.public_key().public_bytes(serialization.Encoding.Raw,
                                       serialization.PublicFormat.Raw)
did = did_key(public)
db_did = conn.execute("SELECT ecl.did_key_from_public_key(%s)", (public,)).fetchone()[0]
check("Python's did:key is the database's", did == db_did, did, db_did)

conn.execute("INSERT INTO ecl.realms (realm_id) VALUES ('ci-realm')")
conn.execute("INSERT INTO ecl.bundle_signers (did, comment) VALUES (%s, 'CI')", (did,))

# what CI has: the sources in git; hash and version are left null
sources = {
    "ci_limit": 'policy ci_limit {\n\trequire amount <= 100, "amount above 100"\n    return amount * 2\n}\n',
    "ci_text": 'policy ci_text {\n    // caf\u00e9 \u20ac \U0001F600 "q" \\ \x7f \x01 end\n    return "a\\"b\\\\c"\n}\n',
}
bundle = {
    "format": "ecl-bundle",
    "bundle_version": 1,
    "realm": "ci-realm",
    "policies": [
        {"name": n, "kind": "custom", "realm": "ci-realm", "source": s,
         "hash": None, "version": None}
        for n, s in sorted(sources.items())
    ],
}
signed = sign(bundle, key, did)
rows = import_bundle(signed)
check("a bundle signed in Python is imported",
      rows == [("ci_limit", "added", 1), ("ci_text", "added", 1)], rows)
stored = dict(conn.execute(
    "SELECT name, source FROM ecl.policies WHERE realm_id = 'ci-realm'").fetchall())
check("the sources are stored as CI had them", stored == sources, stored)
value = conn.execute("SELECT value FROM ecl.run_policy('ci_text', NULL, 'ci-realm')").fetchone()[0]
check("the imported policy runs", value == 'a"b\\c', value)
check("importing it again changes nothing",
      import_bundle(signed) == [("ci_limit", "unchanged", 1), ("ci_text", "unchanged", 1)])

# the database's export, signed here, has the signature ecl.sign_bundle makes
exported = conn.execute("SELECT ecl.export_bundle('ci-realm')").fetchone()[0]
check("the export holds hash and version",
      all(len(p["hash"]) == 64 and p["version"] == 1 for p in exported["policies"]), exported)
secret = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                           serialization.NoEncryption()) + public
db_signed = conn.execute("SELECT ecl.sign_bundle(%s::jsonb, %s, %s)",
                         (json.dumps(exported), did, secret)).fetchone()[0]
py_signed = sign(exported, key, did)
check("Python and ecl.sign_bundle sign the same bytes",
      db_signed["signature"] == py_signed["signature"],
      db_signed["signature"], py_signed["signature"])
check("the export signed in Python is imported", import_bundle(py_signed)
      == [("ci_limit", "unchanged", 1), ("ci_text", "unchanged", 1)])

# a new source from CI: a new version; a policy left out: dropped
changed = json.loads(json.dumps(bundle))
changed["policies"] = [changed["policies"][1]]
changed["policies"][0]["source"] = 'policy ci_text { return "v2" }'
rows = import_bundle(sign(changed, key, did))
check("a changed source is a new version, a missing policy is dropped",
      rows == [("ci_text", "updated", 2), ("ci_limit", "dropped", 1)], rows)

# a handler travels as its policy "<engine>:<key>"; left out, it is dropped
conn.execute("SELECT ecl.register_handler('api', 'ci-ping', 'return {status: 200}', 'ci-realm')")
with_handler = conn.execute("SELECT ecl.export_bundle('ci-realm')").fetchone()[0]
check("the handler's policy is exported",
      [p["name"] for p in with_handler["policies"]] == ["api:ci-ping", "ci_text"], with_handler)
rows = import_bundle(sign(changed, key, did))
handlers = conn.execute("SELECT count(*) FROM ecl.handlers WHERE key = 'ci-ping'").fetchone()[0]
check("a handler absent from the bundle is dropped with its policy",
      rows == [("ci_text", "unchanged", 2), ("api:ci-ping", "dropped", 1)] and handlers == 0,
      rows, handlers)
rows = import_bundle(sign(with_handler, key, did))
handlers = conn.execute("SELECT policy_name FROM ecl.handlers WHERE engine = 'api' AND key = 'ci-ping'").fetchall()
status = conn.execute("SELECT (ecl.run_api('ci-ping', NULL, 'ci-realm', "
                      "'{\"method\": \"GET\", \"path\": \"/\", \"params\": {}, \"body\": null}')).value").fetchone()[0]
check("importing it again binds the handler",
      rows[0] == ("api:ci-ping", "added", 2) and handlers == [("api:ci-ping",)]
      and status == {"status": 200}, rows, handlers, status)

# "realm": null is the realm-less policies: they alone, the realm's stay
conn.execute("SELECT ecl.register_policy('free_a', 'return 1'), ecl.register_policy('free_b', 'return 2')")
realmless = conn.execute("SELECT ecl.export_bundle(NULL)").fetchone()[0]
check("a null realm exports the realm-less policies",
      realmless["realm"] is None and [p["name"] for p in realmless["policies"]] == ["free_a", "free_b"],
      realmless)
realmless["policies"] = realmless["policies"][:1]
rows = import_bundle(sign(realmless, key, did))
left = conn.execute("SELECT name FROM ecl.policies ORDER BY name").fetchall()
check("a realm-less bundle drops only realm-less policies",
      rows == [("free_a", "unchanged", 1), ("free_b", "dropped", 1)]
      and left == [("api:ci-ping",), ("ci_text",), ("free_a",)], rows, left)

# refusals
tampered = json.loads(json.dumps(signed))
tampered["policies"][0]["source"] = tampered["policies"][0]["source"].replace("100", "1000")
got = import_bundle(tampered)
check("tampered after signing: 28000", got[0] == "28000", got)
stranger = Ed25519PrivateKey.generate()
stranger_did = did_key(stranger.public_key().public_bytes(
    serialization.Encoding.Raw, serialization.PublicFormat.Raw))
got = import_bundle(sign(bundle, stranger, stranger_did))
check("signed by a key not in ecl.bundle_signers: 42501", got[0] == "42501", got)
# serialized another way (spaces, ASCII escapes): not the canonical bytes
other = dict(bundle)
other["signature"] = {"signer": did, "value": key.sign(
    json.dumps(bundle, sort_keys=True).encode()).hex()}
got = import_bundle(other)
check("a signature over a non-canonical serialization: 28000", got[0] == "28000", got)

if failures:
    raise SystemExit(f"{len(failures)} check(s) failed")
PY

# The CI recipe of docs/lifecycle.md as it is written: sign the .ecl files
# of policies/ with a seed, deploy with psql.
ROOT=${ECL_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
WORK=$(mktemp -d /tmp/ecl-bundle.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/policies"
printf 'policy transfer_limit {\n    require amount <= 100, "amount above 100"\n    return true\n}\n' \
	>"$WORK/policies/transfer_limit.ecl"
printf 'policy refund_ok {\n    return amount > 0\n}\n' >"$WORK/policies/refund_ok.ecl"
export PGDATABASE=$DB
read -r SEED DID < <("$PY" -c '
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization as s
import psycopg
k = Ed25519PrivateKey.generate()
seed = k.private_bytes(s.Encoding.Raw, s.PrivateFormat.Raw, s.NoEncryption())
pk = k.public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)
did = psycopg.connect().execute("SELECT ecl.did_key_from_public_key(%s)", (pk,)).fetchone()[0]
print(seed.hex(), did)' )
psql -X -q -v ON_ERROR_STOP=1 \
	-c "INSERT INTO ecl.realms (realm_id) VALUES ('payments')" \
	-c "INSERT INTO ecl.bundle_signers (did) VALUES ('$DID')"
{ echo "SEED_HEX = '$SEED'"; "$ROOT/test/doc-example.sh" "$ROOT/docs/lifecycle.md" ci-sign-bundle; } >"$WORK/sign.py"
(cd "$WORK" && "$PY" sign.py) || { echo "FAIL: the documented signing recipe"; exit 1; }
"$ROOT/test/doc-example.sh" "$ROOT/docs/lifecycle.md" ci-import-bundle >"$WORK/deploy.sh"
(cd "$WORK" && bash deploy.sh >/dev/null) || { echo "FAIL: the documented deployment"; exit 1; }
got=$(psql -X -At -c "SELECT string_agg(name || ':' || kind || ':' || version, ' ' ORDER BY name)
	FROM ecl.policies WHERE realm_id = 'payments'")
want="refund_ok:transaction:1 transfer_limit:transaction:1"
[ "$got" = "$want" ] || { echo "FAIL: the documented recipe imported '$got', not '$want'"; exit 1; }
echo "ok   the CI recipe of docs/lifecycle.md signs and deploys"
unset PGDATABASE

psql -X -q -d postgres -c "DROP DATABASE $DB"
echo "bundle_outside_signer: ok"
