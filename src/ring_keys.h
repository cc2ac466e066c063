/*-------------------------------------------------------------------------
 *
 * ring_keys.h
 *	  Turning a key of any accepted type into its bytes and its position.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RING_KEYS_H
#define RING_KEYS_H

#include "fmgr.h"

/* How the bytes of a key are obtained, decided once per call site. */
typedef enum RingKeyKind
{
	RING_KEY_TEXT,				/* text, varchar: the string's bytes */
	RING_KEY_BYTEA,				/* bytea: raw bytes */
	RING_KEY_INT2,				/* integers: decimal text form */
	RING_KEY_INT4,
	RING_KEY_INT8,
	RING_KEY_UUID,				/* lower-case, hyphenated text form */
	RING_KEY_OTHER				/* any other type: its output function */
} RingKeyKind;

typedef struct RingKeyReader
{
	RingKeyKind kind;
	FmgrInfo	outfunc;		/* only for RING_KEY_OTHER */
} RingKeyReader;

extern void ring_key_reader_init(RingKeyReader *reader, Oid typid,
								 MemoryContext mcxt);
extern int64 ring_key_position(RingKeyReader *reader, Datum key);
extern int64 ring_hash_bytes(const char *data, size_t len);

#endif							/* RING_KEYS_H */
