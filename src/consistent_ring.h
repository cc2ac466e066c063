/*-------------------------------------------------------------------------
 *
 * consistent_ring.h
 *	  Settings shared by the SQL-callable functions.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CONSISTENT_RING_H
#define CONSISTENT_RING_H

/* consistent_ring.default_ring: the ring of the one-argument ring_shard() */
extern PGDLLIMPORT char *ring_default_ring;

#endif							/* CONSISTENT_RING_H */
