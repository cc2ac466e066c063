/*-------------------------------------------------------------------------
 *
 * consistent_ring.c
 *	  Module load: settings, shared memory and cache callbacks.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "consistent_ring.h"
#include "ring_cache.h"
#include "ring_shmem.h"
#include "ring_compile.h"

PG_MODULE_MAGIC;

char	   *ring_default_ring = NULL;

void		_PG_init(void);

/*
 * Define the settings, ask for shared memory when preloaded, and register
 * the cache's invalidation callbacks.
 */
void
_PG_init(void)
{
	DefineCustomStringVariable("consistent_ring.default_ring",
							   "Ring used by ring_shard() called with a key only.",
							   NULL,
							   &ring_default_ring,
							   "",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);
	DefineCustomBoolVariable("consistent_ring.incremental_compile",
							 "Builds a ring version from an earlier compiled one where that is cheaper.",
							 "Off: every version is compiled from its catalog rows alone (the answers are the same).",
							 &ring_incremental_compile,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	ring_shmem_init();
	MarkGUCPrefixReserved("consistent_ring");

	ring_cache_init();
}
