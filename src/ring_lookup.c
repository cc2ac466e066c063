/*-------------------------------------------------------------------------
 *
 * ring_lookup.c
 *	  Per-key SQL functions: ring_hash, ring_shard, ring_shards, ring_move.
 *
 * These run once per row over large tables.  Each call site keeps a
 * LookupState in fn_extra: how to read its key type, and a pinned
 * reference to the compiled ring(s), so a row costs one hash, a few
 * comparisons and one short search.  Nothing is allocated per row except
 * the result of ring_shards and ring_move, and keys of types without a
 * built-in fast path (their output function allocates).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "consistent_ring.h"
#include "compat.h"
#include "ring_cache.h"
#include "ring_keys.h"
#include "ring_compile.h"

#define RING_REF_SLOTS 4

/* Most salted keys ring_spread() looks at. */
#define RING_MAX_FANOUT 1024

typedef struct LookupState
{
	RingKeyReader reader;
	bool		ring_is_const;	/* the ring argument is a constant */
	/*
	 * The rings this call site resolved last, one per (name, version): a
	 * few, so that ring_move's two versions, or ring names that vary from
	 * row to row among a handful, do not read the catalog per row.
	 */
	RingRef		refs[RING_REF_SLOTS];
	int			next_victim;

	/*
	 * ring_move: for each node of the ring whose serial is map_from, its
	 * index in the ring whose serial is map_to, or NO_OWNER.  Keyed by
	 * serial, not address: a freed ring's address may be reused.
	 */
	uint64		map_from;
	uint64		map_to;
	uint32	   *map;
	TupleDesc	move_desc;

	/* ring_shards, ring_spread: scratch arrays, sized for scratch_size nodes */
	bool	   *taken;			/* node already in the result, or skipped */
	bool	   *zone_used;		/* zone already in the result */
	uint32	   *deferred;		/* nodes skipped for their zone, in order */
	int			scratch_size;
} LookupState;

/* Whether argument argnum of the call is a constant in the query. */
static bool
arg_is_const(FmgrInfo *flinfo, int argnum)
{
	Node	   *expr = flinfo->fn_expr;
	List	   *args;

	if (expr == NULL || !IsA(expr, FuncExpr))
		return false;
	args = ((FuncExpr *) expr)->args;
	return argnum < list_length(args) && IsA(list_nth(args, argnum), Const);
}

/* Set up the call site's state on its first call. */
static pg_noinline LookupState *
lookup_state_init(FunctionCallInfo fcinfo, int keyarg, bool has_ring_arg)
{
	MemoryContext mcxt = fcinfo->flinfo->fn_mcxt;
	Oid			keytype = get_fn_expr_argtype(fcinfo->flinfo, keyarg);
	LookupState *st;

	if (!OidIsValid(keytype))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("could not determine the data type of the key")));
	st = MemoryContextAllocZero(mcxt, sizeof(LookupState));
	ring_key_reader_init(&st->reader, keytype, mcxt);
	st->ring_is_const = has_ring_arg && arg_is_const(fcinfo->flinfo, 0);
	for (int i = 0; i < RING_REF_SLOTS; i++)
		ring_ref_init(&st->refs[i], mcxt);
	fcinfo->flinfo->fn_extra = st;
	return st;
}

/* The call site's state. */
static inline LookupState *
lookup_state(FunctionCallInfo fcinfo, int keyarg)
{
	LookupState *st = (LookupState *) fcinfo->flinfo->fn_extra;

	if (unlikely(st == NULL))
		st = lookup_state_init(fcinfo, keyarg, keyarg > 0);
	return st;
}

/* Error for a lookup on a ring version without nodes to place keys on. */
static pg_noinline void
report_empty_ring(const CompiledRing *ring)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("ring \"%s\" has no nodes to place keys on", ring->name),
			 errdetail("Version %d of the ring has no node with a weight greater than 0.",
					   ring->key.version),
			 errhint("Add a node with ring_add_node() or give one a weight with ring_set_weight().")));
}

/*
 * Resolve the ring named by argument 0 at version into a slot other than
 * keep (a slot whose ring the caller is still using), round robin.
 */
