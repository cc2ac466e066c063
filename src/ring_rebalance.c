/*-------------------------------------------------------------------------
 *
 * ring_rebalance.c
 *	  Balancing a ring by the data it places: measuring the rows and bytes
 *	  each slot or token range of a table holds, the SQL functions that
 *	  report and plan from the measure (the planning itself is in
 *	  ring_rebalance_plan.c), and making the plan one new ring version.
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
 * Planning: ring_rebalance_plan.c.
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
#include "ring_rebalance_private.h"
#include "ring_compile.h"

/* Rows fetched from the scan at a time. */
#define REBALANCE_FETCH 10000

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
