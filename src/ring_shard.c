/*-------------------------------------------------------------------------
 *
 * ring_shard.c
 *	  The servers' side of an online move (ring_migrate, ring_mover.c), and
 *	  the coordinator's export of a ring to them.
 *
 * Every server ring_migrate moves rows between runs CREATE EXTENSION
 * consistent_ring too.  The mover imports the ring there (shard_import:
 * the catalog rows of its versions, under the name "migration <id>",
 * owned by the mover's role), so that each server computes placement
 * itself: which of its rows move away and where to.
 *
 * A source table's state is one row of consistent_ring.shard_moves:
 *
 *	copying		shard_begin installed the trigger zz_consistent_ring_move
 *				and waited (SHARE lock) for the transactions that were
 *				writing the table: every later write of a key that moves
 *				away (its server in the old version is this one, in the
 *				new version another) records the key in
 *				consistent_ring.shard_changes, in the writer's transaction.
 *				The mover copies the moving rows under a snapshot taken
 *				after that, then replays recorded keys (their rows as they
 *				are now) until few are left.
 *	cut over	shard_cut took the fence lock in exclusive mode: it waits
 *				for every transaction that wrote a moving key (each holds
 *				the lock in share mode from its first such write to its
 *				end), and writers that come later wait for it.  In the
 *				same transaction the mover replays the last keys; from its
 *				commit on, a write to a moving key fails with 40001 and a
 *				message naming the key's new server.
 *	done		the rows are deleted; writes to keys that moved away still
 *				fail, so that a writer with a stale route cannot leave a
 *				row where no reader looks.
 *
 * The trigger reads the state with the latest snapshot, not the writer's:
 * a repeatable-read writer whose snapshot predates the copy must record
 * its write too.  Writes to keys that stay cost two placement lookups and
 * take no lock.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "compat.h"
#include "ring_cache.h"
#include "ring_catalog.h"
#include "ring_keys.h"
#include "ring_shard.h"
#include "ring_compile.h"

#define MOVE_TRIGGER "zz_consistent_ring_move"
#define TRUNCATE_TRIGGER "zz_consistent_ring_truncate"

/* Longest migration id a server accepts (the ring's name holds it). */
#define MIGRATION_NAME_PREFIX "migration "
#define MIGRATION_ID_MAXLEN (RING_NAME_MAXLEN - (int) strlen(MIGRATION_NAME_PREFIX))

typedef enum ShardState
{
	SHARD_NONE,
	SHARD_COPYING,
	SHARD_CUT_OVER,
	SHARD_DONE
} ShardState;

static const char *const state_names[] = {"none", "copying", "cut over", "done"};

/* A table's row of consistent_ring.shard_moves. */
typedef struct ShardMove
{
	bool		found;
	NameData	key_column;
	char	   *migration;
	char		ring[RING_NAME_MAXLEN + 1];
	int			ringlen;
	text	   *server;
	int32		old_version;
	int32		new_version;
	ShardState	state;
	int64		rows_deleted;	/* by shard_delete_moved, so far */
} ShardMove;

/* The table whose moved rows shard_delete_moved is deleting, if any. */
static Oid	deleting_relid = InvalidOid;

static ShardState
state_from_name(const char *s)
{
	for (int i = SHARD_COPYING; i <= SHARD_DONE; i++)
		if (strcmp(s, state_names[i]) == 0)
			return (ShardState) i;
	elog(ERROR, "unknown shard move state \"%s\"", s);
	return SHARD_NONE;
}

static Oid
shard_table_oid(const char *name)
{
	Oid			nsp = get_namespace_oid("consistent_ring", false);
	Oid			relid = get_relname_relid(name, nsp);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"consistent_ring.%s\" does not exist", name),
				 errhint("Update the extension: ALTER EXTENSION consistent_ring UPDATE.")));
	return relid;
}

/*
 * Read the table's move row as the latest snapshot sees it (not the
 * caller's: see the file header).  Strings are allocated in mcxt.
 */
