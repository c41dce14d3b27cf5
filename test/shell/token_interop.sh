#!/bin/bash
# ecl.authenticate and a standard JWT library (PyJWT with cryptography's
# Ed25519, Debian python3-jwt): tokens PyJWT signs are accepted, and refused
# for each reason with SQLSTATE 28000 when their claims say so (exp, nbf,
# iat with the leeway, lifetime, aud, jti, alg none/HS256, tampering,
# unknown and revoked DIDs); tokens ecl.sign_token makes verify in PyJWT.
# Then the jti replay table at its smallest size: full of unexpired
# entries it refuses a new jti (never accepts one unrecorded), and takes new
# ones again once the old tokens have expired.
#
# Runs inside the throw-away cluster of test/run-all-tests.sh.
set -eu

EXT=${ECL_EXTENSION:-ecl}
DB=ecl_token_interop_test
PY=/usr/bin/python3
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -c "CREATE EXTENSION $EXT"

PGDATABASE=$DB "$PY" - <<'PY'
import time
import jwt
import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey, Ed25519PublicKey)

conn = psycopg.connect(autocommit=True)
failures = []


def check(name, ok):
    print(("ok   " if ok else "FAIL ") + name)
    if not ok:
        failures.append(name)


def identity():
    did, pk, sk = conn.execute(
        "SELECT did, public_key, secret_key FROM ecl.generate_identity()").fetchone()
    # libsodium's secret key is seed || public key
    return did, bytes(pk), Ed25519PrivateKey.from_private_bytes(bytes(sk)[:32])


def authenticate(token):
    """(DID, None) or (None, (sqlstate, message))"""
    try:
        with conn.transaction():
            did = conn.execute("SELECT ecl.authenticate(%s)", (token,)).fetchone()[0]
            cur = conn.execute("SELECT ecl.current_did()").fetchone()[0]
            assert cur == did, (cur, did)
            return did, None
    except psycopg.Error as e:
        return None, (e.sqlstate, e.diag.message_primary)


def accepted(name, token, did):
    got, err = authenticate(token)
    check(f"accepted: {name}", got == did and err is None)
    if err:
        print("     ", err)


def refused(name, token, reason):
    got, err = authenticate(token)
    good = got is None and err is not None and err[0] == "28000" \
        and err[1] == f"token refused: {reason}"
    check(f"refused ({reason}): {name}", good)
    if not good:
        print("      got", got, err)


alice, alice_pk, alice_key = identity()
bob, bob_pk, bob_key = identity()
now = int(time.time())


def pyjwt(claims, key=alice_key, alg="EdDSA", headers=None):
    return jwt.encode(claims, key, algorithm=alg, headers=headers)


# ---- PyJWT -> ecl.authenticate
accepted("sub, iat, exp", pyjwt({"sub": alice, "iat": now, "exp": now + 300}), alice)
accepted("no iat", pyjwt({"sub": alice, "exp": now + 300}), alice)
accepted("nbf now, kid header", pyjwt({"sub": alice, "nbf": now, "exp": now + 300},
                                      headers={"kid": alice}), alice)
accepted("exp 10 s ago, within the 30 s leeway", pyjwt({"sub": alice, "exp": now - 10}), alice)
refused("exp 120 s ago", pyjwt({"sub": alice, "exp": now - 120}), "expired")
accepted("nbf 10 s ahead, within the leeway", pyjwt({"sub": alice, "nbf": now + 10, "exp": now + 300}), alice)
refused("nbf 120 s ahead", pyjwt({"sub": alice, "nbf": now + 120, "exp": now + 300}), "not yet valid")
refused("iat 120 s ahead", pyjwt({"sub": alice, "iat": now + 120, "exp": now + 300}), "not yet valid")
accepted("lifetime exactly 1 h", pyjwt({"sub": alice, "iat": now, "exp": now + 3600}), alice)
refused("lifetime 1 h + 1 s", pyjwt({"sub": alice, "iat": now, "exp": now + 3601}), "lifetime too long")
refused("no iat, exp 2 h ahead", pyjwt({"sub": alice, "exp": now + 7200}), "lifetime too long")
refused("no exp", pyjwt({"sub": alice, "iat": now}), "malformed token")
refused("no sub", pyjwt({"iat": now, "exp": now + 60}), "malformed token")
refused("exp a string", pyjwt({"sub": alice, "exp": str(now + 60)}), "malformed token")
refused("HS256", jwt.encode({"sub": alice, "exp": now + 60}, "secret", algorithm="HS256"),
        "unsupported algorithm")
refused("alg none", jwt.encode({"sub": alice, "exp": now + 60}, None, algorithm="none"),
        "unsupported algorithm")
refused("signed by Bob for Alice", pyjwt({"sub": alice, "exp": now + 60}, key=bob_key), "bad signature")
good = pyjwt({"sub": alice, "exp": now + 60})
h, p, s = good.split(".")
forged = jwt.utils.base64url_encode(
    ('{"sub":"%s","exp":%d}' % (bob, now + 60)).encode()).decode()
refused("payload swapped for Bob's", f"{h}.{forged}.{s}", "bad signature")
refused("signature cut", f"{h}.{p}.{s[:-4]}", "bad signature")
conn.execute("INSERT INTO ecl.identities (did, public_key) VALUES ('did:web:alice.example', %s)",
             (alice_pk,))
