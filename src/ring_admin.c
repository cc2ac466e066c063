/*-------------------------------------------------------------------------
 *
 * ring_admin.c
 *	  SQL functions that create, change and drop rings.
 *
 * Versions: the first change a transaction makes to a ring locks the ring's
 * row (SELECT ... FOR UPDATE), so concurrent changers of one ring queue up,
 * and creates version current + 1.  Later changes in the same transaction
 * see that the rings row was last written by this transaction and join that
 * version.  A rolled-back transaction leaves nothing, so its version number
 * is given to the next committed change; committed numbers never repeat.
 * Version 0 of every ring is the empty ring ring_create() made.
 *
 * Privileges: a ring's owner (its creator), members of the owning role and
 * superusers may change or drop it and grant or revoke lookups.  After that
 * check, the changes go through SPI as the owner of the catalog tables
 * (which nobody else may write), in a security-restricted operation, with
 * fully qualified names; they fire the tables' invalidation triggers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "port/pg_bitutils.h"
#include "utils/lsyscache.h"

#include "ring_catalog.h"
#include "ring_keys.h"
#include "ring_ketama.h"
#include "ring_layout.h"
#include "ring_rebalance.h"
#include "ring_redis.h"

/* A ring locked for a change. */
typedef struct RingChange
{
	int32		ring_id;
	int32		version;		/* newest version */
	int32		vnodes;
	RingAlgorithm algorithm;
	int32		slots;			/* 'slots' rings: number of slots */
	int32		table_size;		/* 'maglev' rings: table size */
	bool		stored_tokens;	/* its tokens are in the tokens table */
	bool		version_is_own; /* newest version made by this transaction */
	const char *name;
	RingAccess	access;
} RingChange;

/*
 * Connect to SPI and act as the owner of the catalog tables, with
 * search_path pinned to pg_catalog (every name is qualified anyway).  An
 * error restores the caller's identity and settings with the abort.
 */
void
begin_as_catalog_owner(RingCaller *caller)
{
	Oid			owner = ring_catalog_owner();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	GetUserIdAndSecContext(&caller->user, &caller->sec_context);
	SetUserIdAndSecContext(owner, caller->sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	caller->guc_nest_level = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

/* Back to the calling user and settings; disconnect from SPI. */
void
end_as_catalog_owner(RingCaller *caller)
{
	AtEOXact_GUC(true, caller->guc_nest_level);
	SetUserIdAndSecContext(caller->user, caller->sec_context);
	SPI_finish();
}

/* insufficient_privilege unless the caller may change the ring. */
static void
check_ring_owner(const RingCaller *caller, const RingChange *chg)
{
	if (!has_privs_of_role(caller->user, chg->access.owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of ring \"%s\"", chg->name)));
}

/* Reject an empty or too long ring or node name. */
static void
check_name(const char *what, text *name)
{
	int			len = VARSIZE_ANY_EXHDR(name);

	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s name must not be empty", what)));
	if (len > RING_NAME_MAXLEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s name is too long", what),
				 errdetail("The name is %d bytes long; the limit is %d bytes.",
						   len, RING_NAME_MAXLEN)));
}

/*
 * Reject a server name that is no foreign server, or one the caller may not
 * use (USAGE, as for a foreign table on it): a node's server is where the
 * ring's users are sent with their own user mappings.
 */
static void
check_server(text *server)
{
	ForeignServer *srv;

	check_name("server", server);
	srv = GetForeignServerByName(text_to_cstring(server), false);
	if (pg_foreign_server_aclcheck(srv->serverid, GetUserId(), ACL_USAGE) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_FOREIGN_SERVER, srv->servername);
}

/* Reject a weight that is negative, NaN, infinite or gives too many tokens. */
static double
check_weight(double weight, const RingChange *chg, const char *node)
{
	if (isnan(weight) || isinf(weight) || weight < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid weight %g for node \"%s\"", weight, node),
				 errdetail("A weight must be a finite number greater than or equal to 0.")));
	if ((chg->algorithm == RING_ALGORITHM_VNODE || chg->algorithm == RING_ALGORITHM_CASSANDRA) &&
		ring_virtual_nodes(chg->vnodes, weight) > RING_MAX_NODE_TOKENS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("weight %g of node \"%s\" is too large", weight, node),
				 errdetail("Ring \"%s\" gives %d virtual nodes per unit of weight, and a node may have at most %d.",
						   chg->name, chg->vnodes, RING_MAX_NODE_TOKENS)));
	if (chg->algorithm == RING_ALGORITHM_JUMP && weight != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid weight %g for node \"%s\"", weight, node),
				 errdetail("A 'jump' ring gives every node one bucket: its nodes have weight 1."),
				 errhint("Remove the node to drain it.")));
	if (RING_ALGORITHM_IS_KETAMA(chg->algorithm) &&
		(weight != floor(weight) || weight > (double) PG_UINT32_MAX))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid weight %g for node \"%s\"", weight, node),
				 errdetail("A '%s' ring takes whole-number weights from 0 to %u, as memcached clients do.",
						   ring_algorithm_name(chg->algorithm), PG_UINT32_MAX)));
	/* -0 is 0 */
	return weight == 0 ? 0.0 : weight;
}

/*
 * Reject a node name that the ring's algorithm cannot use: 'ketama' needs
 * "host:port", the form its point strings are made from.
 */
static void
check_node_name(const RingChange *chg, text *node)
{
	int			hostlen;
	int			port;

	if ((chg->algorithm == RING_ALGORITHM_KETAMA || chg->algorithm == RING_ALGORITHM_TWEMPROXY) &&
		!ring_ketama_split(VARDATA_ANY(node), VARSIZE_ANY_EXHDR(node), &hostlen, &port))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("node name \"%s\" is not of the form host:port", text_to_cstring(node)),
				 errdetail("A '%s' ring makes its points from the host and the port, a decimal number from 1 to 65535.",
						   ring_algorithm_name(chg->algorithm)),
				 errhint("Name the node as the client lists the server, for example '10.0.0.1:11211'.")));
}

/* Run one statement through SPI; returns the number of rows processed. */
static uint64
run(const char *sql, int nargs, Oid *types, Datum *values, int expect)
{
	int			ret = SPI_execute_with_args(sql, nargs, types, values, NULL,
											false, 0);

	if (ret != expect)
		elog(ERROR, "SPI_execute_with_args failed: %s (%s)",
			 SPI_result_code_string(ret), sql);
	return SPI_processed;
}

/*
 * Lock the ring called name for a change (undefined_object if missing) and
 * check the caller owns it.  Whether the newest version is this
 * transaction's own comes from its versions row, which nothing updates.
 */