static void
shard_move_read(Oid relid, ShardMove *mv, MemoryContext mcxt)
{
	Relation	rel = table_open(shard_table_oid("shard_moves"), AccessShareLock);
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	ScanKeyData skey;
	SysScanDesc scan;
	HeapTuple	tup;

	memset(mv, 0, sizeof(*mv));
	ScanKeyInit(&skey, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, shard_table_oid("shard_moves_pkey"), true, snap, 1, &skey);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		TupleDesc	desc = RelationGetDescr(rel);
		Datum		values[10];
		bool		nulls[10];
		MemoryContext old = MemoryContextSwitchTo(mcxt);
		text	   *ring;

		heap_deform_tuple(tup, desc, values, nulls);
		mv->found = true;
		namestrcpy(&mv->key_column, NameStr(*DatumGetName(values[1])));
		mv->migration = TextDatumGetCString(values[2]);
		ring = DatumGetTextPP(values[3]);
		mv->ringlen = Min(VARSIZE_ANY_EXHDR(ring), RING_NAME_MAXLEN);
		memcpy(mv->ring, VARDATA_ANY(ring), mv->ringlen);
		mv->server = DatumGetTextPCopy(values[4]);
		mv->old_version = DatumGetInt32(values[5]);
		mv->new_version = DatumGetInt32(values[6]);
		mv->state = state_from_name(TextDatumGetCString(values[7]));
		mv->rows_deleted = DatumGetInt64(values[8]);
		MemoryContextSwitchTo(old);
	}
	systable_endscan(scan);
	UnregisterSnapshot(snap);
	table_close(rel, AccessShareLock);
}

/* The fence lock of a table: advisory (1919510120, relid). */
static bool
fence_lock(Oid relid, LOCKMODE mode)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, RING_FENCE_LOCK_KEY, relid, 2);
	return LockAcquire(&tag, mode, false, false) == LOCKACQUIRE_OK;
}

static bool
same_text(const text *a, const text *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
		memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

/* The name of the schema consistent_ring is installed in, quoted. */
static const char *
extension_schema(void)
{
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData skey;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			nsp = InvalidOid;

	ScanKeyInit(&skey, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum("consistent_ring"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &skey);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		nsp = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (!OidIsValid(nsp))
		elog(ERROR, "extension consistent_ring is not installed");
	return quote_identifier(get_namespace_name(nsp));
}

/* insufficient_privilege unless the current user has TRIGGER on relid. */
static void
check_table_right(Oid relid, AclMode mode)
{
	AclResult	acl = pg_class_aclcheck(relid, GetUserId(), mode);

	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, get_relkind_objtype(get_rel_relkind(relid)),
					   get_rel_name(relid));
}

static void
check_migration_id(text *migration)
{
	if (VARSIZE_ANY_EXHDR(migration) < 1 ||
		VARSIZE_ANY_EXHDR(migration) > MIGRATION_ID_MAXLEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("migration id must be 1 to %d bytes long", MIGRATION_ID_MAXLEN)));
}

/*
 * The table's move row, which must exist and be of this migration;
 * relid must be a table the caller has TRIGGER on.
 */
static void
shard_move_of(Oid relid, text *migration, ShardMove *mv)
{
	char	   *mig = text_to_cstring(migration);

	if (!OidIsValid(get_rel_type_id(relid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	check_table_right(relid, ACL_TRIGGER);
	shard_move_read(relid, mv, CurrentMemoryContext);
	if (!mv->found || strcmp(mv->migration, mig) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("relation \"%s\" is not being moved by migration %s",
						get_rel_name(relid), mig),
				 mv->found ? errdetail("It is being moved by migration %s.", mv->migration) : 0));
}

/*
 * consistent_ring.ring_export(ring, version): the ring's catalog rows up to
 * version, as jsonb (ring, versions, nodes, tokens, pins), for whoever may
 * look the ring up.
 */
PG_FUNCTION_INFO_V1(ring_export);
Datum
ring_export(PG_FUNCTION_ARGS)
{
	text	   *ring = PG_GETARG_TEXT_PP(0);
	int32		version = PG_GETARG_INT32(1);
	RingHeader	hdr;
	RingCaller	caller;
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		values[2];
	Datum		result;
	bool		isnull;

	if (VARSIZE_ANY_EXHDR(ring) > RING_NAME_MAXLEN)
		ring_report_name_too_long(VARDATA_ANY(ring), VARSIZE_ANY_EXHDR(ring));
	/* does not exist, or may not be looked up: an error */
	ring_catalog_get(VARDATA_ANY(ring), VARSIZE_ANY_EXHDR(ring),
					 ring_current_snapshot(), &hdr);
	if (version < 1 || version > hdr.version)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ring \"%s\" has no version %d", hdr.name, version)));

	begin_as_catalog_owner(&caller);
	values[0] = PointerGetDatum(ring);
	values[1] = Int32GetDatum(version);
	if (SPI_execute_with_args(
							  "WITH r AS (SELECT * FROM consistent_ring.rings WHERE name OPERATOR(pg_catalog.=) $1)"
							  " SELECT pg_catalog.jsonb_build_object("
							  "  'ring', (SELECT pg_catalog.to_jsonb(r) FROM r),"
							  "  'versions', (SELECT COALESCE(pg_catalog.jsonb_agg(v), '[]') FROM consistent_ring.versions v, r"
							  "               WHERE v.ring_id OPERATOR(pg_catalog.=) r.ring_id AND v.version OPERATOR(pg_catalog.<=) $2),"
							  "  'nodes', (SELECT COALESCE(pg_catalog.jsonb_agg(n), '[]') FROM consistent_ring.nodes n, r"
							  "            WHERE n.ring_id OPERATOR(pg_catalog.=) r.ring_id AND n.added_in OPERATOR(pg_catalog.<=) $2),"
							  "  'tokens', (SELECT COALESCE(pg_catalog.jsonb_agg(t), '[]') FROM consistent_ring.tokens t, r"
							  "             WHERE t.ring_id OPERATOR(pg_catalog.=) r.ring_id AND t.added_in OPERATOR(pg_catalog.<=) $2),"
							  "  'pins', (SELECT COALESCE(pg_catalog.jsonb_agg(p), '[]') FROM consistent_ring.pins p, r"
							  "           WHERE p.ring_id OPERATOR(pg_catalog.=) r.ring_id AND p.added_in OPERATOR(pg_catalog.<=) $2))",
							  2, types, values, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read ring \"%s\"", hdr.name);
	result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	result = SPI_datumTransfer(result, false, -1);
	end_as_catalog_owner(&caller);
	PG_RETURN_DATUM(result);
}

