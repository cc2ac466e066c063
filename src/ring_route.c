/*-------------------------------------------------------------------------
 *
 * ring_route.c
 *	  ring_route: where a reader finds a key of a table while ring_migrate
 *	  moves it.
 *
 * ring_migrate (consistent_ring--1.0.sql) reads each source server in key
 * order and records, per source, the last key of its last batch whose
 * copies have committed at the new servers
 * (consistent_ring.migration_servers.last_key) and whether it is done.  A
 * key whose server differs between the two versions is on its new server
 * once its source is done or the key is at most that last key (in the key
 * column's type and collation), else still on its old one.  After the
 * migration, keys are where its new version puts them; with no migration,
 * where the ring's newest version does.
 *
 * The table's latest migration and its progress are read (SPI, as the
 * caller: row security applies) once per statement, when the call site
 * first sees a snapshot (again when another user reaches the call site); each row then costs two or three owner lookups
 * and at most one comparison.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/typcache.h"

#include "ring_cache.h"
#include "ring_keys.h"
#include "ring_vnode.h"

/* One source server of the migration being routed. */
typedef struct RouteSource
{
	text	   *server;
	bool		source;			/* read as a source */
	bool		done;			/* read to the end */
	bool		has_last;		/* a batch has committed */
	Datum		last;			/* its last key, in the key column's type */
} RouteSource;

typedef struct RouteState
{
	RingKeyReader reader;		/* the key argument's type */
	Oid			argtype;
	RingRef		refs[3];		/* newest version, old, new */

	/* what was read, by which user and under which snapshot */
	MemoryContext cxt;			/* the part below; reset on each reading */
	bool		loaded;
	Oid			userid;			/* row security applied for this user */
	RingSnapId	snapid;
	Oid			tbl;
	int			namelen;
	char		name[RING_NAME_MAXLEN];

	bool		migrating;		/* the table has a migration by the ring */
	bool		finished;
	int32		old_version;
	int32		new_version;
	int			nsources;
	RouteSource *sources;

	/* the key column: its type, collation, comparison and input */
	Oid			coltype;
	Oid			collation;
	FmgrInfo	cmp;
	Oid			colinput;
	Oid			colioparam;
	int32		coltypmod;
} RouteState;

#define REF_NEWEST	0
#define REF_OLD		1
#define REF_NEW		2

/* Read the table's latest migration by the ring, as the snapshot sees it. */
static void
route_load(RouteState *st, text *ring, Oid tbl, Snapshot snap)
{
	MemoryContext oldcxt;
	Oid			types[2] = {TEXTOID, OIDOID};
	Datum		values[2] = {PointerGetDatum(ring), ObjectIdGetDatum(tbl)};
	int			ret;
	int32		migration_id = 0;
	char	   *key_column = NULL;

	MemoryContextReset(st->cxt);
	st->loaded = false;
	st->migrating = false;
	st->nsources = 0;
	st->sources = NULL;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args("SELECT m.migration_id, m.old_version, m.new_version,"
								" m.finished_at IS NOT NULL, m.key_column::text"
								" FROM consistent_ring.migrations m"
								" JOIN pg_catalog.pg_namespace n ON n.nspname OPERATOR(pg_catalog.=) m.table_schema"
								" JOIN pg_catalog.pg_class c ON c.relnamespace OPERATOR(pg_catalog.=) n.oid"
								"  AND c.relname OPERATOR(pg_catalog.=) m.table_name"
								" WHERE m.ring OPERATOR(pg_catalog.=) $1 AND c.oid OPERATOR(pg_catalog.=) $2"
								" ORDER BY m.finished_at IS NULL DESC, m.migration_id DESC LIMIT 1",
								2, types, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;

		st->migrating = true;
		migration_id = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
		st->old_version = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
		st->new_version = DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull));
		st->finished = DatumGetBool(SPI_getbinval(tup, desc, 4, &isnull));
		oldcxt = MemoryContextSwitchTo(st->cxt);
		key_column = TextDatumGetCString(SPI_getbinval(tup, desc, 5, &isnull));
		MemoryContextSwitchTo(oldcxt);
	}

	if (st->migrating && !st->finished)
	{
		AttrNumber	attnum = get_attnum(tbl, key_column);
		TypeCacheEntry *tc;
		Oid			input;

		if (attnum == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of relation \"%s\" does not exist",
							key_column, get_rel_name(tbl))));
		get_atttypetypmodcoll(tbl, attnum, &st->coltype, &st->coltypmod, &st->collation);
		tc = lookup_type_cache(st->coltype, TYPECACHE_CMP_PROC_FINFO);
		if (!OidIsValid(tc->cmp_proc_finfo.fn_oid))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FUNCTION),
					 errmsg("could not identify a comparison function for type %s",
							format_type_be(st->coltype))));
		fmgr_info_cxt(tc->cmp_proc_finfo.fn_oid, &st->cmp, st->cxt);
		getTypeInputInfo(st->coltype, &input, &st->colioparam);
		st->colinput = input;

		types[0] = INT4OID;
		values[0] = Int32GetDatum(migration_id);
		ret = SPI_execute_with_args("SELECT server, source, done, last_key"
									" FROM consistent_ring.migration_servers"
									" WHERE migration_id OPERATOR(pg_catalog.=) $1",
									1, types, values, NULL, true, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
		oldcxt = MemoryContextSwitchTo(st->cxt);
		st->sources = palloc0(Max(SPI_processed, 1) * sizeof(RouteSource));
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			RouteSource *s = &st->sources[st->nsources++];
			bool		isnull;
			Datum		last;

			s->server = DatumGetTextPCopy(SPI_getbinval(tup, desc, 1, &isnull));
			s->source = DatumGetBool(SPI_getbinval(tup, desc, 2, &isnull));
			s->done = DatumGetBool(SPI_getbinval(tup, desc, 3, &isnull));
			last = SPI_getbinval(tup, desc, 4, &isnull);
			s->has_last = !isnull;
			if (s->has_last)
				s->last = OidInputFunctionCall(st->colinput, TextDatumGetCString(last),
											   st->colioparam, st->coltypmod);
		}
		MemoryContextSwitchTo(oldcxt);
	}
	SPI_finish();

	ring_snap_set(&st->snapid, snap);
	st->userid = GetUserId();
	st->tbl = tbl;
	Assert(VARSIZE_ANY_EXHDR(ring) <= RING_NAME_MAXLEN);
	st->namelen = VARSIZE_ANY_EXHDR(ring);
	memcpy(st->name, VARDATA_ANY(ring), st->namelen);
	st->loaded = true;
}

