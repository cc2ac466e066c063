/*-------------------------------------------------------------------------
 *
 * ring_rebalance_private.h
 *	  What measuring a table (ring_rebalance.c) hands to planning
 *	  (ring_rebalance_plan.c): the units of data, the nodes, the heavy keys
 *	  and the keys a plan may pin.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RING_REBALANCE_PRIVATE_H
#define RING_REBALANCE_PRIVATE_H

#include "ring_catalog.h"
#include "ring_compile.h"
#include "ring_keys.h"
#include "ring_rebalance.h"

/*
 * Counters of the heavy key summary ('vnode' rings: the floor and the keys
 * a plan may pin), its hash size, and the bits of the filter of positions
 * seen (1 MB).
 */
#define REBALANCE_HEAVY_KEYS 256
#define REBALANCE_HEAVY_SLOTS 1024
#define REBALANCE_SEEN_BITS (UINT64CONST(1) << 23)

/* One unit of data: a slot, or a range between two potential tokens. */
typedef struct RebalanceUnit
{
	int32		owner;			/* node index now; -1: none */
	int32		plan_owner;		/* node index after the plan */
	int64		rows;
	int64		bytes;
	double		var_bytes;		/* sampling variance of bytes */
	/* page being summed (sampling) */
	int64		page_bytes;
	bool		touched;
	/* 'vnode': of the ring's range ending at this unit's token */
	double		range_var;
	int64		range_page;
	/* 'vnode': of its keys the plan pins to a node */
	int64		pinned_bytes;
	int64		pinned_rows;
} RebalanceUnit;

/* One node of the ring, as the plan sees it. */
typedef struct RebalanceNode
{
	text	   *name;
	double		weight;
	double		capacity;
	bool		has_capacity;	/* a capacity row, not the weight */
	bool		receives;		/* weight and capacity > 0: may get data */
	int64		rows;			/* all its rows, pinned ones included */
	int64		bytes;
	int64		fixed_rows;		/* rows of keys pinned to it */
	int64		fixed_bytes;
	double		var_bytes;
	int64		page_bytes;
	bool		touched;
	/* plan */
	double		target;
	double		low;
	double		high;
	int64		load;			/* bytes during and after the plan */
	int64		load_rows;
	int64		out_bytes;
	int64		in_bytes;
	int32		vnodes;			/* 'vnode': virtual nodes now, then planned */
	int32		max_vnodes;		/* 'vnode': potential tokens */
	int32	   *tokens;			/* 'vnode': index of its i-th vnode's token */
	double		bound_high;		/* high, or what a slot (key) it keeps forces */
} RebalanceNode;

/* A 'vnode' ring's potential token. */
typedef struct PotentialToken
{
	uint64		biased;
	int32		node;
	int32		vnode;			/* which of the node's virtual nodes */
} PotentialToken;

/*
 * A key of the heavy key summary.  bytes counts the key's rows since it
 * entered plus err, the count of the key it replaced: the key's bytes are
 * between bytes - err and bytes.  When the key had not been seen before
 * it entered (exact), they are exactly bytes - err.
 */
typedef struct HeavyKey
{
	int64		pos;
	int64		bytes;
	int64		rows;			/* rows since it entered */
	int64		err;
	bool		exact;
	bytea	   *key;			/* placement bytes; NULL: not pinnable */
	Datum		pending;		/* key of the batch being read, not copied yet */
	bool		has_pending;
} HeavyKey;

/*
 * A key a 'vnode' plan may pin to a node: its bytes are exact.  Either a
 * heavy key of the scan (its bytes part of its unit's), or a key pinned
 * already to a node being drained (existing: its bytes on that node, from,
 * not in its unit), which the plan pins elsewhere or unpins.
 */
typedef struct PinCandidate
{
	int64		pos;
	int64		bytes;
	int64		rows;
	bytea	   *key;
	int32		unit;			/* the unit it is part of */
	int32		pin_to;			/* planned node, -1: not pinned */
	bool		existing;
	int32		from;			/* existing: the node it is pinned to */
} PinCandidate;

