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

/*
 * XXH3 from Debian's libxxhash-dev, compiled inline (its XXH_INLINE_ALL
 * mode) so the per-row hash is not a call through the PLT.
 */
#define XXH_INLINE_ALL
#include <xxhash.h>

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
extern int64 ring_key_position_slow(RingKeyReader *reader, Datum key);

/* Position of a byte string in the token space: XXH3-64, seed 0, signed. */
static inline int64
ring_hash_bytes(const char *data, size_t len)
{
	return (int64) XXH3_64bits(data, len);
}

/* The position of one key; the common text case without a call. */
static inline int64
ring_key_position(RingKeyReader *reader, Datum key)
{
	if (likely(reader->kind == RING_KEY_TEXT || reader->kind == RING_KEY_BYTEA))
	{
		struct varlena *v = (struct varlena *) DatumGetPointer(key);

		if (likely(!VARATT_IS_EXTERNAL(v) && !VARATT_IS_COMPRESSED(v)))
			return ring_hash_bytes(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
	}
	return ring_key_position_slow(reader, key);
}

#endif							/* RING_KEYS_H */
