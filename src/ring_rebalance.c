/*-------------------------------------------------------------------------
 *
 * ring_rebalance.c
 *	  Balancing a ring by the data it places: measuring the rows and bytes
 *	  each slot or token range of a table holds, planning the moves that
 *	  bring every node within a threshold of its share while moving the
 *	  least data, and making the plan one new ring version.
 *
 * Measure.  One scan of the table (a local, partitioned or foreign table, a
 * view over the shards' tables: anything the caller may SELECT from), as
 * the calling user: each row's key is placed as ring_shard places it, and
 * its pg_column_size counted in its unit.  A unit is a slot of a 'slots'
 * or 'redis' ring; on a 'vnode' ring it is a range between two tokens of
 * the union of the tokens the nodes have and those they would get with up
 * to twice their virtual nodes (a vnode's tokens do not depend on how many
 * a node has, so every plan's ranges are unions of these units, and every
 * plan is evaluated exactly).  Pinned keys count for their node and never
 * move.  With sample_percent < 100 the scan is TABLESAMPLE SYSTEM (pages
 * chosen at random): counts are scaled up, and the standard error of each
 * estimate is computed from the sampled pages (the Horvitz-Thompson
 * variance of a Bernoulli sample of pages).
 *
 * Plan.  Node i's target is its capacity's share of the bytes (capacity:
 * ring_set_capacity, else its weight).  The ring is balanced when every
 * node's bytes are within [(1 - t) target, (1 + t) target], t the
 * threshold.  Imbalance is the sum over nodes of how far each is outside
 * that band.  Moves are chosen greedily by imbalance removed per byte
 * moved, the largest removal on ties, until the ring is balanced or no
 * move removes at least improvement_threshold times its bytes (a move
 * between a node above its band and one below removes twice its bytes).
 * 'slots' and 'redis' rings move single slots (or, when no single move is
 * worth it, swap two slots of different sizes); 'cassandra' and balanced
 * 'vnode' rings move a token with its range the same way.  Hashed 'vnode'
 * rings change a node's virtual node count (its weight) by 1 to 16, which
 * moves the ranges of the tokens added or removed, and pin heavy keys to
 * other nodes (at most max_pins): several plans are made (weights alone,
 * then pins; the heaviest keys held where they are while the weights
 * change, then pins, then weights and pins again; pins alone) and the best
 * kept.  A node being drained loses its virtual nodes first, and its
 * pinned keys go to other nodes.  The plan reports net moves: a unit that
 * moved twice is reported once, from its first owner to its last.
 *
 * Lower bound: to bring every node within its band, at least the bytes
 * above the bands, and at least those missing below them, must move.  A
 * node's band is widened only where a slot the plan leaves on it (on a
 * 'vnode' ring: the heaviest key) is heavier than the band with its pinned
 * bytes: then at least the rest must leave it.  The
 * floor of max(bytes / target) is the largest of 1, the heaviest slot (on
 * a 'vnode' ring: a lower bound of the heaviest key's bytes, from the
 * Space-Saving summary of the scan) over the largest target, and each
 * node's pinned bytes over its target: no assignment of whole slots (keys)
 * does better.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/itemptr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "ring_cache.h"
#include "ring_catalog.h"
#include "ring_keys.h"
#include "ring_layout.h"
#include "ring_rebalance.h"
#include "ring_compile.h"

/* Rows fetched from the scan at a time. */
#define REBALANCE_FETCH 10000

/*
 * Counters of the heavy key summary ('vnode' rings: the floor and the keys
 * a plan may pin), its hash size, and the bits of the filter of positions
 * seen (1 MB).
 */
#define REBALANCE_HEAVY_KEYS 256
#define REBALANCE_HEAVY_SLOTS 1024
#define REBALANCE_SEEN_BITS (UINT64CONST(1) << 23)

/*
 * Most virtual nodes one step of a 'vnode' plan adds to or removes from a
 * node: plans are made with each of these limits, the best kept.
 */
static const int rebalance_vnode_steps[] = {1, 2, 4, 8, 16};

/*
 * Least imbalance removed per byte of the weight changes made before pins:
 * plans are made with each (and the improvement threshold), the best kept.
 */
static const double rebalance_pin_efficiency[] = {0, 1.0, 1.5};

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

/* ---- checks ---- */

/* invalid_parameter_value unless lo <= value <= hi (and value is a number). */
static double
check_fraction(const char *what, double value, double lo, double hi)
{
	if (isnan(value) || value > hi || value < lo)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be at least %g and at most %g", what, lo, hi),
				 errdetail("It is %g.", value)));
	return value;
}

