/*-------------------------------------------------------------------------
 *
 * ring_vnode.h
 *	  The 'vnode' algorithm: compiling a ring version, and the lookup.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RING_VNODE_H
#define RING_VNODE_H

#include "ring_cache.h"

#define RING_NO_OWNER PG_UINT32_MAX

extern CompiledRing *ring_compile(const RingHeader *hdr, int32 version,
								  Snapshot snap);

/*
 * Index of the token owning position pos: the smallest token >= pos,
 * wrapping to the first.  The ring must have at least one token.
 *
 * The bucket index narrows the search to the tokens whose top bits equal
 * pos's (one or two on average), so the cost barely depends on ring size.
 */
static inline uint32
ring_token_at(const CompiledRing *ring, int64 pos)
{
	uint64		upos = (uint64) pos ^ (UINT64CONST(1) << 63);
	uint64		bucket = upos >> ring->index_shift;
	uint32		lo = ring->index[bucket];
	uint32		hi = ring->index[bucket + 1];

	while (lo < hi)
	{
		uint32		mid = lo + (hi - lo) / 2;

		if (ring->tokens[mid] < pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == ring->ntokens ? 0 : lo;
}

/* Index into ring->nodes of the owner of pos, or RING_NO_OWNER if empty. */
static inline uint32
ring_owner_of(const CompiledRing *ring, int64 pos)
{
	if (ring->ntokens == 0)
		return RING_NO_OWNER;
	return ring->owners[ring_token_at(ring, pos)];
}

#endif							/* RING_VNODE_H */
