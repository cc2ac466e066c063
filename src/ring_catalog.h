/*-------------------------------------------------------------------------
 *
 * ring_catalog.h
 *	  Reading the ring catalog tables (schema consistent_ring).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RING_CATALOG_H
#define RING_CATALOG_H

#include "nodes/pg_list.h"
#include "utils/snapshot.h"

/* Longest ring or node name, in bytes. */
#define RING_NAME_MAXLEN 200

/* Longest key ring_pin accepts, in bytes (the key is in an index). */
#define RING_PIN_KEY_MAXLEN 2000

/* Largest vnodes setting of a ring. */
#define RING_MAX_VNODES 65536

/* Most nodes a ring version may have: owners are stored in 16 bits. */
#define RING_MAX_NODES 65535

/* Most virtual nodes one node, and one ring version, may have. */
#define RING_MAX_NODE_TOKENS (1 << 20)
#define RING_MAX_RING_TOKENS (1 << 24)

/* Placement algorithms; the catalog stores their names. */
typedef enum RingAlgorithm
{
	RING_ALGORITHM_VNODE = 1,	/* hashed or balanced virtual nodes */
	RING_ALGORITHM_SLOTS,		/* power-of-two slots assigned to nodes */
	RING_ALGORITHM_MAGLEV,		/* Maglev lookup table */
	RING_ALGORITHM_RENDEZVOUS,	/* weighted highest random weight */
	RING_ALGORITHM_REDIS,		/* Redis Cluster's 16384 hash slots */
	RING_ALGORITHM_KETAMA,		/* libmemcached's continuum */
	RING_ALGORITHM_LIBKETAMA,	/* last.fm libketama continuum */
	RING_ALGORITHM_CASSANDRA,	/* Murmur3Partitioner token ring */
	RING_ALGORITHM_JUMP,		/* jump hash with MementoHash removals */
	RING_ALGORITHM_TWEMPROXY	/* twemproxy's continuum */
} RingAlgorithm;

/* The memcached clients' continuum: 'ketama', 'twemproxy', 'libketama'. */
#define RING_ALGORITHM_IS_KETAMA(a) \
	((a) == RING_ALGORITHM_KETAMA || (a) == RING_ALGORITHM_TWEMPROXY || \
	 (a) == RING_ALGORITHM_LIBKETAMA)

/* Hash slots of a 'redis' ring (Redis Cluster's CLUSTER_SLOTS). */
#define RING_REDIS_SLOTS 16384
#define RING_REDIS_SLOT_BITS 14

/* Slots of a 'slots' ring: a power of two in this range; 4096 by default. */
#define RING_DEFAULT_SLOTS 4096
#define RING_MAX_SLOTS (1 << 20)

/* Size of a 'maglev' table: a prime in this range; 65537 by default. */
#define RING_DEFAULT_TABLE_SIZE 65537
#define RING_MAX_TABLE_SIZE 16777213	/* largest prime below 2^24 */

/* One ring as a snapshot sees it: the rings table row. */
typedef struct RingHeader
{
	Oid			catalog_id;		/* OID of consistent_ring.rings */
	int32		ring_id;
	int32		version;		/* newest version visible */
	int32		vnodes;			/* virtual nodes per unit of weight */
	RingAlgorithm algorithm;
	int32		slots;			/* 'slots', 'redis': current number of slots */
	int32		table_size;		/* 'maglev': lookup table size */
	bool		stored_tokens;	/* tokens come from the tokens table */
	bool		version_is_own; /* newest version made by this transaction */
	char		name[RING_NAME_MAXLEN + 1];
} RingHeader;

/* Who owns a ring and who may look it up. */
typedef struct RingAccess
{
	Oid			owner;
	bool		public_lookup;
	int			nreaders;
	Oid		   *readers;
} RingAccess;

/* One node of one version. */
typedef struct RingNodeRow
{
	text	   *name;
	double		weight;
	text	   *zone;			/* NULL: no zone */
	int64		joined;			/* order of joining the ring */
	text	   *server;			/* foreign server holding its data, or NULL */
	int32		added_in;
	int32		removed_in;		/* 0: still there at the version read */
} RingNodeRow;

/* The calling user, saved while running as the catalog's owner. */
typedef struct RingCaller
{
	Oid			user;
	int			sec_context;
	int			guc_nest_level;
} RingCaller;

/* ring_admin.c: SPI as the catalog tables' owner, search_path pg_catalog */
extern void begin_as_catalog_owner(RingCaller *caller);
extern void end_as_catalog_owner(RingCaller *caller);

extern void ring_catalog_get(const char *name, int namelen, Snapshot snap,
							 RingHeader *hdr);
extern void ring_catalog_read(const char *name, int namelen, Snapshot snap,
							  RingHeader *hdr, RingAccess *access);
extern void ring_check_look_up(const RingHeader *hdr, const RingAccess *access);
extern void ring_report_name_too_long(const char *name, int namelen) pg_attribute_noreturn();
/* One stored token of one version. */
typedef struct RingTokenRow
{
	int64		token;
	text	   *node;
} RingTokenRow;

extern List *ring_catalog_nodes(const RingHeader *hdr, int32 version,
								Snapshot snap);
extern List *ring_catalog_node_history(const RingHeader *hdr, int32 version,
									   Snapshot snap);
extern RingTokenRow *ring_catalog_pins(const RingHeader *hdr, int32 version,
									   Snapshot snap, uint32 *npins);
extern RingTokenRow *ring_catalog_tokens(const RingHeader *hdr, int32 version,
										 Snapshot snap, uint32 *ntokens);
extern bool ring_catalog_is_ring_table(Oid relid);
extern bool ring_catalog_is_migration_table(Oid relid);
extern bool ring_catalog_progress_invalidated(void);
extern bool ring_catalog_oids_known(void);
extern void ring_catalog_remember(void);
extern Oid	ring_catalog_rings_oid(void);
extern Oid	ring_catalog_owner(void);
extern bool ring_may_look_up_as(Oid user, const RingAccess *access);
extern bool ring_catalog_access(const char *name, int namelen, Snapshot snap,
								RingAccess *access);
extern void ring_access_from_datums(Datum owner, Datum public_lookup,
									Datum readers, RingAccess *access);
extern void ring_catalog_forget(void);

extern RingAlgorithm ring_algorithm_parse(const char *name);
extern const char *ring_algorithm_name(RingAlgorithm algorithm);
extern int32 ring_virtual_nodes(int32 vnodes, double weight);
extern Snapshot ring_current_snapshot(void);

#endif							/* RING_CATALOG_H */
