# ecl — PostgreSQL extension build (PGXS).
#
#   make            build the extension (installs build dependencies if missing)
#   make install    install into the PostgreSQL found by pg_config
#   make test       every test: core unit tests, pg_regress suites, TAP tests,
#                   shell tests, meta checks;
#                   ends with "N passed, N failed"
#   make demo       the walk-through in a throw-away cluster
#   make unit       only the core unit tests (no PostgreSQL needed)
#   make cli        only the ecl command (src/cli; no PostgreSQL needed)
#   make bench / make fuzz   long-running, not part of make test
#   make check-upgrade       the update from the released 0.1 library
#   make package    the Debian package, built from a clean copy in PACKAGE_DIR
#   make package-check   build it, install it (root), smoke-test, put back

EXTENSION = ecl
EXTVERSION = 0.2
# Releases a user may have installed: the update path starts at each.
# sql/ecl--<old>.sql is kept exactly as released (DATA, never rebuilt);
# sql/ecl--<old>--<next>.sql is generated (docs/architecture.md, "Changing
# SQL objects").
UPGRADE_FROM = 0.1

MODULE_big = ecl
CORE_SRCS = $(sort $(wildcard src/core/*.c))
# The PostgreSQL glue, one folder per subsystem (docs/architecture.md):
#   src/pg           module entry (_PG_init, GUCs) and ecl_pg.h
#   frontdoor/       the SQL functions that run policies
#   exec/            the runner and what a run needs
#   catalog/         registered policies, handlers, compiled programs
#   host/            the host functions (tables, state snapshot)
#   identity/        identities, credentials, tokens
#   stats/           statistics and the rate limiter (shared memory)
#   planner/         the planner support function (policies as SQL)
PG_DIRS = src/pg $(sort $(dir $(wildcard src/pg/*/*.c)))
PG_SRCS = $(sort $(wildcard $(addsuffix /*.c,$(patsubst %/,%,$(PG_DIRS)))))
OBJS = $(CORE_SRCS:.c=.o) $(PG_SRCS:.c=.o)

# The install script is assembled from numbered fragments (one per topic).
INSTALL_FRAGMENTS = $(sort $(wildcard sql/install/*.sql))
UPGRADE_SCRIPTS = $(foreach v,$(UPGRADE_FROM),sql/$(EXTENSION)--$(v)--$(EXTVERSION).sql)
DATA = $(foreach v,$(UPGRADE_FROM),sql/$(EXTENSION)--$(v).sql)
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql $(UPGRADE_SCRIPTS)

# pg_regress suites: test/sql/<name>.sql with test/expected/<name>.out;
# results/ and regression.diffs go to test/ as well.
REGRESS = $(sort $(patsubst test/sql/%.sql,%,$(wildcard test/sql/*.sql)))
# Every suite runs in one database that pg_regress creates with the extension
# already installed (so any single suite can be run alone: make installcheck
# REGRESS=language_values); suites clean up what they create.  UTF8 so that
# string tests behave the same whatever the cluster's default encoding.
REGRESS_OPTS = --inputdir=test --outputdir=test --dbname=contrib_regression \
	--load-extension=$(EXTENSION) --encoding=UTF8

# Headers are included by name ("runner.h"), whatever folder they sit in.
# TAP tests (PostgreSQL::Test::Cluster): test/t/*.pl, each with clusters of
# its own, against the installed extension: make prove_installcheck (or
# PROVE_TESTS=test/t/010_stats_restart.pl).  initdb refuses to run as root:
# test/tap.sh runs them as the postgres user from a copy.  make installcheck
# runs them after the suites (TAP_TESTS= leaves them out).
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

PG_CPPFLAGS = -I$(CURDIR)/include $(addprefix -I$(CURDIR)/,$(patsubst %/,%,$(PG_DIRS)))
PG_CFLAGS = -std=gnu11 -Wno-declaration-after-statement -Werror=implicit-function-declaration
SHLIB_LINK = -lsodium -lm

EXTRA_CLEAN = sql/$(EXTENSION)--$(EXTVERSION).sql $(UPGRADE_SCRIPTS) test/results test/regression.diffs \
	test/regression.out \
	$(CLI_PROGRAM)

# `make` builds everything (the rule below would otherwise be the default).
.DEFAULT_GOAL := all

# The ecl command (policy files, editors, CI): src/cli plus src/core, linked
# with libc and libm (and libedit for the repl).  Built by a plain rule rather than PGXS's PROGRAM,
# which would link it against libpq and allows one program per Makefile.
CLI_PROGRAM = src/cli/ecl
CLI_SRCS = $(sort $(wildcard src/cli/*.c))
CLI_CC ?= cc
CLI_CFLAGS ?= -O2 -g
# ecl repl edits lines with libedit (Debian's libedit-dev, installed by
# test/install-deps.sh) when pkg-config finds it; without, the repl reads
# plain lines and says so on a terminal.
CLI_EDIT_CFLAGS := $(shell pkg-config --exists libedit 2>/dev/null && echo -DECL_HAVE_LIBEDIT $$(pkg-config --cflags libedit))
CLI_EDIT_LIBS := $(shell pkg-config --exists libedit 2>/dev/null && pkg-config --libs libedit)
$(CLI_PROGRAM): Makefile $(CLI_SRCS) $(CORE_SRCS) $(wildcard include/ecl/*.h src/core/*.h src/cli/*.h)
	$(CLI_CC) $(CLI_CFLAGS) -std=gnu11 -Wall -Wno-unused-parameter -Iinclude \
		-DECL_VERSION='"$(EXTVERSION)"' $(CLI_EDIT_CFLAGS) -o $@ $(CLI_SRCS) $(CORE_SRCS) \
		$(CLI_EDIT_LIBS) -lm

# Guard: without pg_config (fresh machine) the dependency step must still run.
PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
all: $(CLI_PROGRAM)
# installed beside psql and pg_config
install: install-cli
.PHONY: install-cli uninstall-cli
install-cli: $(CLI_PROGRAM)
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(INSTALL_PROGRAM) $(CLI_PROGRAM) '$(DESTDIR)$(bindir)/ecl'
uninstall: uninstall-cli
uninstall-cli:
	rm -f '$(DESTDIR)$(bindir)/ecl'
else
all:
	@echo "pg_config not found: run 'make deps' (or make test / make demo, which do it)"; exit 1
endif

ifneq ($(PGXS),)
.PHONY: prove_installcheck
prove_installcheck:
	$(prove_installcheck)
endif

sql/$(EXTENSION)--$(EXTVERSION).sql: $(INSTALL_FRAGMENTS)
	cat $^ > $@

# The update from a release: its hand-written parts around the fragments,
# each fragment statement made safe to run over the old objects.
sql/$(EXTENSION)--%--$(EXTVERSION).sql: sql/$(EXTENSION)--%.sql \
		sql/upgrade/%--$(EXTVERSION).before.sql sql/upgrade/%--$(EXTVERSION).after.sql \
		$(INSTALL_FRAGMENTS) tools/upgrade-script.pl
	perl tools/upgrade-script.pl $(wordlist 1,3,$^) $(INSTALL_FRAGMENTS) > $@.tmp \
		|| { rm -f $@.tmp; exit 1; }
	mv $@.tmp $@

$(OBJS): $(wildcard include/ecl/*.h src/core/*.h src/pg/*.h src/pg/*/*.h)

.PHONY: deps unit cli test demo bench fuzz check-memory check-upgrade docs
cli: $(CLI_PROGRAM)

deps:
	@test/install-deps.sh

unit:
	$(MAKE) -C test/unit

test: deps
	@test/run-all-tests.sh

demo: deps
	@test/demo.sh

# Long-running: benchmarks against PL/pgSQL, SQL, PL/Lua (docs/performance.md), and fuzzing.
bench: deps
	@bench/run.sh

fuzz:
	@test/fuzz/run.sh

# ALTER EXTENSION ecl UPDATE from the released 0.1 library (built from git),
# in a private copy of PostgreSQL; not part of make test (it builds 0.1).
check-upgrade: deps
	@test/upgrade-from-release.sh

# Slow memory checks (valgrind), not part of make test.
check-memory: deps
	@test/check-memory.sh

# The Debian package (debian/, pg_buildext) from a clean copy of the checkout,
# built in PACKAGE_DIR (outside the checkout).  package-check installs it into
# the system with dpkg, smoke-tests it in a fresh cluster, then purges it and
# restores the files it replaced (test/package/check.sh; root).  make test runs
# both as its last step.
PACKAGE_DIR ?= /tmp/ecl-package
.PHONY: package package-check
package:
	@test/package/build.sh '$(PACKAGE_DIR)'

package-check:
	@deb=$$(test/package/build.sh '$(PACKAGE_DIR)' | tail -n 1) && test/package/check.sh "$$deb"

# Regenerate the instruction table in docs/language.md from opcodes.h.
docs:
	$(MAKE) -C tools update