static pg_noinline CompiledRing *
ring_arg_resolve(FunctionCallInfo fcinfo, LookupState *st, int64 version,
				 int keep, int *slot)
{
	text	   *name = PG_GETARG_TEXT_PP(0);
	int			victim = st->next_victim;

	if (victim == keep)
		victim = (victim + 1) % RING_REF_SLOTS;
	st->next_victim = (victim + 1) % RING_REF_SLOTS;
	*slot = victim;
	return ring_ref_resolve(&st->refs[victim], VARDATA_ANY(name),
							VARSIZE_ANY_EXHDR(name), version);
}

/*
 * The ring named by argument 0 at the given version, and the slot holding
 * it.  A constant ring name (the usual case) is compared only when the ring
 * is resolved.
 */
static inline CompiledRing *
ring_arg_slot(FunctionCallInfo fcinfo, LookupState *st, int64 version,
			  int keep, int *slot)
{
	text	   *name = NULL;

	for (int i = 0; i < RING_REF_SLOTS; i++)
	{
		RingRef    *ref = &st->refs[i];

		if (!ring_ref_current(ref, version))
			continue;
		if (!st->ring_is_const)
		{
			if (name == NULL)
				name = PG_GETARG_TEXT_PP(0);
			if (ref->namelen != VARSIZE_ANY_EXHDR(name) ||
				memcmp(ref->name, VARDATA_ANY(name), ref->namelen) != 0)
				continue;
		}
		*slot = i;
		return ref->ring;
	}
	return ring_arg_resolve(fcinfo, st, version, keep, slot);
}

/* The ring named by argument 0 at the given version. */
static inline CompiledRing *
ring_arg(FunctionCallInfo fcinfo, LookupState *st, int64 version)
{
	int			slot;

	return ring_arg_slot(fcinfo, st, version, -1, &slot);
}

/* Clear the call site's scratch arrays, growing them for ring if needed. */
static void
scratch_reset(FunctionCallInfo fcinfo, LookupState *st, const CompiledRing *ring)
{
	int			size = Max(ring->nnodes, 1);

	if (st->scratch_size < size)
	{
		MemoryContext mcxt = fcinfo->flinfo->fn_mcxt;

		if (st->taken)
		{
			pfree(st->taken);
			pfree(st->zone_used);
			pfree(st->deferred);
		}
		st->taken = MemoryContextAlloc(mcxt, size * sizeof(bool));
		st->zone_used = MemoryContextAlloc(mcxt, size * sizeof(bool));
		st->deferred = MemoryContextAlloc(mcxt, size * sizeof(uint32));
		st->scratch_size = size;
	}
	memset(st->taken, 0, ring->nnodes * sizeof(bool));
	memset(st->zone_used, 0, ring->nzones * sizeof(bool));
}

/* The index of the node owning the key in a ring that must not be empty. */
static pg_attribute_always_inline uint32
owner_index(const CompiledRing *ring, int64 pos)
{
	if (unlikely(ring->ntokens == 0))
	{
		if (ring->nowners == 0)
			report_empty_ring(ring);
		return ring_per_key_owner(ring, pos);
	}
	return ring_token_owner(ring, ring_token_at(ring, pos));
}

/* The node owning the key in a ring that must not be empty. */
static pg_attribute_always_inline text *
owner_name(const CompiledRing *ring, int64 pos)
{
	return ring->nodes[owner_index(ring, pos)].name;
}

/* A 'rendezvous' node and its score for one key. */
typedef struct ScoredNode
{
	double		score;
	uint32		node;
} ScoredNode;

/* Highest score first; on ties, the node first by name. */
static int
scored_node_cmp(const void *a, const void *b)
{
	const ScoredNode *x = a;
	const ScoredNode *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return (x->node > y->node) - (x->node < y->node);
}

/*
 * Consider owner as the next replica: taken unless seen already; put off
 * if its zone is among the replicas (Cassandra's rack rule).
 */
