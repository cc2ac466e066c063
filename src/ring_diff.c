/*-------------------------------------------------------------------------
 *
 * ring_diff.c
 *	  Whole-ring SQL functions: ring_moves, ring_ownership, ring_quality.
 *
 * Ownership in the token space: position p belongs to the owner of the
 * smallest token >= p, so with ascending tokens t0 < ... < tn-1 the ranges
 * are [min, t0] and [tn-1 + 1, max] (both t0's owner, the wrap-around arc)
 * and [ti-1 + 1, ti] (ti's owner).  ring_moves merges the boundaries of two
 * rings and reports the ranges whose owner differs, coalesced into maximal
 * runs with the same (from, to) pair, in ascending order.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "mb/pg_wchar.h"
#include "ring_cache.h"
#include "ring_diff.h"
#include "ring_keys.h"
#include "ring_compile.h"

/* Name of the hypothetical node ring_quality() adds. */
#define RING_QUALITY_NEW_NODE "(new node)"

/* Both rings of a ring_moves call, pinned for the duration of the query. */
typedef struct DiffState
{
	RingRef		old_ref;
	RingRef		new_ref;
} DiffState;


static DiffState *
diff_state(FunctionCallInfo fcinfo)
{
	DiffState  *st = (DiffState *) fcinfo->flinfo->fn_extra;

	if (st == NULL)
	{
		MemoryContext mcxt = fcinfo->flinfo->fn_mcxt;

		st = MemoryContextAllocZero(mcxt, sizeof(DiffState));
		ring_ref_init(&st->old_ref, mcxt);
		ring_ref_init(&st->new_ref, mcxt);
		fcinfo->flinfo->fn_extra = st;
	}
	return st;
}

/*
 * The largest weight of ring's nodes (1 if none is above 0): weights are
 * summed as fractions of it, so that weights near the largest double do
 * not add up to infinity.
 */
static double
ring_max_weight(const CompiledRing *ring)
{
	double		max = 0;

	for (int i = 0; i < ring->nnodes; i++)
		max = Max(max, ring->nodes[i].weight);
	return max > 0 ? max : 1;
}

/* Whether old node a and new node b are the same node (names compared). */
static bool
same_node(const CompiledRing *oldr, uint32 a, const CompiledRing *newr, uint32 b)
{
	const text *ta;
	const text *tb;

	if (a == RING_NO_OWNER || b == RING_NO_OWNER)
		return a == b;
	ta = oldr->nodes[a].name;
	tb = newr->nodes[b].name;
	return VARSIZE_ANY_EXHDR(ta) == VARSIZE_ANY_EXHDR(tb) &&
		memcmp(VARDATA_ANY(ta), VARDATA_ANY(tb), VARSIZE_ANY_EXHDR(ta)) == 0;
}

/* MoveSink for ring_moves: a row per run. */
static void
emit_run(const MoveRun *run, const CompiledRing *oldr, const CompiledRing *newr,
		 void *arg)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) arg;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	values[0] = Int64GetDatum(ring_position_external(newr, run->start, true));
	values[1] = Int64GetDatum(ring_position_external(newr, run->end, false));
	/* a range holding no position of a key of a 32-bit ring */
	if (DatumGetInt64(values[0]) > DatumGetInt64(values[1]))
		return;
	if (run->from == RING_NO_OWNER)
		nulls[2] = true;
	else
		values[2] = PointerGetDatum(oldr->nodes[run->from].name);
	if (run->to == RING_NO_OWNER)
		nulls[3] = true;
	else
		values[3] = PointerGetDatum(newr->nodes[run->to].name);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * Hand sink every maximal run of ranges whose owner differs between oldr
 * and newr, in ascending order.
 */
