/*-------------------------------------------------------------------------
 *
 * ring_catalog.c
 *	  Reading the ring catalog tables.
 *
 * The rings live in five tables of the fixed schema consistent_ring:
 *
 *	rings	  (ring_id, name, algorithm, vnodes, version, created_at, owner,
 *			   public_lookup, readers, slots, table_size, token_allocation)
 *	versions  (ring_id, version, created_at, created_by)
 *	nodes	  (ring_id, node, weight, added_in, removed_in, zone, joined, server)
 *	tokens	  (ring_id, token, node, added_in, removed_in)
 *	pins	  (ring_id, key, position, node, added_in, removed_in)
 *
 * A node or token row is part of every version v with added_in <= v <
 * removed_in (removed_in NULL meaning "still there").  Committed versions never change,
 * which is what lets ring_cache.c keep compiled versions across statements.
 *
 * Reads here use index scans under a caller-supplied snapshot, so a lookup
 * sees exactly the ring its statement's snapshot sees (also in REPEATABLE
 * READ and SERIALIZABLE transactions, and in parallel workers).  Changes are
 * made by ring_admin.c through SPI.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/array.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/snapmgr.h"

#include "ring_catalog.h"

#define RING_SCHEMA "consistent_ring"

/* Column numbers of consistent_ring.rings */
#define Anum_rings_ring_id		1
#define Anum_rings_name			2
#define Anum_rings_algorithm	3
#define Anum_rings_vnodes		4
#define Anum_rings_version		5
#define Anum_rings_owner		7
#define Anum_rings_public_lookup 8
#define Anum_rings_readers		9
#define Anum_rings_slots		10
#define Anum_rings_table_size	11
#define Anum_rings_token_allocation 12

/* Column numbers of consistent_ring.nodes */
#define Anum_nodes_ring_id		1
#define Anum_nodes_node			2
#define Anum_nodes_weight		3
#define Anum_nodes_added_in		4
#define Anum_nodes_removed_in	5
#define Anum_nodes_zone			6
#define Anum_nodes_joined		7
#define Anum_nodes_server		8

/* Column numbers of consistent_ring.tokens */
#define Anum_tokens_ring_id		1
#define Anum_tokens_token		2
#define Anum_tokens_node		3
#define Anum_tokens_added_in	4
#define Anum_tokens_removed_in	5

/* Column numbers of consistent_ring.pins */
#define Anum_pins_ring_id		1
#define Anum_pins_key			2
#define Anum_pins_position		3
#define Anum_pins_node			4
#define Anum_pins_added_in		5
#define Anum_pins_removed_in	6

/* The catalog tables a scan may read. */
typedef enum RingTable
{
	RING_TABLE_RINGS,
	RING_TABLE_NODES,
	RING_TABLE_TOKENS,
	RING_TABLE_PINS
} RingTable;

/*
 * OIDs of the catalog relations, looked up on first use and forgotten when
 * the cache is flushed (the extension may have been dropped and recreated).
 */
typedef struct RingCatalogOids
{
	Oid			rings;
	Oid			rings_name_idx;
	Oid			versions;
	Oid			nodes;
	Oid			nodes_pkey;
	Oid			tokens;
	Oid			tokens_pkey;
	Oid			pins;
	Oid			pins_pkey;
	Oid			migrations;
	Oid			migration_servers;
	bool		progress_invalidated;	/* the progress tables send
										 * invalidations (1.1 on) */
} RingCatalogOids;

static RingCatalogOids oids;

/* Look up one relation of the catalog schema by name. */
static Oid
catalog_relid(Oid nsp, const char *relname)
{
	Oid			relid = get_relname_relid(relname, nsp);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("relation \"%s.%s\" does not exist", RING_SCHEMA, relname),
				 errhint("Run CREATE EXTENSION consistent_ring.")));
	return relid;
}

/*
 * The catalog OIDs, looked up if they are not known.  Callers work on the
 * returned copy: an invalidation that arrives while they open the tables
 * (ring_catalog_forget) must not change the OIDs under them.
 */