static inline void
consider_replica(LookupState *st, const CompiledRing *ring, uint32 owner,
				 Datum *names, int *found, int *seen, int *ndeferred)
{
	int32		zone;

	if (st->taken[owner])
		return;
	zone = ring->nodes[owner].zone;
	st->taken[owner] = true;
	(*seen)++;
	if (zone < 0 || !st->zone_used[zone])
	{
		if (zone >= 0)
			st->zone_used[zone] = true;
		names[(*found)++] = PointerGetDatum(ring->nodes[owner].name);
	}
	else
		st->deferred[(*ndeferred)++] = owner;
}

/*
 * The replicas of a 'cassandra' ring with zones (racks), as Cassandra's
 * NetworkTopologyStrategy computes them on the server for one datacenter
 * (calculateNaturalReplicas): walking clockwise from the key, a node in a
 * rack not yet used is taken; a node in a used rack only while fewer than
 * rf - racks such repeats were taken; until n (rf, at most the nodes) are
 * found.  A node without a zone is a rack of its own.  Returns how many.
 */
static int
cassandra_replicas(LookupState *st, const CompiledRing *ring, int64 pos,
				   int32 rf, int n, Datum *names)
{
	int			racks = ring->nzones;
	int			repeats;
	int			found = 0;
	uint32		t = ring_token_at(ring, pos);

	for (int i = 0; i < ring->nnodes; i++)
	{
		if (ring->nodes[i].zone < 0 && ring->nodes[i].vnodes > 0)
			racks++;
	}
	repeats = rf - racks;
	for (uint32 step = 0; step < ring->ntokens && found < n; step++)
	{
		uint32		owner = ring_token_owner(ring, t);
		int32		zone = ring->nodes[owner].zone;

		if (++t == ring->ntokens)
			t = 0;
		if (st->taken[owner])
			continue;
		if (zone >= 0 && st->zone_used[zone])
		{
			if (repeats <= 0)
				continue;
			repeats--;
		}
		st->taken[owner] = true;
		if (zone >= 0)
			st->zone_used[zone] = true;
		names[found++] = PointerGetDatum(ring->nodes[owner].name);
	}
	return found;
}

/* ring_hash(ring, key): the key's position in the ring's token space. */
PG_FUNCTION_INFO_V1(ring_hash);
Datum
ring_hash(PG_FUNCTION_ARGS)
{
	LookupState *st = lookup_state(fcinfo, 1);

	CompiledRing *ring = ring_arg(fcinfo, st, RING_VERSION_CURRENT);

	if (likely(!ring->compat_hash))
		PG_RETURN_INT64(ring_key_position(&st->reader, PG_GETARG_DATUM(1)));
	PG_RETURN_INT64(ring_position_external(ring,
										   ring_key_position_in(ring, &st->reader,
																PG_GETARG_DATUM(1)),
										   false));
}

/* ring_shard(ring, key): the node owning key in the ring's newest version. */
PG_FUNCTION_INFO_V1(ring_shard);
Datum
ring_shard(PG_FUNCTION_ARGS)
{
	LookupState *st = lookup_state(fcinfo, 1);
	CompiledRing *ring = ring_arg(fcinfo, st, RING_VERSION_CURRENT);

	PG_RETURN_TEXT_P(owner_name(ring, ring_key_position_in(ring, &st->reader, PG_GETARG_DATUM(1))));
}

/* ring_shard(ring, key, version): the node owning key at a version. */
PG_FUNCTION_INFO_V1(ring_shard_at);
Datum
ring_shard_at(PG_FUNCTION_ARGS)
{
	LookupState *st = lookup_state(fcinfo, 1);
	CompiledRing *ring = ring_arg(fcinfo, st, PG_GETARG_INT32(2));

	PG_RETURN_TEXT_P(owner_name(ring, ring_key_position_in(ring, &st->reader, PG_GETARG_DATUM(1))));
}