/* The relation's qualified name, or undefined_table. */
static char *
relation_name(Oid relid)
{
	char	   *rel = get_rel_name(relid);
	char	   *nsp = get_namespace_name(get_rel_namespace(relid));

	if (rel == NULL || nsp == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	return quote_qualified_identifier(nsp, rel);
}

/* ---- measuring ---- */

/* Order of potential tokens: token, then owner (the ring's tie rule). */
static int
potential_cmp(const void *a, const void *b)
{
	const PotentialToken *x = a;
	const PotentialToken *y = b;

	if (x->biased != y->biased)
		return x->biased < y->biased ? -1 : 1;
	return (x->node > y->node) - (x->node < y->node);
}

/* Index of the first potential token at or after biased position u (wrapping). */
static int
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
static int
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
static int
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

/*
 * Set up the units: a 'slots' or 'redis' ring's slots with their owners,
 * or a 'vnode' ring's potential tokens.
 */
static void
units_init(Rebalance *rb)
{
	CompiledRing *ring = rb->ring->unpinned ? rb->ring->unpinned : rb->ring;

	if (rb->by_tokens)
	{
		/* unit u: the range ending at token u, owned with it */
		rb->nunits = (int) ring->ntokens;
		rb->units = palloc_extended(sizeof(RebalanceUnit) * Max(rb->nunits, 1),
									MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		for (int t = 0; t < rb->nunits; t++)
			rb->units[t].owner = (int32) ring_token_owner(ring, t);
	}
	else if (rb->by_slots)
	{
		rb->nunits = rb->hdr.slots;
		rb->slot_bits = pg_leftmost_one_pos32((uint32) rb->hdr.slots);
		rb->units = palloc_extended(sizeof(RebalanceUnit) * rb->nunits,
									MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		for (int s = 0; s < rb->nunits; s++)
		{
			int64		last = ring_slot_token(s, rb->slot_bits);

			rb->units[s].owner = ring->ntokens == 0 ? -1 : (int32) ring_owner_of(ring, last);
		}
	}
	else
	{
		int			n = 0;
		bool		to_utf8 = ring_convert_to_utf8();
		int			maxname = 0;
		char	   *buf;

		for (int i = 0; i < rb->nnodes; i++)
		{
			RebalanceNode *node = &rb->nodes[i];

			node->vnodes = ring->nodes[i].vnodes;
			node->max_vnodes = Min(RING_MAX_NODE_TOKENS, 2 * node->vnodes + 16);
			n += node->max_vnodes;
			maxname = Max(maxname, VARSIZE_ANY_EXHDR(node->name));
		}
		rb->potential = palloc_extended(sizeof(PotentialToken) * Max(n, 1), MCXT_ALLOC_HUGE);
		/* a character grows to at most 4 bytes in UTF-8 */
		buf = palloc(maxname * MAX_MULTIBYTE_CHAR_LEN + 1 + MAXINT8LEN + 1);
		n = 0;
		for (int i = 0; i < rb->nnodes; i++)
		{
			RingNodeInfo info = ring->nodes[i];
			int64	   *tokens = palloc(sizeof(int64) * rb->nodes[i].max_vnodes);

			info.vnodes = rb->nodes[i].max_vnodes;
			ring_node_tokens(&info, buf, tokens, to_utf8);
			for (int v = 0; v < info.vnodes; v++)
			{
				rb->potential[n].biased = (uint64) tokens[v] ^ RING_SIGN_BIT;
				rb->potential[n].node = i;
				rb->potential[n++].vnode = v;
			}
			pfree(tokens);
		}
		qsort(rb->potential, n, sizeof(PotentialToken), potential_cmp);
		rb->nunits = n;
		rb->units = palloc_extended(sizeof(RebalanceUnit) * Max(n, 1),
									MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		rb->active = palloc_extended(sizeof(bool) * Max(n, 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		for (int i = 0; i < rb->nnodes; i++)
			rb->nodes[i].tokens = palloc(sizeof(int32) * Max(rb->nodes[i].max_vnodes, 1));
		for (int k = 0; k < n; k++)
		{
			RebalanceNode *node = &rb->nodes[rb->potential[k].node];

			node->tokens[rb->potential[k].vnode] = k;
			rb->active[k] = rb->potential[k].vnode < node->vnodes;
		}
		for (int k = 0; k < n; k++)
		{
			int			next = rb->active[k] ? k : next_active(rb, k);

			rb->units[k].owner = rb->active[next] ? rb->potential[next].node : -1;
		}
	}
	for (int u = 0; u < rb->nunits; u++)
		rb->units[u].plan_owner = rb->units[u].owner;
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

/*
 * The node a key is pinned to, or -1: a pin is a token at the key's own
 * position that the ring without pins does not have.
 */
static inline int
pinned_node(const CompiledRing *ring, int64 pos)
{
	uint32		i;

	if (ring->npins == 0)
		return -1;
	i = ring_token_at(ring, pos);
	if (i >= ring->ntokens || ring_token(ring, i) != pos)
		return -1;
	if (ring->unpinned->ntokens > 0 &&
		ring_token(ring->unpinned, ring_token_at(ring->unpinned, pos)) == pos)
		return -1;
	return (int) ring_token_owner(ring, i);
}

/* Slot of a position in the heavy keys' hash. */
static inline uint32
heavy_hash(int64 pos)
{
	return (uint32) (((uint64) pos * UINT64CONST(0x9E3779B97F4A7C15)) >> 54);
}

/* Index of pos among the heavy keys, or -1. */
static int
heavy_find(const Rebalance *rb, int64 pos)
{
	for (uint32 h = heavy_hash(pos);; h = (h + 1) & (REBALANCE_HEAVY_SLOTS - 1))
	{
		int			i = rb->heavy_slot[h] - 1;

		if (i < 0)
			return -1;
		if (rb->heavy[i].pos == pos)
			return i;
	}
}

/* Enter heavy key i into the hash. */
static void
heavy_enter(Rebalance *rb, int i)
{
	uint32		h = heavy_hash(rb->heavy[i].pos);

	while (rb->heavy_slot[h] != 0)
		h = (h + 1) & (REBALANCE_HEAVY_SLOTS - 1);
	rb->heavy_slot[h] = (int16) (i + 1);
}

/*
 * Take heavy key i out of the hash: the entries after it in its probe run
 * move back where their own run allows (linear probing without
 * tombstones).
 */
static void
heavy_remove(Rebalance *rb, int i)
{
	const uint32 mask = REBALANCE_HEAVY_SLOTS - 1;
	uint32		h = heavy_hash(rb->heavy[i].pos);
	uint32		j;

	while (rb->heavy_slot[h] != i + 1)
		h = (h + 1) & mask;
	j = h;
	for (;;)
	{
		uint32		home;

		j = (j + 1) & mask;
		if (rb->heavy_slot[j] == 0)
			break;
		home = heavy_hash(rb->heavy[rb->heavy_slot[j] - 1].pos);
		/* stays unless its home is not in (h, j], cyclically */
		if (h <= j ? (h < home && home <= j) : (h < home || home <= j))
			continue;
		rb->heavy_slot[h] = rb->heavy_slot[j];
		h = j;
	}
	rb->heavy_slot[h] = 0;
}

/*
 * Count a key's bytes in the Space-Saving summary (Metwally, Agrawal and
 * El Abbadi): a key not in it replaces the one with the fewest bytes and
 * starts from its count.  Every key heavier than total / counters is in it
 * at the end.  A filter of the positions seen (two bits each) tells a key
 * met for the first time from one that was in the summary before or
 * counted in another's bytes: a key that entered on its first row and
 * never left is counted exactly (a false "seen" only loses exactness;
 * 2^23 bits keep that rare below about a million distinct keys).  The key
 * itself is kept as a Datum of the batch being read and copied at its end
 * (heavy_keep_keys), so a key that enters and leaves within a batch costs
 * no copy.
 */
static void
heavy_add(Rebalance *rb, int64 pos, int64 bytes, Datum key)
{
	int			i = heavy_find(rb, pos);
	int64		err = 0;
	HeavyKey   *h;

	uint64		b1 = ((uint64) pos) & (REBALANCE_SEEN_BITS - 1);
	uint64		b2 = ((uint64) pos >> 40) & (REBALANCE_SEEN_BITS - 1);
	bool		seen;

	if (i >= 0)
	{
		rb->heavy[i].bytes += bytes;
		rb->heavy[i].rows++;
		return;
	}
	seen = (rb->seen[b1 >> 6] & (UINT64CONST(1) << (b1 & 63))) != 0 &&
		(rb->seen[b2 >> 6] & (UINT64CONST(1) << (b2 & 63))) != 0;
	rb->seen[b1 >> 6] |= UINT64CONST(1) << (b1 & 63);
	rb->seen[b2 >> 6] |= UINT64CONST(1) << (b2 & 63);
	if (rb->nheavy < REBALANCE_HEAVY_KEYS)
		i = rb->nheavy++;
	else
	{
		i = 0;
		for (int k = 1; k < rb->nheavy; k++)
			if (rb->heavy[k].bytes < rb->heavy[i].bytes)
				i = k;
		heavy_remove(rb, i);
		err = rb->heavy[i].bytes;
		if (rb->heavy[i].key != NULL)
			pfree(rb->heavy[i].key);
	}
	h = &rb->heavy[i];
	h->pos = pos;
	h->bytes = err + bytes;
	h->rows = 1;
	h->err = err;
	h->exact = !seen;
	h->key = NULL;
	h->pending = key;
	h->has_pending = true;
	heavy_enter(rb, i);
}

/*
 * Copy the placement bytes of the keys that entered the summary in the
 * batch just read, before its tuples go: only where they are the bytes the
 * position was computed from and short enough to pin.
 */
static void
heavy_keep_keys(Rebalance *rb, RingKeyReader *reader)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < rb->nheavy; i++)
	{
		HeavyKey   *h = &rb->heavy[i];

		if (!h->has_pending)
			continue;
		h->has_pending = false;
		if (!h->exact)
			continue;			/* counted inexactly: never pinned */
		resetStringInfo(&buf);
		ring_key_bytes(reader, h->pending, &buf);
		if (buf.len > RING_PIN_KEY_MAXLEN || ring_hash_bytes(buf.data, buf.len) != h->pos)
			continue;
		h->key = MemoryContextAlloc(rb->heavy_cxt, VARHDRSZ + buf.len);
		SET_VARSIZE(h->key, VARHDRSZ + buf.len);
		memcpy(VARDATA(h->key), buf.data, buf.len);
	}
	pfree(buf.data);
}

/* Heaviest candidate first, then by position. */
static int
candidate_cmp(const void *a, const void *b)
{
	const PinCandidate *x = a;
	const PinCandidate *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Add the sums of the page just read to the variances. */
static void
flush_page(Rebalance *rb, int *touched_units, int *ntouched,
		   int *touched_nodes, int *nnodes_touched)
{
	int			nranges = 0;

	for (int i = 0; i < *ntouched; i++)
	{
		int			u = touched_units[i];
		RebalanceUnit *unit = &rb->units[u];

		unit->var_bytes += (double) unit->page_bytes * (double) unit->page_bytes;
		if (!rb->by_slots)
		{
			/* the ring's range this unit is part of ends at the next token */
			int			r = rb->active[u] ? u : next_active(rb, u);

			if (rb->units[r].range_page == 0)
				touched_units[nranges++] = r;	/* reuse: i >= nranges */
			rb->units[r].range_page += unit->page_bytes;
		}
		unit->page_bytes = 0;
		unit->touched = false;
	}
	for (int i = 0; i < nranges; i++)
	{
		RebalanceUnit *range = &rb->units[touched_units[i]];

		range->range_var += (double) range->range_page * (double) range->range_page;
		range->range_page = 0;
	}
	*ntouched = 0;
	for (int i = 0; i < *nnodes_touched; i++)
	{
		RebalanceNode *node = &rb->nodes[touched_nodes[i]];

		node->var_bytes += (double) node->page_bytes * (double) node->page_bytes;
		node->page_bytes = 0;
		node->touched = false;
	}
	*nnodes_touched = 0;
	rb->var_total += (double) rb->page_total * (double) rb->page_total;
	rb->page_total = 0;
}

/* By position, for bsearch and qsort over existing pins. */
static int
existing_cmp(const void *a, const void *b)
{
	int64		x = ((const PinCandidate *) a)->pos;
	int64		y = ((const PinCandidate *) b)->pos;

	return (x > y) - (x < y);
}

/* The key pinned at pos to a node being drained, or NULL. */
static PinCandidate *
existing_find(const Rebalance *rb, int64 pos)
{
	PinCandidate key;

	if (rb->nexisting == 0)
		return NULL;
	key.pos = pos;
	return bsearch(&key, rb->existing, rb->nexisting, sizeof(PinCandidate), existing_cmp);
}

/*
 * Scan the table as the calling user and count each row in its unit (or,
 * pinned, as its node's fixed load).
 */
static void
measure(Rebalance *rb, Oid relid, Name key_column, double sample_percent)
{
	char	   *relname = relation_name(relid);
	AttrNumber	attnum = get_attnum(relid, NameStr(*key_column));
	Oid			keytype;
	RingKeyReader reader;
	StringInfoData sql;
	Portal		portal;
	SPIPlanPtr	plan;
	bool		sampled = sample_percent < 100;
	MemoryContext rowcxt;
	MemoryContext oldcxt;
	int		   *touched_units = palloc_extended(sizeof(int) * Max(rb->nunits, 1), MCXT_ALLOC_HUGE);
	int			ntouched = 0;
	int		   *touched_nodes = palloc(sizeof(int) * Max(rb->nnodes, 1));
	int			nnodes_touched = 0;
	const char *cast = "";
	Oid			page_rel = InvalidOid;
	BlockNumber page = InvalidBlockNumber;
	const CompiledRing *ring = rb->ring;

	if (attnum == InvalidAttrNumber || attnum < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation %s does not exist",
						NameStr(*key_column), relname)));
	keytype = getBaseType(get_atttype(relid, attnum));

	/*
	 * Keys as ring_shard(ring, column) places them: char(n) and name go to
	 * its text overload through their cast to text (char(n) loses its
	 * trailing blanks).
	 */
	if (keytype == BPCHAROID || keytype == NAMEOID)
	{
		cast = "::pg_catalog.text";
		keytype = TEXTOID;
	}
	ring_key_reader_init(&reader, keytype, CurrentMemoryContext);

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT t.%s%s, pg_catalog.pg_column_size(t.*)%s FROM %s t",
					 quote_identifier(NameStr(*key_column)), cast,
					 sampled ? ", t.tableoid, t.ctid" : "", relname);
	/* the same pages on every call: the plan shown is the plan applied */
	if (sampled)
		appendStringInfo(&sql, " TABLESAMPLE pg_catalog.system (%.17g) REPEATABLE (0)",
						 sample_percent);
	rb->fraction = sampled ? sample_percent / 100.0 : 1.0;

	/* the heavy keys' bytes outlive the scan: the caller's context */
	rb->heavy_cxt = AllocSetContextCreate(CurrentMemoryContext,
										  "consistent_ring rebalance heavy keys",
										  ALLOCSET_DEFAULT_SIZES);
	if (!rb->by_slots)
		rb->seen = palloc0(REBALANCE_SEEN_BITS / 8);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare(sql.data, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s (%s)", SPI_result_code_string(SPI_result), sql.data);
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "consistent_ring rebalance rows",
								   ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, REBALANCE_FETCH);
		if (SPI_processed == 0)
			break;
		oldcxt = MemoryContextSwitchTo(rowcxt);
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			bool		isnull;
			Datum		key = SPI_getbinval(tup, desc, 1, &isnull);
			int64		bytes;
			int64		pos;
			int			pin;
			int			owner;

			if (isnull)
				continue;		/* a NULL key has no place */
			bytes = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
			if (sampled)
			{
				Oid			rel = DatumGetObjectId(SPI_getbinval(tup, desc, 3, &isnull));
				ItemPointer tid = (ItemPointer) DatumGetPointer(SPI_getbinval(tup, desc, 4, &isnull));
				BlockNumber blk = isnull ? InvalidBlockNumber : ItemPointerGetBlockNumber(tid);

				if (rel != page_rel || blk != page)
				{
					flush_page(rb, touched_units, &ntouched, touched_nodes, &nnodes_touched);
					page_rel = rel;
					page = blk;
				}
			}
			rb->page_total += bytes;
			pos = ring_key_position_in(ring, &reader, key);
			pin = pinned_node(ring, pos);
			if (pin >= 0)
			{
				PinCandidate *e = existing_find(rb, pos);

				owner = pin;
				if (e != NULL)
				{
					/* pinned to a node being drained: the plan moves it */
					e->rows++;
					e->bytes += bytes;
				}
				else
				{
					rb->nodes[pin].fixed_rows++;
					rb->nodes[pin].fixed_bytes += bytes;
				}
			}
			else
			{
				int			u = unit_of(rb, pos);
				RebalanceUnit *unit = &rb->units[u];

				owner = unit->owner;
				if (!rb->by_slots)
					heavy_add(rb, pos, bytes, key);
				unit->rows++;
				unit->bytes += bytes;
				if (sampled)
				{
					if (!unit->touched)
						touched_units[ntouched++] = u;
					unit->touched = true;
					unit->page_bytes += bytes;
				}
			}
			if (owner >= 0)
			{
				rb->nodes[owner].rows++;
				rb->nodes[owner].bytes += bytes;
				if (sampled)
				{
					if (!rb->nodes[owner].touched)
						touched_nodes[nnodes_touched++] = owner;
					rb->nodes[owner].touched = true;
					rb->nodes[owner].page_bytes += bytes;
				}
			}
		}
		if (!rb->by_slots)
			heavy_keep_keys(rb, &reader);
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(rowcxt);
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	flush_page(rb, touched_units, &ntouched, touched_nodes, &nnodes_touched);
	SPI_cursor_close(portal);
	SPI_finish();

	/* scale a sample up: Horvitz-Thompson, variance (1 - p) / p^2 sum y^2 */
	if (sampled)
	{
		double		p = rb->fraction;
		double		f = (1 - p) / (p * p);

		for (int u = 0; u < rb->nunits; u++)
		{
			rb->units[u].rows = (int64) llround(rb->units[u].rows / p);
			rb->units[u].bytes = (int64) llround(rb->units[u].bytes / p);
			rb->units[u].var_bytes *= f;
			rb->units[u].range_var *= f;
		}
		rb->var_total *= f;
		for (int i = 0; i < rb->nnodes; i++)
		{
			RebalanceNode *node = &rb->nodes[i];

			node->rows = (int64) llround(node->rows / p);
			node->bytes = (int64) llround(node->bytes / p);
			node->fixed_rows = (int64) llround(node->fixed_rows / p);
			node->fixed_bytes = (int64) llround(node->fixed_bytes / p);
			node->var_bytes *= f;
		}
	}
	/* a lower bound of the heaviest key's bytes; the keys counted exactly */
	rb->heaviest_key = 0;
	rb->cand = palloc(sizeof(PinCandidate) * Max(rb->nheavy + rb->nexisting, 1));
	rb->ncand = 0;
	for (int i = 0; i < rb->nexisting; i++)
	{
		PinCandidate *e = &rb->existing[i];

		if (e->rows == 0)
			continue;			/* nothing to move: the pin stays */
		e->bytes = (int64) floor(e->bytes / rb->fraction);
		e->rows = (int64) floor(e->rows / rb->fraction);
		e->unit = unit_of(rb, e->pos);
		rb->cand[rb->ncand++] = *e;
	}
	if (rb->ncand > 1)
		qsort(rb->cand, rb->ncand, sizeof(PinCandidate), candidate_cmp);
	rb->nexisting = rb->ncand;
	for (int i = 0; i < rb->nheavy; i++)
	{
		HeavyKey   *h = &rb->heavy[i];

		if (h->bytes - h->err > rb->heaviest_key)
		{
			rb->heaviest_key = h->bytes - h->err;
			rb->heaviest_pos = h->pos;
		}
		if (h->key != NULL && h->exact && h->bytes > h->err)
		{
			PinCandidate *c = &rb->cand[rb->ncand++];

			/*
			 * Scaled down to whole bytes and rows: a unit's candidates then
			 * never add up to more than the unit, scaled to the nearest.
			 */
			c->pos = h->pos;
			c->bytes = (int64) floor((h->bytes - h->err) / rb->fraction);
			c->rows = (int64) floor(h->rows / rb->fraction);
			c->key = h->key;
			c->unit = unit_of(rb, h->pos);
			c->pin_to = -1;
			c->existing = false;
			c->from = -1;
		}
	}
	if (rb->ncand - rb->nexisting > 1)
		qsort(rb->cand + rb->nexisting, rb->ncand - rb->nexisting, sizeof(PinCandidate),
			  candidate_cmp);
	rb->heaviest_key = (int64) llround(rb->heaviest_key / rb->fraction);
	rb->total_bytes = 0;
	rb->total_rows = 0;
	for (int i = 0; i < rb->nnodes; i++)
	{
		rb->total_bytes += rb->nodes[i].bytes;
		rb->total_rows += rb->nodes[i].rows;
	}
}

/*
 * Resolve the ring (lookup rights of the current user), read its nodes'
 * capacities and measure the table.
 */
static Rebalance *
rebalance_measure(text *ringname, Oid relid, Name key_column, double sample_percent,
				  MemoryContext refcxt)
{
	Rebalance  *rb = palloc0(sizeof(Rebalance));
	RingRef    *ref = MemoryContextAllocZero(refcxt, sizeof(RingRef));
	CompiledRing *ring;
	Oid			types[1] = {INT4OID};
	Datum		values[1];

	/* TABLESAMPLE takes a real: smaller percentages underflow */
	check_fraction("sample_percent", sample_percent, 0.000001, 100);
	if (VARSIZE_ANY_EXHDR(ringname) > RING_NAME_MAXLEN)
		ring_report_name_too_long(VARDATA_ANY(ringname), VARSIZE_ANY_EXHDR(ringname));
	ring_ref_init(ref, refcxt);
	ring = ring_ref_resolve(ref, VARDATA_ANY(ringname), VARSIZE_ANY_EXHDR(ringname),
							RING_VERSION_CURRENT);
	ring_catalog_get(VARDATA_ANY(ringname), VARSIZE_ANY_EXHDR(ringname),
					 GetActiveSnapshot(), &rb->hdr);
	if (rb->hdr.version != ring->key.version)
		elog(ERROR, "ring \"%s\" is at version %d, its compiled copy at %d",
			 ring->name, rb->hdr.version, ring->key.version);
	rb->ring = ring;

	if (ring->algorithm == RING_ALGORITHM_SLOTS || ring->algorithm == RING_ALGORITHM_REDIS)
		rb->by_slots = true;
	else if (ring->algorithm == RING_ALGORITHM_CASSANDRA ||
			 (ring->algorithm == RING_ALGORITHM_VNODE && ring->stored_tokens))
		rb->by_slots = rb->by_tokens = true;
	else if (ring->algorithm != RING_ALGORITHM_VNODE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ring \"%s\" cannot be balanced by its data", ring->name),
				 errdetail("Its algorithm is '%s'; data-aware balancing works on 'slots', 'redis', 'vnode' and 'cassandra' rings.",
						   ring_algorithm_name(ring->algorithm))));
	if (ring->nowners == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("ring \"%s\" has no nodes to place keys on", ring->name),
				 errdetail("Version %d of the ring has no node with a weight greater than 0.",
						   ring->key.version)));

	rb->nnodes = ring->nnodes;
	rb->nodes = palloc0(sizeof(RebalanceNode) * rb->nnodes);
	for (int i = 0; i < rb->nnodes; i++)
	{
		rb->nodes[i].name = ring->nodes[i].name;
		rb->nodes[i].weight = ring->nodes[i].weight;
		rb->nodes[i].capacity = ring->nodes[i].weight;
	}

	/* capacities: the catalog is read as its owner, like every ring change */
	{
		RingCaller	caller;
		MemoryContext outer = CurrentMemoryContext;
		MemoryContext spicxt;

		begin_as_catalog_owner(&caller);
		values[0] = Int32GetDatum(rb->hdr.ring_id);
		if (SPI_execute_with_args("SELECT node, capacity FROM consistent_ring.capacities"
								  " WHERE ring_id OPERATOR(pg_catalog.=) $1 ORDER BY node",
								  1, types, values, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read the capacities of ring \"%s\"", ring->name);
		/* kept past SPI_finish: in the caller's context */
		spicxt = MemoryContextSwitchTo(outer);
		rb->measured.version = ring->key.version;
		rb->measured.ncapacities = (int) SPI_processed;
		rb->measured.nodes = palloc(sizeof(text *) * Max(SPI_processed, 1));
		rb->measured.capacities = palloc(sizeof(double) * Max(SPI_processed, 1));
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			bool		isnull;
			text	   *name = DatumGetTextPCopy(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
			double		capacity = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &isnull));

			rb->measured.nodes[r] = name;
			rb->measured.capacities[r] = capacity;
			for (int i = 0; i < rb->nnodes; i++)
				if (VARSIZE_ANY_EXHDR(name) == VARSIZE_ANY_EXHDR(rb->nodes[i].name) &&
					memcmp(VARDATA_ANY(name), VARDATA_ANY(rb->nodes[i].name), VARSIZE_ANY_EXHDR(name)) == 0)
				{
					rb->nodes[i].capacity = capacity;
					rb->nodes[i].has_capacity = true;
				}
		}

		/* hashed 'vnode': keys pinned to nodes being drained can move */
		rb->nexisting = 0;
		if (!rb->by_slots && ring->npins > 0)
		{
			MemoryContextSwitchTo(spicxt);
			if (SPI_execute_with_args("SELECT key, position, node FROM consistent_ring.pins"
									  " WHERE ring_id OPERATOR(pg_catalog.=) $1 AND removed_in IS NULL",
									  1, types, values, NULL, true, 0) != SPI_OK_SELECT)
				elog(ERROR, "could not read the pins of ring \"%s\"", ring->name);
			MemoryContextSwitchTo(outer);
			rb->existing = palloc(sizeof(PinCandidate) * Max(SPI_processed, 1));
			for (uint64 r = 0; r < SPI_processed; r++)
			{
				HeapTuple	tup = SPI_tuptable->vals[r];
				TupleDesc	desc = SPI_tuptable->tupdesc;
				bool		isnull;
				text	   *name = DatumGetTextPP(SPI_getbinval(tup, desc, 3, &isnull));
				PinCandidate *e;
				int			i;

				for (i = 0; i < rb->nnodes; i++)
					if (VARSIZE_ANY_EXHDR(name) == VARSIZE_ANY_EXHDR(rb->nodes[i].name) &&
						memcmp(VARDATA_ANY(name), VARDATA_ANY(rb->nodes[i].name),
							   VARSIZE_ANY_EXHDR(name)) == 0)
						break;
				if (i == rb->nnodes || !rb->nodes[i].has_capacity ||
					rb->nodes[i].capacity != 0 || !(rb->nodes[i].weight > 0))
					continue;
				e = &rb->existing[rb->nexisting++];
				memset(e, 0, sizeof(PinCandidate));
				e->key = DatumGetByteaPCopy(SPI_getbinval(tup, desc, 1, &isnull));
				e->pos = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
				e->existing = true;
				e->from = e->pin_to = i;
			}
			if (rb->nexisting > 1)
				qsort(rb->existing, rb->nexisting, sizeof(PinCandidate), existing_cmp);
		}
		MemoryContextSwitchTo(spicxt);
		end_as_catalog_owner(&caller);
	}

	units_init(rb);
	measure(rb, relid, key_column, sample_percent);
	return rb;
}