/*
 * Create the ring of a migration from the coordinator's rows, owned by the
 * current user, unless it exists already; returns its name.
 */
static text *
import_ring(text *migration, Jsonb *definition)
{
	StringInfoData name;
	RingCaller	caller;
	Oid			user = GetUserId();
	Oid			types[3] = {TEXTOID, OIDOID, JSONBOID};
	Datum		values[3];
	int32		ring_id;
	bool		isnull;
	static const char *const rows[] = {
		"INSERT INTO consistent_ring.versions (ring_id, version, created_at, created_by)"
		" SELECT $1, v.version, v.created_at, v.created_by"
		" FROM pg_catalog.jsonb_populate_recordset(NULL::consistent_ring.versions, $2 OPERATOR(pg_catalog.->) 'versions') v",
		"INSERT INTO consistent_ring.nodes (ring_id, node, weight, added_in, removed_in, zone, joined, server)"
		" SELECT $1, n.node, n.weight, n.added_in, n.removed_in, n.zone, n.joined, n.server"
		" FROM pg_catalog.jsonb_populate_recordset(NULL::consistent_ring.nodes, $2 OPERATOR(pg_catalog.->) 'nodes') n",
		"INSERT INTO consistent_ring.tokens (ring_id, token, node, added_in, removed_in)"
		" SELECT $1, t.token, t.node, t.added_in, t.removed_in"
		" FROM pg_catalog.jsonb_populate_recordset(NULL::consistent_ring.tokens, $2 OPERATOR(pg_catalog.->) 'tokens') t",
		"INSERT INTO consistent_ring.pins (ring_id, key, position, node, added_in, removed_in)"
		" SELECT $1, p.key, p.position, p.node, p.added_in, p.removed_in"
		" FROM pg_catalog.jsonb_populate_recordset(NULL::consistent_ring.pins, $2 OPERATOR(pg_catalog.->) 'pins') p"
	};

	check_migration_id(migration);
	initStringInfo(&name);
	appendStringInfoString(&name, MIGRATION_NAME_PREFIX);
	appendBinaryStringInfo(&name, VARDATA_ANY(migration), VARSIZE_ANY_EXHDR(migration));

	values[0] = PointerGetDatum(cstring_to_text(name.data));	/* outlives SPI */
	begin_as_catalog_owner(&caller);
	values[1] = ObjectIdGetDatum(user);
	values[2] = JsonbPGetDatum(definition);
	if (SPI_execute_with_args("SELECT owner::pg_catalog.oid FROM consistent_ring.rings WHERE name OPERATOR(pg_catalog.=) $1",
							  1, types, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read consistent_ring.rings");
	if (SPI_processed == 1)
	{
		Oid			owner = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
														   SPI_tuptable->tupdesc, 1, &isnull));

		if (owner != user)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("ring \"%s\" already exists", name.data),
					 errdetail("It belongs to another role.")));
		end_as_catalog_owner(&caller);
		return (text *) DatumGetPointer(values[0]);
	}
	if (SPI_execute_with_args("SELECT pg_catalog.jsonb_typeof($3 OPERATOR(pg_catalog.->) 'ring') OPERATOR(pg_catalog.=) 'object'"
							  " AND pg_catalog.jsonb_typeof($3 OPERATOR(pg_catalog.->) 'ring' OPERATOR(pg_catalog.->) 'algorithm') OPERATOR(pg_catalog.=) 'string'"
							  " AND pg_catalog.jsonb_typeof($3 OPERATOR(pg_catalog.->) 'ring' OPERATOR(pg_catalog.->) 'vnodes') OPERATOR(pg_catalog.=) 'number'"
							  " AND pg_catalog.jsonb_typeof($3 OPERATOR(pg_catalog.->) 'ring' OPERATOR(pg_catalog.->) 'version') OPERATOR(pg_catalog.=) 'number'"
							  " AND (SELECT pg_catalog.bool_and(pg_catalog.jsonb_typeof($3 OPERATOR(pg_catalog.->) k) OPERATOR(pg_catalog.=) 'array')"
							  "      FROM pg_catalog.unnest('{versions,nodes,tokens,pins}'::pg_catalog.text[]) k)",
							  3, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not check a ring definition");
	if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) || isnull)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid ring definition"),
				 errdetail("consistent_ring.ring_export() makes them: a ring object and arrays of versions, nodes, tokens and pins.")));
	if (SPI_execute_with_args("INSERT INTO consistent_ring.rings (name, algorithm, vnodes, version, owner,"
							  " public_lookup, slots, table_size, token_allocation)"
							  " SELECT $1, r.algorithm, r.vnodes, r.version, $2::pg_catalog.regrole, true,"
							  " r.slots, r.table_size, r.token_allocation"
							  " FROM pg_catalog.jsonb_populate_record(NULL::consistent_ring.rings,"
							  " $3 OPERATOR(pg_catalog.->) 'ring') r RETURNING ring_id",
							  3, types, values, NULL, false, 1) != SPI_OK_INSERT_RETURNING ||
		SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the ring definition has no ring")));
	ring_id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	for (int i = 0; i < lengthof(rows); i++)
	{
		Oid			t[2] = {INT4OID, JSONBOID};
		Datum		v[2] = {Int32GetDatum(ring_id), JsonbPGetDatum(definition)};

		if (SPI_execute_with_args(rows[i], 2, t, v, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not import a ring");
	}
	end_as_catalog_owner(&caller);
	return (text *) DatumGetPointer(values[0]);
}

/* consistent_ring.shard_import(migration, definition) */
PG_FUNCTION_INFO_V1(ring_shard_import);
Datum
ring_shard_import(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(import_ring(PG_GETARG_TEXT_PP(0), PG_GETARG_JSONB_P(1)));
}

/* Run a statement as the caller, with search_path pg_catalog. */
static void
run_as_caller(const char *sql, int expect)
{
	int			nest = NewGUCNestLevel();
	int			rc;

	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute(sql, false, 0);
	if (rc != expect)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	SPI_finish();
	AtEOXact_GUC(true, nest);
}

/* Write the table's move row as the catalog's owner. */
static void
write_move(const char *sql, int nargs, Oid *types, Datum *values)
{
	RingCaller	caller;
	int			rc;

	begin_as_catalog_owner(&caller);
	rc = SPI_execute_with_args(sql, nargs, types, values, NULL, false, 0);
	if (rc < 0)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	end_as_catalog_owner(&caller);
}

/*
 * consistent_ring.shard_begin(tbl, key_column, migration, server,
 * old_version, new_version, definition): see the file header.  A
 * migration already begun on the table keeps its state (a resumed run).
 */
PG_FUNCTION_INFO_V1(ring_shard_begin);
Datum
ring_shard_begin(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Name		key_column = PG_GETARG_NAME(1);
	text	   *migration = PG_GETARG_TEXT_PP(2);
	text	   *server = PG_GETARG_TEXT_PP(3);
	int32		old_version = PG_GETARG_INT32(4);
	int32		new_version = PG_GETARG_INT32(5);
	Jsonb	   *definition = PG_GETARG_JSONB_P(6);
	ShardMove	mv;
	text	   *ring;
	char	   *qualified;
	char		relkind;

	relkind = get_rel_relkind(relid);
	if (relkind == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	if (relkind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", get_rel_name(relid)),
				 errdetail("ring_migrate moves the rows of plain tables.")));
	check_table_right(relid, ACL_TRIGGER);
	check_migration_id(migration);
	if (get_attnum(relid, NameStr(*key_column)) == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist",
						NameStr(*key_column), get_rel_name(relid))));
	if (VARSIZE_ANY_EXHDR(server) < 1 || VARSIZE_ANY_EXHDR(server) > RING_NAME_MAXLEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("server name must be 1 to %d bytes long", RING_NAME_MAXLEN)));

	shard_move_read(relid, &mv, CurrentMemoryContext);
	if (mv.found && strcmp(mv.migration, text_to_cstring(migration)) == 0)
		PG_RETURN_TEXT_P(cstring_to_text(state_names[mv.state]));

	ring = import_ring(migration, definition);
	qualified = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
										   get_rel_name(relid));
	if (!OidIsValid(get_trigger_oid(relid, MOVE_TRIGGER, true)))
		run_as_caller(psprintf("CREATE TRIGGER %s BEFORE INSERT OR UPDATE OR DELETE ON %s"
							   " FOR EACH ROW EXECUTE FUNCTION consistent_ring.shard_capture()",
							   MOVE_TRIGGER, qualified), SPI_OK_UTILITY);
	if (!OidIsValid(get_trigger_oid(relid, TRUNCATE_TRIGGER, true)))
		run_as_caller(psprintf("CREATE TRIGGER %s BEFORE TRUNCATE ON %s"
							   " FOR EACH STATEMENT EXECUTE FUNCTION consistent_ring.shard_capture()",
							   TRUNCATE_TRIGGER, qualified), SPI_OK_UTILITY);
	{
		Oid			types[7] = {OIDOID, NAMEOID, TEXTOID, TEXTOID, TEXTOID, INT4OID, INT4OID};
		Datum		values[7] = {ObjectIdGetDatum(relid), NameGetDatum(key_column),
			PointerGetDatum(migration), PointerGetDatum(ring), PointerGetDatum(server),
		Int32GetDatum(old_version), Int32GetDatum(new_version)};

		write_move("INSERT INTO consistent_ring.shard_moves AS m"
				   " (relid, key_column, migration, ring, server, old_version, new_version, state)"
				   " VALUES ($1, $2, $3, $4, $5, $6, $7, 'copying')"
				   " ON CONFLICT (relid) DO UPDATE SET key_column = EXCLUDED.key_column,"
				   " migration = EXCLUDED.migration, ring = EXCLUDED.ring, server = EXCLUDED.server,"
				   " old_version = EXCLUDED.old_version, new_version = EXCLUDED.new_version,"
				   " state = EXCLUDED.state, changed_at = pg_catalog.now()",
				   7, types, values);
		write_move("DELETE FROM consistent_ring.shard_changes WHERE relid OPERATOR(pg_catalog.=) $1",
				   1, types, values);
	}
	/* wait for the transactions that wrote the table without recording */
	LockRelationOid(relid, ShareLock);
	PG_RETURN_TEXT_P(cstring_to_text(state_names[SHARD_COPYING]));
}

