/*-------------------------------------------------------------------------
 *
 * ring_jump.c
 *	  jump_consistent_hash(key, buckets): Lamping and Veach's jump
 *	  consistent hash ("A Fast, Minimal Memory, Consistent Hash Algorithm",
 *	  2014) on a raw 64-bit key, with the reference code's semantics: the
 *	  64-bit linear congruential step, and the jump computed in double
 *	  precision.
 *
 *	  The buckets of 'jump' rings: MementoHash's removal and restoring of
 *	  buckets (ring_jump.h has the lookup).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "ring_jump.h"

/*
 * jump_consistent_hash(key bigint, buckets integer): the key's bucket; the
 * bigint is taken as the unsigned 64-bit key of the reference code.
 */
PG_FUNCTION_INFO_V1(jump_consistent_hash);
Datum
jump_consistent_hash(PG_FUNCTION_ARGS)
{
	int64		key = PG_GETARG_INT64(0);
	int32		buckets = PG_GETARG_INT32(1);

	if (buckets < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("number of buckets must be at least 1"),
				 errdetail("The value given was %d.", buckets)));
	PG_RETURN_INT32(ring_jump_bucket((uint64) key, buckets));
}

/* A copy of jump, in the current memory context. */
RingJump *
ring_jump_copy(const RingJump *jump)
{
	RingJump   *copy = palloc(sizeof(RingJump));
	size_t		size = (jump->nbuckets + 1) * sizeof(int32);

	*copy = *jump;
	copy->working = palloc(size);
	copy->replacer = palloc(size);
	copy->prev = palloc(size);
	copy->node = palloc(size);
	memcpy(copy->working, jump->working, size);
	memcpy(copy->replacer, jump->replacer, size);
	memcpy(copy->prev, jump->prev, size);
	memcpy(copy->node, jump->node, size);
	return copy;
}

/*
 * Remove a working bucket.  The last bucket, with none removed, just goes
 * (as in plain jump hash); any other is remembered with the number of
 * buckets still working and the bucket that takes its place: the one at
 * the last working place.  The arrays must have room for nbuckets + 1.
 */
void
ring_jump_remove(RingJump *jump, int32 bucket)
{
	int32		replacer;

	Assert(jump->working[bucket] < 0);
	jump->node[bucket] = -1;
	if (jump->last == jump->nbuckets && bucket == jump->nbuckets - 1)
	{
		jump->nbuckets--;
		jump->last = jump->nbuckets;
		jump->nworking--;
		return;
	}
	replacer = jump->nworking - 1;
	while (jump->working[replacer] >= 0)
		replacer = jump->replacer[replacer];
	jump->working[bucket] = jump->nworking - 1;
	jump->replacer[bucket] = replacer;
	jump->prev[bucket] = jump->last;
	jump->last = bucket;
	jump->nworking--;
}

/*
 * Add a bucket: the one removed last comes back, or a new last bucket if
 * none is removed.  Returns it; its node is for the caller to set.  The
 * arrays must have room for nbuckets + 1.
 */
int32
ring_jump_add(RingJump *jump)
{
	int32		bucket = jump->last;

	if (bucket == jump->nbuckets)
	{
		jump->working[bucket] = -1;
		jump->nbuckets++;
		jump->last = jump->nbuckets;
	}
	else
	{
		jump->last = jump->prev[bucket];
		jump->working[bucket] = -1;
	}
	jump->nworking++;
	return bucket;
}
