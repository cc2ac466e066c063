/*-------------------------------------------------------------------------
 *
 * ring_shmem.c
 *	  Compiled rings shared by all backends of a server, when the library
 *	  is preloaded (shared_preload_libraries = 'consistent_ring').
 *
 * What is shared: committed versions only, keyed by (database, OID of
 * consistent_ring.rings, ring id, version); a committed version never
 * changes (ring_cache.c), so one compiled copy serves every backend and
 * every snapshot that sees it.  Versions a transaction is still building
 * stay in its backend's private cache.
 *
 * Memory: a DSA area made in place in the server's main shared memory at
 * startup, of consistent_ring.shared_cache_size, and limited to that
 * size, so it never grows into DSM segments of its own.  The main shared
 * memory is mapped at the same address in every backend, so a compiled
 * ring is stored there whole, pointers and all ("flattened": one
 * allocation holding the ring, its nodes, names and arrays), and used in
 * place.  A backend keeps only a small header per ring (a copy of the
 * CompiledRing struct whose pointers lead into shared memory).
 *
 * Entries: a fixed array of RING_SHARED_ENTRIES slots under one LWLock,
 * each free, being built by one backend, ready, or marked "no room".  A
 * backend that needs a version nobody has compiled claims a slot
 * (building), compiles it privately, incrementally from the nearest ready
 * version of the ring if there is one, allocates room in the area, copies
 * it there without holding the lock and marks it ready.  A backend that
 * finds the slot building waits on a condition variable, so each version
 * is compiled once per server - for at most a second: the builder may be
 * waiting for a lock on the catalog that the waiter holds, which no
 * deadlock check sees; then the waiter compiles privately.  If the builder
 * fails, its slot is freed and a waiter claims it.  If the version does
 * not fit (the area full of rings in use, or the version larger than the
 * area, which then evicts nothing), the slot is marked no room and every
 * backend compiles that version privately, as without preloading, at
 * once; the same when every slot is taken.  Nothing fails for lack of
 * shared memory.
 *
 * Lifetime: every backend header counts as a reference (refcount).  Once
 * a newer version of the same ring is ready, an older one is superseded:
 * freed as soon as nobody references it, so that the next version reuses
 * its pages (pages the server never touched cost a fault each, which made
 * copying a new 2.7 MB version into the area take 7-14 ms instead of
 * 0.2-0.4 ms).  Backends hear of superseded versions through a counter
 * (one atomic read per ring resolution) and let go of those they hold
 * without using them (ring_cache.c).  Any other ready entry nobody
 * references stays, to be attached later, until its slot or its memory is
 * needed for another (least recently attached first, no-room marks too).
 * Each backend remembers its references per slot and drops them when it
 * exits (an on_shmem_exit callback: after the open transaction's abort
 * has unpinned what it used, before the area is released), and frees a
 * version it was building; a crash of any backend resets all of shared
 * memory.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "pgstat.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/dsa.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "compat.h"

#include "ring_cache.h"
#include "ring_jump.h"
#include "ring_shmem.h"
#include "ring_compile.h"

#define RING_SHARED_ENTRIES 256

/* how long a backend waits for another to compile a version, in ms */
#define RING_SHARED_WAIT_MS 100
#define RING_SHARED_MAX_WAIT_MS 1000

typedef enum RingSharedState
{
	RING_SHARED_FREE = 0,
	RING_SHARED_BUILDING,
	RING_SHARED_READY,
	RING_SHARED_NO_ROOM			/* did not fit: compiled privately */
} RingSharedState;

typedef struct RingSharedEntry
{
	Oid			dbid;
	RingCacheKey key;			/* cid is always InvalidCommandId */
	RingSharedState state;
	int			builder;		/* PID compiling it, while building */
	int			refcount;		/* backend headers pointing to it */
	bool		superseded;		/* a newer version of the ring is ready:
								 * freed once nobody uses it */
	uint64		last_used;
	dsa_pointer dp;
	Size		size;
	CompiledRing *ring;			/* in the area: same address everywhere */
} RingSharedEntry;

