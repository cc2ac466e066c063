/*-------------------------------------------------------------------------
 *
 * ring_diff.h
 *	  Comparing two compiled rings range by range.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RING_DIFF_H
#define RING_DIFF_H

#include "ring_cache.h"

/* A maximal run of token ranges with the same (from, to) owners. */
typedef struct MoveRun
{
	bool		open;
	int64		start;
	int64		end;
	uint32		from;			/* index into the old ring's nodes, or
								 * RING_NO_OWNER */
	uint32		to;				/* the same in the new ring */
} MoveRun;

typedef void (*MoveSink) (const MoveRun *run, const CompiledRing *oldr,
						  const CompiledRing *newr, void *arg);

/*
 * Positions sampled where a 'rendezvous' ring has no ranges to measure: the
 * middles of RING_SAMPLES equal slices of the token space.
 */
#define RING_SAMPLES (1 << 18)

static inline int64
ring_sample_position(uint64 k)
{
	return (int64) (((k << 48) | (UINT64CONST(1) << 47)) ^ (UINT64CONST(1) << 63));
}

extern uint128 *ring_owned_sizes(const CompiledRing *ring);
extern void ring_diff_rings(const CompiledRing *oldr, const CompiledRing *newr,
							MoveSink sink, void *arg);

#endif							/* RING_DIFF_H */
