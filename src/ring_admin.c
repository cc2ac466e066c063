/*-------------------------------------------------------------------------
 *
 * ring_admin.c
 *	  SQL functions that create, change and drop rings: ring_create,
 *	  ring_add_node, ring_remove_node, ring_set_weight, ring_set_server,
 *	  ring_drop, ring_set_capacity, and the weights of a rebalance plan.
 *	  Every change is validated here (names, weights, sizes) and goes
 *	  through the skeleton below: lock the ring, check the caller owns it,
 *	  join or create the transaction's version, write the catalog rows.
 *	  Stored tokens are laid out again by ring_tokens.c, pins are
 *	  ring_pins.c's, and who may do what is ring_access.c's.
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
 * superusers may change or drop it.  After that check, the changes go
 * through SPI as the owner of the catalog tables (which nobody else may
 * write; ring_access.c), in a security-restricted operation, with fully
 * qualified names; they fire the tables' invalidation triggers.
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

#include "ring_admin.h"
#include "ring_catalog.h"
#include "ring_keys.h"
#include "ring_ketama.h"
#include "ring_layout.h"
#include "ring_rebalance.h"
#include "ring_redis.h"

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
uint64
ring_admin_run(const char *sql, int nargs, Oid *types, Datum *values, int expect)
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
void
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
	if (ring_admin_run("SELECT ring_id, version, vnodes, owner, public_lookup, readers,"
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
	if (ring_admin_run("SELECT xmin FROM consistent_ring.versions"
			" WHERE ring_id OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2",
			2, vtypes, vvalues, SPI_OK_SELECT) != 1)
		elog(ERROR, "version %d of ring \"%s\" has no versions row",
			 chg->version, chg->name);
	xmin = DatumGetTransactionId(SPI_getbinval(SPI_tuptable->vals[0],
											   SPI_tuptable->tupdesc, 1, &isnull));
	chg->version_is_own = chg->version > 0 && TransactionIdIsCurrentTransactionId(xmin);
	check_ring_owner(caller, chg);
}

/*
 * Begin a change to a ring: act as the catalog's owner, lock the ring and
 * check that the caller owns it.  end_as_catalog_owner() ends it.
 */
void
ring_change_begin(text *ring, RingCaller *caller, RingChange *chg)
{
	begin_as_catalog_owner(caller);
	ring_lock(ring, caller, chg);
}

