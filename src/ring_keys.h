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

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/*
 * "00" .. "99", and "00" .. "ff" in lower-case hex (for uuids where SSE2 is
 * not there): in each file that uses them, so that they are read without
 * the global offset table.
 */
static const char ring_decimal_pairs[200] =
"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
"8081828384858687888990919293949596979899";

#ifndef __SSE2__
static const char ring_hex_pairs[512] =
"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
"606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
"c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
"e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
#endif

/* Position of a byte string in the token space: XXH3-64, seed 0, signed. */
static inline int64
ring_hash_bytes(const char *data, size_t len)
{
	return (int64) XXH3_64bits(data, len);
}

/*
 * The decimal digits of a number below 2^32, written from buf on; returns
 * how many.  As in James Anhalt's itoa, there are no divisions: once the
 * number of digits is known, one multiplication gives the leading two
 * digits as the integer part of a 32.32 fixed-point number (u / 10^n,
 * rounded so that the fraction keeps every further digit exact), and each
 * further pair is the integer part of the fraction times 100 (the last
 * single digit, times 10).  Exact for every u: checked against digits found
 * by division for each of the 2^32 values; the regression tests compare it
 * with int2out, int4out and int8out at every number of digits.
 */
/*
 * RING_LEAD: t = u / 10^n as 32.32 fixed point, for u of n + 2 digits.
 * From 7 digits on (n >= 5) the multiplier keeps RING_LEAD_SHIFT(n) more
 * bits, dropped after the product; the small corrections to the multiplier
 * and to t are Anhalt's, which make every later digit come out exact.
 */
#define RING_LEAD_SHIFT(n)	((n) / 5 * (n) * 53 / 16)
#define RING_LEAD(n, pow10) \
	(t = ((UINT64CONST(1) << (32 + RING_LEAD_SHIFT(n))) / (pow10) + 1 + (n) / 6 - (n) / 8), \
	 t = (t * u >> RING_LEAD_SHIFT(n)) + (n) / 6 * 4, \
	 RING_PAIR(0, t >> 32))
#define RING_NEXT(at) \
	(t = (uint64) (uint32) t * 100, RING_PAIR(at, t >> 32))
#define RING_LAST(at) \
	(buf[at] = (char) ('0' + ((uint64) (uint32) t * 10 >> 32)))
#define RING_PAIR(at, i) memcpy(buf + (at), ring_decimal_pairs + 2 * (i), 2)

static pg_attribute_always_inline int
ring_decimal_u32(uint32 u, char *buf)
{
	uint64		t;

	if (u < 10000)
	{
		if (u < 100)
		{
			if (u < 10)
			{
				buf[0] = (char) ('0' + u);
				return 1;
			}
			RING_PAIR(0, u);
			return 2;
		}
		if (u < 1000)
		{
			RING_LEAD(1, 10);
			RING_LAST(2);
			return 3;
		}
		RING_LEAD(2, 100);
		RING_NEXT(2);
		return 4;
	}
	if (u < 1000000)
	{
		if (u < 100000)
		{
			RING_LEAD(3, 1000);
			RING_NEXT(2);
			RING_LAST(4);
			return 5;
		}
		RING_LEAD(4, 10000);
		RING_NEXT(2);
		RING_NEXT(4);
		return 6;
	}
	if (u < 100000000)
	{
		if (u < 10000000)
		{
			RING_LEAD(5, 100000);
			RING_NEXT(2);
			RING_NEXT(4);
			RING_LAST(6);
			return 7;
		}
		RING_LEAD(6, 1000000);
		RING_NEXT(2);
		RING_NEXT(4);
		RING_NEXT(6);
		return 8;
	}
	if (u < 1000000000)
	{
		RING_LEAD(7, 10000000);
		RING_NEXT(2);
		RING_NEXT(4);
		RING_NEXT(6);
		RING_LAST(8);
		return 9;
	}
	RING_LEAD(8, 100000000);
	RING_NEXT(2);
	RING_NEXT(4);
	RING_NEXT(6);
	RING_NEXT(8);
	return 10;
}