void
ring_diff_rings(const CompiledRing *oldr, const CompiledRing *newr,
				MoveSink sink, void *arg)
{
	uint32		ia = 0;
	uint32		ib = 0;
	int64		start = PG_INT64_MIN;
	MoveRun		run = {false};

	if (oldr->per_key || newr->per_key)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ring \"%s\" has no ranges to compare",
						oldr->per_key ? oldr->name : newr->name),
				 errdetail("A '%s' ring places each key on its own.",
						   ring_algorithm_name(oldr->per_key ? oldr->algorithm : newr->algorithm)),
				 errhint("Use ring_move() on the keys.")));

	for (;;)
	{
		int64		end;
		uint32		a;
		uint32		b;

		/* the next boundary: the smaller of the two next tokens, or max */
		if (ia < oldr->ntokens && ib < newr->ntokens)
			end = Min(ring_token(oldr, ia), ring_token(newr, ib));
		else if (ia < oldr->ntokens)
			end = ring_token(oldr, ia);
		else if (ib < newr->ntokens)
			end = ring_token(newr, ib);
		else
			end = PG_INT64_MAX;

		a = oldr->ntokens == 0 ? RING_NO_OWNER :
			ring_token_owner(oldr, ia < oldr->ntokens ? ia : 0);
		b = newr->ntokens == 0 ? RING_NO_OWNER :
			ring_token_owner(newr, ib < newr->ntokens ? ib : 0);

		if (!same_node(oldr, a, newr, b))
		{
			if (run.open && run.from == a && run.to == b && run.end + 1 == start)
				run.end = end;
			else
			{
				if (run.open)
					sink(&run, oldr, newr, arg);
				run.open = true;
				run.start = start;
				run.end = end;
				run.from = a;
				run.to = b;
			}
		}

		if (ia < oldr->ntokens && ring_token(oldr, ia) == end)
			ia++;
		if (ib < newr->ntokens && ring_token(newr, ib) == end)
			ib++;
		if (end == PG_INT64_MAX)
			break;
		start = end + 1;
	}
	if (run.open)
		sink(&run, oldr, newr, arg);
}

/* Check two rings place keys in the same token space. */
static void
check_comparable(const CompiledRing *oldr, const CompiledRing *newr)
{
	if (oldr->algorithm != newr->algorithm)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot compare ring \"%s\" with ring \"%s\"",
						oldr->name, newr->name),
				 errdetail("Ring \"%s\" uses algorithm \"%s\" and ring \"%s\" uses \"%s\".",
						   oldr->name, ring_algorithm_name(oldr->algorithm),
						   newr->name, ring_algorithm_name(newr->algorithm))));
}

/* ring_moves(ring, old_version, new_version): ranges that change owner. */
PG_FUNCTION_INFO_V1(ring_moves);
Datum
ring_moves(PG_FUNCTION_ARGS)
{
	DiffState  *st = diff_state(fcinfo);
	text	   *name = PG_GETARG_TEXT_PP(0);
	CompiledRing *oldr;
	CompiledRing *newr;

	RING_INIT_MATERIALIZED_SRF(fcinfo, 0);
	oldr = ring_ref_get(&st->old_ref, VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name),
						PG_GETARG_INT32(1));
	newr = ring_ref_get(&st->new_ref, VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name),
						PG_GETARG_INT32(2));
	ring_diff_rings(oldr, newr, emit_run, fcinfo->resultinfo);
	return (Datum) 0;
}

/* ring_moves(old_ring, new_ring): ranges owned differently by two rings. */
PG_FUNCTION_INFO_V1(ring_moves_rings);
Datum
ring_moves_rings(PG_FUNCTION_ARGS)
{
	DiffState  *st = diff_state(fcinfo);
	text	   *oldname = PG_GETARG_TEXT_PP(0);
	text	   *newname = PG_GETARG_TEXT_PP(1);
	CompiledRing *oldr;
	CompiledRing *newr;

	RING_INIT_MATERIALIZED_SRF(fcinfo, 0);
	oldr = ring_ref_get(&st->old_ref, VARDATA_ANY(oldname), VARSIZE_ANY_EXHDR(oldname),
						RING_VERSION_CURRENT);
	newr = ring_ref_get(&st->new_ref, VARDATA_ANY(newname), VARSIZE_ANY_EXHDR(newname),
						RING_VERSION_CURRENT);
	check_comparable(oldr, newr);
	ring_diff_rings(oldr, newr, emit_run, fcinfo->resultinfo);
	return (Datum) 0;
}

/*
 * The ring named by argument 0 (not NULL) at the version in argument 1,
 * NULL meaning the newest: for ring_ownership and ring_quality.
 */
static CompiledRing *
ring_version_arg(FunctionCallInfo fcinfo)
{
	DiffState  *st = diff_state(fcinfo);
	text	   *name = PG_GETARG_TEXT_PP(0);

	return ring_ref_get(&st->old_ref, VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name),
						PG_ARGISNULL(1) ? RING_VERSION_CURRENT : PG_GETARG_INT32(1));
}

/*
 * Size of the token ranges each node owns; they add up to 2^64.  A
 * 'rendezvous' ring has no ranges: the sizes are estimated from the owners
 * of RING_SAMPLES evenly spaced positions.
 */
