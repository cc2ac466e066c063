/*-------------------------------------------------------------------------
 *
 * ring_rebalance.h
 *	  Applying a data-aware rebalance plan (ring_rebalance.c) as one ring
 *	  change (ring_admin.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RING_REBALANCE_H
#define RING_REBALANCE_H

#include "fmgr.h"

/* What a plan was made from: the ring's version and its capacity rows. */
typedef struct RingMeasured
{
	int32		version;
	int			ncapacities;
	text	  **nodes;			/* of the capacity rows, in name byte order */
	double	   *capacities;
} RingMeasured;

/* A key a plan pins to a node, or (node NULL) unpins. */
typedef struct RingPinRow
{
	bytea	   *key;			/* placement bytes */
	int64		position;
	text	   *node;
	bool		replace;		/* the key is pinned now: end that pin first */
} RingPinRow;

extern int32 ring_apply_slot_owners(text *ring, const RingMeasured *measured, int n,
									const int32 *slots, text *const *nodes);
extern int32 ring_apply_token_owners(text *ring, const RingMeasured *measured, int n,
									 const int64 *tokens, text *const *nodes);
extern int32 ring_apply_vnode_plan(text *ring, const RingMeasured *measured, int n,
								text *const *nodes, const double *weights,
								int npins, const RingPinRow *pins);

#endif							/* RING_REBALANCE_H */
