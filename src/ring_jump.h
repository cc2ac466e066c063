/*-------------------------------------------------------------------------
 *
 * ring_jump.h
 *	  Jump consistent hash, and 'jump' rings: jump hash over the nodes in
 *	  the order they joined, with MementoHash's memory of removed nodes
 *	  (ring_jump.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RING_JUMP_H
#define RING_JUMP_H

#include "ring_keys.h"

/*
 * The buckets of a 'jump' ring (MementoHash, Coluzzi et al. 2023): buckets
 * 0 .. nbuckets-1 in joining order.  A removed bucket b remembers the
 * number of buckets that worked after its removal (working[b] >= 0; -1 for
 * a working bucket), the bucket that took its place (replacer[b]) and the
 * bucket removed before it (prev[b]); last is the bucket removed last, or
 * nbuckets if none is.
 */
typedef struct RingJump
{
	int32		nbuckets;
	int32		last;
	int32		nworking;
	int32	   *working;
	int32	   *replacer;
	int32	   *prev;
	int32	   *node;			/* bucket -> index into the ring's nodes */
} RingJump;

/* Lamping and Veach's jump consistent hash: key's bucket in [0, buckets). */
static inline int32
ring_jump_bucket(uint64 key, int32 buckets)
{
	int64		b = -1;
	int64		j = 0;

	while (j < buckets)
	{
		b = j;
		key = key * UINT64CONST(2862933555777941757) + 1;
		j = (int64) ((double) (b + 1) * ((double) (INT64CONST(1) << 31) /
										 (double) ((key >> 33) + 1)));
	}
	return (int32) b;
}

/*
 * The bucket of the key at position pos (there must be a working bucket):
 * jump hash over all buckets; while that bucket was removed, the key moves
 * to bucket XXH3-64(pos's 8 bytes, least significant first; seed: the
 * bucket) mod the buckets that worked after its removal, following the
 * buckets that took the place of buckets removed before it.
 */
static inline int32
ring_jump_lookup(const RingJump *jump, int64 pos)
{
	int32		b = ring_jump_bucket((uint64) pos, jump->nbuckets);
	int32		w = jump->working[b];

	while (w >= 0)
	{
		uint64		v = (uint64) pos;
		unsigned char bytes[8];
		int32		e;

		for (int k = 0; k < 8; k++)
			bytes[k] = (unsigned char) (v >> (8 * k));
		b = (int32) (XXH3_64bits_withSeed(bytes, 8, (uint64) b) % (uint64) w);
		e = jump->working[b];
		while (e >= w)
		{
			b = jump->replacer[b];
			e = jump->working[b];
		}
		w = e;
	}
	return b;
}

extern RingJump *ring_jump_copy(const RingJump *jump);
extern void ring_jump_remove(RingJump *jump, int32 bucket);
extern int32 ring_jump_add(RingJump *jump);

#endif							/* RING_JUMP_H */