/* consistent_ring.shard_take_changes(tbl, migration, max_keys) */
PG_FUNCTION_INFO_V1(ring_shard_take_changes);
Datum
ring_shard_take_changes(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	int32		max_keys = PG_GETARG_INT32(2);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ShardMove	mv;
	RingCaller	caller;
	Oid			types[2] = {OIDOID, INT4OID};
	Datum		values[2] = {ObjectIdGetDatum(relid), Int32GetDatum(max_keys)};

	if (max_keys < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_keys must be at least 1")));
	shard_move_of(relid, PG_GETARG_TEXT_PP(1), &mv);
	RING_INIT_MATERIALIZED_SRF(fcinfo, RING_SRF_USE_EXPECTED_DESC);
	begin_as_catalog_owner(&caller);
	/*
	 * Up to max_keys distinct keys, each with every record of it the
	 * snapshot sees: fewer keys than max_keys means none is left to it.
	 */
	if (SPI_execute_with_args("WITH k AS (SELECT DISTINCT c2.key FROM consistent_ring.shard_changes c2"
							  "            WHERE c2.relid OPERATOR(pg_catalog.=) $1 LIMIT $2),"
							  " d AS (DELETE FROM consistent_ring.shard_changes c USING k"
							  "        WHERE c.relid OPERATOR(pg_catalog.=) $1 AND c.key OPERATOR(pg_catalog.=) k.key"
							  "        RETURNING c.key)"
							  " SELECT DISTINCT d.key FROM d",
							  2, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not take recorded changes");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		key = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
		MemoryContext old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);

		key = datumCopy(key, false, -1);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &key, &isnull);
		MemoryContextSwitchTo(old);
	}
	end_as_catalog_owner(&caller);
	return (Datum) 0;
}

