/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  The one place for code that depends on the PostgreSQL major version.
 *
 * consistent_ring is built and tested against PostgreSQL 15.  Anything that
 * differs between server versions goes here, so the rest of the sources read
 * as plain PostgreSQL 15 code.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CONSISTENT_RING_COMPAT_H
#define CONSISTENT_RING_COMPAT_H

#if PG_VERSION_NUM < 150000
#error "consistent_ring requires PostgreSQL 15 or later"
#endif

/* InitMaterializedSRF() is 15.1's name for 15.0's SetSingleFuncCall(). */
#if PG_VERSION_NUM < 150001
#define RING_INIT_MATERIALIZED_SRF(fcinfo) SetSingleFuncCall((fcinfo), 0)
#else
#define RING_INIT_MATERIALIZED_SRF(fcinfo) InitMaterializedSRF((fcinfo), 0)
#endif

#endif							/* CONSISTENT_RING_COMPAT_H */
