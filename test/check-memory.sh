#!/bin/bash
# make check-memory: valgrind memcheck (slow; not part of make test).
#
#   1. the core unit tests (test/unit, plain build), with leak checking;
#   2. the fuzz harnesses built without libFuzzer or sanitizers
#      (make -C test/fuzz replay) replaying the regression inputs, the seed
#      corpora and, when a `make fuzz` run left one, the grown corpus
#      (capped at CHECK_MEMORY_CORPUS_MAX files per harness, default 3000);
#   3. unless CHECK_MEMORY_BACKEND=0: pg_regress suites (default: the
#      language, bytecode and badinput_language suites; CHECK_MEMORY_SUITES
#      to choose) against a
#      throw-away cluster whose postmaster and backends run under valgrind
#      (--trace-children).  Debian's server is not built with USE_VALGRIND,
#      so palloc chunks are not tracked individually: this finds invalid
#      reads/writes outside palloc'd blocks (libsodium, libc, stack), use of
#      uninitialised values in conditions, and backend crashes.  Leaks are
#      not checked there (memory contexts free in bulk).
#      CHECK_MEMORY_BACKEND_ONLY=1 skips steps 1 and 2.
#
# Each step prints the valgrind errors it found; the script fails if any.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
PG_CONFIG=${PG_CONFIG:-pg_config}
VALGRIND=(valgrind -q --error-exitcode=99 --track-origins=yes)
failed=0

if ! command -v valgrind >/dev/null 2>&1; then
	echo "valgrind not found (apt-get install valgrind)"
	exit 1
fi

step() { printf '\n=== %s\n' "$*"; }

# ---------------------------------------------------------- 1. unit tests
if [ "${CHECK_MEMORY_BACKEND_ONLY:-0}" != 1 ]; then
step "core unit tests under valgrind memcheck (leaks: definite, indirect)"
make -s -C test/unit >/dev/null 2>&1 ||
	make -C test/unit 2>&1 | tail -n 20
if "${VALGRIND[@]}" --leak-check=full --errors-for-leak-kinds=definite,indirect \
	test/unit/build/plain/run_unit_tests; then
	echo "unit tests: no valgrind errors"
else
	echo "unit tests: FAILED under valgrind"
	failed=$((failed + 1))
fi

# --------------------------------------------------- 2. fuzz corpora replay
step "fuzz harnesses replaying their corpora under valgrind memcheck"
make -s -C test/fuzz replay >/dev/null 2>&1 || { make -C test/fuzz replay 2>&1 | tail -n 20; failed=$((failed + 1)); }
SEEDS=$(mktemp -d /tmp/ecl-memcheck-seeds.XXXXXX)
trap 'rm -rf "$SEEDS"' EXIT
python3 test/fuzz/gen_seeds.py "$SEEDS" >/dev/null
mkdir -p "$SEEDS/bytecode"
# the bytecode seeds: what the source seeds compile to (the replay build of
# fuzz_compile saves them too)
FUZZ_SAVE_BYTECODE="$SEEDS/bytecode" test/fuzz/build/replay_fuzz_compile "$SEEDS/source" >/dev/null
max=${CHECK_MEMORY_CORPUS_MAX:-3000}
for h in fuzz_compile fuzz_bytecode fuzz_program fuzz_json; do
	case $h in
		fuzz_compile) inputs=("$SEEDS/source") ;;
		fuzz_json) inputs=("$SEEDS/json") ;;
		*) inputs=("$SEEDS/bytecode") ;;
	esac
	[ -d "test/fuzz/regressions/$h" ] && inputs+=("test/fuzz/regressions/$h")
	if [ -d "test/fuzz/build/corpus/$h" ]; then
		list=$(mktemp -d /tmp/ecl-memcheck-corpus.XXXXXX)
		find "test/fuzz/build/corpus/$h" -type f | head -n "$max" | xargs -r cp -t "$list" 2>/dev/null
		inputs+=("$list")
	fi
	if out=$("${VALGRIND[@]}" "test/fuzz/build/replay_$h" "${inputs[@]}" 2>&1); then
		echo "$h: $(echo "$out" | tail -n 1), no valgrind errors"
	else
		echo "$h: FAILED under valgrind"
		echo "$out" | head -n 60
		failed=$((failed + 1))
	fi
	[ -n "${list:-}" ] && rm -rf "$list" && list=
done
fi