/* ---- planning ---- */

/* How far bytes is outside a node's band. */
static inline double
distance(const RebalanceNode *node, double bytes)
{
	if (bytes > node->high)
		return bytes - node->high;
	if (bytes < node->low)
		return node->low - bytes;
	return 0;
}

/* Set every node's target and band; the imbalance and floor before moves. */
static void
plan_targets(Rebalance *rb)
{
	double		capacity = 0;
	double		total = 0;
	double		max_target = 0;
	int64		max_unit = 0;

	for (int i = 0; i < rb->nnodes; i++)
	{
		RebalanceNode *node = &rb->nodes[i];

		node->receives = node->weight > 0 && node->capacity > 0;
		node->load = node->bytes;
		node->load_rows = node->rows;
		if (node->weight > 0)
		{
			capacity += node->capacity;
			total += node->bytes;
		}
	}
	if (!(capacity > 0))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no node of ring \"%s\" has a capacity greater than 0", rb->ring->name),
				 errhint("Give a node a capacity with ring_set_capacity().")));
	rb->ratio_before = 0;
	rb->ratio_floor = 1;
	for (int i = 0; i < rb->nnodes; i++)
	{
		RebalanceNode *node = &rb->nodes[i];

		if (!(node->weight > 0))
		{
			/* holds nothing but keys pinned to it: no band */
			node->target = node->low = node->high = (double) node->bytes;
			continue;
		}
		node->target = total * node->capacity / capacity;
		node->low = (1 - rb->threshold) * node->target;
		node->high = (1 + rb->threshold) * node->target;
		max_target = Max(max_target, node->target);
		if (node->target > 0)
		{
			rb->ratio_before = Max(rb->ratio_before, node->bytes / node->target);
			rb->ratio_floor = Max(rb->ratio_floor, node->fixed_bytes / node->target);
		}
	}
	for (int u = 0; u < rb->nunits; u++)
		max_unit = Max(max_unit, rb->units[u].bytes);
	if (!rb->by_slots)
		max_unit = rb->heaviest_key;
	if (max_target > 0)
		rb->ratio_floor = Max(rb->ratio_floor, max_unit / max_target);
	if (total == 0)
		rb->ratio_before = rb->ratio_floor = 1;
}