static RingCatalogOids
catalog_oids(void)
{
	RingCatalogOids found;
	Oid			nsp;

	if (OidIsValid(oids.rings))
		return oids;

	nsp = get_namespace_oid(RING_SCHEMA, true);
	if (!OidIsValid(nsp))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("schema \"%s\" does not exist", RING_SCHEMA),
				 errhint("Run CREATE EXTENSION consistent_ring.")));

	/*
	 * Fill a local copy: a lookup below may process invalidations, which
	 * forget the static one half-way.
	 */
	found.rings_name_idx = catalog_relid(nsp, "rings_name_key");
	found.versions = catalog_relid(nsp, "versions");
	found.nodes = catalog_relid(nsp, "nodes");
	found.nodes_pkey = catalog_relid(nsp, "nodes_pkey");
	found.tokens = catalog_relid(nsp, "tokens");
	found.tokens_pkey = catalog_relid(nsp, "tokens_pkey");
	found.pins = catalog_relid(nsp, "pins");
	found.pins_pkey = catalog_relid(nsp, "pins_pkey");
	found.migrations = catalog_relid(nsp, "migrations");
	found.migration_servers = catalog_relid(nsp, "migration_servers");
	{
		/* key_operator came with the progress tables' triggers, in 1.1 */
		Oid			args[2] = {REGTYPEOID, TEXTOID};

		found.progress_invalidated =
			SearchSysCacheExists3(PROCNAMEARGSNSP, CStringGetDatum("key_operator"),
								  PointerGetDatum(buildoidvector(args, 2)),
								  ObjectIdGetDatum(nsp));
	}
	found.rings = catalog_relid(nsp, "rings");
	oids = found;
	return found;
}

/*
 * Forget the catalog OIDs; they are looked up again on next use.  Called
 * from the relcache callback when a catalog table is invalidated (the
 * extension may have been dropped and created again): no catalog access.
 */
void
ring_catalog_forget(void)
{
	memset(&oids, 0, sizeof(oids));
}

/* Whether a relcache invalidation for relid concerns the ring catalog. */
bool
ring_catalog_is_ring_table(Oid relid)
{
	return relid == oids.rings || relid == oids.versions ||
		relid == oids.nodes || relid == oids.tokens || relid == oids.pins;
}

/*
 * Whether changes to the migration progress tables send invalidations: not
 * in a database whose extension is still at 1.0 (ALTER EXTENSION UPDATE
 * adds the triggers), where ring_route must read them in every statement.
 */
bool
ring_catalog_progress_invalidated(void)
{
	return OidIsValid(oids.rings) && oids.progress_invalidated;
}

/* Whether relid is one of the migration progress tables. */
bool
ring_catalog_is_migration_table(Oid relid)
{
	return relid == oids.migrations || relid == oids.migration_servers;
}

/*
 * Whether the catalog OIDs are known, so that invalidations of the catalog
 * tables are recognised (callers cache nothing across statements until
 * they are).
 */
bool
ring_catalog_oids_known(void)
{
	return OidIsValid(oids.rings);
}

/*
 * OID of consistent_ring.rings now, or InvalidOid if the extension is not
 * installed (no error).
 */
Oid
ring_catalog_rings_oid(void)
{
	Oid			nsp;

	if (OidIsValid(oids.rings))
		return oids.rings;
	nsp = get_namespace_oid(RING_SCHEMA, true);
	return OidIsValid(nsp) ? get_relname_relid("rings", nsp) : InvalidOid;
}

/* Look the catalog OIDs up now if they are not known. */
void
ring_catalog_remember(void)
{
	(void) catalog_oids();
}

/*
 * The snapshot a lookup reads the catalog with: the active snapshot of the
 * running statement.
 */
Snapshot
ring_current_snapshot(void)
{
	if (ActiveSnapshotSet())
		return GetActiveSnapshot();
	return GetTransactionSnapshot();
}

/*
 * Open the catalog table and index the caller needs, from a fresh copy of
 * the OIDs, retrying once with OIDs looked up again if the table went away.
 */