/* A measured ring and table. */
typedef struct Rebalance
{
	CompiledRing *ring;
	RingHeader	hdr;
	bool		by_slots;		/* units move one by one: slots, or token
								 * ranges whose token changes owner */
	bool		by_tokens;		/* units are the ring's token ranges */
	int			slot_bits;
	int			nnodes;
	RebalanceNode *nodes;
	int			nunits;
	RebalanceUnit *units;
	PotentialToken *potential; /* 'vnode': sorted; unit i ends at token i */
	bool	   *active;			/* 'vnode': potential token i is a token */
	int64	   *prefix;			/* 'vnode': bytes of units before i */
	int64	   *prefix_rows;
	RingMeasured measured;		/* version and capacity rows planned from */
	double		fraction;		/* sampled fraction of pages, 1: all */
	/* 'vnode': Space-Saving summary of the heaviest keys */
	int			nheavy;
	HeavyKey	heavy[REBALANCE_HEAVY_KEYS];
	int16		heavy_slot[REBALANCE_HEAVY_SLOTS];	/* open addressing: index + 1 */
	uint64	   *seen;			/* Bloom filter of the positions seen */
	MemoryContext heavy_cxt;	/* their placement bytes */
	int64		heaviest_key;	/* at most the bytes of the heaviest key */
	int64		heaviest_pos;	/* its position */
	/* 'vnode': keys the plan may pin (exactly counted), heaviest first */
	int			ncand;
	int			nexisting;		/* the first ones: pins to drained nodes */
	PinCandidate *cand;
	/* 'vnode': keys pinned to nodes being drained, by position */
	PinCandidate *existing;
	/* sampling: the whole table's page sums */
	int64		page_total;
	double		var_total;
	int64		total_bytes;
	int64		total_rows;
	/* plan */
	double		threshold;
	double		improvement;
	int			max_pins;		/* most keys a plan pins */
	bool		pins_by_gain;	/* plan_pins: most imbalance removed first */
	int64		moved_bytes;
	int64		moved_rows;
	int64		lower_bound;
	double		ratio_before;
	double		ratio_after;
	double		ratio_floor;
} Rebalance;

/* Index of the first potential token at or after biased position u (wrapping). */
static inline int
potential_at(const Rebalance *rb, uint64 u)
{
	int			lo = 0;
	int			hi = rb->nunits;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (rb->potential[mid].biased < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == rb->nunits ? 0 : lo;
}

/* The next active potential token after index k (wrapping); k if none. */
static inline int
next_active(const Rebalance *rb, int k)
{
	for (int i = 1; i <= rb->nunits; i++)
	{
		int			j = (k + i) % rb->nunits;

		if (rb->active[j])
			return j;
	}
	return k;
}

/* The previous active potential token before index k (wrapping); k if none. */
static inline int
prev_active(const Rebalance *rb, int k)
{
	for (int i = 1; i <= rb->nunits; i++)
	{
		int			j = (k - i + rb->nunits) % rb->nunits;

		if (rb->active[j])
			return j;
	}
	return k;
}

/* The unit holding a position. */
static inline int
unit_of(const Rebalance *rb, int64 pos)
{
	uint64		u = (uint64) pos ^ RING_SIGN_BIT;

	if (rb->by_tokens)
	{
		const CompiledRing *ring = rb->ring->unpinned ? rb->ring->unpinned : rb->ring;

		return (int) ring_token_at(ring, pos);
	}
	if (rb->by_slots)
		return (int) (rb->slot_bits == 0 ? 0 : u >> (64 - rb->slot_bits));
	return potential_at(rb, u);
}

/* The node a candidate's key is on now. */
static inline int
cand_from(const Rebalance *rb, const PinCandidate *cand)
{
	return cand->existing ? cand->from : rb->units[cand->unit].owner;
}

/* The node the plan so far puts a candidate's key on. */
static inline int
cand_at(const Rebalance *rb, const PinCandidate *cand)
{
	return cand->pin_to >= 0 ? cand->pin_to : rb->units[cand->unit].plan_owner;
}

extern void rebalance_plan(Rebalance *rb, double threshold, double improvement,
						   int32 max_pins);

#endif							/* RING_REBALANCE_PRIVATE_H */
