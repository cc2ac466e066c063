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
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/uuid.h"

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
	RING_KEY_TEXT_TO_UTF8,		/* the same, converted: not a UTF-8 database */
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
	bool		to_utf8;		/* database encoding is not UTF-8 (nor
								 * SQL_ASCII): convert text forms */
	FmgrInfo	outfunc;		/* only for RING_KEY_OTHER */
} RingKeyReader;

extern void ring_key_reader_init(RingKeyReader *reader, Oid typid,
								 MemoryContext mcxt);
extern int64 ring_key_position_slow(RingKeyReader *reader, Datum key);
extern bool ring_convert_to_utf8(void);
extern void ring_key_bytes(RingKeyReader *reader, Datum key, StringInfo out);
extern int64 ring_key_position_with(RingKeyReader *reader, Datum key,
									int64 (*position) (const char *data, size_t len));
extern int64 ring_hash_text_utf8(const char *data, int len);

/* "00" .. "99", and "00" .. "ff" in lower-case hex */
extern PGDLLIMPORT const char ring_decimal_pairs[200];
extern PGDLLIMPORT const char ring_hex_pairs[512];

/* Position of a byte string in the token space: XXH3-64, seed 0, signed. */
static inline int64
ring_hash_bytes(const char *data, size_t len)
{
	return (int64) XXH3_64bits(data, len);
}

/*
 * Write the decimal form of value so that it ends just before end, as
 * int8out prints it; returns its length.
 */
static inline int
ring_decimal(int64 value, char *end)
{
	uint64		u = value < 0 ? -(uint64) value : (uint64) value;
	char	   *p = end;

	while (u >= 100)
	{
		p -= 2;
		memcpy(p, ring_decimal_pairs + 2 * (u % 100), 2);
		u /= 100;
	}
	if (u >= 10)
	{
		p -= 2;
		memcpy(p, ring_decimal_pairs + 2 * u, 2);
	}
	else
		*--p = (char) ('0' + u);
	if (value < 0)
		*--p = '-';
	return (int) (end - p);
}

/* Write a uuid's lower-case, hyphenated form (as uuid_out prints it). */
static inline void
ring_uuid_text(const unsigned char *d, char *buf)
{
#define RING_HEX(at, i) memcpy(buf + (at), ring_hex_pairs + 2 * d[i], 2)
	RING_HEX(0, 0);
	RING_HEX(2, 1);
	RING_HEX(4, 2);
	RING_HEX(6, 3);
	buf[8] = '-';
	RING_HEX(9, 4);
	RING_HEX(11, 5);
	buf[13] = '-';
	RING_HEX(14, 6);
	RING_HEX(16, 7);
	buf[18] = '-';
	RING_HEX(19, 8);
	RING_HEX(21, 9);
	buf[23] = '-';
	RING_HEX(24, 10);
	RING_HEX(26, 11);
	RING_HEX(28, 12);
	RING_HEX(30, 13);
	RING_HEX(32, 14);
	RING_HEX(34, 15);
#undef RING_HEX
}

#define RING_UUID_TEXT_LEN 36

#define RING_KEY_BUFLEN Max(MAXINT8LEN + 1, RING_UUID_TEXT_LEN)

/*
 * The bytes of a key of the common kinds, without a call or an allocation:
 * sets *data and *len (pointing into the key or into buf, which has
 * RING_KEY_BUFLEN bytes) and returns true; false for a toasted value, text
 * to convert to UTF-8, or a type read through its output function.
 */
static pg_attribute_always_inline bool
ring_key_plain_bytes(RingKeyReader *reader, Datum key, char *buf,
					 const char **data, size_t *len)
{
	char	   *end = buf + RING_KEY_BUFLEN;

	switch (reader->kind)
	{
		case RING_KEY_TEXT:
		case RING_KEY_BYTEA:
			{
				struct varlena *v = (struct varlena *) DatumGetPointer(key);

				if (unlikely(VARATT_IS_EXTERNAL(v) || VARATT_IS_COMPRESSED(v)))
					return false;
				*data = VARDATA_ANY(v);
				*len = VARSIZE_ANY_EXHDR(v);
				return true;
			}
		case RING_KEY_INT2:
		case RING_KEY_INT4:
		case RING_KEY_INT8:
			*len = ring_decimal(reader->kind == RING_KEY_INT8 ? DatumGetInt64(key) :
								reader->kind == RING_KEY_INT4 ? DatumGetInt32(key) :
								DatumGetInt16(key), end);
			*data = end - *len;
			return true;
		case RING_KEY_UUID:
			ring_uuid_text(DatumGetUUIDP(key)->data, buf);
			*data = buf;
			*len = RING_UUID_TEXT_LEN;
			return true;
		default:
			return false;
	}
}

/*
 * The position of one key.  The common types are turned into their bytes
 * here, without a call, and hashed at one place (so XXH3 is inlined once).
 */
static pg_attribute_always_inline int64
ring_key_position(RingKeyReader *reader, Datum key)
{
	char		buf[RING_KEY_BUFLEN];
	const char *data;
	size_t		len;

	if (likely(ring_key_plain_bytes(reader, key, buf, &data, &len)))
		return ring_hash_bytes(data, len);
	return ring_key_position_slow(reader, key);
}

#endif							/* RING_KEYS_H */