/* Move unit u's bytes from node a to node b in the running plan. */
static void
plan_shift(Rebalance *rb, int a, int b, int64 bytes, int64 rows)
{
	rb->nodes[a].load -= bytes;
	rb->nodes[a].load_rows -= rows;
	rb->nodes[b].load += bytes;
	rb->nodes[b].load_rows += rows;
}

/*
 * Whether a move removing gain at efficiency eff beats the best so far:
 * higher efficiency, then (efficiencies equal but for rounding) more gain.
 */
static inline bool
better_move(double eff, double gain, double best_eff, double best_gain)
{
	if (eff > best_eff + 1e-9)
		return true;
	return eff > best_eff - 1e-9 && gain > best_gain;
}

/* Imbalance removed by moving x bytes from a to b. */
static inline double
move_gain(const Rebalance *rb, int a, int b, double x)
{
	const RebalanceNode *na = &rb->nodes[a];
	const RebalanceNode *nb = &rb->nodes[b];

	return distance(na, na->load) + distance(nb, nb->load) -
		distance(na, na->load - x) - distance(nb, nb->load + x);
}

/* Whether every node is within its band. */
static bool
plan_balanced(const Rebalance *rb)
{
	for (int i = 0; i < rb->nnodes; i++)
		if (distance(&rb->nodes[i], rb->nodes[i].load) > 0)
			return false;
	return true;
}

/* Smaller slot first, for qsort_arg over unit indexes. */
static int
unit_lighter_cmp(const void *a, const void *b, void *arg)
{
	const RebalanceUnit *units = arg;
	int64		x = units[*(const int *) a].bytes;
	int64		y = units[*(const int *) b].bytes;

	if (x != y)
		return x < y ? -1 : 1;
	return (*(const int *) a > *(const int *) b) - (*(const int *) a < *(const int *) b);
}

