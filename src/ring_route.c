/*-------------------------------------------------------------------------
 *
 * ring_route.c
 *	  ring_route: where a reader finds a key of a table while ring_migrate
 *	  moves it.
 *
 * ring_migrate (ring_mover.c) cuts over each source server at once: from
 * the commit of its phase 'cut over' (consistent_ring.migration_servers)
 * the keys it gives away are on their new servers, before it on the old
 * one (which refuses writes to them from its own cutover on, so a writer
 * routed there just before retries).  After the migration, keys are where
 * its new version puts them; with no migration, where the ring's newest
 * version does.
 *
 * The table's latest migration and its progress are read through SPI, as
 * the caller (row security applies), when a call site first sees a
 * snapshot or a user.  The reading is kept for the session's later
 * statements (route_cache) until a change to the progress tables, the ring
 * catalog or the roles commits (ring_route_generation), for snapshots not
 * older than the one it was made with; ring_cache.c has the protocol.
 * Each row then costs two or three owner lookups.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "ring_cache.h"
#include "ring_keys.h"
#include "ring_servers.h"
#include "ring_compile.h"

/* One source server of the migration being routed. */
typedef struct RouteSource
{
	text	   *server;
	bool		source;			/* read as a source */
	bool		done;			/* cut over */
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

	/* ring_partition: the partitions after the nodes (in cxt) */
	bool		extras_loaded;
	List	   *extras;
} RouteState;

#define REF_NEWEST	0
#define REF_OLD		1
#define REF_NEW		2

/*
 * What the progress tables say about the table's latest migration by the
 * ring, as one user's snapshot sees them (row security applies): the
 * statement's reading, and what is kept of it for later statements.
 */
typedef struct RouteRawSource
{
	text	   *server;
	bool		source;
	bool		done;			/* cut over */
} RouteRawSource;

typedef struct RouteRaw
{
	bool		migrating;
	bool		finished;
	int32		old_version;
	int32		new_version;
	NameData	key_column;
	int			nsources;
	RouteRawSource *sources;
} RouteRaw;

/*
 * Readings kept across statements, by ring, table (schema and name, as
 * the progress tables name it) and user.  An entry holds while no
 * invalidation of the progress tables, the ring catalog or role
 * memberships has arrived since (ring_route_generation), for snapshots not
 * older than the one it was read with (ring_cache.c has the protocol).
 */
typedef struct RouteKey
{
	Oid			userid;
	NameData	nspname;
	NameData	relname;
	int32		namelen;
	char		name[RING_NAME_MAXLEN];	/* zero-padded */
} RouteKey;

typedef struct RouteEntry
{
	RouteKey	key;
	uint64		generation;
	RingSnapOrder order;		/* of the snapshot it was read with */
	RouteRaw	raw;			/* in RouteContext */
} RouteEntry;

#define ROUTE_MAX_ENTRIES 1024

static MemoryContext RouteContext = NULL;
static HTAB *route_cache = NULL;
static uint64 route_cache_generation = 0;

/* Read the progress tables through SPI, as the caller, into mcxt. */
static void
route_read(RouteRaw *raw, text *ring, const NameData *nspname,
		   const NameData *relname, MemoryContext mcxt)
{
	MemoryContext oldcxt;
	Oid			types[3] = {TEXTOID, NAMEOID, NAMEOID};
	Datum		values[3];
	int			ret;
	int32		migration_id = 0;

	memset(raw, 0, sizeof(*raw));
	values[0] = PointerGetDatum(ring);
	values[1] = NameGetDatum(nspname);
	values[2] = NameGetDatum(relname);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args("SELECT m.migration_id, m.old_version, m.new_version,"
								" m.finished_at IS NOT NULL, m.key_column"
								" FROM consistent_ring.migrations m"
								" WHERE m.ring OPERATOR(pg_catalog.=) $1"
								"  AND m.table_schema OPERATOR(pg_catalog.=) $2"
								"  AND m.table_name OPERATOR(pg_catalog.=) $3"
								" ORDER BY m.finished_at IS NULL DESC, m.migration_id DESC LIMIT 1",
								3, types, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;

		raw->migrating = true;
		migration_id = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
		raw->old_version = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
		raw->new_version = DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull));
		raw->finished = DatumGetBool(SPI_getbinval(tup, desc, 4, &isnull));
		namestrcpy(&raw->key_column,
				   NameStr(*DatumGetName(SPI_getbinval(tup, desc, 5, &isnull))));
	}

	if (raw->migrating && !raw->finished)
	{
		types[0] = INT4OID;
		values[0] = Int32GetDatum(migration_id);
		values[1] = PointerGetDatum(ring);
		types[1] = TEXTOID;
		ret = SPI_execute_with_args("SELECT server, source,"
									" phase OPERATOR(pg_catalog.=) ANY ('{cut over,done}'::pg_catalog.text[])"
									" FROM consistent_ring.migration_servers"
									" WHERE migration_id OPERATOR(pg_catalog.=) $1"
									"  AND ring OPERATOR(pg_catalog.=) $2",
									2, types, values, NULL, true, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
		oldcxt = MemoryContextSwitchTo(mcxt);
		raw->sources = palloc0(Max(SPI_processed, 1) * sizeof(RouteRawSource));
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			RouteRawSource *s = &raw->sources[raw->nsources++];
			bool		isnull;

			s->server = DatumGetTextPCopy(SPI_getbinval(tup, desc, 1, &isnull));
			s->source = DatumGetBool(SPI_getbinval(tup, desc, 2, &isnull));
			s->done = DatumGetBool(SPI_getbinval(tup, desc, 3, &isnull));
		}
		MemoryContextSwitchTo(oldcxt);
	}
	SPI_finish();
}