static void
ring_lock(text *ring, const RingCaller *caller, RingChange *chg)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {PointerGetDatum(ring)};
	Oid			vtypes[2];
	Datum		vvalues[2];
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull;
	Datum		value;
	TransactionId xmin;

	/* lock the rings row alone: a join would defeat READ COMMITTED's recheck */
	if (run("SELECT ring_id, version, vnodes, owner, public_lookup, readers,"
			" algorithm, slots, table_size, token_allocation"
			" FROM consistent_ring.rings WHERE name OPERATOR(pg_catalog.=) $1 FOR UPDATE",
			1, types, values, SPI_OK_SELECT) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("ring \"%s\" does not exist", text_to_cstring(ring))));

	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	chg->ring_id = DatumGetInt32(SPI_getbinval(row, desc, 1, &isnull));
	chg->version = DatumGetInt32(SPI_getbinval(row, desc, 2, &isnull));
	chg->vnodes = DatumGetInt32(SPI_getbinval(row, desc, 3, &isnull));
	chg->name = text_to_cstring(ring);
	ring_access_from_datums(SPI_getbinval(row, desc, 4, &isnull),
							SPI_getbinval(row, desc, 5, &isnull),
							SPI_getbinval(row, desc, 6, &isnull),
							&chg->access);
	chg->algorithm = ring_algorithm_parse(SPI_getvalue(row, desc, 7));
	value = SPI_getbinval(row, desc, 8, &isnull);
	chg->slots = isnull ? 0 : DatumGetInt32(value);
	value = SPI_getbinval(row, desc, 9, &isnull);
	chg->table_size = isnull ? 0 : DatumGetInt32(value);
	chg->stored_tokens = chg->algorithm == RING_ALGORITHM_SLOTS ||
		chg->algorithm == RING_ALGORITHM_REDIS ||
		chg->algorithm == RING_ALGORITHM_CASSANDRA ||
		strcmp(SPI_getvalue(row, desc, 10), "balanced") == 0;

	/* the newest version's row, written once by the transaction that made it */
	vtypes[0] = INT4OID;
	vtypes[1] = INT4OID;
	vvalues[0] = Int32GetDatum(chg->ring_id);
	vvalues[1] = Int32GetDatum(chg->version);
	if (run("SELECT xmin FROM consistent_ring.versions"
			" WHERE ring_id OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2",
			2, vtypes, vvalues, SPI_OK_SELECT) != 1)
		elog(ERROR, "version %d of ring \"%s\" has no versions row",
			 chg->version, chg->name);
	xmin = DatumGetTransactionId(SPI_getbinval(SPI_tuptable->vals[0],
											   SPI_tuptable->tupdesc, 1, &isnull));
	chg->version_is_own = chg->version > 0 && TransactionIdIsCurrentTransactionId(xmin);
	check_ring_owner(caller, chg);
}

/* The version this transaction's changes go to, creating it if needed. */
static int32
ring_change_version(RingChange *chg, const RingCaller *caller)
{
	Oid			types[3] = {INT4OID, INT4OID, NAMEOID};
	Datum		values[3];

	if (chg->version_is_own)
		return chg->version;

	if (chg->version == PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("ring \"%s\" has run out of version numbers", chg->name)));

	values[0] = Int32GetDatum(chg->ring_id);
	values[1] = Int32GetDatum(chg->version + 1);
	values[2] = DirectFunctionCall1(namein,
									CStringGetDatum(GetUserNameFromId(caller->user, false)));
	run("INSERT INTO consistent_ring.versions (ring_id, version, created_by) VALUES ($1, $2, $3)",
		3, types, values, SPI_OK_INSERT);
	run("UPDATE consistent_ring.rings SET version = $2"
		" WHERE ring_id OPERATOR(pg_catalog.=) $1",
		2, types, values, SPI_OK_UPDATE);
	chg->version++;
	chg->version_is_own = true;
	return chg->version;
}

/*
 * Find a node's current row: its weight, the version it came in, its zone,
 * its place in the order of joining and its server.
 */
static bool
node_current(const RingChange *chg, text *node, double *weight, int32 *added_in,
			 text **zone, int64 *joined, text **server)
{
	Oid			types[2] = {INT4OID, TEXTOID};
	Datum		values[2] = {Int32GetDatum(chg->ring_id), PointerGetDatum(node)};
	bool		isnull;

	if (run("SELECT weight, added_in, zone, joined, server FROM consistent_ring.nodes"
			" WHERE ring_id OPERATOR(pg_catalog.=) $1 AND node OPERATOR(pg_catalog.=) $2"
			" AND removed_in IS NULL",
			2, types, values, SPI_OK_SELECT) == 0)
		return false;
	*weight = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	*added_in = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	if (zone)
	{
		Datum		z = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);

		*zone = isnull ? NULL : DatumGetTextPCopy(z);
	}
	if (joined)
		*joined = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &isnull));
	if (server)
	{
		Datum		v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5, &isnull);

		*server = isnull ? NULL : DatumGetTextPCopy(v);
	}
	return true;
}

/* undefined_object for a node that is not in the ring. */
static void
report_missing_node(const RingChange *chg, text *node)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("node \"%s\" does not exist in ring \"%s\"",
					text_to_cstring(node), chg->name)));
}

/*
 * Insert a node row that starts at version; joined is its place in the
 * order of joining, or -1 for a node joining now.
 */