/* The version this transaction's changes go to, creating it if needed. */
int32
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
	ring_admin_run("INSERT INTO consistent_ring.versions (ring_id, version, created_by) VALUES ($1, $2, $3)",
		3, types, values, SPI_OK_INSERT);
	ring_admin_run("UPDATE consistent_ring.rings SET version = $2"
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
bool
ring_node_current(const RingChange *chg, text *node, double *weight, int32 *added_in,
			 text **zone, int64 *joined, text **server)
{
	Oid			types[2] = {INT4OID, TEXTOID};
	Datum		values[2] = {Int32GetDatum(chg->ring_id), PointerGetDatum(node)};
	bool		isnull;

	if (ring_admin_run("SELECT weight, added_in, zone, joined, server FROM consistent_ring.nodes"
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
void
ring_report_missing_node(const RingChange *chg, text *node)
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
		ring_admin_run("DELETE FROM consistent_ring.nodes"
			" WHERE ring_id OPERATOR(pg_catalog.=) $1 AND node OPERATOR(pg_catalog.=) $2"
			" AND added_in OPERATOR(pg_catalog.=) $3",
			3, types, values, SPI_OK_DELETE);
	else
		ring_admin_run("UPDATE consistent_ring.nodes SET removed_in = $3"
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

	n = ring_admin_run("SELECT weight FROM consistent_ring.nodes"
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
	ring_change_begin(ring, &caller, &chg);
	weight = check_weight(weight, &chg, text_to_cstring(node));
	check_node_name(&chg, node);
	if (tokens != NULL && chg.algorithm != RING_ALGORITHM_CASSANDRA)
		report_option_algorithm("tokens", "cassandra", chg.algorithm);
	if (ring_node_current(&chg, node, &oldweight, &added_in, NULL, NULL, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("node \"%s\" already exists in ring \"%s\"",
						text_to_cstring(node), chg.name),
				 errhint("Use ring_set_weight() to change its weight.")));

	version = ring_change_version(&chg, &caller);
	node_insert(&chg, node, weight, version, zone, -1, server);
	check_ring_size(&chg);
	if (chg.stored_tokens)
		ring_relayout(&chg, version, node, tokens);
	end_as_catalog_owner(&caller);

	PG_RETURN_INT32(version);
}

/*
 * End the current rows of the table (pins or tokens) matching "column = $3"
 * of a ring at version: delete those made in this very version, mark the
 * others removed from it on.
 */
void
ring_rows_end(const RingChange *chg, const char *table, const char *column,
		 Oid type, Datum value, int32 version)
{
	Oid			types[3] = {INT4OID, INT4OID, type};
	Datum		values[3] = {Int32GetDatum(chg->ring_id), Int32GetDatum(version), value};

	ring_admin_run(psprintf("DELETE FROM consistent_ring.%s WHERE ring_id OPERATOR(pg_catalog.=) $1"
				 " AND added_in OPERATOR(pg_catalog.=) $2 AND %s OPERATOR(pg_catalog.=) $3",
				 table, column),
		3, types, values, SPI_OK_DELETE);
	ring_admin_run(psprintf("UPDATE consistent_ring.%s SET removed_in = $2"
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

	ring_change_begin(ring, &caller, &chg);
	if (!ring_node_current(&chg, node, &weight, &added_in, NULL, NULL, NULL))
		ring_report_missing_node(&chg, node);

	version = ring_change_version(&chg, &caller);
	node_end(&chg, node, added_in, version);
	ring_rows_end(&chg, "pins", "node", TEXTOID, PointerGetDatum(node), version);
	if (chg.stored_tokens)
		ring_relayout(&chg, version, node, NULL);
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

	ring_change_begin(ring, &caller, &chg);
	weight = check_weight(weight, &chg, text_to_cstring(node));
	if (!ring_node_current(&chg, node, &oldweight, &added_in, &zone, &joined, &server))
		ring_report_missing_node(&chg, node);

	if (oldweight == weight)
		version = chg.version;
	else
	{
		version = ring_change_version(&chg, &caller);
		node_end(&chg, node, added_in, version);
		node_insert(&chg, node, weight, version, zone, joined, server);
		check_ring_size(&chg);
		if (chg.stored_tokens)
			ring_relayout(&chg, version, node, NULL);
	}
	end_as_catalog_owner(&caller);

	PG_RETURN_INT32(version);
}

/*
 * serialization_failure if the ring has a newer version, or other
 * capacities, than those a rebalance plan was made from: the plan is stale.
 */
void
ring_check_measured(const RingChange *chg, const RingMeasured *measured)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(chg->ring_id)};
	uint64		n;
	bool		same;

	if (chg->version != measured->version)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("ring \"%s\" changed while its data was measured", chg->name),
				 errdetail("The plan was made from version %d; the ring is now at version %d.",
						   measured->version, chg->version),
				 errhint("Run ring_rebalance() again.")));
	n = ring_admin_run("SELECT node, capacity FROM consistent_ring.capacities"
					   " WHERE ring_id OPERATOR(pg_catalog.=) $1 ORDER BY node",
					   1, types, values, SPI_OK_SELECT);
	same = n == (uint64) measured->ncapacities;
	for (uint64 i = 0; same && i < n; i++)
	{
		bool		isnull;
		text	   *node = DatumGetTextPP(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		double		capacity = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));

		same = capacity == measured->capacities[i] &&
			VARSIZE_ANY_EXHDR(node) == VARSIZE_ANY_EXHDR(measured->nodes[i]) &&
			memcmp(VARDATA_ANY(node), VARDATA_ANY(measured->nodes[i]), VARSIZE_ANY_EXHDR(node)) == 0;
	}
	if (!same)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("capacities of ring \"%s\" changed while its data was measured", chg->name),
				 errhint("Run ring_rebalance() again.")));
}