/* consistent_ring.shard_pending(tbl) */
PG_FUNCTION_INFO_V1(ring_shard_pending);
Datum
ring_shard_pending(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	RingCaller	caller;
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	bool		isnull;
	int64		n;

	check_table_right(relid, ACL_TRIGGER);
	begin_as_catalog_owner(&caller);
	if (SPI_execute_with_args("SELECT pg_catalog.count(*) FROM consistent_ring.shard_changes"
							  " WHERE relid OPERATOR(pg_catalog.=) $1",
							  1, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not count recorded changes");
	n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	end_as_catalog_owner(&caller);
	PG_RETURN_INT64(n);
}

static void
set_state(Oid relid, ShardState state)
{
	Oid			types[2] = {OIDOID, TEXTOID};
	Datum		values[2] = {ObjectIdGetDatum(relid), CStringGetTextDatum(state_names[state])};

	write_move("UPDATE consistent_ring.shard_moves SET state = $2, changed_at = pg_catalog.now()"
			   " WHERE relid OPERATOR(pg_catalog.=) $1 AND state OPERATOR(pg_catalog.<>) $2",
			   2, types, values);
}

/* consistent_ring.shard_cut(tbl, migration): see the file header. */
PG_FUNCTION_INFO_V1(ring_shard_cut);
Datum
ring_shard_cut(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ShardMove	mv;

	shard_move_of(relid, PG_GETARG_TEXT_PP(1), &mv);
	(void) fence_lock(relid, ExclusiveLock);
	if (mv.state == SHARD_COPYING)
		set_state(relid, SHARD_CUT_OVER);
	PG_RETURN_VOID();
}

/*
 * consistent_ring.shard_forget(tbl, migration): on a server that is no
 * source of this migration, drop what an earlier one left (its refusal of
 * the keys that moved away: they may come back now).
 */
PG_FUNCTION_INFO_V1(ring_shard_forget);
Datum
ring_shard_forget(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Oid			types[2] = {OIDOID, TEXTOID};
	Datum		values[2] = {ObjectIdGetDatum(relid), PointerGetDatum(PG_GETARG_TEXT_PP(1))};
	ShardMove	mv;

	if (!OidIsValid(get_rel_type_id(relid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	shard_move_read(relid, &mv, CurrentMemoryContext);
	if (!mv.found || strcmp(mv.migration, text_to_cstring(PG_GETARG_TEXT_PP(1))) == 0)
		PG_RETURN_VOID();		/* nothing of another migration */
	check_table_right(relid, ACL_TRIGGER);
	write_move("DELETE FROM consistent_ring.shard_moves WHERE relid OPERATOR(pg_catalog.=) $1"
			   " AND migration OPERATOR(pg_catalog.<>) $2", 2, types, values);
	write_move("DELETE FROM consistent_ring.shard_changes WHERE relid OPERATOR(pg_catalog.=) $1"
			   " AND NOT EXISTS (SELECT FROM consistent_ring.shard_moves m WHERE m.relid OPERATOR(pg_catalog.=) $1)",
			   1, types, values);
	PG_RETURN_VOID();
}

/* consistent_ring.shard_finish(tbl, migration) */
PG_FUNCTION_INFO_V1(ring_shard_finish);
Datum
ring_shard_finish(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ShardMove	mv;

	shard_move_of(relid, PG_GETARG_TEXT_PP(1), &mv);
	if (mv.state == SHARD_COPYING)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the moving rows of relation \"%s\" are not cut over yet",
						get_rel_name(relid))));
	set_state(relid, SHARD_DONE);
	PG_RETURN_VOID();
}

/*
 * consistent_ring.shard_delete_moved(tbl, migration): delete the rows of
 * keys that moved away, once cut over (the trigger lets these deletes by).
 */
PG_FUNCTION_INFO_V1(ring_shard_delete_moved);
Datum
ring_shard_delete_moved(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ShardMove	mv;
	char	   *sql;
	const char *schema = extension_schema();
	char	   *ring;
	char	   *server;
	const char *key;
	uint64		n;

	shard_move_of(relid, PG_GETARG_TEXT_PP(1), &mv);
	check_table_right(relid, ACL_DELETE);
	if (mv.state == SHARD_COPYING)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the moving rows of relation \"%s\" are not cut over yet",
						get_rel_name(relid))));
	ring = quote_literal_cstr(pnstrdup(mv.ring, mv.ringlen));
	server = quote_literal_cstr(text_to_cstring(mv.server));
	key = quote_identifier(NameStr(mv.key_column));
	sql = psprintf("DELETE FROM ONLY %s t WHERE t.%s IS NOT NULL"
				   " AND %s.ring_server(%s, t.%s, %d) OPERATOR(pg_catalog.=) %s"
				   " AND %s.ring_server(%s, t.%s, %d) IS DISTINCT FROM %s",
				   quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
											  get_rel_name(relid)),
				   key, schema, ring, key, mv.old_version, server,
				   schema, ring, key, mv.new_version, server);
	deleting_relid = relid;
	PG_TRY();
	{
		int			nest = NewGUCNestLevel();

		(void) set_config_option("search_path", "pg_catalog, pg_temp",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute(sql, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "could not delete the moved rows");
		n = SPI_processed;
		SPI_finish();
		AtEOXact_GUC(true, nest);
	}
	PG_FINALLY();
	{
		deleting_relid = InvalidOid;
	}
	PG_END_TRY();
	/* the count survives a mover that did not see this call return */
	{
		Oid			types[2] = {OIDOID, INT8OID};
		Datum		values[2] = {ObjectIdGetDatum(relid), Int64GetDatum((int64) n)};

		write_move("UPDATE consistent_ring.shard_moves"
				   " SET rows_deleted = rows_deleted OPERATOR(pg_catalog.+) $2"
				   " WHERE relid OPERATOR(pg_catalog.=) $1", 2, types, values);
	}
	PG_RETURN_INT64(mv.rows_deleted + (int64) n);
}

