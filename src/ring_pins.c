/*-------------------------------------------------------------------------
 *
 * ring_pins.c
 *	  Pinned keys: ring_pin and ring_unpin place one key on a node whatever
 *	  the algorithm says, from a new version on (a hot key on a node of its
 *	  own).  A pin is stored with the key's placement bytes and position
 *	  (consistent_ring.pins) and compiled as a token at that position
 *	  (ring_compile.c, apply_pins).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "ring_admin.h"
#include "ring_compile.h"
#include "ring_keys.h"

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

	if (ring_admin_run("SELECT node, added_in FROM consistent_ring.pins"
			" WHERE ring_id OPERATOR(pg_catalog.=) $1 AND key OPERATOR(pg_catalog.=) $2"
			" AND removed_in IS NULL",
			2, types, values, SPI_OK_SELECT) == 0)
		return NULL;
	*added_in = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	return DatumGetTextPCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * Pin key (placement bytes, at position) to node from version on, in the
 * change under way: the key has no pin in it.
 */
void
ring_pin_insert(const RingChange *chg, bytea *key, int64 position, text *node,
				int32 version)
{
	Oid			types[5] = {INT4OID, BYTEAOID, INT8OID, TEXTOID, INT4OID};
	Datum		values[5];

	values[0] = Int32GetDatum(chg->ring_id);
	values[1] = PointerGetDatum(key);
	values[2] = Int64GetDatum(position);
	values[3] = PointerGetDatum(node);
	values[4] = Int32GetDatum(version);
	ring_admin_run("INSERT INTO consistent_ring.pins (ring_id, key, position, node, added_in)"
		" VALUES ($1, $2, $3, $4, $5)",
		5, types, values, SPI_OK_INSERT);
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
	ring_change_begin(ring, &caller, &chg);
	check_can_pin(&chg);
	if (!ring_node_current(&chg, node, &weight, &added_in, NULL, NULL, NULL))
		ring_report_missing_node(&chg, node);
	pinned = pin_current(&chg, key, &pinned_in);
	if (pinned != NULL && VARSIZE_ANY_EXHDR(pinned) == VARSIZE_ANY_EXHDR(node) &&
		memcmp(VARDATA_ANY(pinned), VARDATA_ANY(node), VARSIZE_ANY_EXHDR(node)) == 0)
		version = chg.version;
	else
	{
		version = ring_change_version(&chg, &caller);
		if (pinned != NULL)
			ring_rows_end(&chg, "pins", "key", BYTEAOID, PointerGetDatum(key), version);
		ring_pin_insert(&chg, key, position, node, version);
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

	ring_change_begin(ring, &caller, &chg);
	if (pin_current(&chg, key, &pinned_in) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("key is not pinned in ring \"%s\"", chg.name)));
	version = ring_change_version(&chg, &caller);
	ring_rows_end(&chg, "pins", "key", BYTEAOID, PointerGetDatum(key), version);
	end_as_catalog_owner(&caller);

	PG_RETURN_INT32(version);
}
