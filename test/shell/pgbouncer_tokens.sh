#!/bin/bash
# A pooled deployment: pgbouncer (pool_mode = transaction, 4 server
# connections) in front of the throw-away cluster, one application role
# without a DID, and 24 concurrent simulated users (Python threads, psycopg)
# each authenticating with its own PyJWT-signed token inside its
# transaction and reading an RLS table guarded by ecl.allowed.  Every answer
# must be that user's rows only; a transaction that does not authenticate
# sees nothing (also right after another user's transaction on the same
# server connection); replayed, expired, tampered, wrong-audience and
# revoked tokens are refused with SQLSTATE 28000.
#
# Runs inside the throw-away cluster of test/run-all-tests.sh.  pgbouncer
# refuses to run as root: as root it runs as postgres, with its config and
# sockets in a temporary directory that postgres can read (never in the
# checkout, which may be in a mode-0700 home).
set -eu

EXT=${ECL_EXTENSION:-ecl}
DB=ecl_pgbouncer_test
PY=/usr/bin/python3
command -v pgbouncer >/dev/null || { echo "pgbouncer not installed (test/install-deps.sh)"; exit 1; }

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" <<SQL
CREATE EXTENSION $EXT;
DROP ROLE IF EXISTS ecl_pool_app;
CREATE ROLE ecl_pool_app LOGIN PASSWORD 'pool-app-pw';
ALTER DATABASE $DB SET ecl.token_audience = 'pool-test';
SELECT ecl.register_policy('pool_owner_only', \$ecl\$
require input.owner == caller, "not yours"
return true
\$ecl\$) IS NOT NULL;
CREATE TABLE pool_notes (id int PRIMARY KEY, owner_did text NOT NULL);
ALTER TABLE pool_notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY pool_notes_read ON pool_notes FOR SELECT
	USING (ecl.allowed('pool_owner_only', NULL, jsonb_build_object('owner', owner_did)));
GRANT SELECT ON pool_notes TO ecl_pool_app;
SQL

TMP=$(mktemp -d /tmp/ecl-pgbouncer.XXXXXX)
chmod 755 "$TMP"
BPORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$TMP/pgbouncer.ini" <<INI
[databases]
$DB = host=127.0.0.1 port=$PGPORT dbname=$DB user=ecl_pool_app password=pool-app-pw

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BPORT
unix_socket_dir =
auth_type = trust
auth_file = $TMP/userlist.txt
pool_mode = transaction
default_pool_size = 4
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 100
server_reset_query =
logfile = $TMP/pgbouncer.log
pidfile = $TMP/pgbouncer.pid
INI
echo '"ecl_pool_app" ""' >"$TMP/userlist.txt"

if [ "$(id -u)" -eq 0 ]; then
	chown -R postgres "$TMP"
	runuser -u postgres -- pgbouncer -d "$TMP/pgbouncer.ini"
else
	pgbouncer -d "$TMP/pgbouncer.ini"