/* What the trigger keeps for one statement. */
typedef struct CaptureState
{
	ShardMove	mv;
	bool		fenced;			/* holds the fence lock, state re-read */
	AttrNumber	attnum;
	Oid			keytype;
	FmgrInfo	keyout;
	RingKeyReader reader;
	RingKeyReader text_reader;	/* for the canonical text of other types */
	RingRef		refs[2];		/* old version, new version */
	Oid			changes;		/* consistent_ring.shard_changes */
	MemoryContext mcxt;			/* the statement's (the trigger's fn_mcxt) */
} CaptureState;

/* The key's server in the old and the new version. */
static void
key_servers(CaptureState *st, RingKeyReader *reader, Datum key, text **old_server,
			text **new_server)
{
	CompiledRing *r;
	uint32		owner;

	r = ring_ref_get(&st->refs[0], st->mv.ring, st->mv.ringlen, st->mv.old_version);
	owner = ring_owner_of(r, ring_key_position_in(r, reader, key));
	*old_server = owner == RING_NO_OWNER ? NULL : r->nodes[owner].server;
	r = ring_ref_get(&st->refs[1], st->mv.ring, st->mv.ringlen, st->mv.new_version);
	owner = ring_owner_of(r, ring_key_position_in(r, reader, key));
	*new_server = owner == RING_NO_OWNER ? NULL : r->nodes[owner].server;
}