static void
node_insert(const RingChange *chg, text *node, double weight, int32 version,
			text *zone, int64 joined, text *server)
{
	Oid			types[7] = {INT4OID, TEXTOID, FLOAT8OID, INT4OID, TEXTOID, INT8OID, TEXTOID};
	Datum		values[7] = {Int32GetDatum(chg->ring_id), PointerGetDatum(node),
		Float8GetDatum(weight), Int32GetDatum(version), PointerGetDatum(zone),
	Int64GetDatum(joined), PointerGetDatum(server)};
	char		nulls[7] = {' ', ' ', ' ', ' ', zone == NULL ? 'n' : ' ', joined < 0 ? 'n' : ' ',
	server == NULL ? 'n' : ' '};
	int			ret;

	ret = SPI_execute_with_args("INSERT INTO consistent_ring.nodes (ring_id, node, weight, added_in, zone, joined, server)"
								" VALUES ($1, $2, $3, $4, $5,"
								" COALESCE($6, pg_catalog.nextval('consistent_ring.nodes_joined_seq'::pg_catalog.regclass)), $7)",
								7, types, values, nulls, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
}

/*
 * End a node's current row at version: delete it if it was made in this
 * very version, else mark it removed from this version on.
 */
static void
node_end(const RingChange *chg, text *node, int32 added_in, int32 version)
{
	Oid			types[3] = {INT4OID, TEXTOID, INT4OID};
	Datum		values[3] = {Int32GetDatum(chg->ring_id), PointerGetDatum(node),
	Int32GetDatum(version)};

	if (added_in == version)
		run("DELETE FROM consistent_ring.nodes"
			" WHERE ring_id OPERATOR(pg_catalog.=) $1 AND node OPERATOR(pg_catalog.=) $2"
			" AND added_in OPERATOR(pg_catalog.=) $3",
			3, types, values, SPI_OK_DELETE);
	else
		run("UPDATE consistent_ring.nodes SET removed_in = $3"
			" WHERE ring_id OPERATOR(pg_catalog.=) $1 AND node OPERATOR(pg_catalog.=) $2"
			" AND removed_in IS NULL",
			3, types, values, SPI_OK_UPDATE);
}

/*
 * Reject a change that leaves the ring with too many nodes, virtual nodes
 * ('vnode') or weighted nodes for its table ('maglev').
 */
static void
check_ring_size(const RingChange *chg)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(chg->ring_id)};
	int64		total = 0;
	int64		weighted = 0;
	uint64		n;

	n = run("SELECT weight FROM consistent_ring.nodes"
			" WHERE ring_id OPERATOR(pg_catalog.=) $1 AND removed_in IS NULL",
			1, types, values, SPI_OK_SELECT);
	if (n > RING_MAX_NODES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("ring \"%s\" would have too many nodes", chg->name),
				 errdetail("A ring may have at most %d nodes.", RING_MAX_NODES)));
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;
		double		w = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));

		total += ring_virtual_nodes(chg->vnodes, w);
		weighted += w > 0;
	}
	if (chg->algorithm == RING_ALGORITHM_VNODE && total > RING_MAX_RING_TOKENS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("ring \"%s\" would have too many virtual nodes", chg->name),
				 errdetail("It would have " INT64_FORMAT " virtual nodes; the limit is %d.",
						   total, RING_MAX_RING_TOKENS)));
	if (chg->algorithm == RING_ALGORITHM_REDIS && weighted > RING_REDIS_SLOTS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("ring \"%s\" would have more nodes than hash slots", chg->name),
				 errdetail("It would have " INT64_FORMAT " nodes with a weight above 0, and a 'redis' ring has %d hash slots.",
						   weighted, RING_REDIS_SLOTS)));
	if (chg->algorithm == RING_ALGORITHM_MAGLEV && weighted > chg->table_size)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("ring \"%s\" would have more nodes than table entries", chg->name),
				 errdetail("It would have " INT64_FORMAT " nodes with a weight above 0, and its table has %d entries.",
						   weighted, chg->table_size)));
}

/* The live nodes of a ring, in name byte order, for a layout. */
static int
layout_nodes(const RingChange *chg, text ***names, LayoutNode **nodes)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(chg->ring_id)};
	uint64		n;

	n = run("SELECT node, weight, joined FROM consistent_ring.nodes"
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

/* Index of name among names (sorted by bytes), or -1. */
static int32
find_name(text **names, int n, text *name)
{
	int			lo = 0;
	int			hi = n - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;
		int			la = VARSIZE_ANY_EXHDR(names[mid]);
		int			lb = VARSIZE_ANY_EXHDR(name);
		int			c = memcmp(VARDATA_ANY(names[mid]), VARDATA_ANY(name), Min(la, lb));

		if (c == 0)
			c = (la > lb) - (la < lb);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
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
		n = run("SELECT token, node FROM consistent_ring.tokens"
				" WHERE ring_id OPERATOR(pg_catalog.=) $1"
				" AND added_in OPERATOR(pg_catalog.<) $2"
				" AND (removed_in IS NULL OR removed_in OPERATOR(pg_catalog.>=) $2)"
				" ORDER BY token",
				2, types, values, SPI_OK_SELECT);
	else
		n = run("SELECT token, node FROM consistent_ring.tokens"
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
		(*tokens)[i].node = find_name(names, nnames,
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
	run(sql, nodes ? 4 : 3, types, values, expect);
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

/* Order of joining, for qsort_arg over node indexes. */
static int
joined_cmp(const void *a, const void *b, void *arg)
{
	const LayoutNode *nodes = arg;
	int64		x = nodes[*(const int32 *) a].joined;
	int64		y = nodes[*(const int32 *) b].joined;

	return (x > y) - (x < y);
}

/*
 * A new Redis cluster (doc/placement.md, "'redis'"): the nodes of positive weight
 * split the slots as redis-cli --cluster create does, in the order they
 * joined.
 */
static void
redis_create_layout(int32 *owner, const LayoutNode *nodes, int nnodes)
{
	int32	   *order = palloc(Max(nnodes, 1) * sizeof(int32));
	int32	   *first;
	int			n = 0;

	for (int i = 0; i < nnodes; i++)
		if (nodes[i].weight > 0)
			order[n++] = i;
	qsort_arg(order, n, sizeof(int32), joined_cmp, (void *) nodes);

	for (int32 s = 0; s < RING_REDIS_SLOTS; s++)
		owner[s] = -1;
	if (n == 0)
		return;
	first = palloc((n + 1) * sizeof(int32));
	ring_redis_create_layout(n, first);
	for (int i = 0; i < n; i++)
		for (int32 s = first[i]; s < first[i + 1]; s++)
			owner[s] = order[i];
}

/* Token order, for qsort. */
static int
layout_token_cmp(const void *a, const void *b)
{
	uint64		x = ((const LayoutToken *) a)->biased;
	uint64		y = ((const LayoutToken *) b)->biased;

	return (x > y) - (x < y);
}

/*
 * The new tokens of a 'cassandra' ring after a change to node changed:
 * every other node keeps its tokens; changed gets the tokens given (a new
 * node), or as many as vnodes * weight says, added or taken away by the
 * balanced rule (ring_layout_balanced).
 */
static LayoutToken *
cassandra_layout(const RingChange *chg, text **names, LayoutNode *nodes,
				 int nnodes, const LayoutToken *old, uint32 nold, text *changed,
				 ArrayType *given, uint32 *nnew)
{
	int32		target = changed ? find_name(names, nnodes, changed) : -1;
	LayoutToken *new;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	uint32		n = 0;

	for (int i = 0; i < nnodes; i++)
		nodes[i].target = 0;
	for (uint32 t = 0; t < nold; t++)
		if (old[t].node >= 0)
			nodes[old[t].node].target++;
	if (given == NULL)
	{
		if (target >= 0)
			nodes[target].target = ring_virtual_nodes(chg->vnodes, nodes[target].weight);
		return ring_layout_balanced(old, nold, nodes, nnodes, nnew);
	}

	Assert(target >= 0);
	if (ARR_NDIM(given) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("tokens must be a one-dimensional array")));
	deconstruct_array(given, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, &nelems);
	if (nelems == 0 || nelems > RING_MAX_NODE_TOKENS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("node \"%s\" must be given between 1 and %d tokens",
						text_to_cstring(changed), RING_MAX_NODE_TOKENS),
				 errdetail("%d tokens were given.", nelems)));
	new = palloc((nold + nelems) * sizeof(LayoutToken));
	for (uint32 t = 0; t < nold; t++)
		if (old[t].node >= 0)
			new[n++] = old[t];
	for (int e = 0; e < nelems; e++)
	{
		if (nulls[e])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("tokens must not be NULL")));
		new[n].biased = (uint64) DatumGetInt64(elems[e]) ^ (UINT64CONST(1) << 63);
		new[n++].node = target;
	}
	qsort(new, n, sizeof(LayoutToken), layout_token_cmp);
	for (uint32 t = 1; t < n; t++)
		if (new[t].biased == new[t - 1].biased)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("token " INT64_FORMAT " is given twice",
							(int64) (new[t].biased ^ (UINT64CONST(1) << 63))),
					 errdetail("Node \"%s\" would share it with node \"%s\"; every token of a ring belongs to one node.",
							   text_to_cstring(changed),
							   text_to_cstring(names[new[t].node == target ? new[t - 1].node : new[t].node]))));
	*nnew = n;
	return new;
}

