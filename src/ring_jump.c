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

#include "ring_compile.h"
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

/* A join or a departure in a 'jump' ring's history. */
typedef struct JumpEvent
{
	int32		version;
	int			kind;			/* 0: leaves, 1: joins (leaving comes first) */
	int64		joined;
	int			row;
} JumpEvent;

/*
 * Order of a 'jump' ring's history: by version; in one version, the nodes
 * that leave (the last to have joined first), then those that join (in the
 * order they joined).
 */
static int
jump_event_cmp(const void *a, const void *b)
{
	const JumpEvent *x = a;
	const JumpEvent *y = b;

	if (x->version != y->version)
		return x->version < y->version ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind - y->kind;
	if (x->joined != y->joined)
		return (x->joined < y->joined) == (x->kind == 1) ? -1 : 1;
	return 0;
}

/* Order of node rows by place of joining, then by version. */
static int
row_joined_cmp(const void *a, const void *b)
{
	const RingNodeRow *x = *(RingNodeRow *const *) a;
	const RingNodeRow *y = *(RingNodeRow *const *) b;

	if (x->joined != y->joined)
		return x->joined < y->joined ? -1 : 1;
	return (x->added_in > y->added_in) - (x->added_in < y->added_in);
}

/*
 * Make ring a 'jump' ring: replay its node history (rows, every node row up
 * to the ring's version) through MementoHash's bucket removals and
 * restorations (ring_jump.c), giving each node of the version its bucket.
 * A row that takes over from the node's previous row in the same version
 * (ring_set_server keeps the node's place of joining) continues it: the
 * node keeps its bucket.
 */
void
ring_jump_buckets(CompiledRing *ring, List *rows)
{
	int			nrows = list_length(rows);
	JumpEvent  *ev = palloc(Max(2 * nrows, 1) * sizeof(JumpEvent));
	int32	   *bucket_of = palloc(Max(nrows, 1) * sizeof(int32));
	RingNodeRow **row = palloc(Max(nrows, 1) * sizeof(RingNodeRow *));
	int		   *continues = palloc(Max(nrows, 1) * sizeof(int));
	bool	   *continued = palloc0(Max(nrows, 1) * sizeof(bool));
	RingJump   *jump = palloc0(sizeof(RingJump));
	int			nev = 0;
	int			i = 0;
	ListCell   *lc;

	jump->working = palloc((nrows + 1) * sizeof(int32));
	jump->replacer = palloc((nrows + 1) * sizeof(int32));
	jump->prev = palloc((nrows + 1) * sizeof(int32));
	jump->node = palloc((nrows + 1) * sizeof(int32));
	foreach(lc, rows)
		row[i++] = lfirst(lc);
	qsort(row, nrows, sizeof(RingNodeRow *), row_joined_cmp);
	for (i = 0; i < nrows; i++)
	{
		continues[i] = -1;
		if (i > 0 && row[i - 1]->joined == row[i]->joined &&
			row[i - 1]->removed_in == row[i]->added_in)
		{
			continues[i] = i - 1;
			continued[i - 1] = true;
		}
	}
	for (i = 0; i < nrows; i++)
	{
		if (continues[i] < 0)
		{
			ev[nev].version = row[i]->added_in;
			ev[nev].kind = 1;
			ev[nev].joined = row[i]->joined;
			ev[nev++].row = i;
		}
		if (row[i]->removed_in > 0 && !continued[i])
		{
			ev[nev].version = row[i]->removed_in;
			ev[nev].kind = 0;
			ev[nev].joined = row[i]->joined;
			ev[nev++].row = i;
		}
	}
	qsort(ev, nev, sizeof(JumpEvent), jump_event_cmp);
	for (int e = 0; e < nev; e++)
	{
		int			r = ev[e].row;

		if (ev[e].kind == 1)
		{
			bucket_of[r] = ring_jump_add(jump);
			jump->node[bucket_of[r]] = -1;
		}
		else
		{
			/* a removal ends a chain of rows: its bucket is the first's */
			while (continues[r] >= 0)
				r = continues[r];
			ring_jump_remove(jump, bucket_of[r]);
		}
	}
	/* rows continuing others (in joining, then version order) */
	for (i = 0; i < nrows; i++)
	{
		if (continues[i] >= 0)
			bucket_of[i] = bucket_of[continues[i]];
	}

	/* the nodes of the version, by name */
	for (int r = 0; r < nrows; r++)
	{
		RingNodeInfo key;
		RingNodeInfo *node;

		if (row[r]->removed_in > 0)
			continue;
		key.name = row[r]->name;
		node = bsearch(&key, ring->nodes, ring->nnodes, sizeof(RingNodeInfo),
					   ring_node_name_cmp);
		if (node == NULL)
			elog(ERROR, "node history of ring \"%s\" does not match its nodes", ring->name);
		jump->node[bucket_of[r]] = node - ring->nodes;
	}
	ring->jump = jump;
	ring->per_key = true;
}