/* The foreign server of the key's owner in a ring version, or NULL. */
static text *
owner_server(RouteState *st, int ref, text *ring, int64 version, Datum key)
{
	CompiledRing *r = ring_ref_get(&st->refs[ref], VARDATA_ANY(ring),
								   VARSIZE_ANY_EXHDR(ring), version);
	uint32		owner = ring_owner_of(r, ring_key_position_in(r, &st->reader, key));

	return owner == RING_NO_OWNER ? NULL : r->nodes[owner].server;
}

static bool
same_server(const text *a, const text *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
		memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

/*
 * The key as a value of the key column's type: itself, or, for a key of
 * another type (an integer constant for a bigint column), through its text
 * form, as ring_migrate compares keys.
 */
static Datum
key_as_column(RouteState *st, Datum key)
{
	Oid			output;
	bool		varlena;

	if (st->argtype == st->coltype)
		return key;
	getTypeOutputInfo(st->argtype, &output, &varlena);
	return OidInputFunctionCall(st->colinput, OidOutputFunctionCall(output, key),
								st->colioparam, st->coltypmod);
}

/* The server a reader finds the key on now (NULL: a node without one). */
static text *
route_key(RouteState *st, text *ring, Datum key)
{
	text	   *old_server;
	text	   *new_server;
	RouteSource *src = NULL;

	if (!st->migrating)
		return owner_server(st, REF_NEWEST, ring, RING_VERSION_CURRENT, key);
	new_server = owner_server(st, REF_NEW, ring, st->new_version, key);
	if (st->finished)
		return new_server;
	old_server = owner_server(st, REF_OLD, ring, st->old_version, key);
	if (same_server(old_server, new_server))
		return new_server;

	for (int i = 0; i < st->nsources; i++)
	{
		if (same_server(st->sources[i].server, old_server))
		{
			src = &st->sources[i];
			break;
		}
	}
	if (src == NULL || !src->source)
		return old_server;
	if (src->done)
		return new_server;
	if (!src->has_last)
		return old_server;
	/* moved once at most the last key of the source's last batch */
	if (DatumGetInt32(FunctionCall2Coll(&st->cmp, st->collation,
										key_as_column(st, key), src->last)) <= 0)
		return new_server;
	return old_server;
}

/* ring_route(ring, key, table) */
PG_FUNCTION_INFO_V1(ring_route);
Datum
ring_route(PG_FUNCTION_ARGS)
{
	text	   *ring = PG_GETARG_TEXT_PP(0);
	Oid			tbl = PG_GETARG_OID(2);
	RouteState *st = (RouteState *) fcinfo->flinfo->fn_extra;
	Snapshot	snap;
	text	   *server;

	/* before the name is compared with, or copied into, st->name */
	if (VARSIZE_ANY_EXHDR(ring) > RING_NAME_MAXLEN)
		ring_report_name_too_long(VARDATA_ANY(ring), VARSIZE_ANY_EXHDR(ring));
	snap = ring_current_snapshot();
	if (st == NULL)
	{
		MemoryContext mcxt = fcinfo->flinfo->fn_mcxt;

		st = MemoryContextAllocZero(mcxt, sizeof(RouteState));
		st->argtype = get_fn_expr_argtype(fcinfo->flinfo, 1);
		if (!OidIsValid(st->argtype))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("could not determine the data type of the key")));
		ring_key_reader_init(&st->reader, st->argtype, mcxt);
		for (int i = 0; i < 3; i++)
			ring_ref_init(&st->refs[i], mcxt);
		st->cxt = AllocSetContextCreate(mcxt, "consistent_ring route",
										ALLOCSET_SMALL_SIZES);
		fcinfo->flinfo->fn_extra = st;
	}
	if (!st->loaded || !ring_snap_same(&st->snapid, snap) ||
		st->userid != GetUserId() || st->tbl != tbl ||
		st->namelen != VARSIZE_ANY_EXHDR(ring) ||
		memcmp(st->name, VARDATA_ANY(ring), st->namelen) != 0)
		route_load(st, ring, tbl, snap);

	server = route_key(st, ring, PG_GETARG_DATUM(1));
	if (server == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(server);
}
