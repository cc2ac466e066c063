/*-------------------------------------------------------------------------
 *
 * ring_tokens.c
 *	  Rings whose tokens are stored (consistent_ring.tokens): 'slots',
 *	  'redis', 'cassandra' and 'vnode' rings with balanced token
 *	  allocation.  After a node change the tokens are laid out again from
 *	  the current ones (ring_layout.c for 'slots' and balanced tokens,
 *	  ring_redis.c and ring_cassandra.c for theirs) and only the rows that
 *	  change are written.  Slots are also changed directly:
 *	  ring_split_slots, ring_assign_slots, and a rebalance plan's slots.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "port/pg_bitutils.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "ring_admin.h"
#include "ring_layout.h"
#include "ring_rebalance.h"
#include "ring_redis.h"

/* The live nodes of a ring, in name byte order, for a layout. */
static int
layout_nodes(const RingChange *chg, text ***names, LayoutNode **nodes)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(chg->ring_id)};
	uint64		n;

	n = ring_admin_run("SELECT node, weight, joined FROM consistent_ring.nodes"
			" WHERE ring_id OPERATOR(pg_catalog.=) $1 AND removed_in IS NULL"
			" ORDER BY node",
			1, types, values, SPI_OK_SELECT);
	*names = palloc(Max(n, 1) * sizeof(text *));
	*nodes = palloc(Max(n, 1) * sizeof(LayoutNode));
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		bool		isnull;

		(*names)[i] = DatumGetTextPCopy(SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &isnull));
		(*nodes)[i].weight = DatumGetFloat8(SPI_getbinval(row, SPI_tuptable->tupdesc, 2, &isnull));
		(*nodes)[i].joined = DatumGetInt64(SPI_getbinval(row, SPI_tuptable->tupdesc, 3, &isnull));
		(*nodes)[i].target = chg->algorithm == RING_ALGORITHM_VNODE ?
			ring_virtual_nodes(chg->vnodes, (*nodes)[i].weight) : 0;
	}
	return (int) n;
}

/*
 * The current stored tokens of a ring, ascending, owners as indexes into
 * names (-1 for a node not among them); or with before > 0, the tokens of
 * version before - 1.
 */
static uint32
layout_tokens(const RingChange *chg, text **names, int nnames,
			  LayoutToken **tokens, int32 before)
{
	Oid			types[2] = {INT4OID, INT4OID};
	Datum		values[2] = {Int32GetDatum(chg->ring_id), Int32GetDatum(before)};
	uint64		n;

	if (before > 0)
		n = ring_admin_run("SELECT token, node FROM consistent_ring.tokens"
				" WHERE ring_id OPERATOR(pg_catalog.=) $1"
				" AND added_in OPERATOR(pg_catalog.<) $2"
				" AND (removed_in IS NULL OR removed_in OPERATOR(pg_catalog.>=) $2)"
				" ORDER BY token",
				2, types, values, SPI_OK_SELECT);
	else
		n = ring_admin_run("SELECT token, node FROM consistent_ring.tokens"
				" WHERE ring_id OPERATOR(pg_catalog.=) $1 AND removed_in IS NULL"
				" ORDER BY token",
				1, types, values, SPI_OK_SELECT);
	*tokens = palloc(Max(n, 1) * sizeof(LayoutToken));
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		bool		isnull;

		(*tokens)[i].biased = (uint64) DatumGetInt64(SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &isnull)) ^
			(UINT64CONST(1) << 63);
		(*tokens)[i].node = ring_layout_find_name(names, nnames,
									  DatumGetTextPP(SPI_getbinval(row, SPI_tuptable->tupdesc, 2, &isnull)));
	}
	return (uint32) n;
}

