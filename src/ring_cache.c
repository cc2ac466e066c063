/*-------------------------------------------------------------------------
 *
 * ring_cache.c
 *	  Backend-local cache of compiled rings.
 *
 * Protocol
 * --------
 * What is cached: compiled rings (packed sorted tokens with their owners,
 * a bucket index; see ring_vnode.h), keyed by (OID of consistent_ring.rings, ring id, version, command id).
 * A committed version never changes, so a compiled committed version is
 * right for every snapshot that can see it; the OID in the key keeps a
 * dropped and recreated extension from hitting old entries.  A version that
 * this transaction is still building is keyed by a command id as well: the
 * snapshot's, or, for snapshots taken after this transaction's last change
 * to the catalog (which all see the same content), the command after that
 * change; so a batch of statements after a change shares one compiled ring.
 * At most RING_CACHE_MAX_ENTRIES rings are kept; beyond that the least
 * recently resolved one that nobody pins is freed.  When a ring's newest
 * version is compiled, its older versions that nobody pins are freed.  An
 * invalidation frees nothing else: a committed version never changes, so
 * a change to one ring, or an ANALYZE of the catalog, recompiles no other
 * ring.
 *
 * With the library preloaded, a committed version comes from shared memory
 * (ring_shmem.c): compiled there once per server, the cache keeps a small
 * header pointing to it (shared_slot) and holding a reference, which
 * ring_free drops; the header is freed as a private ring's memory context
 * would be.  The backend also lets go of the shared versions it holds but
 * does not use once a newer version has superseded them.  Versions this
 * transaction is building are compiled here either way.
 *
 * Which version a lookup uses is not kept across snapshots: each call site
 * (RingRef, kept in fn_extra) remembers the user and the snapshot it
 * resolved the ring name under, and resolves again - one index scan on the
 * rings table - when either is another.  So every statement sees exactly
 * the ring its snapshot sees: the one committed before it began in READ
 * COMMITTED, the transaction's in REPEATABLE READ and SERIALIZABLE, and its
 * own uncommitted changes; and the user's lookup rights are checked for
 * each user.  (Keeping the rings row across statements until an
 * invalidation would not be exact: a commit is visible a moment before its
 * invalidation is sent, so a statement starting in that moment would see
 * the new version in the tables and the old one in the cache.)
 *
 * What ring_route reads of the migration progress tables is kept across
 * statements (ring_route.c): a reading made under a snapshot as new as one
 * taken at that moment (ring_may_keep) serves later snapshots that are not
 * older (ring_kept_is_valid) until ring_route_generation moves.  There the
 * moment above is harmless: ring_migrate deletes a batch's rows at the
 * source only in a transaction after the one that recorded its progress.
 *
 * Invalidation: a statement-level trigger on each catalog table (and, on a
 * logical replication subscriber, a row trigger enabled for replicas)
 * registers a relcache invalidation of that table (transactional: sent to other backends
 * at commit, seen by this backend at the next command, discarded on abort).
 * The relcache callback, registered once in _PG_init, only bumps
 * ring_cache_generation (and ring_route_generation), sets flush_pending and
 * forgets the catalog's OIDs (the extension may have been recreated);
 * InvalidOid (cache reset) counts as a change too.  The progress tables'
 * triggers bump only ring_route_generation, and so do changes to role
 * memberships (a syscache callback: row security reads them).  The next
 * resolution frees the flushed entries.  For other transactions'
 * committed changes the invalidation only frees memory early, since each
 * statement reads the ring's newest version under its own snapshot anyway;
 * for this transaction's own changes, and a rolled-back subtransaction's,
 * the local invalidation is what drops compiled copies of data that
 * changed.
 * Entries built from this transaction's own changes are also flushed at
 * transaction end, so nothing built from aborted data is ever found again.
 *
 * Lifetime: a RingRef pins the ring it points to (refcount) and unpins it
 * when its memory context (the call site's fn_mcxt) is reset or deleted,
 * which also happens on error.  A flushed ring is freed only once no RingRef
 * pins it, so a pointer returned by ring_ref_get() stays valid at least until
 * the end of the query that asked for it, and so do the node name datums it
 * points to.  A ring is inserted only once fully built: an error half-way
 * leaves nothing behind (its memory context is a child of the caller's until
 * it is complete).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "ring_cache.h"
#include "ring_shmem.h"
#include "ring_compile.h"

typedef struct RingCacheEntry
{
	RingCacheKey key;
	CompiledRing *ring;
} RingCacheEntry;

#define RING_CACHE_MAX_ENTRIES 32

uint64		ring_cache_generation = 1;
uint64		ring_route_generation = 1;

static MemoryContext RingCacheContext = NULL;
static HTAB *ring_cache = NULL;
static bool own_migration_changes = false;
static bool flush_pending = false;
static bool own_entries = false;
static uint64 cache_clock = 0;
static uint64 compile_serial = 0;

/* Command id of this transaction's last change to the ring catalog. */
static CommandId last_change_cid = InvalidCommandId;

