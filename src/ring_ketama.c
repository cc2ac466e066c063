/*-------------------------------------------------------------------------
 *
 * ring_ketama.c
 *	  'ketama' and 'libketama' rings: the continuum of memcached clients.
 *
 * Both hash a key to the first 32-bit word (little-endian) of the MD5 of
 * its bytes and give it to the first point at or after that value,
 * wrapping to the smallest.  A server of weight w (of N live servers of
 * total weight W) gets 4 points per digest, the 4 little-endian words of
 * MD5("<s>-<k>") for k = 0, 1, ...; a value held by two servers goes to
 * the one that joined first ('twemproxy': the one whose name sorts first,
 * shorter names first, then by bytes).  The modes differ in s and in the
 * number of digests:
 *	- 'ketama' (libmemcached's MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED) and
 *	  'twemproxy': s is "host" when the node "host:port" has port 11211, else
 *	  "host:port"; digests = floor(((pct * 160) / 4) * N + 1e-10) with every
 *	  operation in single precision, pct = (float) w / (float) W;
 *	- 'libketama' (last.fm's libketama): s is the node name as it is;
 *	  digests = floorf(pct * 40.0 * N), the product in double precision
 *	  rounded once to float.
 *
 * Inside the extension a 32-bit value v is the position whose biased value
 * is v * 2^32, so the range code applies unchanged; ring_hash and
 * ring_moves speak in 32-bit values (ring_vnode.h).  MD5 is Debian's libmd.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <md5.h>

#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "ring_ketama.h"
#include "ring_keys.h"

/* The key hash of the ketama clients: MD5's first word, little-endian. */
uint32
ring_ketama_hash(const char *data, size_t len)
{
	MD5_CTX		ctx;
	uint8_t		d[MD5_DIGEST_LENGTH];

	MD5Init(&ctx);
	MD5Update(&ctx, (const uint8_t *) data, len);
	MD5Final(d, &ctx);
	return (uint32) d[0] | ((uint32) d[1] << 8) | ((uint32) d[2] << 16) |
		((uint32) d[3] << 24);
}

/* The position of a key's bytes on a memcached continuum. */
static int64
ketama_bytes_position(const char *data, size_t len)
{
	return ring_ketama_point_position(ring_ketama_hash(data, len));
}

/* The position of a key of a memcached continuum ring (any key type). */
int64
ring_key_position_ketama(RingKeyReader *reader, Datum key)
{
	return ring_key_position_with(reader, key, ketama_bytes_position);
}

/*
 * The port of a node name "host:port" (port in decimal, 1 .. 65535, no
 * leading zero), and the length of its host part; false if the name is not
 * of that form.
 */
bool
ring_ketama_split(const char *name, int len, int *hostlen, int *port)
{
	int			colon = -1;
	int			p = 0;

	for (int i = len - 1; i >= 0; i--)
	{
		if (name[i] == ':')
		{
			colon = i;
			break;
		}
	}
	if (colon < 1 || colon == len - 1 || len - colon - 1 > 5 || name[colon + 1] == '0')
		return false;
	for (int i = colon + 1; i < len; i++)
	{
		if (name[i] < '0' || name[i] > '9')
			return false;
		p = p * 10 + (name[i] - '0');
	}
	if (p < 1 || p > 65535)
		return false;
	*hostlen = colon;
	*port = p;
	return true;
}

/*
 * Digests of a server of weight w among n live servers of total weight
 * total, as libmemcached (ketama) or libketama computes them.  volatile
 * keeps each single-precision step rounded to float.
 */
static int64
ketama_digests(bool libketama, uint64 w, uint64 total, int n)
{
	volatile float pct = (float) w / (float) total;

	if (libketama)
	{
		volatile float product = (float) ((double) pct * 40.0 * (double) (float) n);

		return (int64) floorf(product);
	}
	else
	{
		volatile float a = pct * 160.0f;
		volatile float b = a / 4.0f;
		volatile float c = b * (float) n;
		volatile float d = c + 0.0000000001F;

		return (int64) floor((double) d);
	}
}

typedef struct KetamaPoint
{
	uint32		value;
	int32		rank;			/* the node's place in the order of joining */
	int32		node;
} KetamaPoint;

static int
ketama_point_cmp(const void *a, const void *b)
{
	const KetamaPoint *x = a;
	const KetamaPoint *y = b;

	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return x->rank - y->rank;
}

static int
joined_cmp(const void *a, const void *b, void *arg)
{
	const CompiledRing *ring = arg;
	int64		x = ring->nodes[*(const int32 *) a].joined;
	int64		y = ring->nodes[*(const int32 *) b].joined;

	return (x > y) - (x < y);
}

/* The length of a node's name in point strings: without ":11211". */
static int
point_name_len(const text *name, bool libketama)
{
	const char *data = VARDATA_ANY(name);
	int			len = VARSIZE_ANY_EXHDR(name);
	int			hostlen;
	int			port;

	if (!libketama && ring_ketama_split(data, len, &hostlen, &port) &&
		port == RING_KETAMA_DEFAULT_PORT)
		return hostlen;
	return len;
}

