# dbopt — PGXS build.  `make`, `make install`; tests run through ./scripts/test.
EXTENSION  = dbopt
MODULE_big = dbopt
EXT_VERSION := $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)

SRCS = $(sort $(wildcard src/*.c))
OBJS = $(SRCS:.c=.o)
DBOPT_HEADERS = $(wildcard include/dbopt/*.h)

# Install scripts: the base version plus every upgrade step.
DATA = $(sort $(wildcard dbopt--*.sql))

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
