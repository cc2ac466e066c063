/*-------------------------------------------------------------------------
 *
 * ring_cache.h
 *	  Backend-local cache of compiled rings, and per-call-site references.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RING_CACHE_H
#define RING_CACHE_H

#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "utils/palloc.h"
#include "utils/snapmgr.h"
#include "utils/snapshot.h"

#include "ring_catalog.h"

/*
 * Requested version meaning "the newest one the snapshot sees".  Versions
 * are asked for as int64 so that no int32 a user passes can mean this.
 */
#define RING_VERSION_CURRENT PG_INT64_MIN

/* What identifies one compiled ring. */
typedef struct RingCacheKey
{
	Oid			catalog_id;		/* OID of consistent_ring.rings */
	int32		ring_id;
	int32		version;
	CommandId	cid;			/* InvalidCommandId once the version is
								 * committed; while this transaction builds
								 * it, the first command id whose snapshots
								 * see the same content (ring_cache.c) */
} RingCacheKey;

/* One node of a compiled ring. */
typedef struct RingNodeInfo
{
	text	   *name;
	double		weight;
	int32		vnodes;			/* virtual nodes it was given */
	int32		zone;			/* index of its zone, or -1 for none */
	int64		joined;			/* order of joining: a client's server list */
	text	   *server;			/* foreign server holding its data, or NULL */
} RingNodeInfo;

/* One version of one ring, ready for lookups. */
typedef struct CompiledRing
{
	RingCacheKey key;
	uint64		serial;			/* never reused in this backend: what a
								 * call site keys data derived from the ring
								 * by (its address can be reused once freed) */
	MemoryContext mcxt;			/* holds this struct and all it points to */
	char		name[RING_NAME_MAXLEN + 1];
	RingAlgorithm algorithm;
	bool		compat_hash;	/* keys are hashed as another system does
								 * ('redis', 'ketama', 'libketama') */
	int32		vnodes;			/* virtual nodes per unit of weight */
	int32		table_size;		/* 'maglev': lookup table size */
	bool		stored_tokens;	/* tokens from the tokens table */
	int32		built_from;		/* version it was built from, -1: from the
								 * catalog alone */

	int			nnodes;			/* all nodes, weight 0 included */
	RingNodeInfo *nodes;		/* sorted by name bytes */
	int			nowners;		/* nodes owning at least one token */
	int			nzones;			/* distinct zones of the nodes (0: none) */

	/*
	 * The tokens, ascending, packed for lookups.  A token is kept as the
	 * unsigned "biased" value u = token XOR 2^63 (so unsigned order is token
	 * order): keys[i] holds u's upper 48 bits and, in its low 16 bits, the
	 * index of the token's owner in nodes; lows[i] holds u's low 16 bits.
	 * Entry ntokens is a sentinel above every position (keys = all ones,
	 * lows = 0xFFFF), and keys has RING_SCAN - 1 more such entries so the
	 * lookup's fixed-width scan never reads past the end.  See ring_vnode.h.
	 */
	uint32		ntokens;		/* distinct tokens */
	uint64	   *keys;
	uint16	   *lows;
	int			index_shift;	/* 64 - log2(number of buckets) */
	uint32	   *index;			/* index[b]: first token whose biased value
								 * is at or after bucket b's start */

	/*
	 * Pinned keys (ring_pin) are tokens too: a pin at position p is token p
	 * owned by the pinned node, with token p - 1 keeping the range before
	 * it with its owner.  unpinned is the ring without them (the same
	 * arrays, when there are no pins), for figures about the algorithm.
	 */
	uint32		npins;
	struct CompiledRing *unpinned;

	/*
	 * 'rendezvous' rings have no tokens: per_key is set, and seeds[i] is
	 * XXH3-64 of node i's name (nodes of weight 0 never win).
	 */
	bool		per_key;
	uint64	   *seeds;
	struct RingJump *jump;		/* 'jump' rings: the buckets */

	int32		shared_slot;	/* a backend's header of a ring in shared
								 * memory (ring_shmem.c): 1 + its entry;
								 * 0: compiled privately, in mcxt */
	uint64		last_used;		/* cache clock of its last resolution */
	int			refcount;		/* RingRefs pinning it */
	bool		dead;			/* flushed: free when refcount drops to 0 */
} CompiledRing;