/*
 * The text form of a key whose output depends on settings (dates, times,
 * floats, money...) as ring_migrate's sessions write it: the writer's
 * DateStyle or TimeZone must not decide whether its write is recorded, nor
 * make the recorded key read back as another value.
 */
static char *
canonical_text(CaptureState *st, Datum key)
{
	static const char *const settings[][2] = {
		{"datestyle", "ISO"}, {"intervalstyle", "postgres"}, {"timezone", "UTC"},
		{"extra_float_digits", "3"}, {"bytea_output", "hex"}, {"lc_monetary", "C"}
	};
	int			nest = NewGUCNestLevel();
	char	   *result;

	for (int i = 0; i < lengthof(settings); i++)
		(void) set_config_option(settings[i][0], settings[i][1], PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	result = OutputFunctionCall(&st->keyout, key);
	AtEOXact_GUC(true, nest);
	return result;
}

static char *
text_or_none(text *t)
{
	return t == NULL ? pstrdup("(none)") : text_to_cstring(t);
}

/* A write to key: nothing, recorded, or refused (see the file header). */
static void
capture_key(CaptureState *st, Relation rel, Datum key)
{
	text	   *old_server;
	text	   *new_server;
	char	   *keytext = NULL;
	RingKeyReader *reader = &st->reader;

	if (st->reader.kind == RING_KEY_OTHER)
	{
		/* placed by its canonical text, as the mover's queries place it */
		keytext = canonical_text(st, key);
		key = CStringGetTextDatum(keytext);
		reader = &st->text_reader;
	}
	key_servers(st, reader, key, &old_server, &new_server);
	if (!same_text(old_server, st->mv.server) || same_text(new_server, st->mv.server))
		return;					/* the key stays, or is not this server's */

	if (!st->fenced)
	{
		/* waits while the keys are being cut over; then read what holds */
		(void) fence_lock(RelationGetRelid(rel), ShareLock);
		shard_move_read(RelationGetRelid(rel), &st->mv, st->mcxt);
		st->fenced = true;
		if (!st->mv.found)
			return;
		key_servers(st, reader, key, &old_server, &new_server);
		if (!same_text(old_server, st->mv.server) || same_text(new_server, st->mv.server))
			return;
	}
	if (keytext == NULL)
		keytext = OutputFunctionCall(&st->keyout, key);
	if (st->mv.state == SHARD_COPYING)
	{
		Relation	changes = table_open(st->changes, RowExclusiveLock);
		Datum		values[2] = {ObjectIdGetDatum(RelationGetRelid(rel)), CStringGetTextDatum(keytext)};
		bool		nulls[2] = {false, false};
		HeapTuple	tup = heap_form_tuple(RelationGetDescr(changes), values, nulls);

		simple_heap_insert(changes, tup);
		heap_freetuple(tup);
		table_close(changes, NoLock);
		return;
	}
	ereport(ERROR,
			(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			 errmsg("key %s of relation \"%s\" has moved to server \"%s\"",
					quote_literal_cstr(strlen(keytext) > 64 ? psprintf("%.64s...", keytext) : keytext),
					RelationGetRelationName(rel), text_or_none(new_server)),
			 errdetail("This is server \"%s\", which a migration of the ring moved the key away from.",
					   text_or_none(st->mv.server)),
			 errhint("Look the key up again (ring_route) and retry the transaction on that server.")));
}

/* The key of a row, or false if it is NULL (such rows have no place). */
static bool
row_key(CaptureState *st, Relation rel, HeapTuple tuple, Datum *key)
{
	bool		isnull;

	*key = heap_getattr(tuple, st->attnum, RelationGetDescr(rel), &isnull);
	return !isnull;
}

/*
 * The trigger zz_consistent_ring_move (BEFORE INSERT OR UPDATE OR DELETE,
 * FOR EACH ROW) and zz_consistent_ring_truncate (BEFORE TRUNCATE).
 */
PG_FUNCTION_INFO_V1(ring_shard_capture);
Datum
ring_shard_capture(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	CaptureState *st;
	Relation	rel;
	HeapTuple	result;
	Datum		key;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("consistent_ring.shard_capture() must be called as a BEFORE trigger")));
	rel = td->tg_relation;

	if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
	{
		ShardMove	mv;

		shard_move_read(RelationGetRelid(rel), &mv, CurrentMemoryContext);
		if (mv.found && (mv.state == SHARD_COPYING || mv.state == SHARD_CUT_OVER))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot truncate relation \"%s\" while its rows move to other servers",
							RelationGetRelationName(rel)),
					 errdetail("Migration %s is moving them.", mv.migration),
					 errhint("Let ring_migrate finish first.")));
		return PointerGetDatum(NULL);
	}
	if (!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("consistent_ring.shard_capture() must be called FOR EACH ROW")));

	result = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	if (TRIGGER_FIRED_BY_DELETE(td->tg_event) && deleting_relid == RelationGetRelid(rel))
		return PointerGetDatum(result);

	st = (CaptureState *) fcinfo->flinfo->fn_extra;
	if (st == NULL)
	{
		MemoryContext mcxt = fcinfo->flinfo->fn_mcxt;

		st = MemoryContextAllocZero(mcxt, sizeof(CaptureState));
		st->mcxt = mcxt;
		shard_move_read(RelationGetRelid(rel), &st->mv, mcxt);
		if (st->mv.found)
		{
			st->attnum = get_attnum(RelationGetRelid(rel), NameStr(st->mv.key_column));
			if (st->attnum == InvalidAttrNumber)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("column \"%s\" of relation \"%s\" does not exist",
								NameStr(st->mv.key_column), RelationGetRelationName(rel)),
						 errdetail("Migration %s moves the rows of the relation by that column.",
								   st->mv.migration)));
			st->keytype = get_atttype(RelationGetRelid(rel), st->attnum);
			{
				Oid			output;
				bool		varlena;

				getTypeOutputInfo(st->keytype, &output, &varlena);
				fmgr_info_cxt(output, &st->keyout, mcxt);
			}
			ring_key_reader_init(&st->reader, st->keytype, mcxt);
			ring_key_reader_init(&st->text_reader, TEXTOID, mcxt);
			ring_ref_init(&st->refs[0], mcxt);
			ring_ref_init(&st->refs[1], mcxt);
			st->changes = shard_table_oid("shard_changes");
		}
		fcinfo->flinfo->fn_extra = st;
	}
	if (!st->mv.found)
		return PointerGetDatum(result);

	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		Datum		newkey;
		bool		has_old = row_key(st, rel, td->tg_trigtuple, &key);
		bool		has_new = row_key(st, rel, td->tg_newtuple, &newkey);

		if (has_old)
			capture_key(st, rel, key);
		if (has_new && (!has_old ||
						!datum_image_eq(key, newkey, TupleDescAttr(RelationGetDescr(rel), st->attnum - 1)->attbyval,
										TupleDescAttr(RelationGetDescr(rel), st->attnum - 1)->attlen)))
			capture_key(st, rel, newkey);
	}
	else if (row_key(st, rel, td->tg_trigtuple, &key))
		capture_key(st, rel, key);
	return PointerGetDatum(result);
}
