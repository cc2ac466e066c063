/*-------------------------------------------------------------------------
 *
 * ring_keys.c
 *	  Key bytes and key positions.
 *
 * A key's bytes are: a bytea's raw bytes; for every other type, its text
 * form in the database encoding (UTF-8 in practice), so that 42 and '42'
 * land together.  The position of a key is XXH3-64 (seed 0) of those bytes,
 * read as a signed 64-bit integer (ring_hash_bytes in ring_keys.h).
 *
 * The common types are converted without calling their output functions
 * and without allocating: integers are printed into a stack buffer, uuids
 * are formatted by hand.  The results are byte-for-byte what the output
 * functions print, which the regression tests check.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/uuid.h"

#include "ring_keys.h"

/* Decide once, for a key type, how its bytes are read. */
void
ring_key_reader_init(RingKeyReader *reader, Oid typid, MemoryContext mcxt)
{
	Oid			basetype = getBaseType(typid);

	switch (basetype)
	{
		case TEXTOID:
		case VARCHAROID:
			reader->kind = RING_KEY_TEXT;
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

/* Hash a uuid's lower-case hyphenated text form (as uuid_out prints it). */
static int64
uuid_position(const pg_uuid_t *uuid)
{
	static const char hex[] = "0123456789abcdef";
	char		buf[36];
	char	   *p = buf;

	for (int i = 0; i < UUID_LEN; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[uuid->data[i] >> 4];
		*p++ = hex[uuid->data[i] & 0x0F];
	}
	return ring_hash_bytes(buf, sizeof(buf));
}

/*
 * The position of a key that ring_key_position() does not handle inline;
 * allocates nothing except for toasted values and RING_KEY_OTHER.
 */
int64
ring_key_position_slow(RingKeyReader *reader, Datum key)
{
	char		buf[MAXINT8LEN + 1];

	switch (reader->kind)
	{
		case RING_KEY_TEXT:
		case RING_KEY_BYTEA:
			{
				struct varlena *v = (struct varlena *) PG_DETOAST_DATUM_PACKED(key);
				int64		pos = ring_hash_bytes(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));

				if ((Pointer) v != DatumGetPointer(key))
					pfree(v);
				return pos;
			}
		case RING_KEY_INT2:
			return ring_hash_bytes(buf, pg_ltoa((int32) DatumGetInt16(key), buf));
		case RING_KEY_INT4:
			return ring_hash_bytes(buf, pg_ltoa(DatumGetInt32(key), buf));
		case RING_KEY_INT8:
			return ring_hash_bytes(buf, pg_lltoa(DatumGetInt64(key), buf));
		case RING_KEY_UUID:
			return uuid_position(DatumGetUUIDP(key));
		case RING_KEY_OTHER:
			{
				char	   *str = OutputFunctionCall(&reader->outfunc, key);
				int64		pos = ring_hash_bytes(str, strlen(str));

				pfree(str);
				return pos;
			}
	}
	pg_unreachable();
}