uint128 *
ring_owned_sizes(const CompiledRing *ring)
{
	uint128    *owned = palloc0(Max(ring->nnodes, 1) * sizeof(uint128));

	if (ring->per_key)
	{
		for (uint64 k = 0; k < RING_SAMPLES && ring->nowners > 0; k++)
			owned[ring_per_key_owner(ring, ring_sample_position(k))] +=
				((uint128) 1 << 64) / RING_SAMPLES;
		return owned;
	}

	for (uint32 i = 0; i < ring->ntokens; i++)
	{
		uint128		size;

		if (i > 0)
			size = (uint64) ring_token(ring, i) - (uint64) ring_token(ring, i - 1);
		else
			size = ((uint128) 1 << 64) -
				((uint64) ring_token(ring, ring->ntokens - 1) - (uint64) ring_token(ring, 0));
		owned[ring_token_owner(ring, i)] += size;
	}
	return owned;
}

/*
 * ring_ownership(ring, version): each node's weight, virtual nodes, exact
 * share of the token space, and ideal share (weight / total weight).
 */
PG_FUNCTION_INFO_V1(ring_ownership);
Datum
ring_ownership(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	CompiledRing *ring;
	uint128    *owned;
	double		total_weight = 0;
	double		max_weight;

	RING_INIT_MATERIALIZED_SRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	ring = ring_version_arg(fcinfo);

	owned = ring_owned_sizes(ring);
	max_weight = ring_max_weight(ring);
	for (int i = 0; i < ring->nnodes; i++)
		total_weight += ring->nodes[i].weight / max_weight;

	for (int i = 0; i < ring->nnodes; i++)
	{
		RingNodeInfo *node = &ring->nodes[i];
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		values[0] = PointerGetDatum(node->name);
		values[1] = Float8GetDatum(node->weight);
		values[2] = Int32GetDatum(node->vnodes);
		values[3] = Float8GetDatum((double) owned[i] / 18446744073709551616.0);
		if (total_weight > 0)
			values[4] = Float8GetDatum((node->weight / max_weight) / total_weight);
		else
			nulls[4] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * The hypothetical node's name: RING_QUALITY_NEW_NODE, or that followed by
 * a number if a node of the ring has it already.
 */
static char *
new_node_name(const CompiledRing *ring)
{
	char	   *name = pstrdup(RING_QUALITY_NEW_NODE);

	for (int n = 2;; n++)
	{
		bool		taken = false;

		for (int i = 0; i < ring->nnodes && !taken; i++)
		{
			const text *t = ring->nodes[i].name;

			taken = VARSIZE_ANY_EXHDR(t) == strlen(name) &&
				memcmp(VARDATA_ANY(t), name, strlen(name)) == 0;
		}
		if (!taken)
			return name;
		name = psprintf("%s %d", RING_QUALITY_NEW_NODE, n);
	}
}

/* Compare two int64 tokens, for qsort. */
static int
token_cmp(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/*
 * The fraction of the token space a node with this name and weight would
 * take if added to ring: the arcs its tokens cut from the tokens before them.
 */
static double
added_share(const CompiledRing *ring, const char *name, double weight)
{
	RingNodeInfo node;
	int64	   *tokens;
	char	   *buf;
	uint128		taken = 0;

	node.name = cstring_to_text(name);
	node.weight = weight;
	node.vnodes = ring_virtual_nodes(ring->vnodes, weight);
	node.zone = -1;
	if (node.vnodes == 0)
		return 0;
	tokens = palloc(node.vnodes * sizeof(int64));
	buf = palloc(strlen(name) * MAX_MULTIBYTE_CHAR_LEN + 1 + MAXINT8LEN + 1);
	ring_node_tokens(&node, buf, tokens, ring_convert_to_utf8());
	qsort(tokens, node.vnodes, sizeof(int64), token_cmp);

	for (int32 i = 0; i < node.vnodes; i++)
	{
		uint64		t = (uint64) tokens[i];
		uint128		arc = (uint128) 1 << 64;

		/* clockwise distance from the token before t: an old one ... */
		if (ring->ntokens > 0)
		{
			uint32		next = ring_token_at(ring, tokens[i]);
			uint32		prev = next == 0 ? ring->ntokens - 1 : next - 1;

			if (ring_token(ring, next) == tokens[i])
				arc = 0;		/* an equal token is there already */
			else
				arc = Min(arc, (uint128) (t - (uint64) ring_token(ring, prev)));
		}
		/* ... or one of its own */
		if (node.vnodes > 1)
		{
			uint64		d = t - (uint64) tokens[i == 0 ? node.vnodes - 1 : i - 1];

			arc = Min(arc, (uint128) d);
		}
		taken += arc;
	}
	return (double) taken / 18446744073709551616.0;
}

/* MoveSink summing the sizes of the runs. */
static void
sum_run(const MoveRun *run, const CompiledRing *oldr, const CompiledRing *newr,
		void *arg)
{
	*(uint128 *) arg += (uint128) ((uint64) run->end - (uint64) run->start) + 1;
}

/*
 * The fraction of the token space that changes owner when ring changes
 * into what ring_what_if() makes of it (estimated from RING_SAMPLES
 * positions on a 'rendezvous' ring).
 */
static double
what_if_moved(const CompiledRing *ring, text *add_name, double add_weight,
			  int remove)
{
	CompiledRing *after = ring_what_if(ring, add_name, add_weight, remove);
	uint128		moved = 0;
	double		result;

	if (ring->per_key)
	{
		uint64		changed = 0;

		for (uint64 k = 0; k < RING_SAMPLES; k++)
		{
			int64		pos = ring_sample_position(k);
			uint32		a = ring_per_key_owner(ring, pos);
			uint32		b = ring_per_key_owner(after, pos);

			changed += !same_node(ring, a, after, b);
		}
		result = (double) changed / RING_SAMPLES;
	}
	else
	{
		ring_diff_rings(ring, after, sum_run, &moved);
		result = (double) moved / 18446744073709551616.0;
	}
	MemoryContextDelete(after->mcxt);
	return result;
}

/*
 * ring_quality(ring, version): balance and movement figures for a version:
 * the largest and smallest share / ideal share of the nodes with weight; the
 * fraction that moves when a node of the mean weight is added, against its
 * ideal share 1/(N+1); and the fraction that moves when the node with the
 * largest share is removed, against that node's ideal share.
 */
PG_FUNCTION_INFO_V1(ring_quality);
Datum
ring_quality(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	CompiledRing *ring;
	uint128    *owned;
	double		total_weight = 0;
	double		max_weight;
	int			n = 0;
	double		max_ratio = 0;
	double		min_ratio = 0;
	double		remove_share = 0;
	double		remove_ideal = 0;
	int			remove = -1;
	Datum		values[7];
	bool		nulls[7] = {false, false, false, false, false, false, false};

	RING_INIT_MATERIALIZED_SRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	/* the algorithm's placement: pinned keys left out */
	ring = ring_version_arg(fcinfo)->unpinned;

	owned = ring_owned_sizes(ring);
	/* weights as fractions of the largest: their sum stays finite */
	max_weight = ring_max_weight(ring);
	for (int i = 0; i < ring->nnodes; i++)
		total_weight += ring->nodes[i].weight / max_weight;
	for (int i = 0; i < ring->nnodes; i++)
	{
		double		share = (double) owned[i] / 18446744073709551616.0;
		double		ideal;
		double		ratio;

		if (!(ring->nodes[i].weight > 0))
			continue;
		ideal = (ring->nodes[i].weight / max_weight) / total_weight;
		ratio = share / ideal;
		if (n == 0 || ratio > max_ratio)
			max_ratio = ratio;
		if (n == 0 || ratio < min_ratio)
			min_ratio = ratio;
		if (n == 0 || share > remove_share)
		{
			remove_share = share;
			remove_ideal = ideal;
			remove = i;
		}
		n++;
	}

	values[0] = Int32GetDatum(n);
	if (n == 0)
	{
		for (int i = 1; i < 7; i++)
			nulls[i] = true;
	}
	else
	{
		double		mean = total_weight / n;	/* of the scaled weights */

		values[1] = Float8GetDatum(max_ratio);
		values[2] = Float8GetDatum(min_ratio);
		/*
		 * On a hashed ring only the changed node's ranges move; the other
		 * algorithms may move more: compare with the ring after the change.
		 */
		if (ring->algorithm == RING_ALGORITHM_VNODE && !ring->stored_tokens)
			values[3] = Float8GetDatum(added_share(ring, new_node_name(ring), mean * max_weight));
		else
		{
			values[3] = Float8GetDatum(what_if_moved(ring, cstring_to_text(new_node_name(ring)),
													 mean * max_weight, -1));
			remove_share = what_if_moved(ring, NULL, 0, remove);
		}
		values[4] = Float8GetDatum(mean / (total_weight + mean));
		values[5] = Float8GetDatum(remove_share);
		values[6] = Float8GetDatum(remove_ideal);
	}
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}
