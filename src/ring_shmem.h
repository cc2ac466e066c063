/*-------------------------------------------------------------------------
 *
 * ring_shmem.h
 *	  Compiled rings shared by all backends when the library is preloaded.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RING_SHMEM_H
#define RING_SHMEM_H

#include "ring_cache.h"

extern PGDLLIMPORT int ring_shared_cache_size;

extern void ring_shmem_init(void);
extern bool ring_shmem_enabled(void);
extern CompiledRing *ring_shmem_fetch(const RingHeader *hdr, int32 version,
									  Snapshot snap, const RingCacheKey *key,
									  const CompiledRing *local_prev,
									  MemoryContext mcxt);
extern void ring_shmem_release(CompiledRing *header);
extern Size ring_shmem_size(const CompiledRing *header);
extern bool ring_shmem_superseded_news(void);
extern bool ring_shmem_is_superseded(const CompiledRing *header);

#endif							/* RING_SHMEM_H */