/* The kept readings' key for the ring, the table and the current user. */
static void
route_key_init(RouteKey *key, text *ring, const char *nspname, const char *relname)
{
	memset(key, 0, sizeof(*key));
	key->userid = GetUserId();
	namestrcpy(&key->nspname, nspname);
	namestrcpy(&key->relname, relname);
	key->namelen = VARSIZE_ANY_EXHDR(ring);
	memcpy(key->name, VARDATA_ANY(ring), key->namelen);
}

/* The kept reading for the key, if it still holds for snap. */
static RouteRaw *
route_cache_find(const RouteKey *key, Snapshot snap)
{
	RouteEntry *entry;

	if (route_cache == NULL || route_cache_generation != ring_route_generation ||
		!ring_kept_is_valid(snap, NULL))
		return NULL;
	entry = hash_search(route_cache, key, HASH_FIND, NULL);
	if (entry == NULL || !ring_kept_is_valid(snap, &entry->order))
		return NULL;
	return &entry->raw;
}

/* A copy of raw in mcxt. */
static void
route_raw_copy(RouteRaw *copy, const RouteRaw *raw, MemoryContext mcxt)
{
	*copy = *raw;
	copy->sources = MemoryContextAllocZero(mcxt, Max(raw->nsources, 1) * sizeof(RouteRawSource));
	for (int i = 0; i < raw->nsources; i++)
	{
		const RouteRawSource *r = &raw->sources[i];
		RouteRawSource *c = &copy->sources[i];

		*c = *r;
		c->server = (text *) MemoryContextAlloc(mcxt, VARSIZE_ANY(r->server));
		memcpy(c->server, r->server, VARSIZE_ANY(r->server));
	}
}

/* Keep a reading made under snap, if it may be kept. */
static void
route_cache_store(const RouteKey *key, const RouteRaw *raw, Snapshot snap,
				  uint64 generation)
{
	RouteEntry *entry;
	RingSnapOrder order;
	RouteRaw	copy;

	if (generation != ring_route_generation || !ring_may_keep(snap, &order) ||
		!ring_catalog_progress_invalidated())
		return;
	if (RouteContext == NULL)
		RouteContext = AllocSetContextCreate(CacheMemoryContext,
											 "consistent_ring routes",
											 ALLOCSET_SMALL_SIZES);
	if (route_cache == NULL || route_cache_generation != generation ||
		hash_get_num_entries(route_cache) >= ROUTE_MAX_ENTRIES)
	{
		HASHCTL		ctl;

		route_cache = NULL;
		MemoryContextReset(RouteContext);
		ctl.keysize = sizeof(RouteKey);
		ctl.entrysize = sizeof(RouteEntry);
		ctl.hcxt = RouteContext;
		route_cache = hash_create("consistent_ring routes", 16, &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		route_cache_generation = generation;
	}
	/* the copy first: an error leaves no half-made entry */
	route_raw_copy(&copy, raw, RouteContext);
	entry = hash_search(route_cache, key, HASH_ENTER, NULL);
	entry->generation = generation;
	entry->order = order;
	entry->raw = copy;
}

/*
 * Read the table's latest migration by the ring, as the snapshot sees it:
 * from what an earlier statement kept, or from the progress tables.
 */
static void
route_load(RouteState *st, text *ring, Oid tbl, Snapshot snap)
{
	MemoryContext oldcxt;
	RouteKey	key;
	RouteRaw	fresh;
	RouteRaw   *raw;
	char	   *nspname;
	char	   *relname;

	MemoryContextReset(st->cxt);
	st->loaded = false;
	st->migrating = false;
	st->nsources = 0;
	st->sources = NULL;

	/* let committed changes of the progress tables reach the kept readings */
	AcceptInvalidationMessages();
	relname = get_rel_name(tbl);
	nspname = relname ? get_namespace_name(get_rel_namespace(tbl)) : NULL;
	if (relname == NULL || nspname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", tbl)));
	route_key_init(&key, ring, nspname, relname);
	raw = route_cache_find(&key, snap);
	if (raw != NULL)
	{
		/*
		 * Copied before anything below can call out (a key type's input
		 * function), since a nested ring_route may reset the kept readings.
		 */
		route_raw_copy(&fresh, raw, st->cxt);
	}
	else
	{
		uint64		generation = ring_route_generation;

		route_read(&fresh, ring, &key.nspname, &key.relname, st->cxt);
		route_cache_store(&key, &fresh, snap, generation);
	}
	raw = &fresh;

	st->migrating = raw->migrating;
	st->finished = raw->finished;
	st->old_version = raw->old_version;
	st->new_version = raw->new_version;
	if (st->migrating && !st->finished)
	{
		const char *key_column = NameStr(raw->key_column);
		AttrNumber	attnum = get_attnum(tbl, key_column);

		if (attnum == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of relation \"%s\" does not exist",
							key_column, relname)));
		oldcxt = MemoryContextSwitchTo(st->cxt);
		st->sources = palloc0(Max(raw->nsources, 1) * sizeof(RouteSource));
		for (int i = 0; i < raw->nsources; i++)
		{
			RouteRawSource *r = &raw->sources[i];
			RouteSource *s = &st->sources[st->nsources++];

			s->server = DatumGetTextPCopy(PointerGetDatum(r->server));
			s->source = r->source;
			s->done = r->done;
		}
		MemoryContextSwitchTo(oldcxt);
	}

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
	return src->done ? new_server : old_server;
}

