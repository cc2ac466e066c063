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
 * Changes go through SPI with fully qualified names, so they are checked
 * against the catalog tables' privileges like any other write, and fire the
 * tables' invalidation triggers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "ring_catalog.h"

/* A ring locked for a change. */
typedef struct RingChange
{
	int32		ring_id;
	int32		version;		/* newest version */
	int32		vnodes;
	bool		version_is_own; /* newest version made by this transaction */
	const char *name;
} RingChange;

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

/* Reject a weight that is negative, NaN, infinite or gives too many tokens. */
static double
check_weight(double weight, const RingChange *chg, const char *node)
{
	if (isnan(weight) || isinf(weight) || weight < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid weight %g for node \"%s\"", weight, node),
				 errdetail("A weight must be a finite number greater than or equal to 0.")));
	if (ring_virtual_nodes(chg->vnodes, weight) > RING_MAX_NODE_TOKENS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("weight %g of node \"%s\" is too large", weight, node),
				 errdetail("Ring \"%s\" gives %d virtual nodes per unit of weight, and a node may have at most %d.",
						   chg->name, chg->vnodes, RING_MAX_NODE_TOKENS)));
	/* -0 is 0 */
	return weight == 0 ? 0.0 : weight;
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

/* Lock the ring called name for a change; undefined_object if missing. */
static void
ring_lock(text *ring, RingChange *chg)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {PointerGetDatum(ring)};
	bool		isnull;
	TransactionId xmin;

	if (run("SELECT ring_id, version, vnodes, xmin FROM consistent_ring.rings"
			" WHERE name OPERATOR(pg_catalog.=) $1 FOR UPDATE",
			1, types, values, SPI_OK_SELECT) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("ring \"%s\" does not exist", text_to_cstring(ring))));

	chg->ring_id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	chg->version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	chg->vnodes = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	xmin = DatumGetTransactionId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &isnull));
	chg->version_is_own = chg->version > 0 && TransactionIdIsCurrentTransactionId(xmin);
	chg->name = text_to_cstring(ring);
}

/* The version this transaction's changes go to, creating it if needed. */
static int32
ring_change_version(RingChange *chg)
{
	Oid			types[2] = {INT4OID, INT4OID};
	Datum		values[2];

	if (chg->version_is_own)
		return chg->version;

	if (chg->version == PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("ring \"%s\" has run out of version numbers", chg->name)));

	values[0] = Int32GetDatum(chg->ring_id);
	values[1] = Int32GetDatum(chg->version + 1);
	run("INSERT INTO consistent_ring.versions (ring_id, version) VALUES ($1, $2)",
		2, types, values, SPI_OK_INSERT);
	run("UPDATE consistent_ring.rings SET version = $2"
		" WHERE ring_id OPERATOR(pg_catalog.=) $1",
		2, types, values, SPI_OK_UPDATE);
	chg->version++;
	chg->version_is_own = true;
	return chg->version;
}

/* Find a node's current row: its weight and the version it came in. */
static bool
node_current(const RingChange *chg, text *node, double *weight, int32 *added_in)
{
	Oid			types[2] = {INT4OID, TEXTOID};
	Datum		values[2] = {Int32GetDatum(chg->ring_id), PointerGetDatum(node)};
	bool		isnull;

	if (run("SELECT weight, added_in FROM consistent_ring.nodes"
			" WHERE ring_id OPERATOR(pg_catalog.=) $1 AND node OPERATOR(pg_catalog.=) $2"
			" AND removed_in IS NULL",
			2, types, values, SPI_OK_SELECT) == 0)
		return false;
	*weight = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	*added_in = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
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

/* Insert a node row that starts at version. */
static void
node_insert(const RingChange *chg, text *node, double weight, int32 version)
{
	Oid			types[4] = {INT4OID, TEXTOID, FLOAT8OID, INT4OID};
	Datum		values[4] = {Int32GetDatum(chg->ring_id), PointerGetDatum(node),
	Float8GetDatum(weight), Int32GetDatum(version)};

	run("INSERT INTO consistent_ring.nodes (ring_id, node, weight, added_in)"
		" VALUES ($1, $2, $3, $4)",
		4, types, values, SPI_OK_INSERT);
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

/* Reject a change that leaves the ring with too many nodes or virtual nodes. */
static void
check_ring_size(const RingChange *chg)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(chg->ring_id)};
	int64		total = 0;
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
	}
	if (total > RING_MAX_RING_TOKENS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("ring \"%s\" would have too many virtual nodes", chg->name),
				 errdetail("It would have " INT64_FORMAT " virtual nodes; the limit is %d.",
						   total, RING_MAX_RING_TOKENS)));
}