/* What a snapshot is, for "did it change since last row". */
typedef struct RingSnapId
{
	Snapshot	snap;
	uint64		completion;
	TransactionId xmin;
	TransactionId xmax;
	uint32		xcnt;
	CommandId	curcid;
} RingSnapId;

/*
 * A call site's reference to a compiled ring: what was asked, by which user,
 * under which snapshot and cache generation it was resolved, and the pinned
 * ring.  Lives in the call site's fn_mcxt; the pin is dropped when that
 * context goes.  The user is part of it because one call site can be reached
 * by several users under one snapshot (a plpgsql expression that a SECURITY
 * DEFINER function and then its caller evaluate): each must pass the lookup
 * check for itself.
 */
typedef struct RingRef
{
	CompiledRing *ring;			/* pinned; NULL until first resolved */
	uint64		generation;
	Oid			userid;			/* whose lookup rights were checked */
	RingSnapId	snapid;
	int64		version;		/* as asked: a number or RING_VERSION_CURRENT */
	int32		current_version;	/* newest version the snapshot saw */
	int			namelen;
	char		name[RING_NAME_MAXLEN];
	MemoryContextCallback release;
} RingRef;

/* Where a snapshot stands among others (ring_cache.c). */
typedef struct RingSnapOrder
{
	TransactionId xmax;
	uint64		nrunning;		/* transactions it sees running */
} RingSnapOrder;

extern PGDLLIMPORT uint64 ring_cache_generation;
extern PGDLLIMPORT uint64 ring_route_generation;

extern void ring_cache_init(void);
extern bool ring_kept_is_valid(Snapshot snap, const RingSnapOrder *kept);
extern bool ring_may_keep(Snapshot snap, RingSnapOrder *order);
extern void ring_ref_init(RingRef *ref, MemoryContext mcxt);
extern CompiledRing *ring_ref_resolve(RingRef *ref, const char *name,
									  int namelen, int64 version);

/* Whether snap is, for visibility, the snapshot recorded in id. */
static inline bool
ring_snap_same(const RingSnapId *id, Snapshot snap)
{
	/*
	 * Two MVCC snapshots with the same non-zero transaction completion count
	 * and command id see the same rows.  Restored snapshots (parallel
	 * workers, imported ones) have a zero count: then require the same
	 * snapshot object too.
	 */
	return id->completion == snap->snapXactCompletionCount &&
		id->curcid == snap->curcid &&
		id->xmin == snap->xmin &&
		id->xmax == snap->xmax &&
		(snap->snapXactCompletionCount != 0 ||
		 (id->snap == snap && id->xcnt == snap->xcnt));
}

/* Record snap in id, for ring_snap_same. */
static inline void
ring_snap_set(RingSnapId *id, Snapshot snap)
{
	id->snap = snap;
	id->completion = snap->snapXactCompletionCount;
	id->xmin = snap->xmin;
	id->xmax = snap->xmax;
	id->xcnt = snap->xcnt;
	id->curcid = snap->curcid;
}

/*
 * Whether ref's ring is still the answer for version under the active
 * snapshot and the current user, the ring name being unchanged.
 */
static inline bool
ring_ref_current(const RingRef *ref, int64 version)
{
	return ref->ring != NULL &&
		ref->generation == ring_cache_generation &&
		ref->version == version &&
		ref->userid == GetUserId() &&
		ActiveSnapshotSet() &&
		ring_snap_same(&ref->snapid, GetActiveSnapshot());
}

/*
 * The compiled ring for (name, version) as the running statement sees it.
 * The per-row path: a few comparisons, then the ring resolved last time.
 */
static inline CompiledRing *
ring_ref_get(RingRef *ref, const char *namedata, int namelen, int64 version)
{
	if (likely(ring_ref_current(ref, version) &&
			   ref->namelen == namelen &&
			   memcmp(ref->name, namedata, namelen) == 0))
		return ref->ring;
	return ring_ref_resolve(ref, namedata, namelen, version);
}

#endif							/* RING_CACHE_H */
