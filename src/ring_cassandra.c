/*-------------------------------------------------------------------------
 *
 * ring_cassandra.c
 *	  'cassandra' rings: Murmur3Partitioner tokens of CQL partition keys.
 *
 * A key's token is the first 64 bits of MurmurHash3_x64_128 (seed 0) of its
 * partition key bytes, in Cassandra's variant: the bytes of the tail (the
 * last len % 16) are read as signed Java bytes, so a byte >= 0x80 sets every
 * bit above its own.  A hash of Long.MIN_VALUE becomes Long.MAX_VALUE, and
 * the empty key has the token Long.MIN_VALUE, as the server computes
 * (Murmur3Partitioner.getToken).
 *
 * Partition key bytes are the CQL serialization of the value: text as its
 * UTF-8 bytes, smallint, int and bigint as 2, 4 and 8 bytes big-endian,
 * uuid as its 16 bytes, bytea as it is.  cassandra_partition_key() builds
 * the bytes of a composite partition key: for each component its length in
 * 2 bytes big-endian, its bytes, and a 0 byte (CompositeType).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "ring_cassandra.h"
#include "ring_catalog.h"
#include "ring_keys.h"
#include "ring_layout.h"

#define C1 UINT64CONST(0x87c37b91114253d5)
#define C2 UINT64CONST(0x4cf5ad432745937f)

static inline uint64
rotl64(uint64 x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64
fmix64(uint64 k)
{
	k ^= k >> 33;
	k *= UINT64CONST(0xff51afd7ed558ccd);
	k ^= k >> 33;
	k *= UINT64CONST(0xc4ceb9fe1a85ec53);
	k ^= k >> 33;
	return k;
}

/* A byte of the tail as Cassandra reads it: a signed byte, sign-extended. */
static inline uint64
tail_byte(const unsigned char *p, int i)
{
	return (uint64) (int64) (int8) p[i];
}

/* The Murmur3Partitioner token of a partition key's bytes. */
int64
ring_cassandra_token(const char *data, size_t len)
{
	const unsigned char *p = (const unsigned char *) data;
	size_t		nblocks = len / 16;
	uint64		h1 = 0;
	uint64		h2 = 0;
	uint64		k1 = 0;
	uint64		k2 = 0;
	const unsigned char *tail;

	if (len == 0)
		return PG_INT64_MIN;

	for (size_t i = 0; i < nblocks; i++)
	{
		uint64		b1 = 0;
		uint64		b2 = 0;

		for (int j = 7; j >= 0; j--)
		{
			b1 = (b1 << 8) | p[16 * i + j];
			b2 = (b2 << 8) | p[16 * i + 8 + j];
		}
		b1 *= C1;
		b1 = rotl64(b1, 31);
		b1 *= C2;
		h1 ^= b1;
		h1 = rotl64(h1, 27);
		h1 += h2;
		h1 = h1 * 5 + 0x52dce729;
		b2 *= C2;
		b2 = rotl64(b2, 33);
		b2 *= C1;
		h2 ^= b2;
		h2 = rotl64(h2, 31);
		h2 += h1;
		h2 = h2 * 5 + 0x38495ab5;
	}

	/*
	 * The tail: bytes 8 .. 14 into k2, bytes 0 .. 7 into k1, each
	 * sign-extended.  Written out case by case, as the reference code is: a
	 * loop costs about 70 instructions per key more (short keys are all tail).
	 */
	tail = p + nblocks * 16;
	switch (len & 15)
	{
		case 15:
			k2 ^= tail_byte(tail, 14) << 48;
			/* FALLTHROUGH */
		case 14:
			k2 ^= tail_byte(tail, 13) << 40;
			/* FALLTHROUGH */
		case 13:
			k2 ^= tail_byte(tail, 12) << 32;
			/* FALLTHROUGH */
		case 12:
			k2 ^= tail_byte(tail, 11) << 24;
			/* FALLTHROUGH */
		case 11:
			k2 ^= tail_byte(tail, 10) << 16;
			/* FALLTHROUGH */
		case 10:
			k2 ^= tail_byte(tail, 9) << 8;
			/* FALLTHROUGH */
		case 9:
			k2 ^= tail_byte(tail, 8);
			k2 *= C2;
			k2 = rotl64(k2, 33);
			k2 *= C1;
			h2 ^= k2;
			/* FALLTHROUGH */
		case 8:
			k1 ^= tail_byte(tail, 7) << 56;
			/* FALLTHROUGH */
		case 7:
			k1 ^= tail_byte(tail, 6) << 48;
			/* FALLTHROUGH */
		case 6:
			k1 ^= tail_byte(tail, 5) << 40;
			/* FALLTHROUGH */
		case 5:
			k1 ^= tail_byte(tail, 4) << 32;
			/* FALLTHROUGH */
		case 4:
			k1 ^= tail_byte(tail, 3) << 24;
			/* FALLTHROUGH */
		case 3:
			k1 ^= tail_byte(tail, 2) << 16;
			/* FALLTHROUGH */
		case 2:
			k1 ^= tail_byte(tail, 1) << 8;
			/* FALLTHROUGH */
		case 1:
			k1 ^= tail_byte(tail, 0);
			k1 *= C1;
			k1 = rotl64(k1, 31);
			k1 *= C2;
			h1 ^= k1;
	}

	h1 ^= (uint64) len;
	h2 ^= (uint64) len;
	h1 += h2;
	h2 += h1;
	h1 = fmix64(h1);
	h2 = fmix64(h2);
	h1 += h2;

	if ((int64) h1 == PG_INT64_MIN)
		return PG_INT64_MAX;
	return (int64) h1;
}

