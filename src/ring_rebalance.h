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

extern int32 ring_apply_slot_owners(text *ring, int32 measured_version, int n,
									const int32 *slots, text *const *nodes);
extern int32 ring_apply_weights(text *ring, int32 measured_version, int n,
								text *const *nodes, const double *weights);

#endif							/* RING_REBALANCE_H */