accepted("registered did:web with a public key",
         pyjwt({"sub": "did:web:alice.example", "exp": now + 60}), "did:web:alice.example")
refused("unregistered did:web", pyjwt({"sub": "did:web:nobody.example", "exp": now + 60}), "unknown DID")

# audience
refused("aud while ecl.token_audience is empty", pyjwt({"sub": alice, "exp": now + 60, "aud": "shop"}),
        "wrong audience")
conn.execute("SET ecl.token_audience = 'shop'")
accepted("aud = ecl.token_audience", pyjwt({"sub": alice, "exp": now + 60, "aud": "shop"}), alice)
accepted("aud list naming it", pyjwt({"sub": alice, "exp": now + 60, "aud": ["bank", "shop"]}), alice)
refused("aud of another service", pyjwt({"sub": alice, "exp": now + 60, "aud": "bank"}), "wrong audience")
refused("no aud", pyjwt({"sub": alice, "exp": now + 60}), "wrong audience")
conn.execute("RESET ecl.token_audience")

# jti
once = pyjwt({"sub": alice, "exp": now + 60, "jti": "interop-1"})
accepted("jti first use", once, alice)
refused("jti replayed", once, "replayed")
refused("jti in a new token of the same DID", pyjwt({"sub": alice, "exp": now + 90, "jti": "interop-1"}),
        "replayed")
accepted("same jti, another DID", pyjwt({"sub": bob, "exp": now + 60, "jti": "interop-1"}, key=bob_key), bob)

# revoked
conn.execute("UPDATE ecl.identities SET revoked = true WHERE did = %s", (bob,))
refused("revoked did:key", pyjwt({"sub": bob, "exp": now + 60}, key=bob_key), "revoked DID")

# ---- ecl.sign_token -> PyJWT
sk = conn.execute("SELECT secret_key FROM ecl.generate_identity()").fetchone()[0]
did = conn.execute("SELECT ecl.did_key_from_public_key(substr(%s::bytea, 33))", (sk,)).fetchone()[0]
pub = Ed25519PublicKey.from_public_bytes(bytes(sk)[32:])
tok = conn.execute("SELECT ecl.sign_token(%s, %s, '10 minutes', 'shop', 'j-42')", (did, sk)).fetchone()[0]
claims = jwt.decode(tok, pub, algorithms=["EdDSA"], audience="shop")
check("sign_token verifies in PyJWT", claims["sub"] == did and claims["jti"] == "j-42"
      and claims["exp"] - claims["iat"] == 600 and abs(claims["iat"] - time.time()) < 60)
check("sign_token header", jwt.get_unverified_header(tok) == {"alg": "EdDSA", "typ": "JWT"})
try:
    jwt.decode(tok, Ed25519PublicKey.from_public_bytes(alice_pk), algorithms=["EdDSA"], audience="shop")
    check("PyJWT refuses it with another key", False)
except jwt.InvalidSignatureError:
    check("PyJWT refuses it with another key", True)
tok2 = conn.execute("SELECT ecl.sign_token(%s, %s)", (did, sk)).fetchone()[0]
claims = jwt.decode(tok2, pub, algorithms=["EdDSA"])
check("sign_token defaults: 5 minutes, no aud, no jti",
      claims["exp"] - claims["iat"] == 300 and "aud" not in claims and "jti" not in claims)

if failures:
    raise SystemExit(f"{len(failures)} interop checks failed")
PY

# ---- the replay table at its smallest size (16 entries)
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "ALTER SYSTEM SET ecl.token_replay_capacity = 16"
pg_ctlcluster "$PGVERSION" regress restart
out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" 2>&1 <<'SQL'
SHOW ecl.token_replay_capacity;
CREATE TEMP TABLE k AS SELECT * FROM ecl.generate_identity();
CREATE FUNCTION pg_temp.try(t text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM ecl.authenticate(t); RETURN 'ok';
EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE || ' ' || SQLERRM; END $$;
SET ecl.token_leeway = 0;
-- 16 short tokens fill the table
SELECT count(*) FILTER (WHERE r = 'ok') FROM
	(SELECT pg_temp.try(ecl.sign_token(did, secret_key, '2 seconds', NULL, 'short-' || i)) r
	   FROM k, generate_series(1, 16) i) s;
SELECT pg_temp.try(ecl.sign_token(did, secret_key, '5 minutes', NULL, 'one-more')) FROM k;
-- refused means not recorded: once the short tokens expired it is accepted
SELECT pg_sleep(2.5);
SELECT pg_temp.try(ecl.sign_token(did, secret_key, '5 minutes', NULL, 'one-more')) FROM k;
SELECT pg_temp.try(ecl.sign_token(did, secret_key, '5 minutes', NULL, 'one-more')) FROM k;
-- a token without jti needs no room
SELECT pg_temp.try(ecl.sign_token(did, secret_key)) FROM k;
SQL
)
expected="16
16
28000 token refused: replay table full
ok
28000 token refused: replayed
ok"
# pg_sleep prints an empty line
out=$(printf '%s\n' "$out" | sed '/^$/d')
if [ "$out" != "$expected" ]; then
	echo "replay table: expected"; echo "$expected"; echo "got"; echo "$out"
	exit 1
fi
echo "ok   replay table full: refused, then room again after expiry"
psql -X -q -d postgres -c "ALTER SYSTEM RESET ecl.token_replay_capacity"
psql -X -q -d postgres -c "DROP DATABASE $DB"
echo "token interop: all checks passed"