/* The foreign server of the key's owner as a result: NULL if it has none. */
static inline Datum
owner_server(FunctionCallInfo fcinfo, LookupState *st, const CompiledRing *ring)
{
	text	   *server;

	server = ring->nodes[owner_index(ring, ring_key_position_in(ring, &st->reader,
																PG_GETARG_DATUM(1)))].server;
	if (server == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(server);
}

/*
 * ring_server(ring, key): the foreign server of the key's owner in the
 * ring's newest version; NULL if the owner has none.
 */
PG_FUNCTION_INFO_V1(ring_server);
Datum
ring_server(PG_FUNCTION_ARGS)
{
	LookupState *st = lookup_state(fcinfo, 1);

	return owner_server(fcinfo, st, ring_arg(fcinfo, st, RING_VERSION_CURRENT));
}

/* ring_server(ring, key, version): the same at a version. */
PG_FUNCTION_INFO_V1(ring_server_at);
Datum
ring_server_at(PG_FUNCTION_ARGS)
{
	LookupState *st = lookup_state(fcinfo, 1);

	return owner_server(fcinfo, st, ring_arg(fcinfo, st, PG_GETARG_INT32(2)));
}

/*
 * ring_partition(ring, key): the PL/Proxy partition of the key's owner in
 * the ring's newest version, for RUN ON: the owner's place among the
 * version's nodes in name order, as ring_plproxy_partitions lists them.
 */
PG_FUNCTION_INFO_V1(ring_partition);
Datum
ring_partition(PG_FUNCTION_ARGS)
{
	LookupState *st = lookup_state(fcinfo, 1);
	CompiledRing *ring = ring_arg(fcinfo, st, RING_VERSION_CURRENT);

	PG_RETURN_INT32((int32) owner_index(ring, ring_key_position_in(ring, &st->reader,
																   PG_GETARG_DATUM(1))));
}

/*
 * ring_nodes_at(ring, version): the nodes of a version of a ring, in name
 * order, with their weight and server.
 */
PG_FUNCTION_INFO_V1(ring_nodes_at);
Datum
ring_nodes_at(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	LookupState *st;
	CompiledRing *ring;

	RING_INIT_MATERIALIZED_SRF(fcinfo, RING_SRF_USE_EXPECTED_DESC);
	st = (LookupState *) fcinfo->flinfo->fn_extra;
	if (st == NULL)
		st = lookup_state_init(fcinfo, 0, true);
	ring = ring_arg(fcinfo, st, PG_GETARG_INT32(1));
	for (int i = 0; i < ring->nnodes; i++)
	{
		const RingNodeInfo *node = &ring->nodes[i];
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = PointerGetDatum(node->name);
		values[1] = Float8GetDatum(node->weight);
		values[2] = PointerGetDatum(node->server);
		nulls[2] = node->server == NULL;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* ring_shard(key): the owner in the ring named by consistent_ring.default_ring. */
PG_FUNCTION_INFO_V1(ring_shard_default);
Datum
ring_shard_default(PG_FUNCTION_ARGS)
{
	LookupState *st = lookup_state(fcinfo, 0);
	const char *name = ring_default_ring;
	CompiledRing *ring;

	if (name == NULL || name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no default ring is set"),
				 errhint("Set consistent_ring.default_ring to the name of a ring, or pass the ring as the first argument.")));

	ring = ring_ref_get(&st->refs[0], name, strlen(name), RING_VERSION_CURRENT);
	PG_RETURN_TEXT_P(owner_name(ring, ring_key_position_in(ring, &st->reader, PG_GETARG_DATUM(0))));
}

/*
 * ring_shards(ring, key, n): n replicas, distinct nodes clockwise from the
 * key (the owner first), preferring distinct zones; fewer if the ring has
 * fewer nodes.
 */
PG_FUNCTION_INFO_V1(ring_shards);
Datum
ring_shards(PG_FUNCTION_ARGS)
{
	LookupState *st = lookup_state(fcinfo, 1);
	CompiledRing *ring = ring_arg(fcinfo, st, RING_VERSION_CURRENT);
	int32		n = PG_GETARG_INT32(2);
	int64		pos;
	Datum	   *names;
	int			found = 0;
	int			seen = 0;
	int			ndeferred = 0;
	uint32		t;
	int32		rf;

	if (n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("number of nodes must be at least 1"),
				 errdetail("The value given was %d.", n)));
	if (ring->nowners == 0)
		report_empty_ring(ring);

	scratch_reset(fcinfo, st, ring);
	rf = n;
	n = Min(n, ring->nowners);
	names = palloc(n * sizeof(Datum));
	pos = ring_key_position_in(ring, &st->reader, PG_GETARG_DATUM(1));

	if (ring->algorithm == RING_ALGORITHM_CASSANDRA && ring->nzones > 0)
	{
		found = cassandra_replicas(st, ring, pos, rf, n, names);
		PG_RETURN_ARRAYTYPE_P(construct_array(names, found, TEXTOID, -1, false,
											  TYPALIGN_INT));
	}

	/*
	 * Clockwise from the key (by descending score on a 'rendezvous' ring),
	 * each node once; with zones, a node whose zone is already in the result
	 * is skipped for now (Cassandra's rack rule), and the skipped ones fill
	 * up the result, in order, if too few zones.
	 */
	if (ring->jump)
	{
		/*
		 * 'jump': the owner, then the owner were the owners found so far
		 * removed (MementoHash removals of a copy of the buckets).
		 */
		RingJump   *jump = ring_jump_copy(ring->jump);

		while (found < n && jump->nworking > 0)
		{
			int32		b = ring_jump_lookup(jump, pos);

			consider_replica(st, ring, (uint32) jump->node[b], names, &found,
							 &seen, &ndeferred);
			ring_jump_remove(jump, b);
		}
		pfree(jump->working);
		pfree(jump->replacer);
		pfree(jump->prev);
		pfree(jump->node);
		pfree(jump);
	}
	else if (ring->per_key)
	{
		ScoredNode *order = palloc(ring->nnodes * sizeof(ScoredNode));
		int			norder = 0;

		for (uint32 i = 0; i < (uint32) ring->nnodes; i++)
		{
			if (!(ring->nodes[i].weight > 0))
				continue;
			order[norder].score = ring_hrw_score(ring, i, pos);
			order[norder++].node = i;
		}
		qsort(order, norder, sizeof(ScoredNode), scored_node_cmp);
		for (int k = 0; k < norder && found < n; k++)
			consider_replica(st, ring, order[k].node, names, &found, &seen, &ndeferred);
		pfree(order);
	}
	else
	{
		t = ring_token_at(ring, pos);
		while (found < n && seen < ring->nowners)
		{
			consider_replica(st, ring, ring_token_owner(ring, t), names,
							 &found, &seen, &ndeferred);
			if (++t == ring->ntokens)
				t = 0;
		}
	}
	for (int i = 0; found < n && i < ndeferred; i++)
		names[found++] = PointerGetDatum(ring->nodes[st->deferred[i]].name);

	PG_RETURN_ARRAYTYPE_P(construct_array(names, n, TEXTOID, -1, false,
										  TYPALIGN_INT));
}

/*
 * ring_spread(ring, key, fanout): the distinct owners of the salted keys
 * "<key>#0" .. "<key>#<fanout-1>" (key bytes as in placement), in that
 * order.  For hot keys: a writer stores the key under one salted key, a
 * reader gathers from all of these nodes.
 */
PG_FUNCTION_INFO_V1(ring_spread);
Datum
ring_spread(PG_FUNCTION_ARGS)
{
	LookupState *st = lookup_state(fcinfo, 1);
	CompiledRing *ring = ring_arg(fcinfo, st, RING_VERSION_CURRENT);
	int32		fanout = PG_GETARG_INT32(2);
	StringInfoData salted;
	int			base;
	Datum	   *names;
	int			found = 0;

	if (fanout < 1 || fanout > RING_MAX_FANOUT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("fanout must be between 1 and %d", RING_MAX_FANOUT),
				 errdetail("The value given was %d.", fanout)));
	if (ring->nowners == 0)
		report_empty_ring(ring);

	scratch_reset(fcinfo, st, ring);
	initStringInfo(&salted);
	ring_key_bytes(&st->reader, PG_GETARG_DATUM(1), &salted);
	base = salted.len;
	names = palloc(Min(fanout, ring->nowners) * sizeof(Datum));
	for (int32 i = 0; i < fanout && found < ring->nowners; i++)
	{
		uint32		owner;

		salted.len = base;
		appendStringInfo(&salted, "#%d", i);
		owner = ring_owner_of(ring, ring_bytes_position_in(ring, salted.data, salted.len));
		if (!st->taken[owner])
		{
			st->taken[owner] = true;
			names[found++] = PointerGetDatum(ring->nodes[owner].name);
		}
	}

	PG_RETURN_ARRAYTYPE_P(construct_array(names, found, TEXTOID, -1, false,
										  TYPALIGN_INT));
}

