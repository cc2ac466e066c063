/*-------------------------------------------------------------------------
 *
 * ring_vnode.c
 *	  Compiling one version of a 'vnode' ring into lookup arrays.
 *
 * Placement rules (the README documents them with test vectors):
 *	- a node of weight w has round(vnodes * w) virtual nodes, at least one
 *	  when w > 0;
 *	- virtual node i (0-based) of node N sits at token XXH3-64 of the bytes
 *	  "N-i", read as a signed 64-bit integer;
 *	- a position p belongs to the node of the smallest token >= p, wrapping
 *	  round to the smallest token; when tokens are equal, the node whose name
 *	  sorts first by bytes keeps the token.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/memutils.h"

#include "ring_keys.h"
#include "ring_vnode.h"

typedef struct TokenPair
{
	int64		token;
	uint32		node;
} TokenPair;

static inline int
token_pair_cmp(const TokenPair *a, const TokenPair *b)
{
	if (a->token != b->token)
		return a->token < b->token ? -1 : 1;
	if (a->node != b->node)
		return a->node < b->node ? -1 : 1;
	return 0;
}

#define ST_SORT sort_token_pairs
#define ST_ELEMENT_TYPE TokenPair
#define ST_COMPARE(a, b) token_pair_cmp(a, b)
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/* Byte order of node names; a proper prefix sorts first. */
static int
node_name_cmp(const void *a, const void *b)
{
	const text *ta = ((const RingNodeInfo *) a)->name;
	const text *tb = ((const RingNodeInfo *) b)->name;
	int			la = VARSIZE_ANY_EXHDR(ta);
	int			lb = VARSIZE_ANY_EXHDR(tb);
	int			c = memcmp(VARDATA_ANY(ta), VARDATA_ANY(tb), Min(la, lb));

	if (c != 0)
		return c;
	return (la > lb) - (la < lb);
}

/* Build the bucket index over the tokens: 4 to 8 tokens per bucket. */
static void
build_index(CompiledRing *ring)
{
	int			bits = 1;
	uint64		nbuckets;
	uint32		j = 0;

	while (bits < 24 && (UINT64CONST(1) << (bits + 3)) <= ring->ntokens)
		bits++;
	nbuckets = UINT64CONST(1) << bits;
	ring->index_shift = 64 - bits;
	ring->index = palloc(nbuckets * sizeof(uint32));

	for (uint64 b = 0; b < nbuckets; b++)
	{
		uint64		start = b << ring->index_shift;

		while (j < ring->ntokens &&
			   ((uint64) ring_token(ring, j) ^ RING_SIGN_BIT) < start)
			j++;
		ring->index[b] = j;
	}
}

/*
 * Compile one version of a ring as snap sees it.  The result lives in its own
 * memory context, a child of the current one until the caller adopts it.
 */
CompiledRing *
ring_compile(const RingHeader *hdr, int32 version, Snapshot snap)
{
	MemoryContext ringcxt;
	MemoryContext tmpcxt;
	MemoryContext oldcxt;
	CompiledRing *ring;
	List	   *rows;
	ListCell   *lc;
	TokenPair  *pairs;
	uint64		npairs = 0;
	bool	   *owns;
	int			i;

	ringcxt = AllocSetContextCreate(CurrentMemoryContext,
									"consistent_ring compiled ring",
									ALLOCSET_DEFAULT_SIZES);
	tmpcxt = AllocSetContextCreate(CurrentMemoryContext,
								   "consistent_ring compile",
								   ALLOCSET_DEFAULT_SIZES);

	oldcxt = MemoryContextSwitchTo(ringcxt);
	ring = palloc0(sizeof(CompiledRing));
	ring->mcxt = ringcxt;
	strlcpy(ring->name, hdr->name, sizeof(ring->name));
	ring->algorithm = hdr->algorithm;
	ring->vnodes = hdr->vnodes;

	/* nodes, sorted by name bytes */
	MemoryContextSwitchTo(tmpcxt);
	rows = ring_catalog_nodes(hdr, version, snap);
	MemoryContextSwitchTo(ringcxt);
	ring->nnodes = list_length(rows);
	ring->nodes = palloc0(Max(ring->nnodes, 1) * sizeof(RingNodeInfo));
	i = 0;
	foreach(lc, rows)
	{
		RingNodeRow *row = lfirst(lc);
		RingNodeInfo *node = &ring->nodes[i++];

		node->name = DatumGetTextPCopy(PointerGetDatum(row->name));
		node->weight = row->weight;
		node->vnodes = ring_virtual_nodes(hdr->vnodes, row->weight);
		npairs += node->vnodes;
	}
	qsort(ring->nodes, ring->nnodes, sizeof(RingNodeInfo), node_name_cmp);

	if (ring->nnodes > RING_MAX_NODES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("version %d of ring \"%s\" has too many nodes",
						version, hdr->name),
				 errdetail("It has %d nodes; the limit is %d.",
						   ring->nnodes, RING_MAX_NODES)));

	if (npairs > RING_MAX_RING_TOKENS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("version %d of ring \"%s\" has too many virtual nodes",
						version, hdr->name),
				 errdetail("It has " UINT64_FORMAT " virtual nodes; the limit is %d.",
						   npairs, RING_MAX_RING_TOKENS)));

	/* every virtual node's token */
	MemoryContextSwitchTo(tmpcxt);
	pairs = palloc(Max(npairs, 1) * sizeof(TokenPair));
	npairs = 0;
	for (i = 0; i < ring->nnodes; i++)
	{
		RingNodeInfo *node = &ring->nodes[i];
		int			namelen = VARSIZE_ANY_EXHDR(node->name);
		char	   *buf = palloc(namelen + 1 + MAXINT8LEN + 1);

		memcpy(buf, VARDATA_ANY(node->name), namelen);
		buf[namelen] = '-';
		for (int32 v = 0; v < node->vnodes; v++)
		{
			int			len = pg_ltoa(v, buf + namelen + 1);

			pairs[npairs].token = ring_hash_bytes(buf, namelen + 1 + len);
			pairs[npairs].node = i;
			npairs++;
		}
		pfree(buf);
	}
	sort_token_pairs(pairs, npairs);

	/* distinct tokens; on a tie the first node by name keeps the token */
	MemoryContextSwitchTo(ringcxt);
	ring->keys = palloc((npairs + RING_SCAN) * sizeof(uint64));
	ring->lows = palloc((npairs + 1) * sizeof(uint16));
	owns = palloc0(Max(ring->nnodes, 1) * sizeof(bool));
	ring->ntokens = 0;
	for (uint64 p = 0; p < npairs; p++)
	{
		uint64		u = (uint64) pairs[p].token ^ RING_SIGN_BIT;

		if (p > 0 && pairs[p - 1].token == pairs[p].token)
			continue;
		ring->keys[ring->ntokens] = (u & ~RING_LOW_MASK) | pairs[p].node;
		ring->lows[ring->ntokens] = (uint16) (u & RING_LOW_MASK);
		ring->ntokens++;
		if (!owns[pairs[p].node])
		{
			owns[pairs[p].node] = true;
			ring->nowners++;
		}
	}
	pfree(owns);
	for (int s = 0; s < RING_SCAN; s++)
		ring->keys[ring->ntokens + s] = PG_UINT64_MAX;
	ring->lows[ring->ntokens] = (uint16) RING_LOW_MASK;
	build_index(ring);

	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(tmpcxt);
	return ring;
}