typedef struct RingSharedControl
{
	LWLock		lock;			/* protects the entries and counters */
	int			tranche;
	ConditionVariable built;	/* an entry stopped building */
	pg_atomic_uint64 superseded;	/* versions marked superseded so far */
	uint64		clock;
	RingSharedEntry entries[RING_SHARED_ENTRIES];
	char		area[FLEXIBLE_ARRAY_MEMBER];	/* the DSA area, in place */
} RingSharedControl;

/* consistent_ring.shared_cache_size, in kB (0: no sharing) */
int			ring_shared_cache_size = 64 * 1024;

static bool requested = false;
static RingSharedControl *control = NULL;
static dsa_area *area = NULL;
static int	my_refs[RING_SHARED_ENTRIES];
static int	my_building = -1;
static bool exited = false;
static uint64 superseded_seen = 0;

static void drop_entry(RingSharedEntry *e);

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static Size
area_size(void)
{
	return Max((Size) ring_shared_cache_size * 1024, dsa_minimum_size());
}

static Size
control_size(void)
{
	return add_size(offsetof(RingSharedControl, area), area_size());
}

static void
ring_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(control_size()));
}

/* At startup and after a crash: the entries, all free, and an empty area. */
static void
ring_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	control = ShmemInitStruct("consistent_ring compiled rings", control_size(), &found);
	if (!found)
	{
		dsa_area   *a;

		memset(control, 0, offsetof(RingSharedControl, area));
		control->tranche = LWLockNewTrancheId();
		LWLockInitialize(&control->lock, control->tranche);
		ConditionVariableInit(&control->built);
		pg_atomic_init_u64(&control->superseded, 0);
		a = dsa_create_in_place(control->area, area_size(), control->tranche, NULL);
		dsa_pin(a);
		/* never a segment outside the main shared memory */
		dsa_set_size_limit(a, area_size());
		dsa_detach(a);
	}
	LWLockRelease(AddinShmemInitLock);
	LWLockRegisterTranche(control->tranche, "consistent_ring");
}

/*
 * From _PG_init: while shared_preload_libraries is being processed, the
 * setting and the shared memory hooks (not preloaded, neither exists).
 */
void
ring_shmem_init(void)
{
	/* a PGC_POSTMASTER setting can only be made at startup */
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomIntVariable("consistent_ring.shared_cache_size",
							"Shared memory for compiled rings, used when the library is preloaded.",
							"Each committed ring version is then compiled once per server and used "
							"by every backend. 0 keeps every backend's compiled rings to itself.",
							&ring_shared_cache_size,
							64 * 1024,
							0,
							MAX_KILOBYTES,
							PGC_POSTMASTER,
							GUC_UNIT_KB,
							NULL, NULL, NULL);
	if (ring_shared_cache_size == 0)
		return;
	requested = true;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = ring_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = ring_shmem_startup;
}

/*
 * Backend exit: drop this backend's references and any slot it was
 * building.  An on_shmem_exit callback, so it runs after the
 * before_shmem_exit ones (ShutdownPostgres aborts an open transaction,
 * whose memory contexts unpin rings: unref() does nothing from here on)
 * and before the area is released.
 */
static void
ring_shmem_exit(int code, Datum arg)
{
	exited = true;
	LWLockAcquire(&control->lock, LW_EXCLUSIVE);
	for (int i = 0; i < RING_SHARED_ENTRIES; i++)
	{
		RingSharedEntry *e = &control->entries[i];

		if (my_refs[i] == 0)
			continue;
		e->refcount -= my_refs[i];
		my_refs[i] = 0;
		if (e->refcount == 0 && e->superseded && e->state == RING_SHARED_READY)
			drop_entry(e);
	}
	if (my_building >= 0 && control->entries[my_building].state == RING_SHARED_BUILDING &&
		control->entries[my_building].builder == MyProcPid)
	{
		RingSharedEntry *e = &control->entries[my_building];

		if (DsaPointerIsValid(e->dp))
			dsa_free(area, e->dp);
		e->dp = InvalidDsaPointer;
		e->state = RING_SHARED_FREE;
	}
	my_building = -1;
	LWLockRelease(&control->lock);
	ConditionVariableBroadcast(&control->built);
}

