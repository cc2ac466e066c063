/*-------------------------------------------------------------------------
 *
 * ring_compile.h
 *	  Compiled rings: compiling a ring version (ring_compile.c and each
 *	  algorithm's file), and the lookup of a position's owner.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RING_COMPILE_H
#define RING_COMPILE_H

#include <math.h>

#include "ring_cache.h"
#include "ring_keys.h"
#include "ring_cassandra.h"
#include "ring_jump.h"
#include "ring_ketama.h"
#include "ring_redis.h"

#define RING_NO_OWNER PG_UINT32_MAX

/* Entries the lookup compares at once, from the bucket's first token. */
#define RING_SCAN 8

#define RING_SIGN_BIT (UINT64CONST(1) << 63)
#define RING_LOW_MASK UINT64CONST(0xFFFF)

extern PGDLLIMPORT bool ring_incremental_compile;
extern CompiledRing *ring_compile(const RingHeader *hdr, int32 version,
								  Snapshot snap, const CompiledRing *prev);
extern CompiledRing *ring_what_if(const CompiledRing *ring, text *add_name,
								  double add_weight, int remove);
extern void ring_hrw_seeds(CompiledRing *ring);	/* ring_rendezvous.c */
extern int	ring_node_name_cmp(const void *a, const void *b);

/* the algorithms' parts of compiling, in their own files */
extern void ring_jump_buckets(CompiledRing *ring, List *rows);	/* ring_jump.c */
extern void ring_redis_slot_counts(CompiledRing *ring);	/* ring_redis.c */
extern int64 **ring_maglev_lists(CompiledRing *ring, int32 table_size,
								 uint64 *npairs);
extern void ring_node_tokens(const RingNodeInfo *node, char *buf, int64 *out,
							 bool to_utf8);

/* Token i of a ring (i == ntokens gives the PG_INT64_MAX sentinel). */
static inline int64
ring_token(const CompiledRing *ring, uint32 i)
{
	return (int64) (((ring->keys[i] & ~RING_LOW_MASK) | ring->lows[i]) ^ RING_SIGN_BIT);
}

/* Index into ring->nodes of the owner of token i. */
static inline uint32
ring_token_owner(const CompiledRing *ring, uint32 i)
{
	return (uint32) (ring->keys[i] & RING_LOW_MASK);
}

/*
 * Index of the token owning position pos: the smallest token >= pos,
 * wrapping to the first.  The ring must have at least one token.
 *
 * The bucket index gives the first token at or after the start of pos's
 * bucket; buckets hold 4 to 8 tokens on average.  From there, RING_SCAN
 * entries are compared at once on their upper 48 bits (branch-free, one or
 * two cache lines), so owner and token come from the same memory.  Only when
 * a token shares pos's upper 48 bits (about one lookup in 2^30 for a ring of
 * 2^18 tokens) do the low 16 bits decide.
 */
static inline uint32
ring_token_at(const CompiledRing *ring, int64 pos)
{
	uint64		upos = (uint64) pos ^ RING_SIGN_BIT;
	uint64		high = upos & ~RING_LOW_MASK;
	const uint64 *keys = ring->keys;
	uint32		i = ring->index[upos >> ring->index_shift];
	uint32		below = 0;

	/* keys[j] < high exactly when token j's upper bits are below pos's */
#pragma GCC unroll 8
	for (int j = 0; j < RING_SCAN; j++)
		below += keys[i + j] < high;
	i += below;
	while (unlikely(keys[i] < high))
		i++;
	if (unlikely((keys[i] & ~RING_LOW_MASK) == high))
	{
		while ((keys[i] & ~RING_LOW_MASK) == high &&
			   ring->lows[i] < (upos & RING_LOW_MASK))
			i++;
	}
	return i == ring->ntokens ? 0 : i;
}

/*
 * 'rendezvous': node i's score for position pos, w / -ln(u), u in (0, 1)
 * from XXH3-64 (seeded with the node's name hash) of pos's 8 bytes, least
 * significant first.
 */
