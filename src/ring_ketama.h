/*-------------------------------------------------------------------------
 *
 * ring_ketama.h
 *	  'ketama' and 'libketama' rings: memcached clients' continuum
 *	  (ring_ketama.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RING_KETAMA_H
#define RING_KETAMA_H

#include "ring_cache.h"
#include "ring_keys.h"

/* The port libmemcached and twemproxy leave out of point strings. */
#define RING_KETAMA_DEFAULT_PORT 11211

/* Position of the 32-bit value v: its biased value is v * 2^32. */
static inline int64
ring_ketama_point_position(uint32 v)
{
	return (int64) ((((uint64) v) << 32) ^ (UINT64CONST(1) << 63));
}

extern uint32 ring_ketama_hash(const char *data, size_t len);
extern int64 ring_key_position_ketama(RingKeyReader *reader, Datum key);
extern bool ring_ketama_split(const char *name, int len, int *hostlen, int *port);
extern int64 **ring_ketama_lists(CompiledRing *ring, uint64 *npairs);

#endif							/* RING_KETAMA_H */
