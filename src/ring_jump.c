/*-------------------------------------------------------------------------
 *
 * ring_jump.c
 *	  jump_consistent_hash(key, buckets): Lamping and Veach's jump
 *	  consistent hash ("A Fast, Minimal Memory, Consistent Hash Algorithm",
 *	  2014) on a raw 64-bit key, with the reference code's semantics: the
 *	  64-bit linear congruential step, and the jump computed in double
 *	  precision.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

/* The bucket, in [0, buckets), of key. */
static int32
jump_bucket(uint64 key, int32 buckets)
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
	PG_RETURN_INT32(jump_bucket((uint64) key, buckets));
}