static Relation
catalog_open(RingTable table, Relation *index)
{
	RingCatalogOids cat = catalog_oids();
	Relation	rel;
	Oid			relids[] = {cat.rings, cat.nodes, cat.tokens, cat.pins};
	Oid			indexes[] = {cat.rings_name_idx, cat.nodes_pkey, cat.tokens_pkey, cat.pins_pkey};

	rel = try_table_open(relids[table], AccessShareLock);
	if (rel == NULL)
	{
		ring_catalog_forget();
		cat = catalog_oids();
		relids[table] = table == RING_TABLE_RINGS ? cat.rings :
			table == RING_TABLE_NODES ? cat.nodes :
			table == RING_TABLE_TOKENS ? cat.tokens : cat.pins;
		indexes[table] = table == RING_TABLE_RINGS ? cat.rings_name_idx :
			table == RING_TABLE_NODES ? cat.nodes_pkey :
			table == RING_TABLE_TOKENS ? cat.tokens_pkey : cat.pins_pkey;
		rel = table_open(relids[table], AccessShareLock);
	}
	*index = index_open(indexes[table], AccessShareLock);
	return rel;
}

/* Error for catalog tables older than the library (no ALTER EXTENSION UPDATE). */
static pg_noinline void
report_catalog_mismatch(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("the consistent_ring catalog does not match the installed library"),
			 errhint("Run ALTER EXTENSION consistent_ring UPDATE.")));
}

/* Read a ring's owner and lookup rights from their column values. */
void
ring_access_from_datums(Datum owner, Datum public_lookup, Datum readers,
						RingAccess *access)
{
	ArrayType  *arr = DatumGetArrayTypeP(readers);
	Datum	   *elems;
	int			n;

	access->owner = DatumGetObjectId(owner);
	access->public_lookup = DatumGetBool(public_lookup);
	deconstruct_array(arr, REGROLEOID, sizeof(Oid), true, TYPALIGN_INT,
					  &elems, NULL, &n);
	access->nreaders = n;
	access->readers = palloc(Max(n, 1) * sizeof(Oid));
	for (int i = 0; i < n; i++)
		access->readers[i] = DatumGetObjectId(elems[i]);
}

/*
 * Whether user may look up a ring: it is public, or user has the
 * privileges of its owner or of one of its readers (superusers have all).
 */
bool
ring_may_look_up_as(Oid user, const RingAccess *access)
{
	if (access->public_lookup || has_privs_of_role(user, access->owner))
		return true;
	for (int i = 0; i < access->nreaders; i++)
	{
		if (has_privs_of_role(user, access->readers[i]))
			return true;
	}
	return false;
}

/* Owner of the catalog tables, as whom the ring_* functions write them. */
Oid
ring_catalog_owner(void)
{
	Oid			rings = catalog_oids().rings;
	HeapTuple	tuple;
	Oid			owner;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(rings));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", rings);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

/*
 * Read the rings row of the ring called name, as snap sees it: its header
 * into *hdr (unless hdr is NULL) and who may use it into *access.  Returns
 * false if there is no such ring.  No permission check.
 */
static bool
rings_lookup(const char *name, int namelen, Snapshot snap, RingHeader *hdr,
			 RingAccess *access)
{
	Relation	rel;
	Relation	idx;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;
	text	   *name_text = cstring_to_text_with_len(name, namelen);
	bool		found = false;

	rel = catalog_open(RING_TABLE_RINGS, &idx);
	if (RelationGetDescr(rel)->natts < Anum_rings_token_allocation)
		report_catalog_mismatch();

	ScanKeyInit(&key, Anum_rings_name, BTEqualStrategyNumber, F_TEXTEQ,
				PointerGetDatum(name_text));
	scan = systable_beginscan_ordered(rel, idx, snap, 1, &key);
	tuple = systable_getnext_ordered(scan, ForwardScanDirection);
	if (HeapTupleIsValid(tuple))
	{
		TupleDesc	desc = RelationGetDescr(rel);
		bool		isnull;

		found = true;
		if (hdr != NULL)
		{
			char	   *alg;
			Datum		value;

			hdr->catalog_id = RelationGetRelid(rel);
			hdr->ring_id = DatumGetInt32(heap_getattr(tuple, Anum_rings_ring_id, desc, &isnull));
			hdr->vnodes = DatumGetInt32(heap_getattr(tuple, Anum_rings_vnodes, desc, &isnull));
			hdr->version = DatumGetInt32(heap_getattr(tuple, Anum_rings_version, desc, &isnull));
			alg = TextDatumGetCString(heap_getattr(tuple, Anum_rings_algorithm, desc, &isnull));
			hdr->algorithm = ring_algorithm_parse(alg);
			pfree(alg);
			value = heap_getattr(tuple, Anum_rings_slots, desc, &isnull);
			hdr->slots = isnull ? 0 : DatumGetInt32(value);
			value = heap_getattr(tuple, Anum_rings_table_size, desc, &isnull);
			hdr->table_size = isnull ? 0 : DatumGetInt32(value);
			alg = TextDatumGetCString(heap_getattr(tuple, Anum_rings_token_allocation, desc, &isnull));
			hdr->stored_tokens = hdr->algorithm == RING_ALGORITHM_SLOTS ||
				hdr->algorithm == RING_ALGORITHM_REDIS ||
				hdr->algorithm == RING_ALGORITHM_CASSANDRA ||
				strcmp(alg, "balanced") == 0;
			pfree(alg);

			/*
			 * Every change bumps the rings row, so if its xmin is not ours
			 * the newest version is not this transaction's.  (ring_grant and
			 * ring_revoke write the row too: then a committed version is
			 * taken for our own, which only costs a private compile.)
			 */
			hdr->version_is_own =
				TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tuple->t_data));
			memcpy(hdr->name, name, namelen);
			hdr->name[namelen] = '\0';
		}
		ring_access_from_datums(heap_getattr(tuple, Anum_rings_owner, desc, &isnull),
								heap_getattr(tuple, Anum_rings_public_lookup, desc, &isnull),
								heap_getattr(tuple, Anum_rings_readers, desc, &isnull),
								access);
	}
	systable_endscan_ordered(scan);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);
	pfree(name_text);
	return found;
}