/* Run sql with $1 = ring id, $2 = version, $3 = tokens, $4 = nodes. */
static void
run_tokens(const char *sql, const RingChange *chg, int32 version,
		   Datum *tokens, Datum *nodes, int n, int expect)
{
	Oid			types[4] = {INT4OID, INT4OID, INT8ARRAYOID, TEXTARRAYOID};
	Datum		values[4];

	if (n == 0)
		return;
	values[0] = Int32GetDatum(chg->ring_id);
	values[1] = Int32GetDatum(version);
	values[2] = PointerGetDatum(construct_array(tokens, n, INT8OID, sizeof(int64),
												FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[3] = nodes ? PointerGetDatum(construct_array(nodes, n, TEXTOID, -1, false,
														TYPALIGN_INT)) : (Datum) 0;
	ring_admin_run(sql, nodes ? 4 : 3, types, values, expect);
}

/*
 * Replace the stored tokens of the ring at version, old (ascending, owners
 * indexing names), by new (the same): end the current rows of tokens that
 * go or change owner, and insert the new ones.
 */
static void
store_tokens(const RingChange *chg, int32 version, text **names,
			 const LayoutToken *old, uint32 nold, const LayoutToken *new,
			 uint32 nnew)
{
	uint32		i = 0;
	uint32		j = 0;
	Datum	   *gone;
	Datum	   *added;
	Datum	   *added_nodes;
	int			ngone = 0;
	int			nadded = 0;

	/* both ascending: merge */
	gone = palloc(Max(nold, 1) * sizeof(Datum));
	added = palloc(Max(nnew, 1) * sizeof(Datum));
	added_nodes = palloc(Max(nnew, 1) * sizeof(Datum));
	while (i < nold || j < nnew)
	{
		if (j == nnew || (i < nold && old[i].biased < new[j].biased))
		{
			gone[ngone++] = Int64GetDatum((int64) (old[i++].biased ^ (UINT64CONST(1) << 63)));
			continue;
		}
		if (i == nold || new[j].biased < old[i].biased)
		{
			added[nadded] = Int64GetDatum((int64) (new[j].biased ^ (UINT64CONST(1) << 63)));
			added_nodes[nadded++] = PointerGetDatum(names[new[j++].node]);
			continue;
		}
		if (old[i].node != new[j].node)
		{
			gone[ngone++] = Int64GetDatum((int64) (old[i].biased ^ (UINT64CONST(1) << 63)));
			added[nadded] = Int64GetDatum((int64) (new[j].biased ^ (UINT64CONST(1) << 63)));
			added_nodes[nadded++] = PointerGetDatum(names[new[j].node]);
		}
		i++;
		j++;
	}

	/* rows made in this very version go; older ones end here */
	run_tokens("DELETE FROM consistent_ring.tokens"
			   " WHERE ring_id OPERATOR(pg_catalog.=) $1 AND added_in OPERATOR(pg_catalog.=) $2"
			   " AND token OPERATOR(pg_catalog.=) ANY ($3)",
			   chg, version, gone, NULL, ngone, SPI_OK_DELETE);
	run_tokens("UPDATE consistent_ring.tokens SET removed_in = $2"
			   " WHERE ring_id OPERATOR(pg_catalog.=) $1 AND removed_in IS NULL"
			   " AND token OPERATOR(pg_catalog.=) ANY ($3)",
			   chg, version, gone, NULL, ngone, SPI_OK_UPDATE);
	run_tokens("INSERT INTO consistent_ring.tokens (ring_id, token, node, added_in)"
			   " SELECT $1, t.token, t.node, $2"
			   " FROM ROWS FROM (pg_catalog.unnest($3), pg_catalog.unnest($4)) AS t(token, node)",
			   chg, version, added, added_nodes, nadded, SPI_OK_INSERT);
}

/* Each slot's owner from the stored tokens of a 'slots' or 'redis' ring. */
static int32 *
slot_owners(const RingChange *chg, const LayoutToken *old, uint32 nold)
{
	int			bits = pg_leftmost_one_pos32((uint32) chg->slots);
	int32	   *owner = palloc(chg->slots * sizeof(int32));

	for (int32 s = 0; s < chg->slots; s++)
		owner[s] = -1;
	/* a slot's owner: that of the token covering its last position */
	for (int32 s = 0, t = 0; s < chg->slots && nold > 0; s++)
	{
		uint64		last = (uint64) ring_slot_token(s, bits) ^ (UINT64CONST(1) << 63);

		while (old[t].biased < last)
			t++;
		owner[s] = old[t].node;
	}
	return owner;
}

/*
 * The stored tokens of slot owners: one per slot that has an owner on a
 * 'slots' ring; on a 'redis' ring (whose slots all have an owner) one per
 * run of slots with the same owner, at its last slot.
 */
static LayoutToken *
slot_tokens(const RingChange *chg, const int32 *owner, uint32 *n)
{
	int			bits = pg_leftmost_one_pos32((uint32) chg->slots);
	LayoutToken *tokens = palloc(chg->slots * sizeof(LayoutToken));
	bool		runs = chg->algorithm == RING_ALGORITHM_REDIS;

	*n = 0;
	for (int32 s = 0; s < chg->slots; s++)
	{
		if (owner[s] < 0)
			continue;
		if (runs && s + 1 < chg->slots && owner[s + 1] == owner[s])
			continue;
		tokens[*n].biased = (uint64) ring_slot_token(s, bits) ^ (UINT64CONST(1) << 63);
		tokens[(*n)++].node = owner[s];
	}
	return tokens;
}

/*
 * Bring the stored tokens of the ring in line with its nodes at version
 * (ring_layout.c chooses them from the current ones, this version's own
 * changes included).  Several changes in one transaction are so applied one
 * after the other, each moving what it needs to.
 */
void
ring_relayout(const RingChange *chg, int32 version, text *changed, ArrayType *given)
{
	text	  **names;
	LayoutNode *nodes;
	LayoutToken *old;
	LayoutToken *new;
	int			nnodes = layout_nodes(chg, &names, &nodes);
	uint32		nold = layout_tokens(chg, names, nnodes, &old, 0);
	uint32		nnew = 0;

	if (chg->algorithm == RING_ALGORITHM_REDIS)
	{
		/*
		 * The node changes of one version are laid out together, from the
		 * previous version's slots, as one redis-cli run would: create if
		 * no slot had an owner, else rebalance.
		 */
		LayoutToken *prev;
		uint32		nprev = layout_tokens(chg, names, nnodes, &prev, version);
		int32	   *owner;

		if (nprev == 0)
		{
			owner = palloc(RING_REDIS_SLOTS * sizeof(int32));
			ring_redis_create_owners(owner, nodes, nnodes);
		}
		else
		{
			owner = slot_owners(chg, prev, nprev);
			ring_layout_slots(owner, chg->slots, nodes, nnodes, true);
		}
		new = slot_tokens(chg, owner, &nnew);
	}
	else if (chg->algorithm == RING_ALGORITHM_SLOTS)
	{
		int32	   *owner = slot_owners(chg, old, nold);

		ring_layout_slots(owner, chg->slots, nodes, nnodes, false);
		new = slot_tokens(chg, owner, &nnew);
	}
	else if (chg->algorithm == RING_ALGORITHM_CASSANDRA)
		new = ring_cassandra_layout(chg->vnodes, names, nodes, nnodes, old, nold, changed, given, &nnew);
	else
		new = ring_layout_balanced(old, nold, nodes, nnodes, &nnew);

	store_tokens(chg, version, names, old, nold, new, nnew);
}

/*
 * ring_split_slots(ring): double the slots of a 'slots' ring, each slot
 * splitting in two halves with its owner; no position changes owner.
 * Returns the version.
 */
PG_FUNCTION_INFO_V1(ring_split_slots);
Datum
ring_split_slots(PG_FUNCTION_ARGS)
{
	text	   *ring = PG_GETARG_TEXT_PP(0);
	RingChange	chg;
	RingCaller	caller;
	Oid			types[3] = {INT4OID, INT4OID, INT4OID};
	Datum		values[3];
	int32		version;

	ring_change_begin(ring, &caller, &chg);
	if (chg.algorithm == RING_ALGORITHM_REDIS)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("ring \"%s\" cannot split its slots", chg.name),
				 errdetail("A 'redis' ring has Redis Cluster's 16384 hash slots.")));
	if (chg.algorithm != RING_ALGORITHM_SLOTS)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("ring \"%s\" has no slots", chg.name),
				 errdetail("Its algorithm is '%s'; only 'slots' rings have slots.",
						   ring_algorithm_name(chg.algorithm))));
	if (chg.slots > RING_MAX_SLOTS / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("ring \"%s\" cannot have more slots", chg.name),
				 errdetail("It has %d slots; the limit is %d.", chg.slots, RING_MAX_SLOTS)));

	version = ring_change_version(&chg, &caller);
	values[0] = Int32GetDatum(chg.ring_id);
	values[1] = Int32GetDatum(version);
	values[2] = Int32GetDatum(64 - pg_leftmost_one_pos32((uint32) chg.slots));

	/*
	 * Slot s of 2^b becomes slots 2s and 2s + 1 of 2^(b+1): the second keeps
	 * s's last position; the first ends 2^(63-b) positions earlier, which
	 * clears that bit (set in every slot's last position): an XOR.
	 */
	ring_admin_run("INSERT INTO consistent_ring.tokens (ring_id, token, node, added_in)"
		" SELECT ring_id, token OPERATOR(pg_catalog.#) (1::bigint OPERATOR(pg_catalog.<<) ($3 OPERATOR(pg_catalog.-) 1)), node, $2"
		" FROM consistent_ring.tokens"
		" WHERE ring_id OPERATOR(pg_catalog.=) $1 AND removed_in IS NULL",
		3, types, values, SPI_OK_INSERT);
	ring_admin_run("UPDATE consistent_ring.rings SET slots = slots OPERATOR(pg_catalog.*) 2"
		" WHERE ring_id OPERATOR(pg_catalog.=) $1",
		1, types, values, SPI_OK_UPDATE);
	end_as_catalog_owner(&caller);

	PG_RETURN_INT32(version);
}

