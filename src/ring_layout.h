/*-------------------------------------------------------------------------
 *
 * ring_layout.h
 *	  Choosing stored tokens when a ring's nodes change: the slot
 *	  assignment of 'slots' rings and balanced token allocation.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RING_LAYOUT_H
#define RING_LAYOUT_H

#include "utils/array.h"

/* A node of the ring's newest version, as the layout sees it. */
typedef struct LayoutNode
{
	double		weight;
	int32		target;			/* tokens it should have (balanced vnode) */
	int64		joined;			/* order of joining the ring */
} LayoutNode;

/* A stored token: its biased value (token XOR 2^63) and owner. */
typedef struct LayoutToken
{
	uint64		biased;
	int32		node;			/* index into the nodes, -1 for none */
} LayoutToken;

/* Token of the last position of slot s of 2^bits slots. */
extern int64 ring_slot_token(uint32 s, int bits);
extern void ring_layout_slots(int32 *owner, uint32 nslots,
							  const LayoutNode *nodes, int nnodes,
							  bool lowest_first);
extern int	ring_layout_token_cmp(const void *a, const void *b);
extern int32 ring_layout_find_name(text **names, int n, text *name);
/* the layouts of 'redis' and 'cassandra' rings, in their files */
extern void ring_redis_create_owners(int32 *owner, const LayoutNode *nodes, int nnodes);
extern LayoutToken *ring_cassandra_layout(int32 vnodes, text **names, LayoutNode *nodes,
										  int nnodes, const LayoutToken *old, uint32 nold,
										  text *changed, ArrayType *given, uint32 *nnew);
extern LayoutToken *ring_layout_balanced(const LayoutToken *tokens, uint32 ntokens,
										 const LayoutNode *nodes, int nnodes,
										 uint32 *nresult);

#endif							/* RING_LAYOUT_H */