/*
 * undefined_object for a ring name longer than any ring's: callers check
 * the length before copying a name anywhere.  The message shows the name's
 * first 64 bytes (whole characters).
 */
void
ring_report_name_too_long(const char *name, int namelen)
{
	int			shown = pg_mbcliplen(name, namelen, 64);

	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("ring \"%s...\" does not exist", pnstrdup(name, shown)),
			 errdetail("The name is %d bytes long; ring names are at most %d bytes long.",
					   namelen, RING_NAME_MAXLEN)));
}

/*
 * Read the rings row of the ring called name, as snap sees it: its header
 * and who may look it up.  Raises undefined_object if there is no such
 * ring; no permission check.
 */
void
ring_catalog_read(const char *name, int namelen, Snapshot snap, RingHeader *hdr,
				  RingAccess *access)
{
	if (!rings_lookup(name, namelen, snap, hdr, access))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("ring \"%s\" does not exist", pnstrdup(name, namelen))));
}

/* insufficient_privilege unless the current user may look the ring up. */
void
ring_check_look_up(const RingHeader *hdr, const RingAccess *access)
{
	if (!ring_may_look_up_as(GetUserId(), access))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for ring \"%s\"", hdr->name),
				 errhint("The ring's owner can allow lookups with ring_grant().")));
}

/*
 * Read the rings row of the ring called name, as snap sees it.  Raises
 * undefined_object if there is no such ring, insufficient_privilege if the
 * current user may not look it up.
 */
void
ring_catalog_get(const char *name, int namelen, Snapshot snap, RingHeader *hdr)
{
	RingAccess	access;

	ring_catalog_read(name, namelen, snap, hdr, &access);
	ring_check_look_up(hdr, &access);
}

/*
 * Who owns the ring of that name and who may look it up, as snap sees it;
 * false if there is no such ring.  No permission check.
 */
bool
ring_catalog_access(const char *name, int namelen, Snapshot snap,
					RingAccess *access)
{
	return rings_lookup(name, namelen, snap, NULL, access);
}

/*
 * The nodes of one version of a ring (weight 0 included), as snap sees them,
 * allocated in the current memory context.
 */