/* Whether compiled rings are shared here; attaches the area on first use. */
bool
ring_shmem_enabled(void)
{
	if (exited)
		return false;
	if (area != NULL)
		return true;
	if (!requested || control == NULL)
		return false;
	{
		/* the backend's handle on the area lives as long as the backend */
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		area = dsa_attach_in_place(control->area, NULL);
		MemoryContextSwitchTo(old);
	}
	dsa_pin_mapping(area);
	/* callbacks run last registered first: the references go, then the area */
	on_shmem_exit(dsa_on_shmem_exit_release_in_place, PointerGetDatum(control->area));
	on_shmem_exit(ring_shmem_exit, (Datum) 0);
	superseded_seen = pg_atomic_read_u64(&control->superseded);
	return true;
}

static int
find_entry(const RingCacheKey *key)
{
	for (int i = 0; i < RING_SHARED_ENTRIES; i++)
	{
		RingSharedEntry *e = &control->entries[i];

		if (e->state != RING_SHARED_FREE && e->dbid == MyDatabaseId &&
			memcmp(&e->key, key, sizeof(RingCacheKey)) == 0)
			return i;
	}
	return -1;
}

/* Free a ready entry nobody uses, or a no-room one; the lock is held exclusively. */
static void
drop_entry(RingSharedEntry *e)
{
	Assert((e->state == RING_SHARED_READY && e->refcount == 0) ||
		   e->state == RING_SHARED_NO_ROOM);
	if (DsaPointerIsValid(e->dp))
		dsa_free(area, e->dp);
	e->state = RING_SHARED_FREE;
	e->superseded = false;
	e->ring = NULL;
	e->dp = InvalidDsaPointer;
}

/*
 * A newer version of e's ring is ready: free e now if nobody uses it,
 * else when the last backend lets it go.  Its pages go back to the area,
 * where the next version of the ring finds them (pages the server has
 * never touched cost a page fault each, most of a new version's copy).
 * The lock is held exclusively.
 */
static void
supersede(RingSharedEntry *e, bool tell)
{
	if (!e->superseded && tell)
		pg_atomic_fetch_add_u64(&control->superseded, 1);
	e->superseded = true;
	if (e->refcount == 0)
		drop_entry(e);
}

/*
 * Entry slot just became ready: mark (and free, where nobody uses them)
 * the versions of its ring older than the newest ready one.  The lock is
 * held exclusively.
 */
static void
supersede_older(int slot)
{
	RingSharedEntry *n = &control->entries[slot];
	int32		newest = n->key.version;

	for (int i = 0; i < RING_SHARED_ENTRIES; i++)
	{
		RingSharedEntry *e = &control->entries[i];

		if (e->state == RING_SHARED_READY && e->dbid == n->dbid &&
			e->key.catalog_id == n->key.catalog_id && e->key.ring_id == n->key.ring_id &&
			e->key.version > newest)
			newest = e->key.version;
	}
	for (int i = 0; i < RING_SHARED_ENTRIES; i++)
	{
		RingSharedEntry *e = &control->entries[i];

		/*
		 * Backends are told (ring_shmem_superseded_news) of versions that a
		 * new version supersedes, not of an older version just compiled
		 * again for the one backend that asked for it: that would make
		 * every backend using old versions let them go and compile them
		 * again.
		 */
		if (e->state == RING_SHARED_READY && e->dbid == n->dbid &&
			e->key.catalog_id == n->key.catalog_id && e->key.ring_id == n->key.ring_id &&
			e->key.version < newest)
			supersede(e, newest == n->key.version);
	}
}

/* The least recently attached ready entry nobody uses (or no-room one), or -1. */
static int
victim(void)
{
	int			v = -1;

	for (int i = 0; i < RING_SHARED_ENTRIES; i++)
	{
		RingSharedEntry *e = &control->entries[i];

		if (((e->state == RING_SHARED_READY && e->refcount == 0) ||
			 e->state == RING_SHARED_NO_ROOM) &&
			(v < 0 || e->last_used < control->entries[v].last_used))
			v = i;
	}
	return v;
}

/* A free slot, freeing an unused ring if need be, or -1. */
static int
claim_slot(void)
{
	for (int i = 0; i < RING_SHARED_ENTRIES; i++)
		if (control->entries[i].state == RING_SHARED_FREE)
			return i;
	{
		int			v = victim();

		if (v >= 0)
			drop_entry(&control->entries[v]);
		return v;
	}
}

