# dbopt — PGXS build.  `make`, `make install`; tests run through ./scripts/test.
EXTENSION  = dbopt
MODULE_big = dbopt
EXT_VERSION := $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)

SRCS = $(sort $(wildcard src/*.c))
OBJS = $(SRCS:.c=.o)
DBOPT_HEADERS = $(wildcard include/dbopt/*.h)

# The install script of the current version is built from the SQL file of
# each capability (src/<capability>.sql, beside its C file), concatenated in
# this order: a file may use what an earlier one creates.  upgrade/ holds the
# historic scripts: the first version's install script and every update
# step, each new version adding only its delta.
SQL_PARTS = dbopt findings checks status schedule jobs run_checks matviews \
            index_usage index_evidence standbys index_whatif index_advisor \
            integrity partitions partition_migrate retention snapshots health report \
            audit masking tenant security metrics
SQL_SRCS = $(addprefix src/,$(addsuffix .sql,$(SQL_PARTS)))
DATA_built = $(EXTENSION)--$(EXT_VERSION).sql
DATA = $(sort $(wildcard upgrade/$(EXTENSION)--*.sql))

# Suites; scripts/test drives them all against a throwaway cluster.  Each
# also runs on its own (README, "Running one suite"):
#   make installcheck         pg_regress, isolation, Perl TAP: running server
#   make installcheck-temp    pg_regress, isolation: a temporary instance
#                             started with test/regress.conf
#   make prove_installcheck   Perl TAP (t/): each test starts its clusters
#   make pgtap-installcheck   pgTAP (test/) with pg_prove: running server
REGRESS = $(basename $(notdir $(sort $(wildcard sql/*.sql))))
ISOLATION = $(basename $(notdir $(sort $(wildcard specs/*.spec))))
TAP_TESTS = 1
# The expected outputs name these databases; PGXS would use contrib_regression.
override CONTRIB_TESTDB := dbopt_regress
override ISOLATION_TESTDB := dbopt_isolation
TEMP_REGRESS_OPTS = --temp-instance=./tmp_check --temp-config=$(srcdir)/test/regress.conf
PGTAP_DB ?= dbopt_tap

PG_CPPFLAGS = -I$(srcdir)/include -DDBOPT_VERSION=\"$(EXT_VERSION)\"
# -Wextra flags that PostgreSQL's own headers trip over are turned off one by
# one; everything else is an error.
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare \
            -Wno-missing-field-initializers

EXTRA_CLEAN = results output_iso tmp_check tmp_check_iso log regression.diffs regression.out

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(OBJS): $(DBOPT_HEADERS)
# The version is compiled in (-DDBOPT_VERSION) where status() compares it.
$(patsubst %.c,%.o,$(if $(SRCS),$(shell grep -l DBOPT_VERSION $(SRCS)))): $(EXTENSION).control

# The queries of the checks written in SQL (src/checks/<report>.sql) are
# compiled into the library as C string macros.
CHECK_SQL = $(wildcard src/checks/*.sql)
CHECK_HEADERS = $(CHECK_SQL:.sql=_sql.h)
src/checks/%_sql.h: src/checks/%.sql scripts/sql2c
	sh scripts/sql2c DBOPT_SQL_$(shell echo $* | tr a-z A-Z)_ $< > $@.tmp && mv $@.tmp $@
src/checks.o src/checks.bc: $(CHECK_HEADERS)
PG_CPPFLAGS += -I$(srcdir)/src
EXTRA_CLEAN += $(CHECK_HEADERS)

$(EXTENSION)--$(EXT_VERSION).sql: $(SQL_SRCS) $(EXTENSION).control
	{ printf -- '-- %s: built by make from the src/<capability>.sql files; edit those, not this file.\n\n' $@; \
	  printf '\\echo Use "CREATE EXTENSION $(EXTENSION) CASCADE" to load this file. \\quit\n'; \
	  for f in $(SQL_SRCS); do printf '\n'; cat $$f; done; } > $@

# Every src/*.sql must be in SQL_PARTS (a file left out would be missing
# from the install script without any error), and every query of
# src/checks/*.sql must belong to a check of the registry (src/checks.c).
check-sources:
	@missing=$$(for f in src/*.sql; do case " $(SQL_SRCS) " in *" $$f "*) ;; *) echo $$f;; esac; done); \
	 [ -z "$$missing" ] || { echo "not in SQL_PARTS: $$missing" >&2; exit 1; }
	@for f in $(CHECK_SQL); do r=$$(basename $$f .sql); \
	   for n in $$(sed -n 's/^-- check: \([a-z0-9_]*\).*/\1/p' $$f); do \
	     grep -q "DBOPT_SQL_$$(echo $$r | tr a-z A-Z)_$$(echo $$n | tr a-z A-Z)\b" src/checks.c || \
	       { echo "$$f: check $$n is not in the registry (src/checks.c)" >&2; exit 1; }; \
	   done; done
all: check-sources
.PHONY: check-sources

# Test targets PGXS lacks.  Kept here, after the include, since they use its
# pg_regress and prove invocations.
.PHONY: installcheck-temp prove_installcheck pgtap-installcheck
installcheck-temp:
	$(pg_regress_installcheck) $(TEMP_REGRESS_OPTS) --dbname=$(CONTRIB_TESTDB) $(REGRESS)
	$(pg_isolation_regress_installcheck) $(subst tmp_check,tmp_check_iso,$(TEMP_REGRESS_OPTS)) --dbname=$(ISOLATION_TESTDB) $(ISOLATION)
prove_installcheck:
	$(prove_installcheck)
pgtap-installcheck:
	$(bindir)/psql -X -q -d postgres -c 'DROP DATABASE IF EXISTS $(PGTAP_DB)' -c 'CREATE DATABASE $(PGTAP_DB)'
	$(bindir)/psql -X -q -d $(PGTAP_DB) -c 'CREATE EXTENSION pgtap'
	cd $(srcdir) && PATH="$(bindir):$$PATH" pg_prove $(PG_PROVE_OPTS) -d $(PGTAP_DB) test/*.sql