# ------------------------------------------ 3. backend under valgrind
if [ "${CHECK_MEMORY_BACKEND:-1}" != 0 ]; then
	step "pg_regress suites against backends under valgrind memcheck"
	# language_values is left out: under valgrind, glibc's strtod turns the
	# smallest subnormal (5e-324) into infinity (valgrind computes long
	# double in 64 bits), so that suite differs for a reason outside the
	# extension.
	SUITES=${CHECK_MEMORY_SUITES:-$(cd test/sql && ls language_*.sql bytecode_*.sql badinput_language.sql |
		grep -v '^language_values' | sed 's/\.sql$//' | tr '\n' ' ')}
	make -s -j2 >/dev/null 2>&1 && make -s install >/dev/null 2>&1 || { echo "build/install failed"; exit 1; }
	WORK=$(mktemp -d /tmp/ecl-memcheck-pg.XXXXXX)
	chmod 755 "$WORK"
	BINDIR=$($PG_CONFIG --bindir)
	RUN=()
	[ "$(id -u)" -eq 0 ] && { chown postgres: "$WORK"; RUN=(runuser -u postgres --); }
	"${RUN[@]}" "$BINDIR/initdb" -D "$WORK/data" -A trust -E UTF8 >/dev/null
	cat >>"$WORK/data/postgresql.conf" <<EOF
shared_preload_libraries = 'ecl'
port = 54329
unix_socket_directories = '$WORK'
listen_addresses = ''
max_connections = 10
log_line_prefix = '%m [%p] '
EOF
	# errors go to one log per process; the postmaster itself is exempt from
	# --error-exitcode so that the cluster stops normally
	"${RUN[@]}" bash -c "valgrind -q --trace-children=yes --track-origins=yes \
		--read-var-info=no --log-file='$WORK/vg.%p.log' \
		'$BINDIR/postgres' -D '$WORK/data' >'$WORK/server.log' 2>&1 &"
	for _ in $(seq 1 120); do
		"$BINDIR/pg_isready" -q -h "$WORK" -p 54329 && break
		sleep 1
	done
	PGHOST=$WORK PGPORT=54329 PGUSER=$([ "$(id -u)" -eq 0 ] && echo postgres || id -un) \
		make installcheck TAP_TESTS= REGRESS="$SUITES" >"$WORK/regress.out" 2>&1
	regress_rc=$?
	[ -f test/regression.diffs ] && cp test/regression.diffs "$WORK/"
	grep -E '\.\.\. |tests (passed|failed)' "$WORK/regress.out"
	"${RUN[@]}" "$BINDIR/pg_ctl" -D "$WORK/data" -m fast -w -t 300 stop >/dev/null
	# The server's own reports are known and benign without its suppression
	# file (uninitialised struct padding written to WAL and to the relcache
	# init file; Debian's build has no USE_VALGRIND).  A report counts when
	# the extension is on its stack.  Not when it is only named as the
	# origin: the origin of stack bytes is whichever function last had a
	# frame there (the first insert into a fresh table with an index reports
	# WAL padding "created by" _bt_getroot, or by push_value in
	# jsonb_bridge.c when an ECL run did the insert).
	perl -e '
		my $ours = qr{ecl\.so|/src/(?:pg|core)/|\b(?:'"$(cd src && ls pg/*.c core/*.c | xargs -n1 basename | sed 's/\.c$//' | paste -sd'|')"')\.c:};
		local $/ = "";
		for my $f (@ARGV) {
			open my $fh, "<", $f or next;
			my $log = do { local $/; <$fh> };
			for my $block (split /^==\d+== \n/m, $log) {
				next unless $block =~ /^==\d+== (Invalid|Conditional|Use of uninit|Syscall param|Mismatched|Source and destination|Argument)/m;
				# the stack of the report, without the origin section
				(my $stack = $block) =~ s/^==\d+==  (?:Address|Uninitialised value was created|Block was alloc).*//ms;
				print $block, "\n" if $stack =~ $ours;
			}
		}' "$WORK"/vg.*.log >"$WORK/ecl-errors.txt"
	errors=$(grep -cE '^==[0-9]+== (Invalid|Conditional|Use of uninit|Syscall param|Mismatched|Source and destination|Argument)' "$WORK/ecl-errors.txt")
	server=$(cat "$WORK"/vg.*.log | grep -cE '^==[0-9]+== (Invalid|Conditional|Use of uninit|Syscall param|Mismatched|Source and destination|Argument)')
	echo "valgrind reports: $errors involving the extension, $((server - errors)) in the server alone (not counted)"
	if [ "$regress_rc" -ne 0 ] || [ "$errors" -ne 0 ]; then
		echo "backend under valgrind: FAILED (pg_regress status $regress_rc, $errors valgrind errors)"
		head -n 80 "$WORK/ecl-errors.txt"
		echo "logs kept in $WORK"
		failed=$((failed + 1))
	else
		echo "backend under valgrind: $(ls "$WORK"/vg.*.log | wc -l) processes, no valgrind errors"
		rm -rf "$WORK"
	fi
fi

echo
if [ $failed -eq 0 ]; then
	echo "check-memory: no errors"
	exit 0
fi
echo "check-memory: $failed step(s) failed"
exit 1