/* The nearest ready version of the same ring, referenced, or -1. */
static int
nearest_ready(const RingCacheKey *key)
{
	int			best = -1;
	int64		bestd = PG_INT64_MAX;

	for (int i = 0; i < RING_SHARED_ENTRIES; i++)
	{
		RingSharedEntry *e = &control->entries[i];
		int64		d;

		if (e->state != RING_SHARED_READY || e->dbid != MyDatabaseId ||
			e->key.catalog_id != key->catalog_id || e->key.ring_id != key->ring_id)
			continue;
		d = (int64) e->key.version - key->version;
		if (d < 0)
			d = -d;
		if (d < bestd)
		{
			bestd = d;
			best = i;
		}
	}
	if (best >= 0)
	{
		control->entries[best].refcount++;
		my_refs[best]++;
	}
	return best;
}

/* A backend header for a ready entry, in mcxt; the entry is referenced. */
static CompiledRing *
make_header(int slot, MemoryContext mcxt)
{
	CompiledRing *s = control->entries[slot].ring;
	CompiledRing *h = MemoryContextAlloc(mcxt, sizeof(CompiledRing));

	memcpy(h, s, sizeof(CompiledRing));
	h->mcxt = NULL;
	h->shared_slot = slot + 1;
	if (s->unpinned == s)
		h->unpinned = h;
	h->refcount = 0;
	h->dead = false;
	h->last_used = 0;
	return h;
}

/*
 * Drop a reference this backend took on slot (0-based), freeing the entry
 * if it is superseded and was the last; the lock is held exclusively.
 */
static void
release_locked(int slot)
{
	RingSharedEntry *e = &control->entries[slot];

	e->refcount--;
	my_refs[slot]--;
	if (e->refcount == 0 && e->superseded)
		drop_entry(e);
}

/* The same, taking the lock. */
static void
unref(int slot)
{
	/* after ring_shmem_exit, this backend holds no reference any more */
	if (exited || my_refs[slot] <= 0)
		return;
	LWLockAcquire(&control->lock, LW_EXCLUSIVE);
	release_locked(slot);
	LWLockRelease(&control->lock);
}

/* Free a backend header of a shared ring, dropping its reference. */
void
ring_shmem_release(CompiledRing *header)
{
	Assert(header->shared_slot > 0);
	unref(header->shared_slot - 1);
	pfree(header);
}

/*
 * Flattening: the bytes a compiled ring takes as one allocation, and the
 * copy.  The arrays' lengths are those ring_cache.h gives: keys ntokens +
 * RING_SCAN (sentinels), lows ntokens + 1, the bucket index 2^(64 -
 * index_shift), seeds one per node, jump's arrays nbuckets + 1.
 */
#define FLAT(n) MAXALIGN(n)

static Size
tokens_size(const CompiledRing *r)
{
	Size		s = 0;

	if (r->keys)
		s += FLAT(((Size) r->ntokens + RING_SCAN) * sizeof(uint64));
	if (r->lows)
		s += FLAT(((Size) r->ntokens + 1) * sizeof(uint16));
	if (r->index)
		s += FLAT((Size) (UINT64CONST(1) << (64 - r->index_shift)) * sizeof(uint32));
	return s;
}

static Size
flat_size(const CompiledRing *r)
{
	Size		s = FLAT(sizeof(CompiledRing)) + tokens_size(r);

	s += FLAT(Max(r->nnodes, 1) * sizeof(RingNodeInfo));
	for (int i = 0; i < r->nnodes; i++)
	{
		s += FLAT(VARSIZE_ANY(r->nodes[i].name));
		if (r->nodes[i].server)
			s += FLAT(VARSIZE_ANY(r->nodes[i].server));
	}
	if (r->seeds)
		s += FLAT(Max(r->nnodes, 1) * sizeof(uint64));
	if (r->jump)
		s += FLAT(sizeof(RingJump)) + 4 * FLAT(((Size) r->jump->nbuckets + 1) * sizeof(int32));
	if (r->unpinned != r)
		s += FLAT(sizeof(CompiledRing)) + tokens_size(r->unpinned);
	return s;
}