static List *
nodes_scan(const RingHeader *hdr, int32 version, Snapshot snap, bool history)
{
	Relation	rel;
	Relation	idx;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;
	TupleDesc	desc;
	List	   *result = NIL;

	rel = catalog_open(RING_TABLE_NODES, &idx);
	desc = RelationGetDescr(rel);
	if (desc->natts < Anum_nodes_server)
		report_catalog_mismatch();

	ScanKeyInit(&key, Anum_nodes_ring_id, BTEqualStrategyNumber, F_INT4EQ,
				Int32GetDatum(hdr->ring_id));
	scan = systable_beginscan_ordered(rel, idx, snap, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext_ordered(scan, ForwardScanDirection)))
	{
		bool		isnull;
		int32		added_in;
		Datum		removed_in;
		Datum		zone;
		Datum		server;
		RingNodeRow *row;

		added_in = DatumGetInt32(heap_getattr(tuple, Anum_nodes_added_in, desc, &isnull));
		removed_in = heap_getattr(tuple, Anum_nodes_removed_in, desc, &isnull);
		if (added_in > version || (!history && !isnull && DatumGetInt32(removed_in) <= version))
			continue;

		row = palloc(sizeof(RingNodeRow));
		row->added_in = added_in;
		row->removed_in = isnull || DatumGetInt32(removed_in) > version ? 0 : DatumGetInt32(removed_in);
		row->name = DatumGetTextPCopy(heap_getattr(tuple, Anum_nodes_node, desc, &isnull));
		row->weight = DatumGetFloat8(heap_getattr(tuple, Anum_nodes_weight, desc, &isnull));
		zone = heap_getattr(tuple, Anum_nodes_zone, desc, &isnull);
		row->zone = isnull ? NULL : DatumGetTextPCopy(zone);
		row->joined = DatumGetInt64(heap_getattr(tuple, Anum_nodes_joined, desc, &isnull));
		server = heap_getattr(tuple, Anum_nodes_server, desc, &isnull);
		row->server = isnull ? NULL : DatumGetTextPCopy(server);
		result = lappend(result, row);
	}
	systable_endscan_ordered(scan);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);

	return result;
}

List *
ring_catalog_nodes(const RingHeader *hdr, int32 version, Snapshot snap)
{
	return nodes_scan(hdr, version, snap, false);
}

/*
 * Every node row of a ring up to version, as snap sees them: the nodes of
 * that version (removed_in 0) and those removed at or before it.
 */
List *
ring_catalog_node_history(const RingHeader *hdr, int32 version, Snapshot snap)
{
	return nodes_scan(hdr, version, snap, true);
}

/* Where a table of versioned (position, node) rows keeps its columns. */
typedef struct VersionedColumns
{
	RingTable	table;
	AttrNumber	ring_id;
	AttrNumber	position;
	AttrNumber	node;
	AttrNumber	added_in;
	AttrNumber	removed_in;		/* the last column */
	bool		limited;		/* at most RING_MAX_RING_TOKENS rows */
} VersionedColumns;

/*
 * The rows of one version of a ring in a table of versioned rows (tokens,
 * pins), as snap sees them, in the order of the table's key, allocated in
 * the current memory context.
 */
static RingTokenRow *
versioned_rows(const RingHeader *hdr, int32 version, Snapshot snap,
			   const VersionedColumns *cols, uint32 *nrows)
{
	Relation	rel;
	Relation	idx;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;
	TupleDesc	desc;
	uint32		n = 0;
	uint32		size = 64;
	RingTokenRow *rows = palloc(size * sizeof(RingTokenRow));

	rel = catalog_open(cols->table, &idx);
	desc = RelationGetDescr(rel);
	if (desc->natts < cols->removed_in)
		report_catalog_mismatch();

	ScanKeyInit(&key, cols->ring_id, BTEqualStrategyNumber, F_INT4EQ,
				Int32GetDatum(hdr->ring_id));
	scan = systable_beginscan_ordered(rel, idx, snap, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext_ordered(scan, ForwardScanDirection)))
	{
		bool		isnull;
		int32		added_in;
		Datum		removed_in;

		added_in = DatumGetInt32(heap_getattr(tuple, cols->added_in, desc, &isnull));
		removed_in = heap_getattr(tuple, cols->removed_in, desc, &isnull);
		if (added_in > version || (!isnull && DatumGetInt32(removed_in) <= version))
			continue;
		if (cols->limited && n >= RING_MAX_RING_TOKENS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("version %d of ring \"%s\" has too many tokens",
							version, hdr->name)));
		if (n == size)
		{
			size *= 2;
			rows = repalloc_huge(rows, size * sizeof(RingTokenRow));
		}
		rows[n].token = DatumGetInt64(heap_getattr(tuple, cols->position, desc, &isnull));
		rows[n].node = DatumGetTextPCopy(heap_getattr(tuple, cols->node, desc, &isnull));
		n++;
	}
	systable_endscan_ordered(scan);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);

	*nrows = n;
	return rows;
}