/*
 * Exactly 8 digits of u (below 10^8, with leading zeros) at buf: the
 * 8-digit case above, whose leading pair may be "00".
 */
static pg_attribute_always_inline void
ring_decimal_8(uint32 u, char *buf)
{
	uint64		t;

	RING_LEAD(6, 1000000);
	RING_NEXT(2);
	RING_NEXT(4);
	RING_NEXT(6);
}

#undef RING_LEAD_SHIFT
#undef RING_LEAD
#undef RING_NEXT
#undef RING_LAST
#undef RING_PAIR

extern int	ring_decimal_wide(int64 value, char *buf);

/*
 * int2out's, int4out's and int8out's form of value at buf (which has
 * MAXINT8LEN bytes); returns its length.  Negative values, and values of
 * more than 32 bits, take a call.
 */
static pg_attribute_always_inline int
ring_decimal(int64 value, char *buf)
{
	if (unlikely((uint64) value > PG_UINT32_MAX))
		return ring_decimal_wide(value, buf);
	return ring_decimal_u32((uint32) value, buf);
}

/*
 * Write a uuid's lower-case, hyphenated form (as uuid_out prints it) at
 * buf, which has RING_UUID_TEXT_LEN bytes.  With SSE2 (always there on
 * x86-64) the 32 hex digits are made 16 at a time: each byte's high and low
 * nibbles interleaved, then '0' added, and 'a' - '0' - 10 more to those
 * above 9; the two halves are stored where they go, in overlapping stores
 * ordered so that each later one leaves the digits before in place, and the
 * hyphens last.
 */
static pg_attribute_always_inline void
ring_uuid_text(const unsigned char *d, char *buf)
{
#ifdef __SSE2__
	__m128i		v = _mm_loadu_si128((const __m128i *) d);
	__m128i		low4 = _mm_set1_epi8(0x0f);
	__m128i		hi = _mm_and_si128(_mm_srli_epi16(v, 4), low4);
	__m128i		lo = _mm_and_si128(v, low4);
	__m128i		a = _mm_unpacklo_epi8(hi, lo);	/* digits 0 .. 15 */
	__m128i		b = _mm_unpackhi_epi8(hi, lo);	/* digits 16 .. 31 */
	__m128i		nine = _mm_set1_epi8(9);
	__m128i		zero = _mm_set1_epi8('0');
	__m128i		letters = _mm_set1_epi8('a' - '0' - 10);
	uint32		w;

	a = _mm_add_epi8(_mm_add_epi8(a, zero),
					 _mm_and_si128(_mm_cmpgt_epi8(a, nine), letters));
	b = _mm_add_epi8(_mm_add_epi8(b, zero),
					 _mm_and_si128(_mm_cmpgt_epi8(b, nine), letters));

	/* digits 20 .. 31 at 24 .. 35, then 16 .. 19 at 19 .. 22 */
	_mm_storeu_si128((__m128i *) (buf + 20), b);
	w = (uint32) _mm_cvtsi128_si32(b);
	memcpy(buf + 19, &w, 4);
	/* digits 12 .. 15 at 14 .. 17, then 0 .. 7 at 0 .. 7, 8 .. 11 at 9 .. 12 */
	_mm_storeu_si128((__m128i *) (buf + 2), a);
	_mm_storel_epi64((__m128i *) buf, a);
	w = (uint32) _mm_cvtsi128_si32(_mm_srli_si128(a, 8));
	memcpy(buf + 9, &w, 4);
	buf[8] = '-';
	buf[13] = '-';
	buf[18] = '-';
	buf[23] = '-';
#else
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
#endif
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
	int64		value;

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
			value = DatumGetInt16(key);
			goto integer;
		case RING_KEY_INT8:
			value = DatumGetInt64(key);
			goto integer;
		case RING_KEY_INT4:
			value = DatumGetInt32(key);
integer:
			/* one copy of the digit code for the three widths */
			*len = ring_decimal(value, buf);
			*data = buf;
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