fi
cleanup() {
	if [ -f "$TMP/pgbouncer.pid" ]; then
		kill "$(cat "$TMP/pgbouncer.pid")" 2>/dev/null || true
		sleep 0.3
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
for _ in $(seq 50); do
	"$PY" -c "import socket; socket.create_connection(('127.0.0.1', $BPORT), 1)" 2>/dev/null && break
	sleep 0.1
done

PGDATABASE=$DB BOUNCER_PORT=$BPORT "$PY" - <<'PY'
import os
import threading
import time
import uuid
import jwt
import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

USERS = 24
ROUNDS = 12
admin = psycopg.connect(autocommit=True)

# each user owns a different number of rows (1..4)
users = []
next_id = 1
for i in range(USERS):
    did, sk = admin.execute("SELECT did, secret_key FROM ecl.generate_identity()").fetchone()
    ids = list(range(next_id, next_id + 1 + i % 4))
    next_id += len(ids)
    admin.execute("INSERT INTO pool_notes SELECT id, %s FROM unnest(%s::int[]) id", (did, ids))
    users.append((did, Ed25519PrivateKey.from_private_bytes(bytes(sk)[:32]), set(ids)))


def token(did, key, aud="pool-test", ttl=60, jti=None, iat=None):
    now = int(time.time()) if iat is None else iat
    return jwt.encode({"sub": did, "iat": now, "exp": now + ttl, "aud": aud,
                       "jti": jti or str(uuid.uuid4())}, key, algorithm="EdDSA")


def bouncer():
    # prepare_threshold=None: no server-side prepared statements, which a
    # transaction-mode pool cannot carry from one transaction to the next
    return psycopg.connect(host="127.0.0.1", port=int(os.environ["BOUNCER_PORT"]),
                           dbname=os.environ["PGDATABASE"], user="ecl_pool_app",
                           prepare_threshold=None)


errors = []
pids = set()
lock = threading.Lock()
start = threading.Barrier(USERS)


def user_thread(n):
    did, key, own = users[n]
    try:
        conn = bouncer()
        start.wait()
        for r in range(ROUNDS):
            with conn.transaction():
                got = conn.execute("SELECT ecl.authenticate(%s)", (token(did, key),)).fetchone()[0]
                rows = {i for (i,) in conn.execute("SELECT id FROM pool_notes")}
                me = conn.execute("SELECT ecl.current_did(), pg_backend_pid()").fetchone()
            with lock:
                pids.add(me[1])
            if got != did or me[0] != did or rows != own:
                errors.append(f"user {n} round {r}: saw {sorted(rows)}, owns {sorted(own)}, current_did ok: {me[0] == did}")
            # a request that does not authenticate, on whichever server
            # connection the pool hands out next
            with conn.transaction():
                rows = conn.execute("SELECT id FROM pool_notes").fetchall()
                nobody = conn.execute("SELECT ecl.current_did()").fetchone()[0]
            if rows or nobody is not None:
                errors.append(f"user {n} round {r}: unauthenticated request saw {rows} as {nobody}")
        conn.close()
    except Exception as e:  # noqa: BLE001 - every failure is reported
        errors.append(f"user {n}: {type(e).__name__}: {e}")


threads = [threading.Thread(target=user_thread, args=(n,)) for n in range(USERS)]
for t in threads:
    t.start()
for t in threads:
    t.join()

ok = True
if errors:
    ok = False
    print("FAIL", len(errors), "wrong answers, first ones:")
    for e in errors[:10]:
        print("    ", e)
else:
    print(f"ok   {USERS} users x {ROUNDS} authenticated + {ROUNDS} anonymous transactions: own rows only, nothing without a token")
if not (1 <= len(pids) <= 4):
    ok = False
    print(f"FAIL server connections used: {len(pids)} (pool of 4)")
else:
    print(f"ok   served by {len(pids)} server connections for {USERS} clients")

# refusals through the pool, each followed by a request on the same client
conn = bouncer()
did, key, own = users[0]
replayed = token(did, key, jti="pool-once")
with conn.transaction():
    conn.execute("SELECT ecl.authenticate(%s)", (replayed,))
h, p, s = token(did, key).split(".")
other_did, other_key, _ = users[1]
forged_payload = jwt.utils.base64url_encode(jwt.utils.base64url_decode(
    token(other_did, other_key).split(".")[1])).decode()
admin.execute("UPDATE ecl.identities SET revoked = true WHERE did = %s", (users[2][0],))
cases = [
    ("replayed", replayed, "token refused: replayed"),
    ("expired", token(did, key, iat=int(time.time()) - 600, ttl=60), "token refused: expired"),
    ("tampered", f"{h}.{forged_payload}.{s}", "token refused: bad signature"),
    ("another audience", token(did, key, aud="another-service"), "token refused: wrong audience"),
    ("revoked DID", token(users[2][0], users[2][1]), "token refused: revoked DID"),
]
for name, tok, msg in cases:
    try:
        with conn.transaction():
            conn.execute("SELECT ecl.authenticate(%s)", (tok,))
        ok = False
        print(f"FAIL {name}: accepted")
    except psycopg.Error as e:
        good = e.sqlstate == "28000" and e.diag.message_primary == msg
        ok = ok and good
        print(("ok   " if good else "FAIL ") + f"{name}: {e.sqlstate} {e.diag.message_primary}")
    with conn.transaction():
        rows = conn.execute("SELECT id FROM pool_notes").fetchall()
    if rows:
        ok = False
        print(f"FAIL after the refused {name} token the request saw {rows}")
conn.close()
if not ok:
    raise SystemExit(1)
PY
echo "pgbouncer tokens: all checks passed"
