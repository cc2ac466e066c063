/*-------------------------------------------------------------------------
 *
 * ring_admin.h
 *	  What every function that changes a ring shares (ring_admin.c): the
 *	  ring locked for the change, its version, the catalog rows it writes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RING_ADMIN_H
#define RING_ADMIN_H

#include "fmgr.h"
#include "utils/array.h"

#include "ring_catalog.h"

/* A ring locked for a change. */
typedef struct RingChange
{
	int32		ring_id;
	int32		version;		/* newest version */
	int32		vnodes;
	RingAlgorithm algorithm;
	int32		slots;			/* 'slots' rings: number of slots */
	int32		table_size;		/* 'maglev' rings: table size */
	bool		stored_tokens;	/* its tokens are in the tokens table */
	bool		version_is_own; /* newest version made by this transaction */
	const char *name;
	RingAccess	access;
} RingChange;

extern uint64 ring_admin_run(const char *sql, int nargs, Oid *types, Datum *values,
							 int expect);
extern void ring_lock(text *ring, const RingCaller *caller, RingChange *chg);
extern void ring_change_begin(text *ring, RingCaller *caller, RingChange *chg);
extern int32 ring_change_version(RingChange *chg, const RingCaller *caller);
extern bool ring_node_current(const RingChange *chg, text *node, double *weight,
							  int32 *added_in, text **zone, int64 *joined, text **server);
extern void ring_report_missing_node(const RingChange *chg, text *node) pg_attribute_noreturn();
struct RingMeasured;
extern void ring_check_measured(const RingChange *chg, const struct RingMeasured *measured);
/* ring_tokens.c: lay the stored tokens out again after a node change */
extern void ring_relayout(const RingChange *chg, int32 version, text *changed,
						  ArrayType *given);
/* ring_admin.c: end the current pins or tokens matching a value */
extern void ring_rows_end(const RingChange *chg, const char *table, const char *column,
						  Oid type, Datum value, int32 version);
/* ring_pins.c: a pin in the change under way */
extern void ring_pin_insert(const RingChange *chg, bytea *key, int64 position,
							text *node, int32 version);

#endif							/* RING_ADMIN_H */