/*
 * Bring the stored tokens of the ring in line with its nodes at version
 * (ring_layout.c chooses them from the current ones, this version's own
 * changes included).  Several changes in one transaction are so applied one
 * after the other, each moving what it needs to.
 */
static void
relayout(const RingChange *chg, int32 version, text *changed, ArrayType *given)
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
			redis_create_layout(owner, nodes, nnodes);
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
		new = cassandra_layout(chg, names, nodes, nnodes, old, nold, changed, given, &nnew);
	else
		new = ring_layout_balanced(old, nold, nodes, nnodes, &nnew);

	store_tokens(chg, version, names, old, nold, new, nnew);
}

/* Whether n is a prime number. */
static bool
is_prime(int32 n)
{
	if (n < 2)
		return false;
	for (int32 d = 2; (int64) d * d <= n; d++)
	{
		if (n % d == 0)
			return false;
	}
	return true;
}

/* invalid_parameter_value: option applies to the other algorithms only. */
static void
report_option_algorithm(const char *option, const char *algorithm,
						RingAlgorithm given)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s applies only to '%s' rings", option, algorithm),
			 errdetail("The ring's algorithm is '%s'.", ring_algorithm_name(given))));
}

/*
 * ring_create(ring, algorithm, vnodes, slots, table_size, token_allocation):
 * a new, empty ring at version 0.  Not strict: the last three are NULL
 * unless given; a NULL ring, algorithm or vnodes does nothing.
 */
PG_FUNCTION_INFO_V1(ring_create);
Datum
ring_create(PG_FUNCTION_ARGS)
{
	text	   *ring;
	RingAlgorithm algorithm;
	int32		vnodes;
	Datum		slots = (Datum) 0;
	Datum		table_size = (Datum) 0;
	const char *allocation = "hashed";
	Oid			types[7] = {TEXTOID, TEXTOID, INT4OID, OIDOID, INT4OID, INT4OID, TEXTOID};
	Datum		values[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', 'n', 'n', ' '};
	bool		isnull;
	int			ret;
	RingCaller	caller;
	RingChange	chg;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_VOID();
	ring = PG_GETARG_TEXT_PP(0);
	vnodes = PG_GETARG_INT32(2);
	check_name("ring", ring);
	algorithm = ring_algorithm_parse(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	if (vnodes < 1 || vnodes > RING_MAX_VNODES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("vnodes must be between 1 and %d", RING_MAX_VNODES),
				 errdetail("The value given was %d.", vnodes)));

	if (!PG_ARGISNULL(3) && algorithm != RING_ALGORITHM_SLOTS)
		report_option_algorithm("slots", "slots", algorithm);
	if (algorithm == RING_ALGORITHM_SLOTS)
	{
		int32		n = PG_ARGISNULL(3) ? RING_DEFAULT_SLOTS : PG_GETARG_INT32(3);

		if (n < 1 || n > RING_MAX_SLOTS || (n & (n - 1)) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("slots must be a power of two between 1 and %d", RING_MAX_SLOTS),
					 errdetail("The value given was %d.", n)));
		slots = Int32GetDatum(n);
		nulls[4] = ' ';
	}

	if (algorithm == RING_ALGORITHM_REDIS)
	{
		slots = Int32GetDatum(RING_REDIS_SLOTS);
		nulls[4] = ' ';
	}

	if (!PG_ARGISNULL(4) && algorithm != RING_ALGORITHM_MAGLEV)
		report_option_algorithm("table_size", "maglev", algorithm);
	if (algorithm == RING_ALGORITHM_MAGLEV)
	{
		int32		n = PG_ARGISNULL(4) ? RING_DEFAULT_TABLE_SIZE : PG_GETARG_INT32(4);

		if (n > RING_MAX_TABLE_SIZE || !is_prime(n))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("table_size must be a prime number between 2 and %d",
							RING_MAX_TABLE_SIZE),
					 errdetail("The value given was %d.", n)));
		table_size = Int32GetDatum(n);
		nulls[5] = ' ';
	}

	if (!PG_ARGISNULL(5))
	{
		allocation = text_to_cstring(PG_GETARG_TEXT_PP(5));
		if (strcmp(allocation, "hashed") != 0 && strcmp(allocation, "balanced") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown token allocation \"%s\"", allocation),
					 errhint("Valid token allocations are: hashed, balanced.")));
		if (algorithm != RING_ALGORITHM_VNODE)
			report_option_algorithm("token_allocation", "vnode", algorithm);
	}

	begin_as_catalog_owner(&caller);
	values[0] = PointerGetDatum(ring);
	values[1] = CStringGetTextDatum(ring_algorithm_name(algorithm));
	values[2] = Int32GetDatum(vnodes);
	values[3] = ObjectIdGetDatum(caller.user);
	values[4] = slots;
	values[5] = table_size;
	values[6] = CStringGetTextDatum(allocation);
	ret = SPI_execute_with_args("INSERT INTO consistent_ring.rings"
								" (name, algorithm, vnodes, owner, slots, table_size, token_allocation)"
								" VALUES ($1, $2, $3, $4, $5, $6, $7)"
								" ON CONFLICT (name) DO NOTHING RETURNING ring_id",
								7, types, values, nulls, false, 0);
	if (ret != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("ring \"%s\" already exists", text_to_cstring(ring))));

	/* version 0, the empty ring */
	chg.ring_id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	chg.version = -1;
	chg.version_is_own = false;
	chg.name = text_to_cstring(ring);
	(void) ring_change_version(&chg, &caller);
	end_as_catalog_owner(&caller);

	PG_RETURN_VOID();
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

	begin_as_catalog_owner(&caller);
	ring_lock(ring, &caller, &chg);
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
	run("INSERT INTO consistent_ring.tokens (ring_id, token, node, added_in)"
		" SELECT ring_id, token OPERATOR(pg_catalog.#) (1::bigint OPERATOR(pg_catalog.<<) ($3 OPERATOR(pg_catalog.-) 1)), node, $2"
		" FROM consistent_ring.tokens"
		" WHERE ring_id OPERATOR(pg_catalog.=) $1 AND removed_in IS NULL",
		3, types, values, SPI_OK_INSERT);
	run("UPDATE consistent_ring.rings SET slots = slots OPERATOR(pg_catalog.*) 2"
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

	begin_as_catalog_owner(&caller);
	ring_lock(ring, &caller, &chg);
	if (chg.algorithm != RING_ALGORITHM_REDIS)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("ring \"%s\" has no hash slots to assign", chg.name),
				 errdetail("Its algorithm is '%s'; only 'redis' rings have assignable hash slots.",
						   ring_algorithm_name(chg.algorithm))));
	if (!node_current(&chg, node, &weight, &added_in, NULL, NULL, NULL))
		report_missing_node(&chg, node);
	if (!(weight > 0))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("node \"%s\" of ring \"%s\" has weight 0",
						text_to_cstring(node), chg.name),
				 errhint("Give it a weight with ring_set_weight() first.")));

	nnodes = layout_nodes(&chg, &names, &nodes);
	nold = layout_tokens(&chg, names, nnodes, &old, 0);
	owner = slot_owners(&chg, old, nold);
	target = find_name(names, nnodes, node);
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
 * ring_add_node(ring, node, weight, zone): add a node, in a zone or none;
 * returns the version.  Not strict (zone may be NULL): a NULL ring, node or
 * weight gives NULL.
 */