/*
 * Relcache callback: note that the catalog changed and forget its OIDs; no
 * catalog access or allocation here.
 */
static void
ring_cache_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || ring_catalog_is_ring_table(relid))
	{
		ring_cache_generation++;
		ring_route_generation++;
		flush_pending = true;
		ring_catalog_forget();
	}
	else if (ring_catalog_is_migration_table(relid))
		ring_route_generation++;
}

/*
 * Syscache callback for roles and role memberships: who may read which
 * migration rows (row security, superuser, BYPASSRLS) can change.
 */
static void
ring_cache_role_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	ring_route_generation++;
}

/* Transaction callback: forget what was built from this transaction's changes. */
static void
ring_cache_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
	{
		last_change_cid = InvalidCommandId;
		own_migration_changes = false;
	}
	if (own_entries &&
		(event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		 event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		 event == XACT_EVENT_PREPARE))
	{
		own_entries = false;
		ring_cache_generation++;
		flush_pending = true;
	}
}

/* Register the callbacks; called once from _PG_init. */
void
ring_cache_init(void)
{
	CacheRegisterRelcacheCallback(ring_cache_relcache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, ring_cache_role_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHOID, ring_cache_role_callback, (Datum) 0);
	RegisterXactCallback(ring_cache_xact_callback, NULL);
}

/*
 * Free a compiled ring of the cache: its memory context, or, for a header
 * of a ring in shared memory, the header and its reference.
 */
static void
ring_free(CompiledRing *ring)
{
	if (ring->shared_slot > 0)
		ring_shmem_release(ring);
	else
		MemoryContextDelete(ring->mcxt);
}

/* Drop one pin; free the ring if it was flushed and nobody holds it. */
static void
ring_unpin(CompiledRing *ring)
{
	Assert(ring->refcount > 0);
	ring->refcount--;
	if (ring->dead && ring->refcount == 0)
		ring_free(ring);
}

/* Create the hash table, or empty it if a flush is pending. */
static void
ring_cache_prepare(void)
{
	if (ring_cache == NULL)
	{
		HASHCTL		ctl;

		RingCacheContext = AllocSetContextCreate(CacheMemoryContext,
												 "consistent_ring cache",
												 ALLOCSET_SMALL_SIZES);
		ctl.keysize = sizeof(RingCacheKey);
		ctl.entrysize = sizeof(RingCacheEntry);
		ctl.hcxt = RingCacheContext;
		ring_cache = hash_create("consistent_ring compiled rings", 16, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		flush_pending = false;
		return;
	}

	if (flush_pending)
	{
		HASH_SEQ_STATUS status;
		RingCacheEntry *entry;
		Oid			catalog_id = ring_catalog_rings_oid();

		/*
		 * A committed version never changes: its compiled ring stays right
		 * whatever else changed, so only the versions this transaction
		 * built (keyed by command id) and those of a catalog that is gone
		 * (a dropped extension) go.
		 */
		flush_pending = false;
		hash_seq_init(&status, ring_cache);
		while ((entry = hash_seq_search(&status)) != NULL)
		{
			CompiledRing *ring = entry->ring;

			if (entry->key.cid == InvalidCommandId &&
				entry->key.catalog_id == catalog_id)
				continue;
			hash_search(ring_cache, &entry->key, HASH_REMOVE, NULL);
			ring->dead = true;
			if (ring->refcount == 0)
				ring_free(ring);
		}
	}
}

/*
 * With the library preloaded: let go of the shared versions this backend
 * holds but does not use that a newer version has superseded, so that
 * shared memory can free them (ring_shmem.c), when any were superseded
 * since the last look.
 */
static void
ring_cache_release_superseded(void)
{
	HASH_SEQ_STATUS status;
	RingCacheEntry *entry;

	if (!ring_shmem_superseded_news())
		return;
	hash_seq_init(&status, ring_cache);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		CompiledRing *ring = entry->ring;

		if (ring->shared_slot == 0 || ring->refcount > 0 || !ring_shmem_is_superseded(ring))
			continue;
		hash_search(ring_cache, &entry->key, HASH_REMOVE, NULL);
		ring_free(ring);
	}
}