/*
 * Where the key of argument 1 of the table of argument 2 is now, by the
 * ring of argument 0 (NULL: a node without a server); *state gets the
 * call site's state.
 */
static text *
route_call(FunctionCallInfo fcinfo, RouteState **state)
{
	text	   *ring = PG_GETARG_TEXT_PP(0);
	Oid			tbl = PG_GETARG_OID(2);
	RouteState *st = (RouteState *) fcinfo->flinfo->fn_extra;
	Snapshot	snap;

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
	{
		route_load(st, ring, tbl, snap);
		st->extras_loaded = false;
	}
	*state = st;
	return route_key(st, ring, PG_GETARG_DATUM(1));
}

/* ring_route(ring, key, table) */
PG_FUNCTION_INFO_V1(ring_route);
Datum
ring_route(PG_FUNCTION_ARGS)
{
	RouteState *st;
	text	   *server = route_call(fcinfo, &st);

	if (server == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(server);
}

/*
 * ring_partition(ring, key, table): the PL/Proxy partition of the server
 * ring_route names: the first node of the newest version (in name order)
 * on that server, else that server's place among the partitions
 * ring_plproxy_partitions adds for unfinished migrations.
 */
PG_FUNCTION_INFO_V1(ring_partition_routed);
Datum
ring_partition_routed(PG_FUNCTION_ARGS)
{
	RouteState *st;
	text	   *server = route_call(fcinfo, &st);
	text	   *ring = PG_GETARG_TEXT_PP(0);
	CompiledRing *newest;
	int			i = 0;
	ListCell   *lc;

	newest = ring_ref_get(&st->refs[REF_NEWEST], VARDATA_ANY(ring), VARSIZE_ANY_EXHDR(ring),
						  RING_VERSION_CURRENT);
	if (server != NULL)
	{
		for (i = 0; i < newest->nnodes; i++)
			if (same_server(newest->nodes[i].server, server))
				PG_RETURN_INT32(i);
		if (!st->extras_loaded)
		{
			MemoryContext old = MemoryContextSwitchTo(st->cxt);

			st->extras = ring_migration_servers(newest);
			st->extras_loaded = true;
			MemoryContextSwitchTo(old);
		}
		foreach(lc, st->extras)
		{
			if (strlen(lfirst(lc)) == VARSIZE_ANY_EXHDR(server) &&
				memcmp(lfirst(lc), VARDATA_ANY(server), VARSIZE_ANY_EXHDR(server)) == 0)
				PG_RETURN_INT32(newest->nnodes + foreach_current_index(lc));
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("the server of the key is no PL/Proxy partition of ring \"%s\"", newest->name),
			 errdetail("ring_route names %s.",
					   server ? psprintf("server \"%s\"", text_to_cstring(server)) : "a node without a server")));
	PG_RETURN_NULL();
}