/*
 * twemproxy's order of servers (conf_validate_server): by name, the
 * shorter first, then by bytes; the name being the point string's.
 */
static int
twemproxy_cmp(const void *a, const void *b, void *arg)
{
	const CompiledRing *ring = arg;
	const text *x = ring->nodes[*(const int32 *) a].name;
	const text *y = ring->nodes[*(const int32 *) b].name;
	int			lx = point_name_len(x, false);
	int			ly = point_name_len(y, false);

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return memcmp(VARDATA_ANY(x), VARDATA_ANY(y), lx);
}

/*
 * The continuum of a 'ketama', 'twemproxy' or 'libketama' ring as per-node token lists
 * (each node's vnodes set to its count), a value shared by several nodes
 * given to the one that joined first.  Weights are whole numbers (checked
 * when they are set); nodes of weight 0 are not servers of the list.
 */
int64 **
ring_ketama_lists(CompiledRing *ring, uint64 *npairs)
{
	bool		libketama = ring->algorithm == RING_ALGORITHM_LIBKETAMA;
	bool		to_utf8 = ring_convert_to_utf8();
	int64	  **lists = palloc(Max(ring->nnodes, 1) * sizeof(int64 *));
	int32	   *order = palloc(Max(ring->nnodes, 1) * sizeof(int32));
	uint64		total = 0;
	uint64		npoints = 0;
	int			n = 0;
	KetamaPoint *points;
	uint64		np = 0;
	uint64		kept = 0;
	StringInfoData str;

	for (int i = 0; i < ring->nnodes; i++)
	{
		ring->nodes[i].vnodes = 0;
		if (ring->nodes[i].weight > 0)
		{
			order[n++] = i;
			total += (uint64) ring->nodes[i].weight;
		}
	}
	qsort_arg(order, n, sizeof(int32),
			  ring->algorithm == RING_ALGORITHM_TWEMPROXY ? twemproxy_cmp : joined_cmp,
			  ring);
	for (int k = 0; k < n; k++)
	{
		int			i = order[k];

		npoints += 4 * ketama_digests(libketama, (uint64) ring->nodes[i].weight, total, n);
	}

	points = palloc(Max(npoints, 1) * sizeof(KetamaPoint));
	initStringInfo(&str);
	for (int k = 0; k < n; k++)
	{
		int			i = order[k];
		const char *name = VARDATA_ANY(ring->nodes[i].name);
		int			len = VARSIZE_ANY_EXHDR(ring->nodes[i].name);
		int64		digests = ketama_digests(libketama, (uint64) ring->nodes[i].weight, total, n);
		int			hostlen;
		int			port;
		int			base;

		if (to_utf8)
		{
			const char *conv = pg_server_to_any(name, len, PG_UTF8);

			if (conv != name)
				len = strlen(conv);
			name = conv;
		}
		/* libmemcached and twemproxy leave out the default port */
		if (!libketama && ring_ketama_split(name, len, &hostlen, &port) &&
			port == RING_KETAMA_DEFAULT_PORT)
			len = hostlen;
		resetStringInfo(&str);
		appendBinaryStringInfo(&str, name, len);
		appendStringInfoChar(&str, '-');
		base = str.len;
		for (int64 d = 0; d < digests; d++)
		{
			MD5_CTX		ctx;
			uint8_t		dg[MD5_DIGEST_LENGTH];

			str.len = base;
			appendStringInfo(&str, INT64_FORMAT, d);
			MD5Init(&ctx);
			MD5Update(&ctx, (const uint8_t *) str.data, str.len);
			MD5Final(dg, &ctx);
			for (int w = 0; w < 4; w++)
			{
				points[np].value = (uint32) dg[4 * w] | ((uint32) dg[4 * w + 1] << 8) |
					((uint32) dg[4 * w + 2] << 16) | ((uint32) dg[4 * w + 3] << 24);
				points[np].rank = k;
				points[np++].node = i;
			}
		}
	}
	Assert(np == npoints);

	/* equal values: the node that joined first keeps the point */
	qsort(points, np, sizeof(KetamaPoint), ketama_point_cmp);
	for (uint64 p = 0; p < np; p++)
	{
		if (kept > 0 && points[kept - 1].value == points[p].value)
			continue;
		points[kept++] = points[p];
	}
	for (uint64 p = 0; p < kept; p++)
		ring->nodes[points[p].node].vnodes++;
	for (int i = 0; i < ring->nnodes; i++)
	{
		lists[i] = palloc(Max(ring->nodes[i].vnodes, 1) * sizeof(int64));
		ring->nodes[i].vnodes = 0;
	}
	for (uint64 p = 0; p < kept; p++)
	{
		RingNodeInfo *node = &ring->nodes[points[p].node];

		lists[points[p].node][node->vnodes++] = ring_ketama_point_position(points[p].value);
	}
	pfree(points);
	pfree(order);
	*npairs = kept;
	return lists;
}