PG_FUNCTION_INFO_V1(ring_add_node);
Datum
ring_add_node(PG_FUNCTION_ARGS)
{
	text	   *ring;
	text	   *node;
	double		weight;
	text	   *zone = PG_ARGISNULL(3) ? NULL : PG_GETARG_TEXT_PP(3);
	ArrayType  *tokens = PG_NARGS() > 4 && !PG_ARGISNULL(4) ? PG_GETARG_ARRAYTYPE_P(4) : NULL;
	text	   *server = PG_NARGS() > 5 && !PG_ARGISNULL(5) ? PG_GETARG_TEXT_PP(5) : NULL;
	RingChange	chg;
	RingCaller	caller;
	double		oldweight;
	int32		added_in;
	int32		version;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_NULL();
	ring = PG_GETARG_TEXT_PP(0);
	node = PG_GETARG_TEXT_PP(1);
	weight = PG_GETARG_FLOAT8(2);
	check_name("node", node);
	if (zone != NULL)
		check_name("zone", zone);
	if (server != NULL)
		check_server(server);
	begin_as_catalog_owner(&caller);
	ring_lock(ring, &caller, &chg);
	weight = check_weight(weight, &chg, text_to_cstring(node));
	check_node_name(&chg, node);
	if (tokens != NULL && chg.algorithm != RING_ALGORITHM_CASSANDRA)
		report_option_algorithm("tokens", "cassandra", chg.algorithm);
	if (node_current(&chg, node, &oldweight, &added_in, NULL, NULL, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("node \"%s\" already exists in ring \"%s\"",
						text_to_cstring(node), chg.name),
				 errhint("Use ring_set_weight() to change its weight.")));

	version = ring_change_version(&chg, &caller);
	node_insert(&chg, node, weight, version, zone, -1, server);
	check_ring_size(&chg);
	if (chg.stored_tokens)
		relayout(&chg, version, node, tokens);
	end_as_catalog_owner(&caller);

	PG_RETURN_INT32(version);
}

/*
 * End the current rows of the table (pins or tokens) matching "column = $3"
 * of a ring at version: delete those made in this very version, mark the
 * others removed from it on.
 */
static void
rows_end(const RingChange *chg, const char *table, const char *column,
		 Oid type, Datum value, int32 version)
{
	Oid			types[3] = {INT4OID, INT4OID, type};
	Datum		values[3] = {Int32GetDatum(chg->ring_id), Int32GetDatum(version), value};

	run(psprintf("DELETE FROM consistent_ring.%s WHERE ring_id OPERATOR(pg_catalog.=) $1"
				 " AND added_in OPERATOR(pg_catalog.=) $2 AND %s OPERATOR(pg_catalog.=) $3",
				 table, column),
		3, types, values, SPI_OK_DELETE);
	run(psprintf("UPDATE consistent_ring.%s SET removed_in = $2"
				 " WHERE ring_id OPERATOR(pg_catalog.=) $1 AND removed_in IS NULL"
				 " AND %s OPERATOR(pg_catalog.=) $3",
				 table, column),
		3, types, values, SPI_OK_UPDATE);
}

/* ring_remove_node(ring, node): remove a node; returns the version. */
PG_FUNCTION_INFO_V1(ring_remove_node);
Datum
ring_remove_node(PG_FUNCTION_ARGS)
{
	text	   *ring = PG_GETARG_TEXT_PP(0);
	text	   *node = PG_GETARG_TEXT_PP(1);
	RingChange	chg;
	RingCaller	caller;
	double		weight;
	int32		added_in;
	int32		version;

	begin_as_catalog_owner(&caller);
	ring_lock(ring, &caller, &chg);
	if (!node_current(&chg, node, &weight, &added_in, NULL, NULL, NULL))
		report_missing_node(&chg, node);

	version = ring_change_version(&chg, &caller);
	node_end(&chg, node, added_in, version);
	rows_end(&chg, "pins", "node", TEXTOID, PointerGetDatum(node), version);
	if (chg.stored_tokens)
		relayout(&chg, version, node, NULL);
	end_as_catalog_owner(&caller);

	PG_RETURN_INT32(version);
}

/*
 * ring_set_weight(ring, node, weight): change a node's weight; returns the
 * version.  Setting the weight a node already has changes nothing and
 * returns the current version.
 */