/* Free the least recently resolved ring that no RingRef pins. */
static void
ring_cache_evict(void)
{
	HASH_SEQ_STATUS status;
	RingCacheEntry *entry;
	RingCacheEntry *victim = NULL;

	hash_seq_init(&status, ring_cache);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		if (entry->ring->refcount == 0 &&
			(victim == NULL || entry->ring->last_used < victim->ring->last_used))
			victim = entry;
	}
	if (victim != NULL)
	{
		CompiledRing *ring = victim->ring;

		hash_search(ring_cache, &victim->key, HASH_REMOVE, NULL);
		ring_free(ring);
	}
}

/*
 * Free the compiled committed versions of a ring older than version that
 * nobody pins: a newer one has been compiled, so lookups of the ring's
 * newest version no longer need them (ring_move and ring_moves pin the two
 * versions they compare while they run).
 */
static void
ring_cache_free_superseded(const RingCacheKey *newest)
{
	HASH_SEQ_STATUS status;
	RingCacheEntry *entry;

	hash_seq_init(&status, ring_cache);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		CompiledRing *ring = entry->ring;

		if (entry->key.catalog_id != newest->catalog_id ||
			entry->key.ring_id != newest->ring_id ||
			entry->key.version >= newest->version ||
			entry->key.cid != InvalidCommandId || ring->refcount > 0)
			continue;
		hash_search(ring_cache, &entry->key, HASH_REMOVE, NULL);
		ring_free(ring);
	}
}

/*
 * The compiled committed version of the same ring nearest to key's version,
 * or NULL: what an incremental compile starts from.
 */
static const CompiledRing *
ring_cache_nearest(const RingCacheKey *key)
{
	HASH_SEQ_STATUS status;
	RingCacheEntry *entry;
	const CompiledRing *nearest = NULL;
	int64		best = PG_INT64_MAX;

	hash_seq_init(&status, ring_cache);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		int64		d = (int64) entry->key.version - key->version;

		if (entry->key.catalog_id != key->catalog_id ||
			entry->key.ring_id != key->ring_id ||
			entry->key.cid != InvalidCommandId || entry->ring->dead)
			continue;
		if (d < 0)
			d = -d;
		if (d < best)
		{
			best = d;
			nearest = entry->ring;
		}
	}
	return nearest;
}

/* The compiled ring of one version, compiling it on first use. */
static CompiledRing *
ring_cache_fetch(const RingHeader *hdr, int32 version, Snapshot snap)
{
	RingCacheKey key;
	RingCacheEntry *entry;
	CompiledRing *ring;
	bool		found;
	bool		own = (version == hdr->version && hdr->version_is_own);

	memset(&key, 0, sizeof(key));
	key.catalog_id = hdr->catalog_id;
	key.ring_id = hdr->ring_id;
	key.version = version;
	key.cid = InvalidCommandId;
	if (own)
	{
		key.cid = snap->curcid;
		if (last_change_cid != InvalidCommandId && key.cid > last_change_cid)
			key.cid = last_change_cid + 1;
	}

	entry = hash_search(ring_cache, &key, HASH_FIND, NULL);
	if (entry != NULL)
		return entry->ring;

	if (hash_get_num_entries(ring_cache) >= RING_CACHE_MAX_ENTRIES)
		ring_cache_evict();

	/*
	 * A committed version is compiled once per server when the library is
	 * preloaded (ring_shmem.c), else, or when shared memory has no room,
	 * here.
	 */
	ring = NULL;
	if (!own && ring_shmem_enabled())
		ring = ring_shmem_fetch(hdr, version, snap, &key, ring_cache_nearest(&key),
								RingCacheContext);
	if (ring == NULL)
		ring = ring_compile(hdr, version, snap, ring_cache_nearest(&key));
	ring->key = key;
	ring->serial = ++compile_serial;
	if (ring->shared_slot == 0)
		MemoryContextSetParent(ring->mcxt, RingCacheContext);

	entry = hash_search(ring_cache, &key, HASH_ENTER, &found);
	Assert(!found);
	entry->ring = ring;
	if (own)
		own_entries = true;
	else if (version == hdr->version)
		ring_cache_free_superseded(&key);
	return ring;
}