/*
 * ring_assign_slots(ring, node, first, last): give hash slots first .. last
 * of a 'redis' ring to node, whoever holds them now, as CLUSTER SETSLOT
 * ... NODE does; returns the version.  Ranges given later in a transaction
 * win over earlier ones.  Assigning slots to the node that holds them
 * already changes nothing and returns the current version.
 */
PG_FUNCTION_INFO_V1(ring_assign_slots);
Datum
ring_assign_slots(PG_FUNCTION_ARGS)
{
	text	   *ring = PG_GETARG_TEXT_PP(0);
	text	   *node = PG_GETARG_TEXT_PP(1);
	int32		first = PG_GETARG_INT32(2);
	int32		last = PG_GETARG_INT32(3);
	RingChange	chg;
	RingCaller	caller;
	double		weight;
	int32		added_in;
	int32		version;
	text	  **names;
	LayoutNode *nodes;
	LayoutToken *old;
	LayoutToken *new;
	int			nnodes;
	uint32		nold;
	uint32		nnew;
	int32	   *owner;
	int32		target;
	bool		changed = false;

	if (first < 0 || last >= RING_REDIS_SLOTS || first > last)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("slot range %d .. %d is not within 0 .. %d",
						first, last, RING_REDIS_SLOTS - 1),
				 errdetail("The first slot must be at least 0, the last at most %d, and the first not after the last.",
						   RING_REDIS_SLOTS - 1)));

	ring_change_begin(ring, &caller, &chg);
	if (chg.algorithm != RING_ALGORITHM_REDIS)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("ring \"%s\" has no hash slots to assign", chg.name),
				 errdetail("Its algorithm is '%s'; only 'redis' rings have assignable hash slots.",
						   ring_algorithm_name(chg.algorithm))));
	if (!ring_node_current(&chg, node, &weight, &added_in, NULL, NULL, NULL))
		ring_report_missing_node(&chg, node);
	if (!(weight > 0))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("node \"%s\" of ring \"%s\" has weight 0",
						text_to_cstring(node), chg.name),
				 errhint("Give it a weight with ring_set_weight() first.")));

	nnodes = layout_nodes(&chg, &names, &nodes);
	nold = layout_tokens(&chg, names, nnodes, &old, 0);
	owner = slot_owners(&chg, old, nold);
	target = ring_layout_find_name(names, nnodes, node);
	Assert(target >= 0);
	for (int32 s = first; s <= last; s++)
	{
		changed |= owner[s] != target;
		owner[s] = target;
	}
	if (!changed)
		version = chg.version;
	else
	{
		version = ring_change_version(&chg, &caller);
		new = slot_tokens(&chg, owner, &nnew);
		store_tokens(&chg, version, names, old, nold, new, nnew);
	}
	end_as_catalog_owner(&caller);

	PG_RETURN_INT32(version);
}