/* For each node of from, the index of the same node in to (or NO_OWNER). */
static void
build_node_map(LookupState *st, MemoryContext mcxt, CompiledRing *from,
			   CompiledRing *to)
{
	int			j = 0;

	if (st->map)
		pfree(st->map);
	st->map = MemoryContextAlloc(mcxt, Max(from->nnodes, 1) * sizeof(uint32));
	for (int i = 0; i < from->nnodes; i++)
	{
		const text *a = from->nodes[i].name;
		int			c = 1;

		/* both node arrays are sorted by name bytes: merge */
		while (j < to->nnodes)
		{
			const text *b = to->nodes[j].name;
			int			la = VARSIZE_ANY_EXHDR(a);
			int			lb = VARSIZE_ANY_EXHDR(b);

			c = memcmp(VARDATA_ANY(a), VARDATA_ANY(b), Min(la, lb));
			if (c == 0)
				c = (la > lb) - (la < lb);
			if (c <= 0)
				break;
			j++;
		}
		st->map[i] = (j < to->nnodes && c == 0) ? (uint32) j : RING_NO_OWNER;
	}
	st->map_from = from->serial;
	st->map_to = to->serial;
}

/*
 * ring_move(ring, key, old_version, new_version): (from_node, to_node) if
 * the key changes owner between the versions, else NULL.  from_node or
 * to_node is NULL where that version has no nodes.
 */