/* Memory context callback: drop a RingRef's pin. */
static void
ring_ref_release(void *arg)
{
	RingRef    *ref = (RingRef *) arg;

	if (ref->ring != NULL)
		ring_unpin(ref->ring);
	ref->ring = NULL;
}

/* Set up a RingRef in mcxt; its pin is dropped when mcxt goes away. */
void
ring_ref_init(RingRef *ref, MemoryContext mcxt)
{
	memset(ref, 0, sizeof(RingRef));
	ref->release.func = ring_ref_release;
	ref->release.arg = ref;
	MemoryContextRegisterResetCallback(mcxt, &ref->release);
}

/*
 * The order of MVCC snapshots, from what each records.  A snapshot's xmax
 * is one past the latest completed transaction id when it was taken, which
 * never goes back; the transaction and subtransaction ids below a given
 * xmax that are still running only ever get fewer (no id below xmax is
 * assigned after it).  So of two snapshots, the one with the greater xmax
 * was taken later, and of two with the same xmax the one that sees fewer
 * ids below it running was (or both see the same).  Only ids below xmax
 * count: a snapshot's subtransaction list also holds ids assigned after
 * its xmax.  Snapshots whose subtransaction list overflowed are not
 * ordered, nor are those older than 2^31 transactions (xmax wraps).
 */
static bool
ring_snap_order(Snapshot snap, RingSnapOrder *order)
{
	uint64		nrunning = snap->xcnt;

	if (snap->snapshot_type != SNAPSHOT_MVCC || snap->suboverflowed)
		return false;
	for (int32 i = 0; i < snap->subxcnt; i++)
	{
		if (TransactionIdPrecedes(snap->subxip[i], snap->xmax))
			nrunning++;
	}
	order->xmax = snap->xmax;
	order->nrunning = nrunning;
	return true;
}

/*
 * Whether something kept from a reading under a snapshot ordered as kept,
 * with no invalidation of what it read arrived since, is what snap sees:
 * snap is not older than that snapshot, and this transaction has changed
 * none of the tables (its own changes are seen only by some of its
 * snapshots).
 */
bool
ring_kept_is_valid(Snapshot snap, const RingSnapOrder *kept)
{
	RingSnapOrder order;

	if (last_change_cid != InvalidCommandId || own_migration_changes ||
		!ring_snap_order(snap, &order))
		return false;
	if (kept == NULL)
		return true;
	return TransactionIdFollows(order.xmax, kept->xmax) ||
		(order.xmax == kept->xmax && order.nrunning <= kept->nrunning);
}

/*
 * Whether what was just read under snap may be kept for later statements,
 * and snap's order if so: snap must see every transaction whose commit
 * this backend may have heard of, that is, be as new as a snapshot taken
 * now.  (A transaction's commit is visible before it sends its
 * invalidations; so every invalidation that has arrived is of a commit
 * snap sees, and any later one will arrive, and void what is kept, after
 * it.)  Not in parallel mode, where a new snapshot cannot be taken.
 */
bool
ring_may_keep(Snapshot snap, RingSnapOrder *order)
{
	RingSnapOrder now;

	if (!ring_catalog_oids_known() || IsInParallelMode() ||
		!ring_kept_is_valid(snap, NULL) || !ring_snap_order(snap, order) ||
		!ring_snap_order(GetLatestSnapshot(), &now))
		return false;
	return now.xmax == order->xmax && now.nrunning == order->nrunning;
}