/*
 * Give slots[i] of a 'slots' or 'redis' ring to nodes[i] (i < n), all in
 * one new version, for ring_rebalance; the ring must still be at the
 * version the plan was made from.  Returns the version.
 */
int32
ring_apply_slot_owners(text *ring, const RingMeasured *measured, int n,
					   const int32 *slots, text *const *nodes)
{
	RingChange	chg;
	RingCaller	caller;
	text	  **names;
	LayoutNode *lnodes;
	LayoutToken *old;
	LayoutToken *new;
	int			nnodes;
	uint32		nold;
	uint32		nnew;
	int32	   *owner;
	int32		version;

	ring_change_begin(ring, &caller, &chg);
	ring_check_measured(&chg, measured);
	Assert(chg.algorithm == RING_ALGORITHM_SLOTS || chg.algorithm == RING_ALGORITHM_REDIS);
	nnodes = layout_nodes(&chg, &names, &lnodes);
	nold = layout_tokens(&chg, names, nnodes, &old, 0);
	owner = slot_owners(&chg, old, nold);
	for (int i = 0; i < n; i++)
	{
		int32		target = ring_layout_find_name(names, nnodes, nodes[i]);

		if (target < 0 || slots[i] < 0 || slots[i] >= chg.slots)
			elog(ERROR, "rebalance plan names slot %d or a node not in ring \"%s\"",
				 slots[i], chg.name);
		owner[slots[i]] = target;
	}
	version = ring_change_version(&chg, &caller);
	new = slot_tokens(&chg, owner, &nnew);
	store_tokens(&chg, version, names, old, nold, new, nnew);
	end_as_catalog_owner(&caller);
	return version;
}

