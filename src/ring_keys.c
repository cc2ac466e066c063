/*-------------------------------------------------------------------------
 *
 * ring_keys.c
 *	  Key bytes and key positions.
 *
 * A key's bytes are: a bytea's raw bytes; for every other type, its text
 * form in UTF-8, so that 42 and '42' land together.  In a database whose
 * encoding is neither UTF-8 nor SQL_ASCII, text is converted to UTF-8 first
 * (SQL_ASCII has no known encoding: its bytes are taken as they are).  The position of a key is XXH3-64 (seed 0) of those bytes,
 * read as a signed 64-bit integer (ring_hash_bytes in ring_keys.h).
 *
 * The common types are converted inline (ring_keys.h), without calling
 * their output functions and without allocating: integers and uuids are
 * printed into a stack buffer.  The results are byte-for-byte what int2out,
 * int4out, int8out and uuid_out print, which the regression tests check.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "mb/pg_wchar.h"
#include "utils/lsyscache.h"
#include "utils/uuid.h"

#include "ring_keys.h"

/* Whether text must be converted to UTF-8 before hashing. */
bool
ring_convert_to_utf8(void)
{
	int			encoding = GetDatabaseEncoding();

	return encoding != PG_UTF8 && encoding != PG_SQL_ASCII;
}

/* Position of text in the database encoding: XXH3 of its UTF-8 bytes. */
int64
ring_hash_text_utf8(const char *data, int len)
{
	char	   *utf8 = pg_server_to_any(data, len, PG_UTF8);
	int64		pos = ring_hash_bytes(utf8, utf8 == data ? len : strlen(utf8));

	if (utf8 != data)
		pfree(utf8);
	return pos;
}

/* Decide once, for a key type, how its bytes are read. */
void
ring_key_reader_init(RingKeyReader *reader, Oid typid, MemoryContext mcxt)
{
	Oid			basetype = getBaseType(typid);

	reader->to_utf8 = ring_convert_to_utf8();

	switch (basetype)
	{
		case TEXTOID:
		case VARCHAROID:
			reader->kind = reader->to_utf8 ? RING_KEY_TEXT_TO_UTF8 : RING_KEY_TEXT;
			break;
		case BYTEAOID:
			reader->kind = RING_KEY_BYTEA;
			break;
		case INT2OID:
			reader->kind = RING_KEY_INT2;
			break;
		case INT4OID:
			reader->kind = RING_KEY_INT4;
			break;
		case INT8OID:
			reader->kind = RING_KEY_INT8;
			break;
		case UUIDOID:
			reader->kind = RING_KEY_UUID;
			break;
		default:
			{
				Oid			outfunc;
				bool		isvarlena;

				reader->kind = RING_KEY_OTHER;
				getTypeOutputInfo(typid, &outfunc, &isvarlena);
				fmgr_info_cxt(outfunc, &reader->outfunc, mcxt);
				break;
			}
	}
}

/*
 * The decimal form of a negative value or one of more than 32 bits at buf
 * (which has MAXINT8LEN bytes), as int8out prints it; returns its length.
 * The lowest 8 digits, and the next 8, are each written as one block.
 */
int
ring_decimal_wide(int64 value, char *buf)
{
	uint64		u = value < 0 ? -(uint64) value : (uint64) value;
	char	   *p = buf;
	uint64		high;
	uint32		low;

	if (value < 0)
		*p++ = '-';
	if (u <= PG_UINT32_MAX)
		return (int) (p - buf) + ring_decimal_u32((uint32) u, p);
	high = u / 100000000;
	low = (uint32) (u - high * 100000000);
	if (high <= PG_UINT32_MAX)
		p += ring_decimal_u32((uint32) high, p);
	else
	{
		uint64		top = high / 100000000;

		p += ring_decimal_u32((uint32) top, p);
		ring_decimal_8((uint32) (high - top * 100000000), p);
		p += 8;
	}
	ring_decimal_8(low, p);
	return (int) (p + 8 - buf);
}

/*
 * The position of a key that ring_key_position() does not handle inline;
 * allocates nothing except for toasted values and RING_KEY_OTHER.
 */
int64
ring_key_position_slow(RingKeyReader *reader, Datum key)
{
	switch (reader->kind)
	{
		case RING_KEY_TEXT:
		case RING_KEY_BYTEA:
			{
				/* compressed or out of line */
				struct varlena *v = PG_DETOAST_DATUM_PACKED(key);
				int64		pos = ring_hash_bytes(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));

				pfree(v);
				return pos;
			}
		case RING_KEY_TEXT_TO_UTF8:
			{
				struct varlena *v = PG_DETOAST_DATUM_PACKED(key);
				int64		pos = ring_hash_text_utf8(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));

				if ((Pointer) v != DatumGetPointer(key))
					pfree(v);
				return pos;
			}
		case RING_KEY_OTHER:
			{
				char	   *str = OutputFunctionCall(&reader->outfunc, key);
				int64		pos = reader->to_utf8 ?
					ring_hash_text_utf8(str, strlen(str)) :
					ring_hash_bytes(str, strlen(str));

				pfree(str);
				return pos;
			}
		default:
			elog(ERROR, "unexpected key kind %d", (int) reader->kind);
	}
	pg_unreachable();
}

/*
 * The position of a key as position() computes it from the key's bytes:
 * for the modes whose hash is not XXH3 (ring_redis.c, ring_ketama.c).
 */
int64
ring_key_position_with(RingKeyReader *reader, Datum key,
					   int64 (*position) (const char *data, size_t len))
{
	char		buf[RING_KEY_BUFLEN];
	const char *data;
	size_t		len;
	StringInfoData str;
	int64		pos;

	if (ring_key_plain_bytes(reader, key, buf, &data, &len))
		return position(data, len);
	initStringInfo(&str);
	ring_key_bytes(reader, key, &str);
	pos = position(str.data, str.len);
	pfree(str.data);
	return pos;
}

/*
 * Append a key's bytes (what its position is the hash of) to out.  Not on
 * a per-row fast path: used where the bytes themselves are needed.
 */
void
ring_key_bytes(RingKeyReader *reader, Datum key, StringInfo out)
{
	char		buf[RING_KEY_BUFLEN];
	const char *data;
	size_t		len;

	if (ring_key_plain_bytes(reader, key, buf, &data, &len))
	{
		appendBinaryStringInfo(out, data, len);
		return;
	}

	if (reader->kind == RING_KEY_OTHER)
	{
		char	   *str = OutputFunctionCall(&reader->outfunc, key);

		data = str;
		len = strlen(str);
	}
	else
	{
		/* toasted, or text to convert */
		struct varlena *v = PG_DETOAST_DATUM_PACKED(key);

		data = VARDATA_ANY(v);
		len = VARSIZE_ANY_EXHDR(v);
	}
	if (reader->to_utf8 && reader->kind != RING_KEY_BYTEA)
	{
		const char *utf8 = pg_server_to_any(data, len, PG_UTF8);

		if (utf8 != data)
		{
			data = utf8;
			len = strlen(utf8);
		}
	}
	appendBinaryStringInfo(out, data, len);
}