static void *
put(char **at, const void *src, Size len)
{
	void	   *dst = *at;

	memcpy(dst, src, len);
	*at += FLAT(len);
	return dst;
}

static void
put_tokens(char **at, CompiledRing *d, const CompiledRing *r)
{
	if (r->keys)
		d->keys = put(at, r->keys, ((Size) r->ntokens + RING_SCAN) * sizeof(uint64));
	if (r->lows)
		d->lows = put(at, r->lows, ((Size) r->ntokens + 1) * sizeof(uint16));
	if (r->index)
		d->index = put(at, r->index,
					   (Size) (UINT64CONST(1) << (64 - r->index_shift)) * sizeof(uint32));
}

static CompiledRing *
flatten(const CompiledRing *r, char *at)
{
	CompiledRing *d = put(&at, r, sizeof(CompiledRing));

	d->mcxt = NULL;
	d->refcount = 0;
	d->dead = false;
	put_tokens(&at, d, r);
	d->nodes = put(&at, r->nodes, Max(r->nnodes, 1) * sizeof(RingNodeInfo));
	for (int i = 0; i < r->nnodes; i++)
	{
		d->nodes[i].name = put(&at, r->nodes[i].name, VARSIZE_ANY(r->nodes[i].name));
		if (r->nodes[i].server)
			d->nodes[i].server = put(&at, r->nodes[i].server, VARSIZE_ANY(r->nodes[i].server));
	}
	if (r->seeds)
		d->seeds = put(&at, r->seeds, Max(r->nnodes, 1) * sizeof(uint64));
	if (r->jump)
	{
		Size		len = ((Size) r->jump->nbuckets + 1) * sizeof(int32);

		d->jump = put(&at, r->jump, sizeof(RingJump));
		d->jump->working = put(&at, r->jump->working, len);
		d->jump->replacer = put(&at, r->jump->replacer, len);
		d->jump->prev = put(&at, r->jump->prev, len);
		d->jump->node = put(&at, r->jump->node, len);
	}
	if (r->unpinned != r)
	{
		const CompiledRing *u = r->unpinned;
		CompiledRing *du = put(&at, u, sizeof(CompiledRing));

		du->mcxt = NULL;
		du->unpinned = du;
		du->nodes = d->nodes;
		du->seeds = d->seeds;
		du->jump = d->jump;
		put_tokens(&at, du, u);
		d->unpinned = du;
	}
	else
		d->unpinned = d;
	return d;
}

/*
 * Allocate size bytes in the area, freeing unused rings (least recently
 * attached first) while it is full.  The lock is held exclusively.
 */
static dsa_pointer
allocate(Size size)
{
	/* what can never fit frees nothing */
	if (size >= area_size())
		return InvalidDsaPointer;
	for (;;)
	{
		dsa_pointer dp = dsa_allocate_extended(area, size, DSA_ALLOC_HUGE | DSA_ALLOC_NO_OOM);
		int			v;

		if (DsaPointerIsValid(dp))
			return dp;
		v = victim();
		if (v < 0)
			return InvalidDsaPointer;
		drop_entry(&control->entries[v]);
	}
}

/*
 * The compiled ring of a committed version (key), as a backend header in
 * mcxt pointing into shared memory: attached if some backend compiled it,
 * else compiled here and shared.  NULL when there is no room (the caller
 * compiles privately).
 */