/*
 * Give the stored tokens tokens[i] of a 'cassandra' ring or a balanced
 * 'vnode' ring to nodes[i] (i < n), all in one new version, for
 * ring_rebalance: the range each token ends moves with it.  The ring must
 * still be what the plan was made from.  Returns the version.
 */
int32
ring_apply_token_owners(text *ring, const RingMeasured *measured, int n,
						const int64 *tokens, text *const *nodes)
{
	RingChange	chg;
	RingCaller	caller;
	text	  **names;
	LayoutNode *lnodes;
	LayoutToken *old;
	LayoutToken *new;
	int			nnodes;
	uint32		nold;
	int32		version;

	ring_change_begin(ring, &caller, &chg);
	ring_check_measured(&chg, measured);
	Assert(chg.stored_tokens);
	nnodes = layout_nodes(&chg, &names, &lnodes);
	nold = layout_tokens(&chg, names, nnodes, &old, 0);
	new = palloc(sizeof(LayoutToken) * Max(nold, 1));
	memcpy(new, old, sizeof(LayoutToken) * nold);
	for (int i = 0; i < n; i++)
	{
		uint64		biased = (uint64) tokens[i] ^ (UINT64CONST(1) << 63);
		int32		target = ring_layout_find_name(names, nnodes, nodes[i]);
		uint32		lo = 0;
		uint32		hi = nold;

		while (lo < hi)
		{
			uint32		mid = lo + (hi - lo) / 2;

			if (new[mid].biased < biased)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (target < 0 || lo == nold || new[lo].biased != biased)
			elog(ERROR, "rebalance plan names token " INT64_FORMAT " or a node not in ring \"%s\"",
				 tokens[i], chg.name);
		new[lo].node = target;
	}
	version = ring_change_version(&chg, &caller);
	store_tokens(&chg, version, names, old, nold, new, nold);
	end_as_catalog_owner(&caller);
	return version;
}