PG_FUNCTION_INFO_V1(ring_set_weight);
Datum
ring_set_weight(PG_FUNCTION_ARGS)
{
	text	   *ring = PG_GETARG_TEXT_PP(0);
	text	   *node = PG_GETARG_TEXT_PP(1);
	double		weight = PG_GETARG_FLOAT8(2);
	RingChange	chg;
	RingCaller	caller;
	double		oldweight;
	int32		added_in;
	int32		version;
	text	   *zone;
	int64		joined;
	text	   *server;

	begin_as_catalog_owner(&caller);
	ring_lock(ring, &caller, &chg);
	weight = check_weight(weight, &chg, text_to_cstring(node));
	if (!node_current(&chg, node, &oldweight, &added_in, &zone, &joined, &server))
		report_missing_node(&chg, node);

	if (oldweight == weight)
		version = chg.version;
	else
	{
		version = ring_change_version(&chg, &caller);
		node_end(&chg, node, added_in, version);
		node_insert(&chg, node, weight, version, zone, joined, server);
		check_ring_size(&chg);
		if (chg.stored_tokens)
			relayout(&chg, version, node, NULL);
	}
	end_as_catalog_owner(&caller);

	PG_RETURN_INT32(version);
}

/*
 * serialization_failure if the ring has a newer version than the one a
 * rebalance plan was made from: the plan is stale.
 */
static void
check_measured_version(const RingChange *chg, int32 measured_version)
{
	if (chg->version != measured_version)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("ring \"%s\" changed while its data was measured", chg->name),
				 errdetail("The plan was made from version %d; the ring is now at version %d.",
						   measured_version, chg->version),
				 errhint("Run ring_rebalance() again.")));
}

/*
 * Give slots[i] of a 'slots' or 'redis' ring to nodes[i] (i < n), all in
 * one new version, for ring_rebalance; the ring must still be at the
 * version the plan was made from.  Returns the version.
 */
int32
ring_apply_slot_owners(text *ring, int32 measured_version, int n,
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

	begin_as_catalog_owner(&caller);
	ring_lock(ring, &caller, &chg);
	check_measured_version(&chg, measured_version);
	Assert(chg.algorithm == RING_ALGORITHM_SLOTS || chg.algorithm == RING_ALGORITHM_REDIS);
	nnodes = layout_nodes(&chg, &names, &lnodes);
	nold = layout_tokens(&chg, names, nnodes, &old, 0);
	owner = slot_owners(&chg, old, nold);
	for (int i = 0; i < n; i++)
	{
		int32		target = find_name(names, nnodes, nodes[i]);

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
 * Set the weights of nodes[i] to weights[i] (i < n), all in one new
 * version, for ring_rebalance on a 'vnode' ring.  A node without a
 * capacity first gets its current weight as its capacity, so that its
 * share of the data stays what its weight asked for.  Returns the version.
 */
int32
ring_apply_weights(text *ring, int32 measured_version, int n,
				   text *const *nodes, const double *weights)
{
	RingChange	chg;
	RingCaller	caller;
	Oid			types[3] = {INT4OID, TEXTOID, FLOAT8OID};
	Datum		values[3];
	int32		version;

	begin_as_catalog_owner(&caller);
	ring_lock(ring, &caller, &chg);
	check_measured_version(&chg, measured_version);
	version = ring_change_version(&chg, &caller);
	for (int i = 0; i < n; i++)
	{
		double		oldweight;
		double		weight = check_weight(weights[i], &chg, text_to_cstring(nodes[i]));
		int32		added_in;
		text	   *zone;
		int64		joined;
		text	   *server;

		if (!node_current(&chg, nodes[i], &oldweight, &added_in, &zone, &joined, &server))
			report_missing_node(&chg, nodes[i]);
		values[0] = Int32GetDatum(chg.ring_id);
		values[1] = PointerGetDatum(nodes[i]);
		values[2] = Float8GetDatum(oldweight);
		run("INSERT INTO consistent_ring.capacities (ring_id, node, capacity)"
			" VALUES ($1, $2, $3) ON CONFLICT (ring_id, node) DO NOTHING",
			3, types, values, SPI_OK_INSERT);
		if (weight == oldweight)
			continue;
		node_end(&chg, nodes[i], added_in, version);
		node_insert(&chg, nodes[i], weight, version, zone, joined, server);
	}
	check_ring_size(&chg);
	end_as_catalog_owner(&caller);
	return version;
}

/*
 * ring_set_capacity(ring, node, capacity): the share of the data a node
 * should hold, relative to the other nodes' capacities, for ring_rebalance
 * (NULL: its weight).  Not a new version: placement does not change.
 */
PG_FUNCTION_INFO_V1(ring_set_capacity);
Datum
ring_set_capacity(PG_FUNCTION_ARGS)
{
	text	   *ring;
	text	   *node;
	RingChange	chg;
	RingCaller	caller;
	double		weight;
	int32		added_in;
	Oid			types[3] = {INT4OID, TEXTOID, FLOAT8OID};
	Datum		values[3];

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_VOID();
	ring = PG_GETARG_TEXT_PP(0);
	node = PG_GETARG_TEXT_PP(1);
	if (!PG_ARGISNULL(2))
	{
		double		capacity = PG_GETARG_FLOAT8(2);

		if (isnan(capacity) || isinf(capacity) || capacity < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid capacity %g for node \"%s\"", capacity,
							text_to_cstring(node)),
					 errdetail("A capacity must be a finite number greater than or equal to 0.")));
		values[2] = Float8GetDatum(capacity == 0 ? 0.0 : capacity);
	}

	begin_as_catalog_owner(&caller);
	ring_lock(ring, &caller, &chg);
	if (!node_current(&chg, node, &weight, &added_in, NULL, NULL, NULL))
		report_missing_node(&chg, node);
	values[0] = Int32GetDatum(chg.ring_id);
	values[1] = PointerGetDatum(node);
	if (PG_ARGISNULL(2))
		run("DELETE FROM consistent_ring.capacities"
			" WHERE ring_id OPERATOR(pg_catalog.=) $1 AND node OPERATOR(pg_catalog.=) $2",
			2, types, values, SPI_OK_DELETE);
	else
		run("INSERT INTO consistent_ring.capacities (ring_id, node, capacity)"
			" VALUES ($1, $2, $3) ON CONFLICT (ring_id, node)"
			" DO UPDATE SET capacity = excluded.capacity",
			3, types, values, SPI_OK_INSERT);
	end_as_catalog_owner(&caller);

	PG_RETURN_VOID();
}

/*
 * ring_set_server(ring, node, server): name the foreign server that holds
 * a node's data (NULL: none); returns the version.  A new version, like a
 * change of weight, so that each version tells where its nodes' data is
 * (ring_migrate moves a node's data when its server changes); placement is
 * unchanged.  Naming the server a node already has returns the current
 * version.
 */