/*
 * The CQL serialization of a key of a fixed-size type into buf (16 bytes):
 * smallint, integer and bigint big-endian, uuid as its bytes.  Returns its
 * length, or 0 for the other types.
 */
static int
fixed_key_bytes(const RingKeyReader *reader, Datum key, unsigned char *buf)
{
	uint64		v;
	int			len;

	switch (reader->kind)
	{
		case RING_KEY_INT2:
			v = (uint16) DatumGetInt16(key);
			len = 2;
			break;
		case RING_KEY_INT4:
			v = (uint32) DatumGetInt32(key);
			len = 4;
			break;
		case RING_KEY_INT8:
			v = (uint64) DatumGetInt64(key);
			len = 8;
			break;
		case RING_KEY_UUID:
			memcpy(buf, DatumGetUUIDP(key)->data, UUID_LEN);
			return UUID_LEN;
		default:
			return 0;
	}
	for (int i = 0; i < len; i++)
		buf[i] = (unsigned char) (v >> (8 * (len - 1 - i)));
	return len;
}

/*
 * Append the CQL serialization of a key (read by reader) to out: integers
 * big-endian, uuid raw, text in UTF-8, bytea raw; any other type, its text
 * form in UTF-8 (as text).
 */
void
ring_cassandra_key_bytes(RingKeyReader *reader, Datum key, StringInfo out)
{
	unsigned char buf[UUID_LEN];
	int			len = fixed_key_bytes(reader, key, buf);

	if (len > 0)
		appendBinaryStringInfo(out, (const char *) buf, len);
	else
		ring_key_bytes(reader, key, out);
}

/*
 * The position (token) of a key of a 'cassandra' ring, any key type:
 * integers and uuids serialized on the stack, text and bytea hashed where
 * they are (as ordinary placement bytes).
 */
int64
ring_key_position_cassandra(RingKeyReader *reader, Datum key)
{
	unsigned char buf[UUID_LEN];
	int			len = fixed_key_bytes(reader, key, buf);

	if (len > 0)
		return ring_cassandra_token((const char *) buf, len);
	return ring_key_position_with(reader, key, ring_cassandra_token);
}

/*
 * cassandra_partition_key(VARIADIC "any"): the partition key bytes of the
 * values as Cassandra builds them: one value alone is its serialization; two
 * or more are a composite, each as 2-byte big-endian length, bytes, 0.
 * NULL if any value is NULL (Cassandra refuses null key components).
 */
