/*-------------------------------------------------------------------------
 *
 * ring_shard.h
 *	  The servers' side of an online move: names shared with the mover.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RING_SHARD_H
#define RING_SHARD_H

/*
 * The fence lock of a source table: advisory lock (this key, the table's
 * OID), as pg_advisory_lock(int4, int4) takes it.  Writers of moving keys
 * hold it in share mode, the cutover in exclusive mode.
 */
#define RING_FENCE_LOCK_KEY 1919510120

#endif							/* RING_SHARD_H */
