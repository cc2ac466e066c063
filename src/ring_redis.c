/*-------------------------------------------------------------------------
 *
 * ring_redis.c
 *	  'redis' rings: Redis Cluster's hash slots and the slot layout that
 *	  redis-cli --cluster create gives a new cluster.
 *
 * A key's slot is CRC-16/XMODEM (polynomial 0x1021, initial value 0, no
 * reflection, no final xor) of its hash tag, or of the whole key when it
 * has none, keeping the low 14 bits.  The hash tag is what lies between
 * the first '{' and the first '}' after it, provided that is not empty.
 * Keys are bytes: no encoding, no case folding.
 *
 * Inside the extension a slot s is the position whose biased value
 * (position XOR 2^63) is s * 2^50, so slot s is the 14-bit "slot" of a
 * 'slots' ring of 16384 slots and all the range code applies; ring_hash and
 * ring_moves speak in slots (ring_vnode.h, ring_position_external).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "ring_catalog.h"
#include "ring_keys.h"
#include "ring_layout.h"
#include "ring_compile.h"
#include "ring_redis.h"

/* CRC-16/XMODEM, one byte at a time from a 256-entry table */
static uint16 crc16_table[256];
static bool crc16_ready = false;

static void
crc16_init(void)
{
	for (int b = 0; b < 256; b++)
	{
		uint16		crc = (uint16) (b << 8);

		for (int k = 0; k < 8; k++)
			crc = (crc & 0x8000) ? (uint16) ((crc << 1) ^ 0x1021) : (uint16) (crc << 1);
		crc16_table[b] = crc;
	}
	crc16_ready = true;
}

uint16
ring_crc16_xmodem(const char *data, size_t len)
{
	const unsigned char *p = (const unsigned char *) data;
	uint16		crc = 0;

	if (unlikely(!crc16_ready))
		crc16_init();
	for (size_t i = 0; i < len; i++)
		crc = (uint16) ((crc << 8) ^ crc16_table[((crc >> 8) ^ p[i]) & 0xFF]);
	return crc;
}

/* The hash slot of a key's bytes, as Redis Cluster computes it. */
uint32
ring_redis_slot(const char *data, size_t len)
{
	const char *open = memchr(data, '{', len);

	if (open != NULL)
	{
		const char *tag = open + 1;
		size_t		rest = len - (tag - data);
		const char *close = memchr(tag, '}', rest);

		if (close != NULL && close > tag)
			return ring_crc16_xmodem(tag, close - tag) & (RING_REDIS_SLOTS - 1);
	}
	return ring_crc16_xmodem(data, len) & (RING_REDIS_SLOTS - 1);
}

/* The position of a key's bytes on a 'redis' ring: its slot's. */
static int64
redis_bytes_position(const char *data, size_t len)
{
	return ring_redis_slot_position(ring_redis_slot(data, len));
}

/* The position of a key of a 'redis' ring (any key type). */
int64
ring_key_position_redis(RingKeyReader *reader, Datum key)
{
	return ring_key_position_with(reader, key, redis_bytes_position);
}

/*
 * The slots of masters 0 .. n-1 after redis-cli --cluster create: master i
 * gets slots first[i] .. first[i + 1] - 1.  The arithmetic is redis-cli's,
 * in single precision: a running float cursor, and lround of the float sum
 * cursor + slots_per_node - 1 as the last slot of each master; the last
 * master always ends at 16383.  (redis-cli refuses fewer than 3 masters;
 * the same rule is applied to any n >= 1.)
 */
void
ring_redis_create_layout(int n, int32 *first)
{
	volatile float slots_per_node = (float) RING_REDIS_SLOTS / (float) n;
	volatile float cursor = 0.0f;
	long		start = 0;

	for (int i = 0; i < n; i++)
	{
		volatile float sum = cursor + slots_per_node;
		volatile float last_f = sum - 1.0f;
		long		last = lround((double) last_f);

		if (last > RING_REDIS_SLOTS || i == n - 1)
			last = RING_REDIS_SLOTS - 1;
		if (last < start)
			last = start;
		first[i] = (int32) start;
		start = last + 1;
		cursor = cursor + slots_per_node;
	}
	first[n] = RING_REDIS_SLOTS;
}

/*
 * On a 'redis' ring, whose tokens end runs of hash slots: give each node's
 * vnodes as the number of slots it holds.
 */
void
ring_redis_slot_counts(CompiledRing *ring)
{
	int32		prev = -1;

	for (int i = 0; i < ring->nnodes; i++)
		ring->nodes[i].vnodes = 0;
	for (uint32 t = 0; t < ring->ntokens; t++)
	{
		int32		last = ring_redis_position_slot(ring_token(ring, t));

		ring->nodes[ring_token_owner(ring, t)].vnodes += last - prev;
		prev = last;
	}
}

/* Order of joining, for qsort_arg over node indexes. */
static int
joined_cmp(const void *a, const void *b, void *arg)
{
	const LayoutNode *nodes = arg;
	int64		x = nodes[*(const int32 *) a].joined;
	int64		y = nodes[*(const int32 *) b].joined;

	return (x > y) - (x < y);
}

/*
 * A new Redis cluster (doc/placement.md, "'redis'"): the nodes of positive weight
 * split the slots as redis-cli --cluster create does, in the order they
 * joined.
 */
void
ring_redis_create_owners(int32 *owner, const LayoutNode *nodes, int nnodes)
{
	int32	   *order = palloc(Max(nnodes, 1) * sizeof(int32));
	int32	   *first;
	int			n = 0;

	for (int i = 0; i < nnodes; i++)
		if (nodes[i].weight > 0)
			order[n++] = i;
	qsort_arg(order, n, sizeof(int32), joined_cmp, (void *) nodes);

	for (int32 s = 0; s < RING_REDIS_SLOTS; s++)
		owner[s] = -1;
	if (n == 0)
		return;
	first = palloc((n + 1) * sizeof(int32));
	ring_redis_create_layout(n, first);
	for (int i = 0; i < n; i++)
		for (int32 s = first[i]; s < first[i + 1]; s++)
			owner[s] = order[i];
}
