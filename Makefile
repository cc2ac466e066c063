# consistent_ring: PGXS build
EXTENSION = consistent_ring consistent_ring_plproxy
EXTVERSION = 1.3

MODULE_big = consistent_ring
OBJS = \
	src/consistent_ring.o \
	src/ring_keys.o \
	src/ring_catalog.o \
	src/ring_cache.o \
	src/ring_shmem.o \
	src/ring_compile.o \
	src/ring_vnode.o \
	src/ring_rendezvous.o \
	src/ring_admin.o \
	src/ring_access.o \
	src/ring_pins.o \
	src/ring_tokens.o \
	src/ring_lookup.o \
	src/ring_diff.o \
	src/ring_svg.o \
	src/ring_jump.o \
	src/ring_layout.o \
	src/ring_maglev.o \
	src/ring_redis.o \
	src/ring_ketama.o \
	src/ring_cassandra.o \
	src/ring_servers.o \
	src/ring_route.o \
	src/ring_migrate.o \
	src/ring_shard.o \
	src/ring_mover.o \
	src/ring_rebalance.o \
	src/ring_rebalance_plan.o

DATA = consistent_ring--1.0.sql consistent_ring--1.1.sql consistent_ring--1.0--1.1.sql consistent_ring--1.2.sql consistent_ring--1.1--1.2.sql consistent_ring--1.3.sql consistent_ring--1.2--1.3.sql \
	consistent_ring_plproxy--1.0.sql

REGRESS = ring_create ring_shard ring_keys ring_vectors ring_moves incremental shared_cache ring_ownership ring_quality ring_svg ring_spread zones jump encoding privileges row_security search_path algorithms algorithm_vectors redis ketama cassandra jump_ring pins rebalance servers migrate search_path_servers errors hostile
REGRESS_OPTS = --load-extension=consistent_ring

ISOLATION = visibility concurrent_changes extension_recreate route_progress shared_cache rebalance_concurrency
ISOLATION_OPTS = --inputdir=test --load-extension=consistent_ring

# libpq: reachability of nodes' servers and their connection strings
SHLIB_LINK = -lmd
SHLIB_LINK_INTERNAL = $(libpq)

PG_CPPFLAGS = -I$(libpq_srcdir) -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers

EXTRA_CLEAN = output_iso results regression.diffs regression.out

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
.DEFAULT_GOAL := all

# The scripts install what is missing (server headers included), so these
# work on a machine that cannot build yet.
.PHONY: test bench demo
test:
	bash test/check.sh
bench:
	bash test/bench/bench.sh
demo:
	bash test/demo.sh

ifneq ($(wildcard $(PGXS)),)
include $(PGXS)

# every object depends on every header: the headers are few and small
# (the bitcode installed for JIT inlining too)
$(OBJS) $(OBJS:.o=.bc): $(wildcard src/*.h)
else
all install installcheck:
	@echo "PostgreSQL 15 server headers are missing: run make test, or bash test/setup.sh" && exit 1
endif
