# dbopt — PGXS build.  `make`, `make install`; tests run through ./scripts/test.
EXTENSION  = dbopt
MODULE_big = dbopt
EXT_VERSION := $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)

SRCS = $(sort $(wildcard src/*.c))
OBJS = $(SRCS:.c=.o)
DBOPT_HEADERS = $(wildcard include/dbopt/*.h)

# Install scripts: the base version plus every upgrade step.
DATA = $(sort $(wildcard dbopt--*.sql))

# Suites; scripts/test drives them against a throwaway cluster.
REGRESS = $(basename $(notdir $(sort $(wildcard sql/*.sql))))
REGRESS_OPTS = --dbname=dbopt_regress
ISOLATION = $(basename $(notdir $(sort $(wildcard specs/*.spec))))
TAP_TESTS = 1

PG_CPPFLAGS = -I$(srcdir)/include -DDBOPT_VERSION=\"$(EXT_VERSION)\"
# -Wextra flags that PostgreSQL's own headers trip over are turned off one by
# one; everything else is an error.
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare \
            -Wno-missing-field-initializers

EXTRA_CLEAN = results output_iso tmp_check log regression.diffs regression.out

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(OBJS): $(DBOPT_HEADERS)
