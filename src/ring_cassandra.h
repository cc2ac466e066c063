/*-------------------------------------------------------------------------
 *
 * ring_cassandra.h
 *	  'cassandra' rings: Murmur3Partitioner tokens (ring_cassandra.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RING_CASSANDRA_H
#define RING_CASSANDRA_H

#include "lib/stringinfo.h"

#include "ring_keys.h"

extern int64 ring_cassandra_token(const char *data, size_t len);
extern void ring_cassandra_key_bytes(RingKeyReader *reader, Datum key,
									 StringInfo out);
extern int64 ring_key_position_cassandra(RingKeyReader *reader, Datum key);

#endif							/* RING_CASSANDRA_H */