PG_FUNCTION_INFO_V1(ring_set_server);
Datum
ring_set_server(PG_FUNCTION_ARGS)
{
	text	   *ring;
	text	   *node;
	text	   *server = PG_ARGISNULL(2) ? NULL : PG_GETARG_TEXT_PP(2);
	RingChange	chg;
	RingCaller	caller;
	double		weight;
	int32		added_in;
	int32		version;
	text	   *zone;
	int64		joined;
	text	   *oldserver;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	ring = PG_GETARG_TEXT_PP(0);
	node = PG_GETARG_TEXT_PP(1);
	if (server != NULL)
		check_server(server);
	begin_as_catalog_owner(&caller);
	ring_lock(ring, &caller, &chg);
	if (!node_current(&chg, node, &weight, &added_in, &zone, &joined, &oldserver))
		report_missing_node(&chg, node);

	if (server == NULL ? oldserver == NULL :
		oldserver != NULL &&
		VARSIZE_ANY_EXHDR(server) == VARSIZE_ANY_EXHDR(oldserver) &&
		memcmp(VARDATA_ANY(server), VARDATA_ANY(oldserver), VARSIZE_ANY_EXHDR(server)) == 0)
		version = chg.version;
	else
	{
		version = ring_change_version(&chg, &caller);
		node_end(&chg, node, added_in, version);
		node_insert(&chg, node, weight, version, zone, joined, server);
	}
	end_as_catalog_owner(&caller);

	PG_RETURN_INT32(version);
}

/*
 * The placement bytes of argument argno, a key of any type, and its
 * position.  Read as the caller: a type's output function may be the
 * caller's own.
 */
static bytea *
key_arg(FunctionCallInfo fcinfo, int argno, int64 *position)
{
	Oid			keytype = get_fn_expr_argtype(fcinfo->flinfo, argno);
	RingKeyReader reader;
	StringInfoData buf;
	bytea	   *result;

	if (!OidIsValid(keytype))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("could not determine the data type of the key")));
	ring_key_reader_init(&reader, keytype, CurrentMemoryContext);
	initStringInfo(&buf);
	ring_key_bytes(&reader, PG_GETARG_DATUM(argno), &buf);
	*position = ring_hash_bytes(buf.data, buf.len);
	result = palloc(VARHDRSZ + buf.len);
	SET_VARSIZE(result, VARHDRSZ + buf.len);
	memcpy(VARDATA(result), buf.data, buf.len);
	return result;
}

/* The node a key is pinned to now (NULL if none), and the pin's version. */
static text *
pin_current(const RingChange *chg, bytea *key, int32 *added_in)
{
	Oid			types[2] = {INT4OID, BYTEAOID};
	Datum		values[2] = {Int32GetDatum(chg->ring_id), PointerGetDatum(key)};
	bool		isnull;

	if (run("SELECT node, added_in FROM consistent_ring.pins"
			" WHERE ring_id OPERATOR(pg_catalog.=) $1 AND key OPERATOR(pg_catalog.=) $2"
			" AND removed_in IS NULL",
			2, types, values, SPI_OK_SELECT) == 0)
		return NULL;
	*added_in = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	return DatumGetTextPCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * Refuse pins where the algorithm has no ranges ('rendezvous', 'jump') or
 * places keys as another system does, which has no pins.
 */
static void
check_can_pin(const RingChange *chg)
{
	const char *detail = NULL;
	const char *hint = NULL;

	switch (chg->algorithm)
	{
		case RING_ALGORITHM_VNODE:
		case RING_ALGORITHM_SLOTS:
		case RING_ALGORITHM_MAGLEV:
			return;
		case RING_ALGORITHM_RENDEZVOUS:
		case RING_ALGORITHM_JUMP:
			detail = "Pins are ranges of one position, and a '%s' ring has no ranges.";
			break;
		case RING_ALGORITHM_REDIS:
			detail = "A '%s' ring places keys as Redis Cluster does, which has no pinned keys.";
			hint = "Move the key's hash slot with ring_assign_slots().";
			break;
		case RING_ALGORITHM_KETAMA:
		case RING_ALGORITHM_TWEMPROXY:
		case RING_ALGORITHM_LIBKETAMA:
			detail = "A '%s' ring places keys as memcached clients do, which have no pinned keys.";
			break;
		case RING_ALGORITHM_CASSANDRA:
			detail = "A '%s' ring places keys as Cassandra does, which has no pinned keys.";
			hint = "Give the key's token range to a node with a token of its own.";
			break;
	}
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("ring \"%s\" cannot pin keys", chg->name),
			 errdetail(detail, ring_algorithm_name(chg->algorithm)),
			 hint ? errhint("%s", hint) : 0));
}

/*
 * ring_pin(ring, key, node): place key on node whatever the ring says, from
 * the returned version on.  Pinning a key to the node it is pinned to
 * already changes nothing and returns the current version.
 */
PG_FUNCTION_INFO_V1(ring_pin);
Datum
ring_pin(PG_FUNCTION_ARGS)
{
	text	   *ring = PG_GETARG_TEXT_PP(0);
	text	   *node = PG_GETARG_TEXT_PP(2);
	int64		position;
	bytea	   *key = key_arg(fcinfo, 1, &position);
	RingChange	chg;
	RingCaller	caller;
	double		weight;
	int32		added_in;
	int32		pinned_in;
	int32		version;
	text	   *pinned;

	/* the key is part of the pins table's primary key: a btree entry */
	if (VARSIZE_ANY_EXHDR(key) > RING_PIN_KEY_MAXLEN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("key to pin is too long"),
				 errdetail("The key is %d bytes long; pinned keys are at most %d bytes long.",
						   (int) VARSIZE_ANY_EXHDR(key), RING_PIN_KEY_MAXLEN)));
	begin_as_catalog_owner(&caller);
	ring_lock(ring, &caller, &chg);
	check_can_pin(&chg);
	if (!node_current(&chg, node, &weight, &added_in, NULL, NULL, NULL))
		report_missing_node(&chg, node);
	pinned = pin_current(&chg, key, &pinned_in);
	if (pinned != NULL && VARSIZE_ANY_EXHDR(pinned) == VARSIZE_ANY_EXHDR(node) &&
		memcmp(VARDATA_ANY(pinned), VARDATA_ANY(node), VARSIZE_ANY_EXHDR(node)) == 0)
		version = chg.version;
	else
	{
		Oid			types[5] = {INT4OID, BYTEAOID, INT8OID, TEXTOID, INT4OID};
		Datum		values[5];

		version = ring_change_version(&chg, &caller);
		if (pinned != NULL)
			rows_end(&chg, "pins", "key", BYTEAOID, PointerGetDatum(key), version);
		values[0] = Int32GetDatum(chg.ring_id);
		values[1] = PointerGetDatum(key);
		values[2] = Int64GetDatum(position);
		values[3] = PointerGetDatum(node);
		values[4] = Int32GetDatum(version);
		run("INSERT INTO consistent_ring.pins (ring_id, key, position, node, added_in)"
			" VALUES ($1, $2, $3, $4, $5)",
			5, types, values, SPI_OK_INSERT);
	}
	end_as_catalog_owner(&caller);

	PG_RETURN_INT32(version);
}

