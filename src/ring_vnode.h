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
 * The bucket index gives the first token at or after the start of pos's
 * bucket (on average one or two tokens before the answer); the scan from
 * there is branch-free for the first two steps.  It cannot run off the end:
 * tokens[ntokens] is a PG_INT64_MAX sentinel, and no position is above it.
 */
static inline uint32
ring_token_at(const CompiledRing *ring, int64 pos)
{
	uint64		upos = (uint64) pos ^ (UINT64CONST(1) << 63);
	const int64 *tokens = ring->tokens;
	uint32		i = ring->index[upos >> ring->index_shift];

	i += tokens[i] < pos;
	i += tokens[i] < pos;
	while (unlikely(tokens[i] < pos))
		i++;
	return i == ring->ntokens ? 0 : i;
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