PG_FUNCTION_INFO_V1(ring_move);
Datum
ring_move(PG_FUNCTION_ARGS)
{
	LookupState *st = lookup_state(fcinfo, 1);
	int			from_slot;
	int			to_slot;
	CompiledRing *from = ring_arg_slot(fcinfo, st, PG_GETARG_INT32(2), -1, &from_slot);
	CompiledRing *to = ring_arg_slot(fcinfo, st, PG_GETARG_INT32(3), from_slot, &to_slot);
	int64		pos;
	uint32		a;
	uint32		b;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (unlikely(st->map_from != from->serial || st->map_to != to->serial))
	{
		build_node_map(st, fcinfo->flinfo->fn_mcxt, from, to);
		if (st->move_desc == NULL)
		{
			MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
			TupleDesc	desc;

			if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
				elog(ERROR, "return type must be a row type");
			st->move_desc = BlessTupleDesc(desc);
			MemoryContextSwitchTo(old);
		}
	}

	/* both are versions of one ring, so of one algorithm */
	pos = ring_key_position_in(from, &st->reader, PG_GETARG_DATUM(1));
	a = ring_owner_of(from, pos);
	b = ring_owner_of(to, pos);
	if (a == RING_NO_OWNER ? b == RING_NO_OWNER :
		(b != RING_NO_OWNER && st->map[a] == b))
		PG_RETURN_NULL();

	if (a == RING_NO_OWNER)
		nulls[0] = true;
	else
		values[0] = PointerGetDatum(from->nodes[a].name);
	if (b == RING_NO_OWNER)
		nulls[1] = true;
	else
		values[1] = PointerGetDatum(to->nodes[b].name);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(st->move_desc, values, nulls)));
}

/* ring_version(ring): the newest version the statement's snapshot sees. */
PG_FUNCTION_INFO_V1(ring_version);
Datum
ring_version(PG_FUNCTION_ARGS)
{
	text	   *ring = PG_GETARG_TEXT_PP(0);
	RingHeader	hdr;

	if (VARSIZE_ANY_EXHDR(ring) > RING_NAME_MAXLEN)
		ring_report_name_too_long(VARDATA_ANY(ring), VARSIZE_ANY_EXHDR(ring));
	ring_catalog_get(VARDATA_ANY(ring), VARSIZE_ANY_EXHDR(ring),
					 ring_current_snapshot(), &hdr);
	PG_RETURN_INT32(hdr.version);
}