PG_FUNCTION_INFO_V1(cassandra_partition_key);
Datum
cassandra_partition_key(PG_FUNCTION_ARGS)
{
	int			nargs = PG_NARGS();
	StringInfoData out;
	StringInfoData part;
	bytea	   *result;

	if (get_fn_expr_variadic(fcinfo->flinfo))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cassandra_partition_key() does not take an array after VARIADIC"),
				 errhint("Pass the key's components as separate arguments.")));
	for (int i = 0; i < nargs; i++)
		if (PG_ARGISNULL(i))
			PG_RETURN_NULL();

	initStringInfo(&out);
	initStringInfo(&part);
	for (int i = 0; i < nargs; i++)
	{
		Oid			type = get_fn_expr_argtype(fcinfo->flinfo, i);
		RingKeyReader reader;

		if (!OidIsValid(type))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("could not determine the data type of argument %d", i + 1)));
		if (type == UNKNOWNOID)
			type = TEXTOID;
		ring_key_reader_init(&reader, type, CurrentMemoryContext);
		if (type == UNKNOWNOID || reader.kind == RING_KEY_OTHER)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("cannot serialize a value of type %s as a partition key component",
							format_type_be(type)),
					 errhint("Partition key components may be text, varchar, bytea, smallint, integer, bigint or uuid.")));
		resetStringInfo(&part);
		ring_cassandra_key_bytes(&reader, PG_GETARG_DATUM(i), &part);
		if (nargs == 1)
		{
			appendBinaryStringInfo(&out, part.data, part.len);
			break;
		}
		if (part.len > PG_UINT16_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("partition key component %d is too long", i + 1),
					 errdetail("It has %d bytes; a component of a composite partition key has at most %d.",
							   part.len, PG_UINT16_MAX)));
		appendStringInfoChar(&out, (char) (part.len >> 8));
		appendStringInfoChar(&out, (char) part.len);
		appendBinaryStringInfo(&out, part.data, part.len);
		appendStringInfoChar(&out, '\0');
	}

	result = palloc(VARHDRSZ + out.len);
	SET_VARSIZE(result, VARHDRSZ + out.len);
	memcpy(VARDATA(result), out.data, out.len);
	PG_RETURN_BYTEA_P(result);
}

/*
 * The new tokens of a 'cassandra' ring after a change to node changed:
 * every other node keeps its tokens; changed gets the tokens given (a new
 * node), or as many as vnodes * weight says, added or taken away by the
 * balanced rule (ring_layout_balanced).
 */
LayoutToken *
ring_cassandra_layout(int32 vnodes, text **names, LayoutNode *nodes,
				 int nnodes, const LayoutToken *old, uint32 nold, text *changed,
				 ArrayType *given, uint32 *nnew)
{
	int32		target = changed ? ring_layout_find_name(names, nnodes, changed) : -1;
	LayoutToken *new;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	uint32		n = 0;

	for (int i = 0; i < nnodes; i++)
		nodes[i].target = 0;
	for (uint32 t = 0; t < nold; t++)
		if (old[t].node >= 0)
			nodes[old[t].node].target++;
	if (given == NULL)
	{
		if (target >= 0)
			nodes[target].target = ring_virtual_nodes(vnodes, nodes[target].weight);
		return ring_layout_balanced(old, nold, nodes, nnodes, nnew);
	}

	Assert(target >= 0);
	if (ARR_NDIM(given) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("tokens must be a one-dimensional array")));
	deconstruct_array(given, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, &nelems);
	if (nelems == 0 || nelems > RING_MAX_NODE_TOKENS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("node \"%s\" must be given between 1 and %d tokens",
						text_to_cstring(changed), RING_MAX_NODE_TOKENS),
				 errdetail("%d tokens were given.", nelems)));
	new = palloc((nold + nelems) * sizeof(LayoutToken));
	for (uint32 t = 0; t < nold; t++)
		if (old[t].node >= 0)
			new[n++] = old[t];
	for (int e = 0; e < nelems; e++)
	{
		if (nulls[e])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("tokens must not be NULL")));
		new[n].biased = (uint64) DatumGetInt64(elems[e]) ^ (UINT64CONST(1) << 63);
		new[n++].node = target;
	}
	qsort(new, n, sizeof(LayoutToken), ring_layout_token_cmp);
	for (uint32 t = 1; t < n; t++)
		if (new[t].biased == new[t - 1].biased)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("token " INT64_FORMAT " is given twice",
							(int64) (new[t].biased ^ (UINT64CONST(1) << 63))),
					 errdetail("Node \"%s\" would share it with node \"%s\"; every token of a ring belongs to one node.",
							   text_to_cstring(changed),
							   text_to_cstring(names[new[t].node == target ? new[t - 1].node : new[t].node]))));
	*nnew = n;
	return new;
}