/* ring_create(ring, algorithm, vnodes): a new, empty ring at version 0. */
PG_FUNCTION_INFO_V1(ring_create);
Datum
ring_create(PG_FUNCTION_ARGS)
{
	text	   *ring = PG_GETARG_TEXT_PP(0);
	char	   *algname = text_to_cstring(PG_GETARG_TEXT_PP(1));
	int32		vnodes = PG_GETARG_INT32(2);
	RingAlgorithm algorithm;
	Oid			types[3] = {TEXTOID, TEXTOID, INT4OID};
	Datum		values[3];
	bool		isnull;

	check_name("ring", ring);
	algorithm = ring_algorithm_parse(algname);
	if (vnodes < 1 || vnodes > RING_MAX_VNODES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("vnodes must be between 1 and %d", RING_MAX_VNODES),
				 errdetail("The value given was %d.", vnodes)));

	SPI_connect();
	values[0] = PointerGetDatum(ring);
	values[1] = CStringGetTextDatum(ring_algorithm_name(algorithm));
	values[2] = Int32GetDatum(vnodes);
	if (run("INSERT INTO consistent_ring.rings (name, algorithm, vnodes)"
			" VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING RETURNING ring_id",
			3, types, values, SPI_OK_INSERT_RETURNING) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("ring \"%s\" already exists", text_to_cstring(ring))));

	types[0] = INT4OID;
	values[0] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	run("INSERT INTO consistent_ring.versions (ring_id, version) VALUES ($1, 0)",
		1, types, values, SPI_OK_INSERT);
	SPI_finish();

	PG_RETURN_VOID();
}

/* ring_add_node(ring, node, weight): add a node; returns the version. */
PG_FUNCTION_INFO_V1(ring_add_node);
Datum
ring_add_node(PG_FUNCTION_ARGS)
{
	text	   *ring = PG_GETARG_TEXT_PP(0);
	text	   *node = PG_GETARG_TEXT_PP(1);
	double		weight = PG_GETARG_FLOAT8(2);
	RingChange	chg;
	double		oldweight;
	int32		added_in;
	int32		version;

	check_name("node", node);
	SPI_connect();
	ring_lock(ring, &chg);
	weight = check_weight(weight, &chg, text_to_cstring(node));
	if (node_current(&chg, node, &oldweight, &added_in))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("node \"%s\" already exists in ring \"%s\"",
						text_to_cstring(node), chg.name),
				 errhint("Use ring_set_weight() to change its weight.")));

	version = ring_change_version(&chg);
	node_insert(&chg, node, weight, version);
	check_ring_size(&chg);
	SPI_finish();

	PG_RETURN_INT32(version);
}

/* ring_remove_node(ring, node): remove a node; returns the version. */
PG_FUNCTION_INFO_V1(ring_remove_node);
Datum
ring_remove_node(PG_FUNCTION_ARGS)
{
	text	   *ring = PG_GETARG_TEXT_PP(0);
	text	   *node = PG_GETARG_TEXT_PP(1);
	RingChange	chg;
	double		weight;
	int32		added_in;
	int32		version;

	SPI_connect();
	ring_lock(ring, &chg);
	if (!node_current(&chg, node, &weight, &added_in))
		report_missing_node(&chg, node);

	version = ring_change_version(&chg);
	node_end(&chg, node, added_in, version);
	SPI_finish();

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
	double		oldweight;
	int32		added_in;
	int32		version;

	SPI_connect();
	ring_lock(ring, &chg);
	weight = check_weight(weight, &chg, text_to_cstring(node));
	if (!node_current(&chg, node, &oldweight, &added_in))
		report_missing_node(&chg, node);

	if (oldweight == weight)
		version = chg.version;
	else
	{
		version = ring_change_version(&chg);
		node_end(&chg, node, added_in, version);
		node_insert(&chg, node, weight, version);
		check_ring_size(&chg);
	}
	SPI_finish();

	PG_RETURN_INT32(version);
}

/* ring_drop(ring): delete a ring and all its versions. */
PG_FUNCTION_INFO_V1(ring_drop);
Datum
ring_drop(PG_FUNCTION_ARGS)
{
	text	   *ring = PG_GETARG_TEXT_PP(0);
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {PointerGetDatum(ring)};

	SPI_connect();
	if (run("DELETE FROM consistent_ring.rings WHERE name OPERATOR(pg_catalog.=) $1",
			1, types, values, SPI_OK_DELETE) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("ring \"%s\" does not exist", text_to_cstring(ring))));
	SPI_finish();

	PG_RETURN_VOID();
}

/* ring_version(ring): the newest version the statement's snapshot sees. */
PG_FUNCTION_INFO_V1(ring_version);
Datum
ring_version(PG_FUNCTION_ARGS)
{
	text	   *ring = PG_GETARG_TEXT_PP(0);
	RingHeader	hdr;

	if (VARSIZE_ANY_EXHDR(ring) > RING_NAME_MAXLEN)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("ring \"%s\" does not exist", text_to_cstring(ring))));
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