/*
 * Set the weights of nodes[i] to weights[i] (i < n) and pin pins[j] (j <
 * npins: keys not pinned in the version measured, or, replace, pinned
 * there to a node being drained: pinned elsewhere or unpinned), all
 * in one new version, for ring_rebalance on a 'vnode' ring.  A node
 * without a capacity first gets its current weight as its capacity, so
 * that its share of the data stays what its weight asked for.  Returns the
 * version.
 */
int32
ring_apply_vnode_plan(text *ring, const RingMeasured *measured, int n,
				   text *const *nodes, const double *weights,
				   int npins, const RingPinRow *pins)
{
	RingChange	chg;
	RingCaller	caller;
	Oid			types[3] = {INT4OID, TEXTOID, FLOAT8OID};
	Datum		values[3];
	int32		version;

	ring_change_begin(ring, &caller, &chg);
	ring_check_measured(&chg, measured);
	version = ring_change_version(&chg, &caller);
	for (int i = 0; i < n; i++)
	{
		double		oldweight;
		double		weight = check_weight(weights[i], &chg, text_to_cstring(nodes[i]));
		int32		added_in;
		text	   *zone;
		int64		joined;
		text	   *server;

		if (!ring_node_current(&chg, nodes[i], &oldweight, &added_in, &zone, &joined, &server))
			ring_report_missing_node(&chg, nodes[i]);
		values[0] = Int32GetDatum(chg.ring_id);
		values[1] = PointerGetDatum(nodes[i]);
		values[2] = Float8GetDatum(oldweight);
		ring_admin_run("INSERT INTO consistent_ring.capacities (ring_id, node, capacity)"
			" VALUES ($1, $2, $3) ON CONFLICT (ring_id, node) DO NOTHING",
			3, types, values, SPI_OK_INSERT);
		if (weight == oldweight)
			continue;
		node_end(&chg, nodes[i], added_in, version);
		node_insert(&chg, nodes[i], weight, version, zone, joined, server);
	}
	for (int j = 0; j < npins; j++)
	{
		double		weight;
		int32		added_in;

		if (pins[j].replace)
			ring_rows_end(&chg, "pins", "key", BYTEAOID, PointerGetDatum(pins[j].key), version);
		if (pins[j].node == NULL)
			continue;
		if (!ring_node_current(&chg, pins[j].node, &weight, &added_in, NULL, NULL, NULL))
			ring_report_missing_node(&chg, pins[j].node);
		ring_pin_insert(&chg, pins[j].key, pins[j].position, pins[j].node, version);
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

	ring_change_begin(ring, &caller, &chg);
	if (!ring_node_current(&chg, node, &weight, &added_in, NULL, NULL, NULL))
		ring_report_missing_node(&chg, node);
	values[0] = Int32GetDatum(chg.ring_id);
	values[1] = PointerGetDatum(node);
	if (PG_ARGISNULL(2))
		ring_admin_run("DELETE FROM consistent_ring.capacities"
			" WHERE ring_id OPERATOR(pg_catalog.=) $1 AND node OPERATOR(pg_catalog.=) $2",
			2, types, values, SPI_OK_DELETE);
	else
		ring_admin_run("INSERT INTO consistent_ring.capacities (ring_id, node, capacity)"
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
	ring_change_begin(ring, &caller, &chg);
	if (!ring_node_current(&chg, node, &weight, &added_in, &zone, &joined, &oldserver))
		ring_report_missing_node(&chg, node);

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

	ring_change_begin(ring, &caller, &chg);
	values[0] = Int32GetDatum(chg.ring_id);
	ring_admin_run("DELETE FROM consistent_ring.rings WHERE ring_id OPERATOR(pg_catalog.=) $1",
		1, types, values, SPI_OK_DELETE);
	/* its migrations' progress, which names it (ring_migrate) */
	types[0] = TEXTOID;
	values[0] = PointerGetDatum(ring);
	ring_admin_run("DELETE FROM consistent_ring.migrations WHERE ring OPERATOR(pg_catalog.=) $1",
		1, types, values, SPI_OK_DELETE);
	end_as_catalog_owner(&caller);

	PG_RETURN_VOID();
}