/*
 * The stored tokens of one version of a ring, as snap sees them, in token
 * order, allocated in the current memory context.
 */
RingTokenRow *
ring_catalog_tokens(const RingHeader *hdr, int32 version, Snapshot snap,
					uint32 *ntokens)
{
	static const VersionedColumns cols = {
		RING_TABLE_TOKENS, Anum_tokens_ring_id, Anum_tokens_token, Anum_tokens_node,
		Anum_tokens_added_in, Anum_tokens_removed_in, true
	};

	return versioned_rows(hdr, version, snap, &cols, ntokens);
}

/*
 * The pins of one version of a ring, as snap sees them, allocated in the
 * current memory context (position and node; the key bytes stay behind).
 */
RingTokenRow *
ring_catalog_pins(const RingHeader *hdr, int32 version, Snapshot snap,
				  uint32 *npins)
{
	static const VersionedColumns cols = {
		RING_TABLE_PINS, Anum_pins_ring_id, Anum_pins_position, Anum_pins_node,
		Anum_pins_added_in, Anum_pins_removed_in, false
	};

	return versioned_rows(hdr, version, snap, &cols, npins);
}

/* The algorithm called name; invalid_parameter_value if there is none. */
RingAlgorithm
ring_algorithm_parse(const char *name)
{
	if (strcmp(name, "vnode") == 0)
		return RING_ALGORITHM_VNODE;
	if (strcmp(name, "slots") == 0)
		return RING_ALGORITHM_SLOTS;
	if (strcmp(name, "maglev") == 0)
		return RING_ALGORITHM_MAGLEV;
	if (strcmp(name, "rendezvous") == 0)
		return RING_ALGORITHM_RENDEZVOUS;
	if (strcmp(name, "redis") == 0)
		return RING_ALGORITHM_REDIS;
	if (strcmp(name, "ketama") == 0)
		return RING_ALGORITHM_KETAMA;
	if (strcmp(name, "libketama") == 0)
		return RING_ALGORITHM_LIBKETAMA;
	if (strcmp(name, "twemproxy") == 0)
		return RING_ALGORITHM_TWEMPROXY;
	if (strcmp(name, "cassandra") == 0)
		return RING_ALGORITHM_CASSANDRA;
	if (strcmp(name, "jump") == 0)
		return RING_ALGORITHM_JUMP;

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown ring algorithm \"%s\"", name),
			 errhint("Valid algorithms are: vnode, slots, maglev, rendezvous, redis, ketama, twemproxy, libketama, cassandra, jump.")));
	pg_unreachable();
}

/* The name of an algorithm, as stored in the catalog. */
const char *
ring_algorithm_name(RingAlgorithm algorithm)
{
	switch (algorithm)
	{
		case RING_ALGORITHM_VNODE:
			return "vnode";
		case RING_ALGORITHM_SLOTS:
			return "slots";
		case RING_ALGORITHM_MAGLEV:
			return "maglev";
		case RING_ALGORITHM_RENDEZVOUS:
			return "rendezvous";
		case RING_ALGORITHM_REDIS:
			return "redis";
		case RING_ALGORITHM_KETAMA:
			return "ketama";
		case RING_ALGORITHM_LIBKETAMA:
			return "libketama";
		case RING_ALGORITHM_TWEMPROXY:
			return "twemproxy";
		case RING_ALGORITHM_CASSANDRA:
			return "cassandra";
		case RING_ALGORITHM_JUMP:
			return "jump";
	}
	elog(ERROR, "unrecognized ring algorithm: %d", (int) algorithm);
	pg_unreachable();
}

/*
 * Number of virtual nodes of a node with this weight in a ring with this
 * vnodes setting: round(vnodes * weight), half away from zero, and at least
 * one for any positive weight.  The caller has checked the weight is finite
 * and within range.
 */
int32
ring_virtual_nodes(int32 vnodes, double weight)
{
	double		n;

	if (!(weight > 0))
		return 0;
	n = round((double) vnodes * weight);
	if (n < 1)
		return 1;
	if (n > RING_MAX_NODE_TOKENS)
		return RING_MAX_NODE_TOKENS + 1;	/* callers reject this */
	return (int32) n;
}