/* Index into sorted (n unit indexes, lighter first) of the first of at least bytes. */
static int
lighter_search(const Rebalance *rb, const int *sorted, int n, double bytes)
{
	int			lo = 0;
	int			hi = n;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if ((double) rb->units[sorted[mid]].bytes < bytes)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Swap a slot of the node furthest outside its band with a slot of another
 * node, the swap that removes the most imbalance per byte moved; false if
 * none removes at least improvement_threshold times its bytes.  This gets
 * past the point where a heavy slot fits nowhere until the receiver gives
 * up lighter ones.  For each slot r of another node, the slots s of the
 * node tried are those nearest in size to r plus what would bring the node
 * to its band or to its target (a binary search over its slots by size).
 */
static bool
plan_swap(Rebalance *rb)
{
	int			a = -1;
	double		worst = 0;
	int			best_s = -1;
	int			best_r = -1;
	double		best_eff = 0;
	double		best_gain = 0;
	int		   *mine;
	int			nmine = 0;
	double		wants[2];

	for (int i = 0; i < rb->nnodes; i++)
	{
		double		d = distance(&rb->nodes[i], rb->nodes[i].load);

		if (rb->nodes[i].receives && d > worst)
		{
			worst = d;
			a = i;
		}
	}
	if (a < 0)
		return false;
	/* the net bytes a should give (negative: take) */
	if (rb->nodes[a].load > rb->nodes[a].high)
		wants[0] = rb->nodes[a].load - rb->nodes[a].high;
	else
		wants[0] = rb->nodes[a].load - rb->nodes[a].low;
	wants[1] = rb->nodes[a].load - rb->nodes[a].target;

	mine = palloc_extended(sizeof(int) * Max(rb->nunits, 1), MCXT_ALLOC_HUGE);
	for (int u = 0; u < rb->nunits; u++)
		if (rb->units[u].plan_owner == a)
			mine[nmine++] = u;
	qsort_arg(mine, nmine, sizeof(int), unit_lighter_cmp, rb->units);

	for (int r = 0; r < rb->nunits; r++)
	{
		RebalanceUnit *ur = &rb->units[r];
		int			b = ur->plan_owner;

		if ((r & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		if (b < 0 || b == a || !rb->nodes[b].receives)
			continue;
		for (int w = 0; w < 2; w++)
		{
			int			at = lighter_search(rb, mine, nmine, ur->bytes + wants[w]);

			for (int k = at - 1; k <= at; k++)
			{
				RebalanceUnit *us;
				double		net;
				double		gain;
				double		eff;

				if (k < 0 || k >= nmine)
					continue;
				us = &rb->units[mine[k]];
				if (us->bytes == ur->bytes)
					continue;
				net = (double) us->bytes - (double) ur->bytes;	/* a to b */
				gain = move_gain(rb, a, b, net);
				if (!(gain > 0))
					continue;
				eff = gain / (double) (us->bytes + ur->bytes);
				if (better_move(eff, gain, best_eff, best_gain))
				{
					best_eff = eff;
					best_gain = gain;
					best_s = mine[k];
					best_r = r;
				}
			}
		}
	}
	pfree(mine);
	if (best_s < 0 || best_eff < rb->improvement || best_gain < 0.5)
		return false;
	{
		int			b = rb->units[best_r].plan_owner;

		plan_shift(rb, a, b, rb->units[best_s].bytes, rb->units[best_s].rows);
		plan_shift(rb, b, a, rb->units[best_r].bytes, rb->units[best_r].rows);
		rb->units[best_s].plan_owner = b;
		rb->units[best_r].plan_owner = a;
	}
	return true;
}

/*
 * Whether a planner takes another step: the ring is not balanced yet and
 * the steps are not past their bound (4 per unit).  Lets a cancel or
 * statement_timeout in between steps.
 */
static bool
plan_go_on(const Rebalance *rb, int *steps)
{
	CHECK_FOR_INTERRUPTS();
	return !plan_balanced(rb) && (*steps)++ < 4 * rb->nunits;
}

/*
 * 'slots' and 'redis': move one slot at a time.  For each slot, the
 * receivers worth trying are the node furthest below its band and the one
 * with the most room in it (other than the slot's owner).
 */
static void
plan_slots(Rebalance *rb)
{
	int			steps = 0;

	while (plan_go_on(rb, &steps))
	{
		int			deficit[2] = {-1, -1};
		int			room[2] = {-1, -1};
		int			best_u = -1;
		int			best_b = -1;
		double		best_eff = 0;
		double		best_gain = 0;

		for (int i = 0; i < rb->nnodes; i++)
		{
			RebalanceNode *node = &rb->nodes[i];
			double		d = node->low - node->load;
			double		r = node->high - node->load;

			if (!node->receives)
				continue;
			if (deficit[0] < 0 || d > rb->nodes[deficit[0]].low - rb->nodes[deficit[0]].load)
			{
				deficit[1] = deficit[0];
				deficit[0] = i;
			}
			else if (deficit[1] < 0 || d > rb->nodes[deficit[1]].low - rb->nodes[deficit[1]].load)
				deficit[1] = i;
			if (room[0] < 0 || r > rb->nodes[room[0]].high - rb->nodes[room[0]].load)
			{
				room[1] = room[0];
				room[0] = i;
			}
			else if (room[1] < 0 || r > rb->nodes[room[1]].high - rb->nodes[room[1]].load)
				room[1] = i;
		}
		for (int u = 0; u < rb->nunits; u++)
		{
			RebalanceUnit *unit = &rb->units[u];
			int			a = unit->plan_owner;
			int			cand[2];
			double		x = (double) unit->bytes;

			if (a < 0 || unit->bytes == 0)
				continue;
			cand[0] = deficit[0] == a ? deficit[1] : deficit[0];
			cand[1] = room[0] == a ? room[1] : room[0];
			for (int c = 0; c < 2; c++)
			{
				int			b = cand[c];
				double		gain;
				double		eff;

				if (b < 0)
					continue;
				gain = move_gain(rb, a, b, x);
				eff = gain / x;
				if (gain > 0 && better_move(eff, gain, best_eff, best_gain))
				{
					best_eff = eff;
					best_gain = gain;
					best_u = u;
					best_b = b;
				}
			}
		}
		if (best_u < 0 || best_eff < rb->improvement || best_gain < 0.5)
		{
			/* no single move is worth it: swap two slots, if that is */
			if (!plan_swap(rb))
				break;
			continue;
		}
		plan_shift(rb, rb->units[best_u].plan_owner, best_b,
				   rb->units[best_u].bytes, rb->units[best_u].rows);
		rb->units[best_u].plan_owner = best_b;
	}
}

/* Bytes and rows of units (from, to], wrapping; all of them if from == to. */
static void
range_sum(const Rebalance *rb, int from, int to, int64 *bytes, int64 *rows)
{
	int64		b;
	int64		r;

	if (from < to)
	{
		b = rb->prefix[to + 1] - rb->prefix[from + 1];
		r = rb->prefix_rows[to + 1] - rb->prefix_rows[from + 1];
	}
	else
	{
		b = rb->prefix[rb->nunits] - rb->prefix[from + 1] + rb->prefix[to + 1];
		r = rb->prefix_rows[rb->nunits] - rb->prefix_rows[from + 1] + rb->prefix_rows[to + 1];
	}
	*bytes = b;
	*rows = r;
}

/* A node's change of load while a 'vnode' step is tried. */
typedef struct LoadDelta
{
	int			node;
	int64		bytes;
	int64		rows;
} LoadDelta;

static void
delta_add(LoadDelta *d, int *nd, int node, int64 bytes, int64 rows)
{
	for (int i = 0; i < *nd; i++)
		if (d[i].node == node)
		{
			d[i].bytes += bytes;
			d[i].rows += rows;
			return;
		}
	d[*nd].node = node;
	d[*nd].bytes = bytes;
	d[(*nd)++].rows = rows;
}

/*
 * Activate (on) or deactivate token k, recording in d whose load changes:
 * its range (previous token, k] goes to k's node, or back to the owner of
 * the next token.  Returns the bytes that change owner.
 */
static int64
vnode_toggle(Rebalance *rb, int k, bool on, LoadDelta *d, int *nd)
{
	int			prev = prev_active(rb, k);
	int			next;
	int			from;
	int			to;
	int64		bytes;
	int64		rows;

	if (on)
	{
		next = next_active(rb, k);
		if (!rb->active[next] || next == k)
		{
			rb->active[k] = true;
			return 0;
		}
		from = rb->potential[next].node;
		to = rb->potential[k].node;
		rb->active[k] = true;
	}
	else
	{
		rb->active[k] = false;
		next = next_active(rb, k);
		if (!rb->active[next])
			return 0;			/* the last token: not done */
		from = rb->potential[k].node;
		to = rb->potential[next].node;
	}
	if (prev == k)
		prev = next;
	range_sum(rb, prev, k, &bytes, &rows);
	if (from == to)
		return 0;
	delta_add(d, nd, from, -bytes, -rows);
	delta_add(d, nd, to, bytes, rows);
	return bytes;
}

/*
 * 'vnode': the sums of the units before each, for range_sum: the bytes a
 * range takes with it, not those of keys the plan pins.
 */
static void
prefix_build(Rebalance *rb)
{
	if (rb->prefix == NULL)
	{
		rb->prefix = palloc_extended(sizeof(int64) * (rb->nunits + 1), MCXT_ALLOC_HUGE);
		rb->prefix_rows = palloc_extended(sizeof(int64) * (rb->nunits + 1), MCXT_ALLOC_HUGE);
	}
	rb->prefix[0] = rb->prefix_rows[0] = 0;
	for (int u = 0; u < rb->nunits; u++)
	{
		rb->prefix[u + 1] = rb->prefix[u] + rb->units[u].bytes - rb->units[u].pinned_bytes;
		rb->prefix_rows[u + 1] = rb->prefix_rows[u] + rb->units[u].rows - rb->units[u].pinned_rows;
	}
}

/* 'vnode': each unit's owner after the plan so far. */
static void
units_owners(Rebalance *rb)
{
	for (int k = 0; k < rb->nunits; k++)
	{
		int			next = rb->active[k] ? k : next_active(rb, k);

		rb->units[k].plan_owner = rb->active[next] ? rb->potential[next].node : -1;
	}
}

/*
 * 'vnode': take every virtual node from the nodes being drained (capacity
 * 0), before any other step: greedy steps alone can get stuck where a
 * drained node's range would go to a node above its band.
 */
static void
plan_drain(Rebalance *rb)
{
	LoadDelta  *d = NULL;

	for (int i = 0; i < rb->nnodes; i++)
	{
		RebalanceNode *node = &rb->nodes[i];

		if (!(node->weight > 0) || node->receives)
			continue;
		if (d == NULL)
		{
			d = palloc(sizeof(LoadDelta) * (rb->nnodes + 1));
			prefix_build(rb);
		}
		while (node->vnodes > 0)
		{
			int			nd = 0;

			(void) vnode_toggle(rb, node->tokens[node->vnodes - 1], false, d, &nd);
			for (int j = 0; j < nd; j++)
			{
				rb->nodes[d[j].node].load += d[j].bytes;
				rb->nodes[d[j].node].load_rows += d[j].rows;
			}
			node->vnodes--;
		}
	}
	if (d != NULL)
	{
		pfree(d);
		units_owners(rb);
	}
}

/*
 * 'vnode': give a node 1 to max_step more or fewer virtual nodes
 * at a time (its tokens are its first vnodes ones, so the tokens added are
 * the next ones, those removed its last ones).
 */
static void
plan_vnodes(Rebalance *rb, int max_step, double min_eff)
{
	LoadDelta  *d = palloc(sizeof(LoadDelta) * (2 * max_step + 2));
	int			steps = 0;
	int64		total = 0;

	for (int i = 0; i < rb->nnodes; i++)
		total += rb->nodes[i].vnodes;

	prefix_build(rb);

	while (plan_go_on(rb, &steps))
	{
		int			best_node = -1;
		int			best_step = 0;
		double		best_eff = 0;
		double		best_gain = 0;

		for (int i = 0; i < rb->nnodes; i++)
		{
			RebalanceNode *node = &rb->nodes[i];

			if (!(node->weight > 0))
				continue;
			for (int dir = -1; dir <= 1; dir += 2)
			{
				int			nd = 0;
				int64		moved = 0;
				int			m;

				for (m = 1; m <= max_step; m++)
				{
					int			v = dir > 0 ? node->vnodes + m - 1 : node->vnodes - m;
					double		gain = 0;

					if (v < 0 || v >= node->max_vnodes ||
						(dir < 0 && v == 0 && node->capacity > 0) ||
						(dir > 0 && total + m > RING_MAX_RING_TOKENS))
						break;
					moved += vnode_toggle(rb, node->tokens[v], dir > 0, d, &nd);
					for (int j = 0; j < nd; j++)
					{
						RebalanceNode *x = &rb->nodes[d[j].node];

						gain += distance(x, x->load) - distance(x, x->load + d[j].bytes);
					}
					if (moved > 0 && gain > 0)
					{
						double		eff = gain / moved;

						if (better_move(eff, gain, best_eff, best_gain))
						{
							best_eff = eff;
							best_gain = gain;
							best_node = i;
							best_step = dir * m;
						}
					}
				}
				/* undo */
				for (int k = m - 1; k >= 1; k--)
				{
					int			v = dir > 0 ? node->vnodes + k - 1 : node->vnodes - k;

					rb->active[node->tokens[v]] = dir < 0;
				}
			}
		}
		if (best_node < 0 || best_eff < min_eff || best_gain < 0.5)
			break;
		{
			RebalanceNode *node = &rb->nodes[best_node];
			int			nd = 0;
			int			m = abs(best_step);

			for (int k = 1; k <= m; k++)
			{
				int			v = best_step > 0 ? node->vnodes + k - 1 : node->vnodes - k;

				(void) vnode_toggle(rb, node->tokens[v], best_step > 0, d, &nd);
			}
			for (int j = 0; j < nd; j++)
			{
				rb->nodes[d[j].node].load += d[j].bytes;
				rb->nodes[d[j].node].load_rows += d[j].rows;
			}
			node->vnodes += best_step;
			total += best_step;
		}
	}
	pfree(d);
	units_owners(rb);
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

/*
 * Pin a candidate to node to (-1: unpin it), keeping its unit's pinned
 * bytes: those of the heavy keys pinned out of it.  Loads do not change.
 */
static void
cand_set(Rebalance *rb, PinCandidate *cand, int to)
{
	RebalanceUnit *unit = &rb->units[cand->unit];

	if (!cand->existing && (cand->pin_to < 0) != (to < 0))
	{
		int			sign = to >= 0 ? 1 : -1;

		unit->pinned_bytes += sign * cand->bytes;
		unit->pinned_rows += sign * cand->rows;
	}
	cand->pin_to = to;
}

/* How many keys the plan pins (not counting pins it only moves). */
static int
plan_pin_count(const Rebalance *rb)
{
	int			n = 0;

	for (int c = 0; c < rb->ncand; c++)
		n += rb->cand[c].pin_to >= 0 && !rb->cand[c].existing;
	return n;
}

/*
 * 'vnode': hold the heaviest pin candidates where they are, so that the weight changes
 * that follow move the ranges without their heavy keys.
 */
static void
plan_hold(Rebalance *rb)
{
	/* the heaviest ones: at most max_pins stay pinned */
	for (int c = 0; c < Min(rb->ncand, rb->max_pins); c++)
	{
		PinCandidate *cand = &rb->cand[c];
		RebalanceUnit *unit = &rb->units[cand->unit];

		/* not on a node being drained: its keys are to leave it */
		if (cand->existing || unit->owner < 0 || !rb->nodes[unit->owner].receives)
			continue;
		cand_set(rb, cand, unit->owner);
	}
}

/*
 * Let go of the pins that keep a key on the node its range goes to anyway:
 * no pin is needed for it (and none is made).
 */
static void
plan_release(Rebalance *rb)
{
	for (int c = 0; c < rb->ncand; c++)
	{
		PinCandidate *cand = &rb->cand[c];

		if (cand->pin_to >= 0 && cand->pin_to == rb->units[cand->unit].plan_owner)
			cand_set(rb, cand, -1);
	}
}

/*
 * 'vnode': pin heavy keys to other nodes, after the weight changes (whose
 * lever is coarse: a node keeps every token before the one that covers a
 * heavy key).  A pin moves one key, exactly counted, the way ring_pin does
 * (Citus isolates a tenant the same way).  Pins are few (max_pins), so
 * each step takes the pin removing the most imbalance among those that
 * remove at least improvement_threshold times their bytes, over the
 * candidates and the nodes that may receive.  A key pinned back to the
 * node it is on now stays there while its range moves; a key pinned to a
 * node being drained moves like the others.
 */
static void
plan_pins(Rebalance *rb)
{
	int			steps = 0;
	int			npins = plan_pin_count(rb);

	while (plan_go_on(rb, &steps))
	{
		int			best_cand = -1;
		int			best_to = -1;
		double		best_eff = 0;
		double		best_gain = 0;

		for (int c = 0; c < rb->ncand; c++)
		{
			PinCandidate *cand = &rb->cand[c];
			int			a = cand_at(rb, cand);

			if (a < 0 || (cand->pin_to < 0 && !cand->existing && npins >= rb->max_pins))
				continue;
			for (int b = 0; b < rb->nnodes; b++)
			{
				double		gain;
				double		eff;

				if (b == a || !rb->nodes[b].receives)
					continue;
				gain = move_gain(rb, a, b, (double) cand->bytes);
				eff = gain / cand->bytes;
				/* a pin is scarce: the most imbalance removed per pin */
				if (gain > 0 && eff >= rb->improvement &&
					(rb->pins_by_gain ? better_move(gain, eff, best_gain, best_eff) :
					 better_move(eff, gain, best_eff, best_gain)))
				{
					best_eff = eff;
					best_gain = gain;
					best_cand = c;
					best_to = b;
				}
			}
		}
		if (best_cand < 0 || best_eff < rb->improvement || best_gain < 0.5)
			break;
		{
			PinCandidate *cand = &rb->cand[best_cand];

			plan_shift(rb, cand_at(rb, cand), best_to, cand->bytes, cand->rows);
			if (cand->pin_to < 0 && !cand->existing)
				npins++;
			cand_set(rb, cand, best_to);
		}
	}
}

/*
 * 'vnode': after the weight changes and pins, pin heavy keys whose range
 * moved back to the node they are on now, heaviest first, wherever that
 * leaves the ring no further outside the bands (the two nodes' distances
 * added) and no node above the largest ratio: data that need not move
 * stays.
 */
static void
plan_give_back(Rebalance *rb)
{
	double		max_ratio = 0;
	int			npins = plan_pin_count(rb);

	for (int i = 0; i < rb->nnodes; i++)
		if (rb->nodes[i].target > 0)
			max_ratio = Max(max_ratio, rb->nodes[i].load / rb->nodes[i].target);
	/* candidates are heaviest first */
	for (int c = 0; c < rb->ncand; c++)
	{
		PinCandidate *cand = &rb->cand[c];
		int			a = cand_at(rb, cand);
		int			b = cand_from(rb, cand);
		RebalanceNode *nb;

		CHECK_FOR_INTERRUPTS();
		if (a < 0 || b < 0 || a == b || !rb->nodes[b].receives ||
			(cand->pin_to < 0 && !cand->existing && npins >= rb->max_pins))
			continue;
		nb = &rb->nodes[b];
		if (move_gain(rb, a, b, (double) cand->bytes) < 0 ||
			(nb->load + cand->bytes) / nb->target > max_ratio)
			continue;
		plan_shift(rb, a, b, cand->bytes, cand->rows);
		if (cand->pin_to < 0 && !cand->existing)
			npins++;
		cand_set(rb, cand, b);
	}
}

/* A candidate plan: each unit's owner, each node's virtual nodes, its score. */
typedef struct PlanResult
{
	bool		valid;
	int32	   *owner;
	int32	   *vnodes;
	int32	   *pin_to;			/* of each pin candidate */
	bool		balanced;
	double		ratio;			/* max bytes / target */
	double		outside;		/* imbalance left */
	int64		moved;
	int			npins;
	int64		stranded;		/* bytes left on nodes being drained */
} PlanResult;

/* Back to the ring as it is, before any move. */
static void
plan_reset(Rebalance *rb)
{
	for (int u = 0; u < rb->nunits; u++)
	{
		rb->units[u].plan_owner = rb->units[u].owner;
		rb->units[u].pinned_bytes = rb->units[u].pinned_rows = 0;
	}
	for (int c = 0; c < rb->ncand; c++)
		rb->cand[c].pin_to = rb->cand[c].existing ? rb->cand[c].from : -1;
	for (int i = 0; i < rb->nnodes; i++)
	{
		RebalanceNode *node = &rb->nodes[i];

		node->load = node->bytes;
		node->load_rows = node->rows;
		if (!rb->by_slots)
			node->vnodes = rb->ring->unpinned ? rb->ring->unpinned->nodes[i].vnodes :
				rb->ring->nodes[i].vnodes;
	}
	if (!rb->by_slots)
	{
		for (int k = 0; k < rb->nunits; k++)
			rb->active[k] = rb->potential[k].vnode < rb->nodes[rb->potential[k].node].vnodes;
		plan_drain(rb);
	}
}

/*
 * Keep the plan just made if it beats best: less data left on nodes being
 * drained (their ratio is infinite), then balanced with less data moved,
 * or (neither balanced) a lower largest ratio, less imbalance left (by more
 * than 1% of a node's mean bytes), less data moved; where the data moved
 * differs by at most 1%, fewer keys pinned.
 */
static void
plan_keep(Rebalance *rb, PlanResult *best)
{
	PlanResult	r = {0};
	int64	   *load;
	bool		better;

	if (plan_pin_count(rb) > rb->max_pins)
		return;					/* held keys whose ranges moved: too many */
	load = palloc0(sizeof(int64) * rb->nnodes);

	for (int i = 0; i < rb->nnodes; i++)
		load[i] = rb->nodes[i].fixed_bytes;
	for (int u = 0; u < rb->nunits; u++)
	{
		RebalanceUnit *unit = &rb->units[u];

		if (unit->plan_owner >= 0)
			load[unit->plan_owner] += unit->bytes - unit->pinned_bytes;
		if (unit->plan_owner != unit->owner && unit->owner >= 0 && unit->plan_owner >= 0)
			r.moved += unit->bytes - unit->pinned_bytes;
	}
	for (int c = 0; c < rb->ncand; c++)
	{
		const PinCandidate *cand = &rb->cand[c];
		int			at = cand_at(rb, cand);

		/* a heavy key not pinned is part of its unit's bytes */
		if ((cand->pin_to < 0 && !cand->existing) || at < 0)
			continue;
		load[at] += cand->bytes;
		if (at != cand_from(rb, cand))
			r.moved += cand->bytes;
	}
	r.balanced = true;
	for (int i = 0; i < rb->nnodes; i++)
	{
		RebalanceNode *node = &rb->nodes[i];
		double		dist;

		if (!(node->weight > 0))
			continue;
		dist = distance(node, (double) load[i]);
		r.outside += dist;
		r.balanced &= dist == 0;
		if (node->target > 0)
			r.ratio = Max(r.ratio, load[i] / node->target);
		else
			r.stranded += load[i];
	}
	pfree(load);
	r.npins = plan_pin_count(rb);
	if (!best->valid)
		better = true;
	else if (r.stranded != best->stranded)
		better = r.stranded < best->stranded;
	else if (r.balanced != best->balanced)
		better = r.balanced;
	else if (!r.balanced && fabs(r.ratio - best->ratio) > 1e-9)
		better = r.ratio < best->ratio;
	else if (!r.balanced &&
			 fabs(r.outside - best->outside) > 0.01 * rb->total_bytes / Max(rb->nnodes, 1))
		better = r.outside < best->outside;
	else if (llabs(r.moved - best->moved) > Max(r.moved, best->moved) / 100)
		better = r.moved < best->moved;
	else if (r.npins != best->npins)
		better = r.npins < best->npins;		/* within 1% of the data: fewer pins */
	else
		better = r.moved < best->moved;
	if (!better)
		return;
	if (!best->valid)
	{
		best->owner = palloc_extended(sizeof(int32) * Max(rb->nunits, 1), MCXT_ALLOC_HUGE);
		best->vnodes = palloc(sizeof(int32) * Max(rb->nnodes, 1));
		best->pin_to = palloc(sizeof(int32) * Max(rb->ncand, 1));
	}
	best->valid = true;
	best->balanced = r.balanced;
	best->ratio = r.ratio;
	best->outside = r.outside;
	best->moved = r.moved;
	best->npins = r.npins;
	best->stranded = r.stranded;
	for (int u = 0; u < rb->nunits; u++)
		best->owner[u] = rb->units[u].plan_owner;
	for (int i = 0; i < rb->nnodes; i++)
		best->vnodes[i] = rb->nodes[i].vnodes;
	for (int c = 0; c < rb->ncand; c++)
		best->pin_to[c] = rb->cand[c].pin_to;
}

/* Make the kept plan the plan. */
static void
plan_restore(Rebalance *rb, const PlanResult *best)
{
	for (int u = 0; u < rb->nunits; u++)
	{
		rb->units[u].plan_owner = best->owner[u];
		rb->units[u].pinned_bytes = rb->units[u].pinned_rows = 0;
	}
	for (int i = 0; i < rb->nnodes; i++)
		rb->nodes[i].vnodes = best->vnodes[i];
	for (int c = 0; c < rb->ncand; c++)
	{
		rb->cand[c].pin_to = -1;
		cand_set(rb, &rb->cand[c], best->pin_to[c]);
	}
}

/* Heaviest unit first, for qsort_arg over unit indexes. */
static int
unit_bytes_cmp(const void *a, const void *b, void *arg)
{
	const RebalanceUnit *units = arg;
	int64		x = units[*(const int *) a].bytes;
	int64		y = units[*(const int *) b].bytes;

	if (x != y)
		return x > y ? -1 : 1;
	return (*(const int *) a > *(const int *) b) - (*(const int *) a < *(const int *) b);
}

/*
 * 'slots' and 'redis': a fresh assignment that keeps slots where they are
 * when they fit: heaviest slot first, each stays with its owner if the
 * owner's band has room for it, else goes to the node with the most room
 * (or, fitting nowhere, the one it loads least).  The greedy moves then
 * start from it: where single moves get stuck behind a heavy slot, this
 * finds room for it by moving lighter ones.
 */
static void
plan_sticky_fit(Rebalance *rb)
{
	int		   *order = palloc_extended(sizeof(int) * Max(rb->nunits, 1), MCXT_ALLOC_HUGE);

	for (int u = 0; u < rb->nunits; u++)
		order[u] = u;
	qsort_arg(order, rb->nunits, sizeof(int), unit_bytes_cmp, rb->units);
	for (int i = 0; i < rb->nnodes; i++)
	{
		rb->nodes[i].load = rb->nodes[i].fixed_bytes;
		rb->nodes[i].load_rows = rb->nodes[i].fixed_rows;
	}
	for (int k = 0; k < rb->nunits; k++)
	{
		RebalanceUnit *unit = &rb->units[order[k]];
		int			o = unit->owner;
		int			to = -1;

		if (o < 0)
			continue;
		if (unit->bytes == 0 ||
			(rb->nodes[o].receives && rb->nodes[o].load + unit->bytes <= rb->nodes[o].high))
			to = o;
		else
		{
			double		best_room = 0;
			double		best_ratio = 0;

			for (int i = 0; i < rb->nnodes; i++)
			{
				RebalanceNode *node = &rb->nodes[i];
				double		room = node->high - node->load;

				if (node->receives && room >= unit->bytes && (to < 0 || room > best_room))
				{
					to = i;
					best_room = room;
				}
			}
			if (to < 0)
				for (int i = 0; i < rb->nnodes; i++)
				{
					RebalanceNode *node = &rb->nodes[i];
					double		ratio;

					if (!node->receives || !(node->target > 0))
						continue;
					ratio = (node->load + unit->bytes) / node->target;
					if (to < 0 || ratio < best_ratio)
					{
						to = i;
						best_ratio = ratio;
					}
				}
			if (to < 0)
				to = o;
		}
		unit->plan_owner = to;
		rb->nodes[to].load += unit->bytes;
		rb->nodes[to].load_rows += unit->rows;
	}
	pfree(order);
}

/* Plan, then total the net moves and the figures. */
static void
rebalance_plan(Rebalance *rb, double threshold, double improvement, int32 max_pins)
{
	double		excess = 0;
	double		missing = 0;
	PlanResult	best = {0};

	rb->threshold = threshold;
	rb->improvement = improvement;
	rb->max_pins = max_pins;
	if (max_pins == 0)
		rb->ncand = rb->nexisting;	/* no new pins */
	else if (!rb->by_slots)
	{
		/*
		 * Only keys heavier than a virtual node's mean range are worth a
		 * pin: lighter ones move well enough with their ranges.
		 */
		int64		vnodes = 0;
		int			n = rb->nexisting;

		for (int i = 0; i < rb->nnodes; i++)
			vnodes += rb->ring->nodes[i].vnodes;
		while (n < rb->ncand && rb->cand[n].bytes * Max(vnodes, 1) >= rb->total_bytes)
			n++;
		rb->ncand = n;
	}
	plan_targets(rb);
	if (rb->by_slots)
	{
		/* from the layout as it is, then from a sticky first fit */
		plan_slots(rb);
		plan_keep(rb, &best);
		plan_reset(rb);
		plan_sticky_fit(rb);
		plan_slots(rb);
		plan_keep(rb, &best);
	}
	else
	{
		/*
		 * Weights alone, weights then pins, heavy keys held where they are
		 * while the weights change then pins, and pins alone.
		 */
		for (int i = 0; i < lengthof(rebalance_vnode_steps); i++)
		{
			plan_reset(rb);
			plan_vnodes(rb, rebalance_vnode_steps[i], rb->improvement);
			plan_keep(rb, &best);
			if (rb->ncand > 0)
			{
				plan_pins(rb);
				plan_give_back(rb);
				plan_release(rb);
				plan_keep(rb, &best);
				for (int e = 0; e < lengthof(rebalance_pin_efficiency); e++)
				{
					plan_reset(rb);
					plan_hold(rb);
					plan_vnodes(rb, rebalance_vnode_steps[i],
								Max(rb->improvement, rebalance_pin_efficiency[e]));
					plan_release(rb);
					plan_pins(rb);
					plan_give_back(rb);
					plan_release(rb);
					plan_keep(rb, &best);
					/* the weights again around the keys pinned, then pins */
					plan_vnodes(rb, rebalance_vnode_steps[i], rb->improvement);
					plan_release(rb);
					plan_pins(rb);
					plan_give_back(rb);
					plan_release(rb);
					plan_keep(rb, &best);
				}
			}
		}
		if (rb->ncand > 0)
		{
			plan_reset(rb);
			plan_pins(rb);
			plan_release(rb);
			plan_keep(rb, &best);
		}
	}
	plan_restore(rb, &best);

	/* net moves: a unit counts once, from its first owner to its last */
	for (int i = 0; i < rb->nnodes; i++)
	{
		rb->nodes[i].load = rb->nodes[i].fixed_bytes;
		rb->nodes[i].load_rows = rb->nodes[i].fixed_rows;
	}
	rb->moved_bytes = rb->moved_rows = 0;
	for (int u = 0; u < rb->nunits; u++)
	{
		RebalanceUnit *unit = &rb->units[u];

		int64		bytes = unit->bytes - unit->pinned_bytes;
		int64		rows = unit->rows - unit->pinned_rows;

		if (unit->plan_owner >= 0)
		{
			rb->nodes[unit->plan_owner].load += bytes;
			rb->nodes[unit->plan_owner].load_rows += rows;
		}
		if (unit->plan_owner != unit->owner && unit->owner >= 0 && unit->plan_owner >= 0)
		{
			rb->moved_bytes += bytes;
			rb->moved_rows += rows;
			rb->nodes[unit->owner].out_bytes += bytes;
			rb->nodes[unit->plan_owner].in_bytes += bytes;
		}
	}
	for (int c = 0; c < rb->ncand; c++)
	{
		const PinCandidate *cand = &rb->cand[c];
		int			from = cand_from(rb, cand);
		int			at = cand_at(rb, cand);

		if ((cand->pin_to < 0 && !cand->existing) || at < 0)
			continue;
		rb->nodes[at].load += cand->bytes;
		rb->nodes[at].load_rows += cand->rows;
		if (at != from && from >= 0)
		{
			rb->moved_bytes += cand->bytes;
			rb->moved_rows += cand->rows;
			rb->nodes[from].out_bytes += cand->bytes;
			rb->nodes[at].in_bytes += cand->bytes;
		}
	}

	/*
	 * The lower bound.  A node's band is widened only where a slot it keeps
	 * (on a 'vnode' ring: the heaviest key, where the plan leaves it) is
	 * heavier than the band with the node's pinned bytes.
	 */
	for (int i = 0; i < rb->nnodes; i++)
		rb->nodes[i].bound_high = rb->nodes[i].high;
	if (rb->by_slots)
	{
		for (int u = 0; u < rb->nunits; u++)
		{
			RebalanceUnit *unit = &rb->units[u];

			if (unit->plan_owner >= 0)
			{
				RebalanceNode *node = &rb->nodes[unit->plan_owner];

				node->bound_high = Max(node->bound_high,
									   (double) (node->fixed_bytes + unit->bytes));
			}
		}
	}
	else if (rb->heaviest_key > 0)
	{
		int			holder = rb->units[unit_of(rb, rb->heaviest_pos)].plan_owner;

		for (int c = 0; c < rb->ncand; c++)
			if (rb->cand[c].pos == rb->heaviest_pos && rb->cand[c].pin_to >= 0)
				holder = rb->cand[c].pin_to;

		if (holder >= 0)
			rb->nodes[holder].bound_high = Max(rb->nodes[holder].bound_high,
											   (double) (rb->nodes[holder].fixed_bytes +
														 rb->heaviest_key));
	}
	rb->ratio_after = 0;
	for (int i = 0; i < rb->nnodes; i++)
	{
		RebalanceNode *node = &rb->nodes[i];

		if (!(node->weight > 0))
			continue;
		excess += Max(0, node->bytes - node->bound_high);
		missing += Max(0, node->low - node->bytes);
		if (node->target > 0)
			rb->ratio_after = Max(rb->ratio_after, node->load / node->target);
	}
	if (rb->total_bytes == 0)
		rb->ratio_after = 1;
	rb->lower_bound = (int64) ceil(Max(excess, missing));
}

/* ---- SQL functions ---- */

/*
 * The arguments the planning functions share after ring, table and key
 * column, checked before the table is scanned.
 */
static void
check_plan_args(FunctionCallInfo fcinfo)
{
	int32		max_pins = PG_GETARG_INT32(6);

	check_fraction("threshold", PG_GETARG_FLOAT8(3), 0, 1);
	check_fraction("improvement_threshold", PG_GETARG_FLOAT8(4), 0, 2);
	if (max_pins < 0 || max_pins > REBALANCE_HEAVY_KEYS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_pins must be between 0 and %d", REBALANCE_HEAVY_KEYS)));
}

/* The arguments every function shares: ring, table, key column. */
static Rebalance *
rebalance_args(FunctionCallInfo fcinfo, double sample_percent)
{
	return rebalance_measure(PG_GETARG_TEXT_PP(0), PG_GETARG_OID(1), PG_GETARG_NAME(2),
							 sample_percent, CurrentMemoryContext);
}

/* First and last positions of unit u, in ring_hash's terms. */
static void
unit_positions(const Rebalance *rb, int u, Datum *values, bool *nulls)
{
	if (rb->by_tokens)
	{
		const CompiledRing *ring = rb->ring->unpinned ? rb->ring->unpinned : rb->ring;
		int			prev = (u - 1 + rb->nunits) % rb->nunits;

		/* the range after the previous token; the first one wraps round */
		values[0] = Int64GetDatum(rb->nunits == 1 ? ring_token(ring, u) + 1 :
								  (int64) (((uint64) ring_token(ring, prev) ^ RING_SIGN_BIT) + 1) ^
								  (int64) RING_SIGN_BIT);
		values[1] = Int64GetDatum(ring_token(ring, u));
	}
	else if (rb->by_slots)
	{
		if (rb->ring->algorithm == RING_ALGORITHM_REDIS)
		{
			nulls[0] = nulls[1] = true;
			return;
		}
		values[0] = Int64GetDatum(rb->slot_bits == 0 ? PG_INT64_MIN :
								  (int64) (((uint64) u << (64 - rb->slot_bits)) ^ RING_SIGN_BIT));
		values[1] = Int64GetDatum(ring_slot_token(u, rb->slot_bits));
	}
	else
	{
		int			prev = (u - 1 + rb->nunits) % rb->nunits;

		values[0] = Int64GetDatum((int64) ((rb->potential[prev].biased + 1) ^ RING_SIGN_BIT));
		values[1] = Int64GetDatum((int64) (rb->potential[u].biased ^ RING_SIGN_BIT));
	}
	nulls[0] = nulls[1] = false;
}

/*
 * ring_load(ring, tbl, key_column, sample_percent): the rows and bytes of
 * each slot ('slots', 'redis') or token range ('vnode') of the table, and
 * of the keys pinned to each node (slot and positions NULL).
 */
PG_FUNCTION_INFO_V1(ring_load);
Datum
ring_load(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Rebalance  *rb;

	RING_INIT_MATERIALIZED_SRF(fcinfo, 0);
	rb = rebalance_args(fcinfo, PG_GETARG_FLOAT8(3));
	for (int u = 0; u < rb->nunits; u++)
	{
		RebalanceUnit *unit = &rb->units[u];
		Datum		values[7];
		bool		nulls[7] = {false};

		/* a 'vnode' ring: only the ranges of the ring as it is */
		if (!rb->by_slots && !rb->active[u])
			continue;
		if (unit->owner < 0)
			nulls[0] = true;
		else
			values[0] = PointerGetDatum(rb->nodes[unit->owner].name);
		if (rb->by_slots && !rb->by_tokens)
			values[1] = Int32GetDatum(u);
		else
			nulls[1] = true;
		if (rb->by_slots)
			unit_positions(rb, u, &values[2], &nulls[2]);
		else
		{
			/* the range since the previous token of the ring */
			int			prev = prev_active(rb, u);
			int64		rows = 0;
			int64		bytes = 0;

			values[2] = Int64GetDatum((int64) ((rb->potential[prev].biased + 1) ^ RING_SIGN_BIT));
			values[3] = Int64GetDatum((int64) (rb->potential[u].biased ^ RING_SIGN_BIT));
			for (int k = (prev + 1) % rb->nunits;; k = (k + 1) % rb->nunits)
			{
				rows += rb->units[k].rows;
				bytes += rb->units[k].bytes;
				if (k == u)
					break;
			}
			values[4] = Int64GetDatum(rows);
			values[5] = Int64GetDatum(bytes);
			values[6] = Int64GetDatum((int64) llround(sqrt(unit->range_var)));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			continue;
		}
		values[4] = Int64GetDatum(unit->rows);
		values[5] = Int64GetDatum(unit->bytes);
		values[6] = Int64GetDatum((int64) llround(sqrt(unit->var_bytes)));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	for (int i = 0; i < rb->nnodes; i++)
	{
		Datum		values[7];
		bool		nulls[7] = {false, true, true, true, false, false, false};
		int64		rows = rb->nodes[i].fixed_rows;
		int64		bytes = rb->nodes[i].fixed_bytes;

		/* keys pinned to a node being drained count for it too */
		for (int c = 0; c < rb->nexisting; c++)
			if (rb->cand[c].from == i)
			{
				rows += rb->cand[c].rows;
				bytes += rb->cand[c].bytes;
			}
		if (rows == 0)
			continue;
		values[0] = PointerGetDatum(rb->nodes[i].name);
		values[4] = Int64GetDatum(rows);
		values[5] = Int64GetDatum(bytes);
		values[6] = Int64GetDatum(0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* Smaller position first, for qsort_arg over candidate indexes. */
static int
candidate_pos_cmp(const void *a, const void *b, void *arg)
{
	const PinCandidate *cand = arg;
	int64		x = cand[*(const int *) a].pos;
	int64		y = cand[*(const int *) b].pos;

	return (x > y) - (x < y);
}

/* The pin candidates' indexes in position order. */
static int *
candidates_by_position(const Rebalance *rb)
{
	int		   *order = palloc(sizeof(int) * Max(rb->ncand, 1));

	for (int i = 0; i < rb->ncand; i++)
		order[i] = i;
	qsort_arg(order, rb->ncand, sizeof(int), candidate_pos_cmp, rb->cand);
	return order;
}

/*
 * ring_rebalance_plan(ring, tbl, key_column, threshold,
 * improvement_threshold, sample_percent, max_pins): the moves, one row per
 * slot ('slots', 'redis') or per run of token ranges with the same source
 * and destination ('vnode'), then one per key pinned (its placement bytes
 * in key).
 */
PG_FUNCTION_INFO_V1(ring_rebalance_plan);
Datum
ring_rebalance_plan(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Rebalance  *rb;
	int			move = 0;
	int			start;
	int		   *pin_order;

	RING_INIT_MATERIALIZED_SRF(fcinfo, 0);
	check_plan_args(fcinfo);
	rb = rebalance_args(fcinfo, PG_GETARG_FLOAT8(5));
	rebalance_plan(rb, PG_GETARG_FLOAT8(3), PG_GETARG_FLOAT8(4), PG_GETARG_INT32(6));
	pin_order = candidates_by_position(rb);

	/* 'vnode': start after a unit that does not move, so runs do not wrap */
	start = 0;
	if (!rb->by_slots)
		for (int u = 0; u < rb->nunits; u++)
			if (rb->units[u].plan_owner == rb->units[u].owner)
			{
				start = (u + 1) % rb->nunits;
				break;
			}
	for (int i = 0; i < rb->nunits; i++)
	{
		int			u = (start + i) % rb->nunits;
		RebalanceUnit *unit = &rb->units[u];
		Datum		values[9];
		bool		nulls[9] = {false};
		int			last = u;
		int64		rows = unit->rows - unit->pinned_rows;
		int64		bytes = unit->bytes - unit->pinned_bytes;

		if (unit->plan_owner == unit->owner || unit->owner < 0 || unit->plan_owner < 0)
			continue;
		if (!rb->by_slots)
		{
			/* join the following units that move between the same nodes */
			while (i + 1 < rb->nunits)
			{
				int			next = (start + i + 1) % rb->nunits;

				if (rb->units[next].owner != unit->owner ||
					rb->units[next].plan_owner != unit->plan_owner)
					break;
				rows += rb->units[next].rows - rb->units[next].pinned_rows;
				bytes += rb->units[next].bytes - rb->units[next].pinned_bytes;
				last = next;
				i++;
			}
		}
		values[0] = Int32GetDatum(++move);
		values[1] = PointerGetDatum(rb->nodes[unit->owner].name);
		values[2] = PointerGetDatum(rb->nodes[unit->plan_owner].name);
		if (rb->by_slots)
		{
			if (rb->by_tokens)
				nulls[3] = true;
			else
				values[3] = Int32GetDatum(u);
			unit_positions(rb, u, &values[4], &nulls[4]);
		}
		else
		{
			Datum		lastpos[2];
			bool		lastnull[2];

			nulls[3] = true;
			unit_positions(rb, u, &values[4], &nulls[4]);
			unit_positions(rb, last, lastpos, lastnull);
			values[5] = lastpos[1];
		}
		values[6] = Int64GetDatum(rows);
		values[7] = Int64GetDatum(bytes);
		nulls[8] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	/* 'vnode': the keys pinned, in position order */
	for (int i = 0; i < rb->ncand; i++)
	{
		const PinCandidate *cand = &rb->cand[pin_order[i]];
		int			from = cand_from(rb, cand);
		int			at = cand_at(rb, cand);
		Datum		values[9];
		bool		nulls[9] = {false};

		/* pinned by the plan; or pinned already, now elsewhere */
		if (from < 0 || at < 0 || (cand->existing ? at == from : cand->pin_to < 0))
			continue;
		values[0] = Int32GetDatum(++move);
		values[1] = PointerGetDatum(rb->nodes[from].name);
		values[2] = PointerGetDatum(rb->nodes[at].name);
		nulls[3] = true;
		values[4] = values[5] = Int64GetDatum(cand->pos);
		values[6] = Int64GetDatum(cand->rows);
		values[7] = Int64GetDatum(cand->bytes);
		values[8] = PointerGetDatum(cand->key);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * ring_rebalance_report(ring, tbl, key_column, threshold,
 * improvement_threshold, sample_percent, max_pins): one row per node, before and
 * after the plan, and a last row (node NULL) for the whole ring.
 */
PG_FUNCTION_INFO_V1(ring_rebalance_report);
Datum
ring_rebalance_report(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Rebalance  *rb;
	double		capacity = 0;
	double		target = 0;
	Datum		values[15];
	bool		nulls[15];

	RING_INIT_MATERIALIZED_SRF(fcinfo, 0);
	check_plan_args(fcinfo);
	rb = rebalance_args(fcinfo, PG_GETARG_FLOAT8(5));
	rebalance_plan(rb, PG_GETARG_FLOAT8(3), PG_GETARG_FLOAT8(4), PG_GETARG_INT32(6));

	for (int i = 0; i < rb->nnodes; i++)
	{
		RebalanceNode *node = &rb->nodes[i];
		memset(nulls, 0, sizeof(nulls));
		values[0] = PointerGetDatum(node->name);
		values[1] = Float8GetDatum(node->capacity);
		values[2] = Float8GetDatum(node->weight);
		if (rb->by_slots)
			values[3] = Float8GetDatum(node->weight);
		else
			values[3] = Float8GetDatum(node->vnodes == rb->ring->nodes[i].vnodes ? node->weight :
									   (double) node->vnodes / rb->ring->vnodes);
		values[4] = Int64GetDatum((int64) llround(node->target));
		values[5] = Int64GetDatum(node->rows);
		values[6] = Int64GetDatum(node->bytes);
		values[7] = Int64GetDatum((int64) llround(sqrt(node->var_bytes)));
		values[8] = Int64GetDatum(node->load);
		values[9] = Int64GetDatum(node->out_bytes);
		values[10] = Int64GetDatum(node->in_bytes);
		values[11] = Int64GetDatum(node->weight > 0 ?
								   (int64) ceil(Max(0, Max(node->bytes - node->bound_high,
														 node->low - node->bytes))) : 0);
		if (node->target > 0)
		{
			values[12] = Float8GetDatum(node->bytes / node->target);
			values[13] = Float8GetDatum(node->load / node->target);
		}
		else
			nulls[12] = nulls[13] = true;
		nulls[14] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		if (node->weight > 0)
		{
			capacity += node->capacity;
			target += node->target;
		}
	}
	memset(nulls, 0, sizeof(nulls));
	nulls[0] = nulls[2] = nulls[3] = true;
	values[1] = Float8GetDatum(capacity);
	values[4] = Int64GetDatum((int64) llround(target));
	values[5] = Int64GetDatum(rb->total_rows);
	values[6] = Int64GetDatum(rb->total_bytes);
	values[7] = Int64GetDatum((int64) llround(sqrt(rb->var_total)));
	values[8] = Int64GetDatum(rb->total_bytes);
	values[9] = Int64GetDatum(rb->moved_bytes);
	values[10] = Int64GetDatum(rb->moved_bytes);
	values[11] = Int64GetDatum(rb->lower_bound);
	values[12] = Float8GetDatum(rb->ratio_before);
	values[13] = Float8GetDatum(rb->ratio_after);
	values[14] = Float8GetDatum(rb->ratio_floor);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}

/*
 * ring_rebalance(ring, tbl, key_column, threshold, improvement_threshold,
 * sample_percent, max_pins): make the plan (slot or token owners, or
 * weights and pins) one new version of the ring; returns it, or the
 * current version when nothing is worth moving.
 */
PG_FUNCTION_INFO_V1(ring_rebalance);
Datum
ring_rebalance(PG_FUNCTION_ARGS)
{
	text	   *ringname = PG_GETARG_TEXT_PP(0);
	Rebalance  *rb;
	int32		version;
	int			n = 0;
	RingHeader	hdr;
	RingAccess	access;

	/* only the owner may change the ring: say so before scanning the table */
	if (VARSIZE_ANY_EXHDR(ringname) > RING_NAME_MAXLEN)
		ring_report_name_too_long(VARDATA_ANY(ringname), VARSIZE_ANY_EXHDR(ringname));
	ring_catalog_read(VARDATA_ANY(ringname), VARSIZE_ANY_EXHDR(ringname),
					  GetActiveSnapshot(), &hdr, &access);
	if (!has_privs_of_role(GetUserId(), access.owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of ring \"%s\"", hdr.name)));

	check_plan_args(fcinfo);
	rb = rebalance_args(fcinfo, PG_GETARG_FLOAT8(5));
	version = rb->ring->key.version;
	rebalance_plan(rb, PG_GETARG_FLOAT8(3), PG_GETARG_FLOAT8(4), PG_GETARG_INT32(6));
	if (rb->by_slots)
	{
		int32	   *slots = palloc(sizeof(int32) * rb->nunits);
		text	  **nodes = palloc(sizeof(text *) * rb->nunits);

		for (int u = 0; u < rb->nunits; u++)
			if (rb->units[u].plan_owner != rb->units[u].owner && rb->units[u].plan_owner >= 0)
			{
				slots[n] = u;
				nodes[n++] = rb->nodes[rb->units[u].plan_owner].name;
			}
		if (n > 0 && rb->by_tokens)
		{
			const CompiledRing *ring = rb->ring->unpinned ? rb->ring->unpinned : rb->ring;
			int64	   *tokens = palloc(sizeof(int64) * n);

			for (int i = 0; i < n; i++)
				tokens[i] = ring_token(ring, slots[i]);
			version = ring_apply_token_owners(ringname, &rb->measured, n, tokens, nodes);
		}
		else if (n > 0)
			version = ring_apply_slot_owners(ringname, &rb->measured, n, slots, nodes);
	}
	else
	{
		text	  **nodes = palloc(sizeof(text *) * rb->nnodes);
		double	   *weights = palloc(sizeof(double) * rb->nnodes);
		RingPinRow *pins = palloc(sizeof(RingPinRow) * Max(rb->ncand, 1));
		int		   *pin_order = candidates_by_position(rb);
		int			npins = 0;

		for (int i = 0; i < rb->nnodes; i++)
			if (rb->nodes[i].vnodes != rb->ring->nodes[i].vnodes)
			{
				nodes[n] = rb->nodes[i].name;
				weights[n++] = (double) rb->nodes[i].vnodes / rb->ring->vnodes;
			}
		for (int i = 0; i < rb->ncand; i++)
		{
			const PinCandidate *cand = &rb->cand[pin_order[i]];

			if (cand->existing ? cand->pin_to == cand->from : cand->pin_to < 0)
				continue;
			pins[npins].key = cand->key;
			pins[npins].position = cand->pos;
			pins[npins].replace = cand->existing;
			pins[npins++].node = cand->pin_to >= 0 ? rb->nodes[cand->pin_to].name : NULL;
		}
		if (n > 0 || npins > 0)
			version = ring_apply_vnode_plan(ringname, &rb->measured, n, nodes, weights,
										 npins, pins);
	}
	PG_RETURN_INT32(version);
}
