/*-------------------------------------------------------------------------
 *
 * ring_redis.h
 *	  'redis' rings: Redis Cluster's hash slots (ring_redis.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RING_REDIS_H
#define RING_REDIS_H

#include "ring_catalog.h"
#include "ring_keys.h"

/* Position of hash slot s: its biased value is s * 2^50. */
static inline int64
ring_redis_slot_position(uint32 slot)
{
	return (int64) ((((uint64) slot) << (64 - RING_REDIS_SLOT_BITS)) ^
					(UINT64CONST(1) << 63));
}

/* The hash slot of a position. */
static inline int32
ring_redis_position_slot(int64 pos)
{
	return (int32) ((((uint64) pos) ^ (UINT64CONST(1) << 63)) >> (64 - RING_REDIS_SLOT_BITS));
}

extern uint16 ring_crc16_xmodem(const char *data, size_t len);
extern uint32 ring_redis_slot(const char *data, size_t len);
extern int64 ring_key_position_redis(RingKeyReader *reader, Datum key);
extern void ring_redis_create_layout(int n, int32 *first);

#endif							/* RING_REDIS_H */
