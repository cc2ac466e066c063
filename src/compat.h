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

/*
 * InitMaterializedSRF() and MAT_SRF_USE_EXPECTED_DESC are 15.1's names for
 * 15.0's SetSingleFuncCall() and SRF_SINGLE_USE_EXPECTED.
 */
#if PG_VERSION_NUM < 150001
#define RING_INIT_MATERIALIZED_SRF(fcinfo, flags) SetSingleFuncCall((fcinfo), (flags))
#define RING_SRF_USE_EXPECTED_DESC SRF_SINGLE_USE_EXPECTED
#else
#define RING_INIT_MATERIALIZED_SRF(fcinfo, flags) InitMaterializedSRF((fcinfo), (flags))
#define RING_SRF_USE_EXPECTED_DESC MAT_SRF_USE_EXPECTED_DESC
#endif

#endif							/* CONSISTENT_RING_COMPAT_H */