CompiledRing *
ring_shmem_fetch(const RingHeader *hdr, int32 version, Snapshot snap,
				 const RingCacheKey *key, const CompiledRing *local_prev,
				 MemoryContext mcxt)
{
	volatile int slot;
	volatile int base;
	CompiledRing *ring;
	CompiledRing *volatile prev_header = NULL;
	dsa_pointer dp;
	Size		size;
	TimestampTz wait_start = 0;

	Assert(key->cid == InvalidCommandId);
	for (;;)
	{
		RingSharedEntry *e;
		bool		building;

		LWLockAcquire(&control->lock, LW_EXCLUSIVE);
		slot = find_entry(key);
		if (slot < 0)
			break;
		e = &control->entries[slot];

		/*
		 * Compiled privately: a version that did not fit; and, with
		 * consistent_ring.incremental_compile off (a version compiled from
		 * the catalog alone), a copy that was built incrementally.
		 */
		if (e->state == RING_SHARED_NO_ROOM ||
			(e->state == RING_SHARED_READY && !ring_incremental_compile &&
			 e->ring->built_from >= 0))
		{
			LWLockRelease(&control->lock);
			return NULL;
		}
		if (e->state == RING_SHARED_READY)
		{
			CompiledRing *h;

			e->refcount++;
			my_refs[slot]++;
			e->last_used = ++control->clock;
			LWLockRelease(&control->lock);
			PG_TRY();
			{
				h = make_header(slot, mcxt);
			}
			PG_CATCH();
			{
				unref(slot);
				PG_RE_THROW();
			}
			PG_END_TRY();
			return h;
		}

		/*
		 * Another backend is compiling it: wait until it is done, but not
		 * for ever - the builder may be waiting for a lock on the catalog
		 * that this backend holds, which no deadlock check would see.
		 * After a second, compile privately.
		 */
		LWLockRelease(&control->lock);
		if (wait_start == 0)
			wait_start = GetCurrentTimestamp();
		else if (TimestampDifferenceExceeds(wait_start, GetCurrentTimestamp(), RING_SHARED_MAX_WAIT_MS))
			return NULL;
		ConditionVariablePrepareToSleep(&control->built);
		LWLockAcquire(&control->lock, LW_SHARED);
		building = control->entries[slot].state == RING_SHARED_BUILDING &&
			control->entries[slot].dbid == MyDatabaseId &&
			memcmp(&control->entries[slot].key, key, sizeof(RingCacheKey)) == 0;
		LWLockRelease(&control->lock);
		if (building)
			(void) ConditionVariableTimedSleep(&control->built, RING_SHARED_WAIT_MS,
											   PG_WAIT_EXTENSION);
		ConditionVariableCancelSleep();
		CHECK_FOR_INTERRUPTS();
	}

	/* nobody has it: claim a slot (the lock is held) */
	slot = claim_slot();
	if (slot < 0)
	{
		LWLockRelease(&control->lock);
		return NULL;
	}
	{
		RingSharedEntry *e = &control->entries[slot];

		e->dbid = MyDatabaseId;
		e->key = *key;
		e->state = RING_SHARED_BUILDING;
		e->builder = MyProcPid;
		e->refcount = 0;
		e->superseded = false;
		e->ring = NULL;
		e->dp = InvalidDsaPointer;
		e->last_used = ++control->clock;
		my_building = slot;
	}
	base = nearest_ready(key);
	LWLockRelease(&control->lock);

	PG_TRY();
	{
		if (base >= 0)
			prev_header = make_header(base, CurrentMemoryContext);
		ring = ring_compile(hdr, version, snap, prev_header ? prev_header : local_prev);
	}
	PG_CATCH();
	{
		LWLockAcquire(&control->lock, LW_EXCLUSIVE);
		control->entries[slot].state = RING_SHARED_FREE;
		my_building = -1;
		if (base >= 0)
			release_locked(base);
		LWLockRelease(&control->lock);
		ConditionVariableBroadcast(&control->built);
		PG_RE_THROW();
	}
	PG_END_TRY();

	/* room in the area: if there is none, the version stays private */
	size = flat_size(ring);
	LWLockAcquire(&control->lock, LW_EXCLUSIVE);
	if (base >= 0)
		release_locked(base);
	dp = allocate(size);
	if (!DsaPointerIsValid(dp))
	{
		/* waiters and later askers compile privately, without waiting */
		control->entries[slot].state = RING_SHARED_NO_ROOM;
		my_building = -1;
		LWLockRelease(&control->lock);
		ConditionVariableBroadcast(&control->built);
		if (prev_header)
			pfree(prev_header);
		return ring;
	}
	control->entries[slot].dp = dp;
	LWLockRelease(&control->lock);

	/*
	 * The copy, without the lock (megabytes, and page faults on pages new
	 * to this backend); nothing here raises an error, and if the backend
	 * exits meanwhile, ring_shmem_exit frees dp.
	 */
	{
		CompiledRing *flat = flatten(ring, dsa_get_address(area, dp));

		flat->key = *key;
		flat->shared_slot = 0;
		pg_write_barrier();
		LWLockAcquire(&control->lock, LW_EXCLUSIVE);
		{
			RingSharedEntry *e = &control->entries[slot];

			e->size = size;
			e->ring = flat;
			e->state = RING_SHARED_READY;
			e->builder = 0;
			e->refcount = 1;
			my_refs[slot]++;
			my_building = -1;
			e->last_used = ++control->clock;
			supersede_older(slot);
		}
		LWLockRelease(&control->lock);
	}
	ConditionVariableBroadcast(&control->built);
	if (prev_header)
		pfree(prev_header);
	MemoryContextDelete(ring->mcxt);
	PG_TRY();
	{
		ring = make_header(slot, mcxt);
	}
	PG_CATCH();
	{
		unref(slot);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return ring;
}

/*
 * Whether versions have been superseded since this backend last asked
 * (one atomic read): then the backend's cache lets go of those it holds
 * without using them (ring_cache.c), so that they can be freed.
 */
bool
ring_shmem_superseded_news(void)
{
	uint64		now;

	if (area == NULL)
		return false;
	now = pg_atomic_read_u64(&control->superseded);
	if (now == superseded_seen)
		return false;
	superseded_seen = now;
	return true;
}

/* Whether the shared ring behind a backend header has a newer version ready. */
bool
ring_shmem_is_superseded(const CompiledRing *header)
{
	bool		superseded;

	Assert(header->shared_slot > 0);
	LWLockAcquire(&control->lock, LW_SHARED);
	superseded = control->entries[header->shared_slot - 1].superseded;
	LWLockRelease(&control->lock);
	return superseded;
}

/* Bytes of a shared ring (the flattened copy). */
Size
ring_shmem_size(const CompiledRing *header)
{
	return control->entries[header->shared_slot - 1].size;
}

/*
 * ring_shared_cache(): the compiled rings in shared memory of the rings of
 * this database that exist (as the caller sees the catalog), with the
 * backends using each.  Versions of a dropped ring stay while backends
 * still hold them, until their memory is needed; they are not listed.
 */
PG_FUNCTION_INFO_V1(ring_shared_cache);
Datum
ring_shared_cache(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	RingSharedEntry *copy;
	char	  (*names)[RING_NAME_MAXLEN + 1];
	int32	   *built_from;
	int			n = 0;
	Oid			catalog_id;

	RING_INIT_MATERIALIZED_SRF(fcinfo, 0);
	catalog_id = ring_catalog_rings_oid();
	if (!ring_shmem_enabled() || !OidIsValid(catalog_id))
		return (Datum) 0;

	/* what is there, copied under the lock */
	copy = palloc(sizeof(RingSharedEntry) * RING_SHARED_ENTRIES);
	names = palloc(sizeof(*names) * RING_SHARED_ENTRIES);
	built_from = palloc(sizeof(int32) * RING_SHARED_ENTRIES);
	LWLockAcquire(&control->lock, LW_SHARED);
	for (int i = 0; i < RING_SHARED_ENTRIES; i++)
	{
		RingSharedEntry *e = &control->entries[i];

		if (e->state != RING_SHARED_READY || e->dbid != MyDatabaseId ||
			e->key.catalog_id != catalog_id)
			continue;
		copy[n] = *e;
		memcpy(names[n], e->ring->name, sizeof(names[n]));
		built_from[n] = e->ring->built_from;
		n++;
	}
	LWLockRelease(&control->lock);

	SPI_connect();
	for (int i = 0; i < n; i++)
	{
		Oid			type = TEXTOID;
		Datum		name = CStringGetTextDatum(names[i]);
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};
		bool		isnull;

		if (SPI_execute_with_args("SELECT r.ring_id FROM consistent_ring.rings r"
								  " WHERE r.name OPERATOR(pg_catalog.=) $1",
								  1, &type, &name, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read consistent_ring.rings");
		if (SPI_processed != 1 ||
			DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
										&isnull)) != copy[i].key.ring_id)
			continue;
		values[0] = name;
		values[1] = Int32GetDatum(copy[i].key.version);
		values[2] = Int32GetDatum(copy[i].refcount);
		values[3] = Int64GetDatum((int64) copy[i].size);
		values[4] = Int32GetDatum(built_from[i]);
		nulls[4] = built_from[i] < 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}