/* ring_unpin(ring, key): let the ring place key again; returns the version. */
PG_FUNCTION_INFO_V1(ring_unpin);
Datum
ring_unpin(PG_FUNCTION_ARGS)
{
	text	   *ring = PG_GETARG_TEXT_PP(0);
	int64		position;
	bytea	   *key = key_arg(fcinfo, 1, &position);
	RingChange	chg;
	RingCaller	caller;
	int32		pinned_in;
	int32		version;

	begin_as_catalog_owner(&caller);
	ring_lock(ring, &caller, &chg);
	if (pin_current(&chg, key, &pinned_in) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("key is not pinned in ring \"%s\"", chg.name)));
	version = ring_change_version(&chg, &caller);
	rows_end(&chg, "pins", "key", BYTEAOID, PointerGetDatum(key), version);
	end_as_catalog_owner(&caller);

	PG_RETURN_INT32(version);
}

/* ring_drop(ring): delete a ring and all its versions. */
PG_FUNCTION_INFO_V1(ring_drop);
Datum
ring_drop(PG_FUNCTION_ARGS)
{
	text	   *ring = PG_GETARG_TEXT_PP(0);
	Oid			types[1] = {INT4OID};
	Datum		values[1];
	RingCaller	caller;
	RingChange	chg;

	begin_as_catalog_owner(&caller);
	ring_lock(ring, &caller, &chg);
	values[0] = Int32GetDatum(chg.ring_id);
	run("DELETE FROM consistent_ring.rings WHERE ring_id OPERATOR(pg_catalog.=) $1",
		1, types, values, SPI_OK_DELETE);
	/* its migrations' progress, which names it (ring_migrate) */
	types[0] = TEXTOID;
	values[0] = PointerGetDatum(ring);
	run("DELETE FROM consistent_ring.migrations WHERE ring OPERATOR(pg_catalog.=) $1",
		1, types, values, SPI_OK_DELETE);
	end_as_catalog_owner(&caller);

	PG_RETURN_VOID();
}

/*
 * Change who may look a ring up: role 'public' is everyone (as in
 * has_table_privilege), any other name a role whose members may.  Not a ring version: placement does
 * not change.
 */
static void
set_lookup_right(text *ring, text *role, bool allow)
{
	char	   *rolename = text_to_cstring(role);
	RingCaller	caller;
	RingChange	chg;
	Oid			types[2] = {INT4OID, OIDOID};
	Datum		values[2];

	begin_as_catalog_owner(&caller);
	ring_lock(ring, &caller, &chg);
	values[0] = Int32GetDatum(chg.ring_id);
	if (strcmp(rolename, "public") == 0)
	{
		values[1] = BoolGetDatum(allow);
		types[1] = BOOLOID;
		run("UPDATE consistent_ring.rings SET public_lookup = $2"
			" WHERE ring_id OPERATOR(pg_catalog.=) $1",
			2, types, values, SPI_OK_UPDATE);
	}
	else
	{
		values[1] = ObjectIdGetDatum(get_role_oid(rolename, false));
		run(allow ?
			"UPDATE consistent_ring.rings SET readers = pg_catalog.array_append("
			"pg_catalog.array_remove(readers, $2::pg_catalog.regrole), $2::pg_catalog.regrole)"
			" WHERE ring_id OPERATOR(pg_catalog.=) $1" :
			"UPDATE consistent_ring.rings SET readers = pg_catalog.array_remove(readers, $2::pg_catalog.regrole)"
			" WHERE ring_id OPERATOR(pg_catalog.=) $1",
			2, types, values, SPI_OK_UPDATE);
	}
	end_as_catalog_owner(&caller);
}

/* ring_grant(ring, role): let role (or public) look the ring up. */
PG_FUNCTION_INFO_V1(ring_grant);
Datum
ring_grant(PG_FUNCTION_ARGS)
{
	set_lookup_right(PG_GETARG_TEXT_PP(0), PG_GETARG_TEXT_PP(1), true);
	PG_RETURN_VOID();
}

/* ring_revoke(ring, role): take back role's (or public's) lookup right. */
PG_FUNCTION_INFO_V1(ring_revoke);
Datum
ring_revoke(PG_FUNCTION_ARGS)
{
	set_lookup_right(PG_GETARG_TEXT_PP(0), PG_GETARG_TEXT_PP(1), false);
	PG_RETURN_VOID();
}

/* consistent_ring.may_look_up(owner, public_lookup, readers): for the views. */
PG_FUNCTION_INFO_V1(ring_may_look_up);
Datum
ring_may_look_up(PG_FUNCTION_ARGS)
{
	RingAccess	access;

	ring_access_from_datums(PG_GETARG_DATUM(0), PG_GETARG_DATUM(1),
							PG_GETARG_DATUM(2), &access);
	PG_RETURN_BOOL(ring_may_look_up_as(GetUserId(), &access));
}

/*
 * consistent_ring.may_change(ring) and consistent_ring.may_read(ring):
 * whether the current user owns the ring (may change it), or may look it
 * up; false for a ring that does not exist.  For the row security policies
 * of the migration tables, which run as the querying user.
 */
static bool
ring_arg_access(FunctionCallInfo fcinfo, RingAccess *access)
{
	text	   *ring = PG_GETARG_TEXT_PP(0);

	return VARSIZE_ANY_EXHDR(ring) <= RING_NAME_MAXLEN &&
		ring_catalog_access(VARDATA_ANY(ring), VARSIZE_ANY_EXHDR(ring),
							ring_current_snapshot(), access);
}

PG_FUNCTION_INFO_V1(ring_may_change);
Datum
ring_may_change(PG_FUNCTION_ARGS)
{
	RingAccess	access;

	PG_RETURN_BOOL(ring_arg_access(fcinfo, &access) &&
				   has_privs_of_role(GetUserId(), access.owner));
}

PG_FUNCTION_INFO_V1(ring_may_read);
Datum
ring_may_read(PG_FUNCTION_ARGS)
{
	RingAccess	access;

	PG_RETURN_BOOL(ring_arg_access(fcinfo, &access) &&
				   ring_may_look_up_as(GetUserId(), &access));
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

/* consistent_ring.virtual_nodes(vnodes, weight): for the ring_nodes view. */
PG_FUNCTION_INFO_V1(ring_virtual_node_count);
Datum
ring_virtual_node_count(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(ring_virtual_nodes(PG_GETARG_INT32(0), PG_GETARG_FLOAT8(1)));
}