static inline double
ring_hrw_score(const CompiledRing *ring, uint32 i, int64 pos)
{
	uint64		v = (uint64) pos;
	unsigned char bytes[8];
	uint64		h;
	double		u;

	for (int k = 0; k < 8; k++)
		bytes[k] = (unsigned char) (v >> (8 * k));
	h = XXH3_64bits_withSeed(bytes, 8, ring->seeds[i]);
	u = ((double) (h >> 11) + 0.5) * (1.0 / 9007199254740992.0);
	return ring->nodes[i].weight / -log(u);
}

/* 'rendezvous': the node of the highest score (the first by name on ties). */
static inline uint32
ring_hrw_owner(const CompiledRing *ring, int64 pos)
{
	uint32		best = RING_NO_OWNER;
	double		best_score = 0;

	for (uint32 i = 0; i < (uint32) ring->nnodes; i++)
	{
		double		score;

		if (!(ring->nodes[i].weight > 0))
			continue;
		score = ring_hrw_score(ring, i, pos);
		if (best == RING_NO_OWNER || score > best_score)
		{
			best = i;
			best_score = score;
		}
	}
	return best;
}

/*
 * The position of a key in ring: XXH3-64 of its bytes; on a 'redis' ring
 * its hash slot's position (ring_redis.h), on a 'ketama', 'twemproxy' or 'libketama'
 * ring its MD5 hash's (ring_ketama.h), on a 'cassandra' ring the
 * Murmur3Partitioner token of its CQL serialization (ring_cassandra.h).
 */
static pg_attribute_always_inline int64
ring_key_position_in(const CompiledRing *ring, RingKeyReader *reader, Datum key)
{
	if (unlikely(ring->compat_hash))
	{
		if (ring->algorithm == RING_ALGORITHM_REDIS)
			return ring_key_position_redis(reader, key);
		if (ring->algorithm == RING_ALGORITHM_CASSANDRA)
			return ring_key_position_cassandra(reader, key);
		return ring_key_position_ketama(reader, key);
	}
	return ring_key_position(reader, key);
}

/* The position of a byte string in ring, as ring_key_position_in. */
static inline int64
ring_bytes_position_in(const CompiledRing *ring, const char *data, size_t len)
{
	if (ring->algorithm == RING_ALGORITHM_REDIS)
		return ring_redis_slot_position(ring_redis_slot(data, len));
	if (RING_ALGORITHM_IS_KETAMA(ring->algorithm))
		return ring_ketama_point_position(ring_ketama_hash(data, len));
	if (ring->algorithm == RING_ALGORITHM_CASSANDRA)
		return ring_cassandra_token(data, len);
	return ring_hash_bytes(data, len);
}

/*
 * A position as users see it (ring_hash, ring_moves): on a 'redis' ring the
 * hash slot, 0 .. 16383, on a memcached continuum ring the 32-bit value,
 * else the position itself.  A range's first position rounds up
 * (round_up), its last down, so that each holds the key positions inside.
 */
static inline int64
ring_position_external(const CompiledRing *ring, int64 pos, bool round_up)
{
	uint64		biased = (uint64) pos ^ RING_SIGN_BIT;

	if (ring->algorithm == RING_ALGORITHM_REDIS)
		return ring_redis_position_slot(pos);
	if (RING_ALGORITHM_IS_KETAMA(ring->algorithm))
		return (int64) ((biased >> 32) + (round_up && (biased & PG_UINT32_MAX) != 0));
	return pos;
}

/*
 * On a ring without ranges ('rendezvous', 'jump'): the node of pos, or
 * RING_NO_OWNER if none has weight.
 */
static pg_attribute_always_inline uint32
ring_per_key_owner(const CompiledRing *ring, int64 pos)
{
	if (ring->jump)
		return ring->nowners == 0 ? RING_NO_OWNER :
			(uint32) ring->jump->node[ring_jump_lookup(ring->jump, pos)];
	return ring_hrw_owner(ring, pos);
}

/* Index into ring->nodes of the owner of pos, or RING_NO_OWNER if empty. */
static inline uint32
ring_owner_of(const CompiledRing *ring, int64 pos)
{
	if (ring->ntokens == 0)
		return ring->per_key ? ring_per_key_owner(ring, pos) : RING_NO_OWNER;
	return ring_token_owner(ring, ring_token_at(ring, pos));
}

#endif							/* RING_COMPILE_H */