/*
 * Resolve (name, version) under the active snapshot: find the ring's row,
 * check the version, get the compiled ring and pin it in ref.
 */
CompiledRing *
ring_ref_resolve(RingRef *ref, const char *name, int namelen, int64 asked)
{
	Snapshot	snap = ring_current_snapshot();
	RingHeader	hdr;
	RingAccess	access;
	CompiledRing *ring;
	uint64		generation;
	int32		version;

	/* Let changes committed before this statement reach the cache. */
	AcceptInvalidationMessages();
	ring_cache_prepare();
	ring_cache_release_superseded();
	generation = ring_cache_generation;

	if (namelen > RING_NAME_MAXLEN)
		ring_report_name_too_long(name, namelen);

	ring_catalog_read(name, namelen, snap, &hdr, &access);
	ring_check_look_up(&hdr, &access);
	if (asked == RING_VERSION_CURRENT)
		version = hdr.version;
	else if (asked < 0 || asked > hdr.version)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("version " INT64_FORMAT " of ring \"%s\" does not exist",
						asked, hdr.name),
				 errdetail("Ring \"%s\" has versions 0 to %d.",
						   hdr.name, hdr.version)));
	else
		version = (int32) asked;

	ring = ring_cache_fetch(&hdr, version, snap);

	ring->last_used = ++cache_clock;
	ring->refcount++;
	if (ref->ring != NULL)
		ring_unpin(ref->ring);
	ref->ring = ring;

	ref->generation = generation;
	ref->userid = GetUserId();
	ring_snap_set(&ref->snapid, snap);
	ref->version = asked;
	ref->current_version = hdr.version;
	ref->namelen = namelen;
	memcpy(ref->name, name, namelen);

	return ring;
}

/* Add a row per cached ring to a materialized SRF result. */
static void
ring_cache_report(ReturnSetInfo *rsinfo)
{
	HASH_SEQ_STATUS status;
	RingCacheEntry *entry;

	if (ring_cache == NULL)
		return;
	hash_seq_init(&status, ring_cache);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		CompiledRing *ring = entry->ring;
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, false, false};

		values[0] = CStringGetTextDatum(ring->name);
		values[1] = Int32GetDatum(ring->key.version);
		values[2] = Int32GetDatum(ring->nnodes);
		values[3] = Int64GetDatum(ring->ntokens);
		values[4] = Int64GetDatum(ring->shared_slot > 0 ? (int64) ring_shmem_size(ring) :
								  MemoryContextMemAllocated(ring->mcxt, true));
		values[5] = Int32GetDatum(ring->built_from);
		nulls[5] = ring->built_from < 0;
		values[6] = BoolGetDatum(ring->shared_slot > 0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/*
 * Trigger on the catalog tables (per statement; per row on logical
 * replication subscribers) and on the migration progress tables (per row,
 * so that a statement that changes no row sends nothing): register a
 * relcache invalidation of the changed table.  It reaches this backend at
 * the next command and the others when the transaction commits; an abort
 * drops it.  Fired BEFORE a statement on the progress tables, it only
 * notes that this transaction changes them, so that nothing read from
 * here on (a function called by the changing statement itself) is kept.
 */
PG_FUNCTION_INFO_V1(ring_invalidate_cache);
Datum
ring_invalidate_cache(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"invalidate_cache\" must be fired as a trigger")));
	ring_catalog_remember();
	if (ring_catalog_is_migration_table(RelationGetRelid(trigdata->tg_relation)))
		own_migration_changes = true;
	else
		last_change_cid = GetCurrentCommandId(false);
	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event))
		CacheInvalidateRelcache(trigdata->tg_relation);
	return PointerGetDatum(NULL);
}

/* ring_cache_info(): this backend's compiled rings and their memory. */
PG_FUNCTION_INFO_V1(ring_cache_info);
Datum
ring_cache_info(PG_FUNCTION_ARGS)
{
	RING_INIT_MATERIALIZED_SRF(fcinfo, 0);
	ring_cache_report((ReturnSetInfo *) fcinfo->resultinfo);
	return (Datum) 0;
}
