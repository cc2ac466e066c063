/*-------------------------------------------------------------------------
 *
 * ring_vnode.c
 *	  Compiling one version of a ring into lookup arrays.
 *
 * Every algorithm compiles to tokens with owners; a position p belongs to
 * the node of the smallest token >= p, wrapping round to the smallest
 * token.  Where the tokens come from (doc/placement.md documents each rule):
 *	- 'vnode' (hashed tokens): a node of weight w has round(vnodes * w)
 *	  virtual nodes, at least one when w > 0; virtual node i (0-based) of
 *	  node N sits at token XXH3-64 of the bytes "N-i", read as a signed
 *	  64-bit integer; when tokens are equal, the node whose name sorts first
 *	  by bytes keeps the token;
 *	- 'vnode' with balanced token allocation, and 'slots': the tokens table
 *	  (ring_layout.c chooses them when nodes change);
 *	- 'maglev': the runs of equal owners in its lookup table (ring_maglev.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "port/pg_bitutils.h"

#include "ring_keys.h"
#include "ring_layout.h"
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

/* Byte order of two texts; a proper prefix sorts first. */
static int
text_bytes_cmp(const text *a, const text *b)
{
	int			la = VARSIZE_ANY_EXHDR(a);
	int			lb = VARSIZE_ANY_EXHDR(b);
	int			c = memcmp(VARDATA_ANY(a), VARDATA_ANY(b), Min(la, lb));

	if (c != 0)
		return c;
	return (la > lb) - (la < lb);
}

/* Order of nodes by zone (bytes); the nodes without a zone come last. */
static int
node_zone_cmp(const void *a, const void *b)
{
	const RingNodeRow *ra = *(const RingNodeRow *const *) a;
	const RingNodeRow *rb = *(const RingNodeRow *const *) b;

	if (ra->zone == NULL || rb->zone == NULL)
		return (ra->zone == NULL) - (rb->zone == NULL);
	return text_bytes_cmp(ra->zone, rb->zone);
}

static int node_name_cmp(const void *a, const void *b);

/*
 * Number the distinct zones of the nodes (in zone byte order) and set each
 * node's zone index; -1 for a node without a zone.  ring->nodes must be
 * sorted by name already.
 */
static void
assign_zones(CompiledRing *ring, List *rows)
{
	int			n = list_length(rows);
	RingNodeRow **byzone = palloc(Max(n, 1) * sizeof(RingNodeRow *));
	int			i = 0;
	ListCell   *lc;

	foreach(lc, rows)
		byzone[i++] = lfirst(lc);
	qsort(byzone, n, sizeof(RingNodeRow *), node_zone_cmp);

	ring->nzones = 0;
	for (i = 0; i < n && byzone[i]->zone != NULL; i++)
	{
		RingNodeInfo key;
		RingNodeInfo *node;

		if (i > 0 && text_bytes_cmp(byzone[i - 1]->zone, byzone[i]->zone) != 0)
			ring->nzones++;
		key.name = byzone[i]->name;
		node = bsearch(&key, ring->nodes, ring->nnodes, sizeof(RingNodeInfo), node_name_cmp);
		Assert(node != NULL);
		node->zone = ring->nzones;
	}
	if (i > 0)
		ring->nzones++;
	pfree(byzone);
}

/* Byte order of node names; a proper prefix sorts first. */
static int
node_name_cmp(const void *a, const void *b)
{
	return text_bytes_cmp(((const RingNodeInfo *) a)->name,
						  ((const RingNodeInfo *) b)->name);
}

/*
 * Room for n tokens in a compiled ring's arrays: n rounded up to a
 * sixteenth of the power of two above it (at most 1/16 more).  Versions of
 * a ring a change or two apart then ask for the same sizes, and the
 * backend's allocator hands a freed version's arrays to a later one: fresh
 * memory costs page faults that are most of an incremental compile's time.
 */
static uint64
token_room(uint64 n)
{
	uint64		step = 1;

	while (step * 16 < n)
		step <<= 1;
	return (n + step - 1) / step * step;
}

/* log2 of the number of buckets for n tokens: 4 to 8 tokens per bucket. */
static int
index_bits(uint64 n)
{
	int			bits = 1;

	while (bits < 24 && (UINT64CONST(1) << (bits + 3)) <= n)
		bits++;
	return bits;
}

/* Build the bucket index over the ring's tokens. */
static void
build_index(CompiledRing *ring)
{
	uint64		nbuckets = UINT64CONST(1) << (64 - ring->index_shift);
	uint32		j = 0;

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
 * The tokens of a node's virtual nodes, into out[0 .. node->vnodes): the
 * hash of the UTF-8 string "<name>-<i>".  buf has room for the name in
 * UTF-8 (maxname bytes) and a number.
 */
void
ring_node_tokens(const RingNodeInfo *node, char *buf, int64 *out, bool to_utf8)
{
	const char *name = VARDATA_ANY(node->name);
	int			namelen = VARSIZE_ANY_EXHDR(node->name);

	if (to_utf8)
	{
		name = pg_server_to_any(name, namelen, PG_UTF8);
		if (name != VARDATA_ANY(node->name))
			namelen = strlen(name);
	}
	memcpy(buf, name, namelen);
	buf[namelen] = '-';
	for (int32 v = 0; v < node->vnodes; v++)
		out[v] = ring_hash_bytes(buf, namelen + 1 + pg_ltoa(v, buf + namelen + 1));
}

/* The biased token of a packed entry. */
static inline uint64
entry_token(uint64 key, uint16 low)
{
	return (key & ~RING_LOW_MASK) | low;
}

/*
 * Sort entries [lo, hi) by token, then owner.  Buckets hold a handful of
 * uniformly spread hashes, so insertion sort; a large bucket (which hashes
 * make vanishingly unlikely) goes through sort_token_pairs instead.
 */
static void
sort_bucket(uint64 *keys, uint16 *lows, uint32 lo, uint32 hi)
{
	if (hi - lo > 64)
	{
		TokenPair  *pairs = palloc((hi - lo) * sizeof(TokenPair));

		for (uint32 i = lo; i < hi; i++)
		{
			pairs[i - lo].token = (int64) (entry_token(keys[i], lows[i]) ^ RING_SIGN_BIT);
			pairs[i - lo].node = (uint32) (keys[i] & RING_LOW_MASK);
		}
		sort_token_pairs(pairs, hi - lo);
		for (uint32 i = lo; i < hi; i++)
		{
			uint64		u = (uint64) pairs[i - lo].token ^ RING_SIGN_BIT;

			keys[i] = (u & ~RING_LOW_MASK) | pairs[i - lo].node;
			lows[i] = (uint16) (u & RING_LOW_MASK);
		}
		pfree(pairs);
		return;
	}

	for (uint32 i = lo + 1; i < hi; i++)
	{
		uint64		k = keys[i];
		uint16		l = lows[i];
		uint64		u = entry_token(k, l);
		uint32		j = i;

		while (j > lo)
		{
			uint64		up = entry_token(keys[j - 1], lows[j - 1]);

			if (up < u || (up == u && (keys[j - 1] & RING_LOW_MASK) < (k & RING_LOW_MASK)))
				break;
			keys[j] = keys[j - 1];
			lows[j] = lows[j - 1];
			j--;
		}
		keys[j] = k;
		lows[j] = l;
	}
}

/*
 * The tokens of node i: node_lists[i] when given (stored or computed
 * tokens), else hashed from its name into buf.
 */
static inline const int64 *
node_token_list(const CompiledRing *ring, int i, int64 **node_lists,
				char *buf, int64 *tokens, bool to_utf8)
{
	if (node_lists != NULL)
		return node_lists[i];
	ring_node_tokens(&ring->nodes[i], buf, tokens, to_utf8);
	return tokens;
}

/*
 * Place every virtual node's token into the ring's arrays, sorted: a
 * counting sort on the bucket bits (hashing twice, which is cheaper than
 * writing and reading back a pair array), then each bucket sorted alone.
 * Equal tokens keep the node first by name.  Sets ntokens, nowners and the
 * bucket index.  node_lists, if not NULL, gives each node's tokens
 * (ring->nodes[i].vnodes of them) instead of hashing them.
 */
static void
place_tokens(CompiledRing *ring, uint64 npairs, int64 **node_lists,
			 MemoryContext tmpcxt)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(tmpcxt);
	int			bits = index_bits(npairs);
	uint64		nbuckets = UINT64CONST(1) << bits;
	int32		maxvnodes = 1;
	int			maxname = 0;
	bool		to_utf8 = ring_convert_to_utf8();
	int64	   *tokens;
	char	   *buf;
	uint32	   *fill;
	bool	   *owns;
	uint32		n;
	bool		dups = false;

	ring->index_shift = 64 - bits;
	for (int i = 0; i < ring->nnodes; i++)
	{
		maxvnodes = Max(maxvnodes, ring->nodes[i].vnodes);
		maxname = Max(maxname, (int) VARSIZE_ANY_EXHDR(ring->nodes[i].name));
	}
	/* a character grows to at most 4 bytes in UTF-8 */
	if (to_utf8)
		maxname *= MAX_MULTIBYTE_CHAR_LEN;
	tokens = node_lists ? NULL : palloc(maxvnodes * sizeof(int64));
	buf = palloc(maxname + 1 + MAXINT8LEN + 1);
	fill = palloc0(nbuckets * sizeof(uint32));
	owns = palloc0(Max(ring->nnodes, 1) * sizeof(bool));

	MemoryContextSwitchTo(ring->mcxt);
	ring->keys = palloc((token_room(npairs) + RING_SCAN) * sizeof(uint64));
	ring->lows = palloc((token_room(npairs) + 1) * sizeof(uint16));
	ring->index = palloc(nbuckets * sizeof(uint32));

	/* count the tokens of each bucket; index[b] = where bucket b starts */
	for (int i = 0; i < ring->nnodes; i++)
	{
		const int64 *list = node_token_list(ring, i, node_lists, buf, tokens, to_utf8);

		for (int32 v = 0; v < ring->nodes[i].vnodes; v++)
			fill[((uint64) list[v] ^ RING_SIGN_BIT) >> ring->index_shift]++;
	}
	n = 0;
	for (uint64 b = 0; b < nbuckets; b++)
	{
		ring->index[b] = n;
		n += fill[b];
		fill[b] = ring->index[b];
	}

	/* put each token in its bucket, nodes in name order */
	for (int i = 0; i < ring->nnodes; i++)
	{
		const int64 *list = node_token_list(ring, i, node_lists, buf, tokens, to_utf8);

		for (int32 v = 0; v < ring->nodes[i].vnodes; v++)
		{
			uint64		u = (uint64) list[v] ^ RING_SIGN_BIT;
			uint32		at = fill[u >> ring->index_shift]++;

			ring->keys[at] = (u & ~RING_LOW_MASK) | (uint64) i;
			ring->lows[at] = (uint16) (u & RING_LOW_MASK);
		}
	}
	for (uint64 b = 0; b < nbuckets; b++)
		sort_bucket(ring->keys, ring->lows, ring->index[b],
					b + 1 < nbuckets ? ring->index[b + 1] : (uint32) npairs);

	/* keep the first of equal tokens, count the nodes that own tokens */
	n = 0;
	for (uint32 p = 0; p < npairs; p++)
	{
		uint32		owner = (uint32) (ring->keys[p] & RING_LOW_MASK);

		if (n > 0 && entry_token(ring->keys[n - 1], ring->lows[n - 1]) ==
			entry_token(ring->keys[p], ring->lows[p]))
		{
			dups = true;
			continue;
		}
		ring->keys[n] = ring->keys[p];
		ring->lows[n] = ring->lows[p];
		n++;
		if (!owns[owner])
		{
			owns[owner] = true;
			ring->nowners++;
		}
	}
	ring->ntokens = n;
	for (int s = 0; s < RING_SCAN; s++)
		ring->keys[n + s] = PG_UINT64_MAX;
	ring->lows[n] = (uint16) RING_LOW_MASK;
	if (dups)
		build_index(ring);

	MemoryContextSwitchTo(oldcxt);
}

/* A token to add or remove in an incremental compile. */
typedef struct TokenChange
{
	uint64		u;				/* biased token */
	uint32		owner;			/* node index (old ring's or new ring's) */
} TokenChange;

static int
token_change_cmp(const void *a, const void *b)
{
	const TokenChange *x = a;
	const TokenChange *y = b;

	if (x->u != y->u)
		return x->u < y->u ? -1 : 1;
	return (x->owner > y->owner) - (x->owner < y->owner);
}

/*
 * Append the biased tokens of node's virtual nodes from..to-1 (hashed from
 * its name) to changes, owned by owner.
 */
static void
node_token_range(const RingNodeInfo *node, int32 from, int32 to, uint32 owner,
				 char *buf, bool to_utf8, TokenChange *changes, uint32 *n)
{
	int64	   *tokens;

	if (from >= to)
		return;
	tokens = palloc(node->vnodes * sizeof(int64));
	ring_node_tokens(node, buf, tokens, to_utf8);
	for (int32 v = from; v < to; v++)
	{
		changes[*n].u = (uint64) tokens[v] ^ RING_SIGN_BIT;
		changes[*n].owner = owner;
		(*n)++;
	}
	pfree(tokens);
}

/* Where a token of biased value u is, or would go, among prev's tokens. */
static uint32
prev_lower_bound(const CompiledRing *prev, uint64 u)
{
	uint32		lo = 0;
	uint32		hi = prev->ntokens;

	while (lo < hi)
	{
		uint32		mid = lo + (hi - lo) / 2;

		if (entry_token(prev->keys[mid], prev->lows[mid]) < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Incremental compile of a hashed 'vnode' ring from prev, a compiled
 * earlier version of it without pins or equal tokens: its tokens, less
 * those of nodes gone or shrunk, plus those of nodes added or grown (a
 * node's tokens are "<name>-<i>" for i below its virtual nodes, so a
 * reweighted node keeps its first ones), merged in token order, owners
 * renumbered by the new node order.  The result is the arrays place_tokens
 * builds.  Returns false, having placed nothing, when that would not pay
 * (over a quarter of the tokens change) or when tokens would be equal (the
 * full compile decides those).
 */
static bool
place_tokens_from(CompiledRing *ring, const CompiledRing *prev, uint64 npairs,
				  MemoryContext tmpcxt)
{
	MemoryContext oldcxt;
	bool		to_utf8 = ring_convert_to_utf8();
	int32	   *map;			/* prev node -> ring node, or -1 */
	int32	   *keep;			/* prev node -> its tokens kept */
	int32	   *had;			/* ring node -> its tokens in prev */
	uint64		nchanges = 0;
	TokenChange *removed;
	TokenChange *added;
	uint32		nremoved = 0;
	uint32		nadded = 0;
	int			maxname = 0;
	char	   *buf;
	uint32		r = 0;
	uint32		a = 0;
	uint32		n = 0;
	uint32		p = 0;
	bool	   *owns;
	int			j = 0;

	oldcxt = MemoryContextSwitchTo(tmpcxt);
	map = palloc(Max(prev->nnodes, 1) * sizeof(int32));
	keep = palloc0(Max(prev->nnodes, 1) * sizeof(int32));
	had = palloc0(Max(ring->nnodes, 1) * sizeof(int32));
	/* both node arrays are sorted by name bytes: merge */
	for (int i = 0; i < prev->nnodes; i++)
	{
		int			c = 1;

		while (j < ring->nnodes &&
			   (c = text_bytes_cmp(prev->nodes[i].name, ring->nodes[j].name)) > 0)
			j++;
		map[i] = (j < ring->nnodes && c == 0) ? j : -1;
		if (map[i] >= 0)
		{
			keep[i] = Min(prev->nodes[i].vnodes, ring->nodes[map[i]].vnodes);
			had[map[i]] = prev->nodes[i].vnodes;
		}
		nchanges += prev->nodes[i].vnodes - keep[i];
		maxname = Max(maxname, (int) VARSIZE_ANY_EXHDR(prev->nodes[i].name));
	}
	for (int i = 0; i < ring->nnodes; i++)
	{
		nchanges += Max(ring->nodes[i].vnodes - had[i], 0);
		maxname = Max(maxname, (int) VARSIZE_ANY_EXHDR(ring->nodes[i].name));
	}
	if (nchanges * 4 > npairs)
	{
		MemoryContextSwitchTo(oldcxt);
		return false;
	}

	/* the tokens that go and those that come, in token order */
	if (to_utf8)
		maxname *= MAX_MULTIBYTE_CHAR_LEN;
	buf = palloc(maxname + 1 + MAXINT8LEN + 1);
	removed = palloc(Max(nchanges, 1) * sizeof(TokenChange));
	added = palloc(Max(nchanges, 1) * sizeof(TokenChange));
	for (int i = 0; i < prev->nnodes; i++)
		node_token_range(&prev->nodes[i], keep[i], prev->nodes[i].vnodes, i,
						 buf, to_utf8, removed, &nremoved);
	for (int i = 0; i < ring->nnodes; i++)
		node_token_range(&ring->nodes[i], had[i], ring->nodes[i].vnodes, i,
						 buf, to_utf8, added, &nadded);
	qsort(removed, nremoved, sizeof(TokenChange), token_change_cmp);
	qsort(added, nadded, sizeof(TokenChange), token_change_cmp);
	owns = palloc0(Max(ring->nnodes, 1) * sizeof(bool));

	MemoryContextSwitchTo(ring->mcxt);
	ring->index_shift = 64 - index_bits(npairs);
	ring->keys = palloc((token_room(npairs) + RING_SCAN) * sizeof(uint64));
	ring->lows = palloc((token_room(npairs) + 1) * sizeof(uint16));
	ring->index = palloc((UINT64CONST(1) << index_bits(npairs)) * sizeof(uint32));

	/*
	 * Merge: prev's tokens in runs between the places where a token goes or
	 * comes (found by binary search), each run copied with its owners
	 * renumbered; equal tokens leave it to the full compile.
	 */
	for (;;)
	{
		uint32		rpos = r < nremoved ? prev_lower_bound(prev, removed[r].u) : prev->ntokens;
		uint32		apos = a < nadded ? prev_lower_bound(prev, added[a].u) : prev->ntokens;
		uint32		next = Min(rpos, apos);

		if (r < nremoved &&
			(rpos >= prev->ntokens ||
			 entry_token(prev->keys[rpos], prev->lows[rpos]) != removed[r].u ||
			 (uint32) (prev->keys[rpos] & RING_LOW_MASK) != removed[r].owner))
			goto equal_tokens;	/* cannot be: prev is not what it seems */
		if (next < p || n + (next - p) > npairs)
			goto equal_tokens;
		for (uint32 q = p; q < next; q++)
		{
			int32		owner = map[prev->keys[q] & RING_LOW_MASK];

			if (owner < 0)
				goto equal_tokens;
			ring->keys[n] = (prev->keys[q] & ~RING_LOW_MASK) | (uint64) owner;
			ring->lows[n] = prev->lows[q];
			n++;
		}
		p = next;
		if (a < nadded && apos == next)
		{
			/* a token equal to one that stays, or to another new one */
			if ((apos < prev->ntokens &&
				 entry_token(prev->keys[apos], prev->lows[apos]) == added[a].u &&
				 !(r < nremoved && rpos == apos)) ||
				(a > 0 && added[a - 1].u == added[a].u) || n >= npairs)
				goto equal_tokens;
			ring->keys[n] = (added[a].u & ~RING_LOW_MASK) | added[a].owner;
			ring->lows[n] = (uint16) (added[a].u & RING_LOW_MASK);
			n++;
			a++;
		}
		else if (r < nremoved && rpos == next)
		{
			p = next + 1;
			r++;
		}
		else
			break;
	}
	if (n != npairs)
		goto equal_tokens;
	for (uint32 q = 0; q < n; q++)
		owns[ring->keys[q] & RING_LOW_MASK] = true;

	ring->ntokens = n;
	for (int s = 0; s < RING_SCAN; s++)
		ring->keys[n + s] = PG_UINT64_MAX;
	ring->lows[n] = (uint16) RING_LOW_MASK;
	if (ring->index_shift == prev->index_shift)
	{
		/* prev's bucket starts, moved by the tokens that went and came */
		uint64		nbuckets = UINT64CONST(1) << (64 - ring->index_shift);
		uint32		ra = 0;
		uint32		rr = 0;

		for (uint64 b = 0; b < nbuckets; b++)
		{
			uint64		start = b << ring->index_shift;

			while (ra < nadded && added[ra].u < start)
				ra++;
			while (rr < nremoved && removed[rr].u < start)
				rr++;
			ring->index[b] = prev->index[b] + ra - rr;
		}
	}
	else
		build_index(ring);
	for (int i = 0; i < ring->nnodes; i++)
		ring->nowners += owns[i];
	MemoryContextSwitchTo(oldcxt);
	return true;

equal_tokens:
	pfree(ring->keys);
	pfree(ring->lows);
	pfree(ring->index);
	ring->keys = NULL;
	ring->lows = NULL;
	ring->index = NULL;
	ring->nowners = 0;
	MemoryContextSwitchTo(oldcxt);
	return false;
}

/*
 * The stored tokens of a version, as one list per node (in the current
 * memory context); sets each node's vnodes to its token count and *npairs to
 * the total.
 */
static int64 **
stored_token_lists(CompiledRing *ring, const RingHeader *hdr, int32 version,
				   Snapshot snap, uint64 *npairs)
{
	uint32		n;
	RingTokenRow *rows = ring_catalog_tokens(hdr, version, snap, &n);
	uint32	   *owner = palloc(Max(n, 1) * sizeof(uint32));
	int64	  **lists = palloc(Max(ring->nnodes, 1) * sizeof(int64 *));

	for (int i = 0; i < ring->nnodes; i++)
		ring->nodes[i].vnodes = 0;
	for (uint32 t = 0; t < n; t++)
	{
		RingNodeInfo key;
		RingNodeInfo *node;

		key.name = rows[t].node;
		node = bsearch(&key, ring->nodes, ring->nnodes, sizeof(RingNodeInfo),
					   node_name_cmp);
		if (node == NULL)
			elog(ERROR, "token " INT64_FORMAT " of version %d of ring \"%s\" belongs to no node",
				 rows[t].token, version, hdr->name);
		owner[t] = node - ring->nodes;
		node->vnodes++;
	}
	for (int i = 0; i < ring->nnodes; i++)
	{
		lists[i] = palloc(Max(ring->nodes[i].vnodes, 1) * sizeof(int64));
		ring->nodes[i].vnodes = 0;
	}
	for (uint32 t = 0; t < n; t++)
		lists[owner[t]][ring->nodes[owner[t]].vnodes++] = rows[t].token;
	*npairs = n;
	return lists;
}

/*
 * Make ring a 'rendezvous' ring: no tokens; each node's seed is XXH3-64 of
 * its name's UTF-8 bytes.
 */
void
ring_hrw_seeds(CompiledRing *ring)
{
	bool		to_utf8 = ring_convert_to_utf8();

	ring->per_key = true;
	ring->seeds = palloc(Max(ring->nnodes, 1) * sizeof(uint64));
	for (int i = 0; i < ring->nnodes; i++)
	{
		const char *name = VARDATA_ANY(ring->nodes[i].name);
		size_t		len = VARSIZE_ANY_EXHDR(ring->nodes[i].name);

		if (to_utf8)
		{
			const char *conv = pg_server_to_any(name, len, PG_UTF8);

			if (conv != name)
				len = strlen(conv);
			name = conv;
		}
		ring->seeds[i] = XXH3_64bits(name, len);
		ring->nodes[i].vnodes = 0;
	}
}

/* A join or a departure in a 'jump' ring's history. */
typedef struct JumpEvent
{
	int32		version;
	int			kind;			/* 0: leaves, 1: joins (leaving comes first) */
	int64		joined;
	int			row;
} JumpEvent;

/*
 * Order of a 'jump' ring's history: by version; in one version, the nodes
 * that leave (the last to have joined first), then those that join (in the
 * order they joined).
 */
static int
jump_event_cmp(const void *a, const void *b)
{
	const JumpEvent *x = a;
	const JumpEvent *y = b;

	if (x->version != y->version)
		return x->version < y->version ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind - y->kind;
	if (x->joined != y->joined)
		return (x->joined < y->joined) == (x->kind == 1) ? -1 : 1;
	return 0;
}

/* Order of node rows by place of joining, then by version. */
static int
row_joined_cmp(const void *a, const void *b)
{
	const RingNodeRow *x = *(RingNodeRow *const *) a;
	const RingNodeRow *y = *(RingNodeRow *const *) b;

	if (x->joined != y->joined)
		return x->joined < y->joined ? -1 : 1;
	return (x->added_in > y->added_in) - (x->added_in < y->added_in);
}

/*
 * Make ring a 'jump' ring: replay its node history (rows, every node row up
 * to the ring's version) through MementoHash's bucket removals and
 * restorations (ring_jump.c), giving each node of the version its bucket.
 * A row that takes over from the node's previous row in the same version
 * (ring_set_server keeps the node's place of joining) continues it: the
 * node keeps its bucket.
 */
static void
jump_buckets(CompiledRing *ring, List *rows)
{
	int			nrows = list_length(rows);
	JumpEvent  *ev = palloc(Max(2 * nrows, 1) * sizeof(JumpEvent));
	int32	   *bucket_of = palloc(Max(nrows, 1) * sizeof(int32));
	RingNodeRow **row = palloc(Max(nrows, 1) * sizeof(RingNodeRow *));
	int		   *continues = palloc(Max(nrows, 1) * sizeof(int));
	bool	   *continued = palloc0(Max(nrows, 1) * sizeof(bool));
	RingJump   *jump = palloc0(sizeof(RingJump));
	int			nev = 0;
	int			i = 0;
	ListCell   *lc;

	jump->working = palloc((nrows + 1) * sizeof(int32));
	jump->replacer = palloc((nrows + 1) * sizeof(int32));
	jump->prev = palloc((nrows + 1) * sizeof(int32));
	jump->node = palloc((nrows + 1) * sizeof(int32));
	foreach(lc, rows)
		row[i++] = lfirst(lc);
	qsort(row, nrows, sizeof(RingNodeRow *), row_joined_cmp);
	for (i = 0; i < nrows; i++)
	{
		continues[i] = -1;
		if (i > 0 && row[i - 1]->joined == row[i]->joined &&
			row[i - 1]->removed_in == row[i]->added_in)
		{
			continues[i] = i - 1;
			continued[i - 1] = true;
		}
	}
	for (i = 0; i < nrows; i++)
	{
		if (continues[i] < 0)
		{
			ev[nev].version = row[i]->added_in;
			ev[nev].kind = 1;
			ev[nev].joined = row[i]->joined;
			ev[nev++].row = i;
		}
		if (row[i]->removed_in > 0 && !continued[i])
		{
			ev[nev].version = row[i]->removed_in;
			ev[nev].kind = 0;
			ev[nev].joined = row[i]->joined;
			ev[nev++].row = i;
		}
	}
	qsort(ev, nev, sizeof(JumpEvent), jump_event_cmp);
	for (int e = 0; e < nev; e++)
	{
		int			r = ev[e].row;

		if (ev[e].kind == 1)
		{
			bucket_of[r] = ring_jump_add(jump);
			jump->node[bucket_of[r]] = -1;
		}
		else
		{
			/* a removal ends a chain of rows: its bucket is the first's */
			while (continues[r] >= 0)
				r = continues[r];
			ring_jump_remove(jump, bucket_of[r]);
		}
	}
	/* rows continuing others (in joining, then version order) */
	for (i = 0; i < nrows; i++)
	{
		if (continues[i] >= 0)
			bucket_of[i] = bucket_of[continues[i]];
	}

	/* the nodes of the version, by name */
	for (int r = 0; r < nrows; r++)
	{
		RingNodeInfo key;
		RingNodeInfo *node;

		if (row[r]->removed_in > 0)
			continue;
		key.name = row[r]->name;
		node = bsearch(&key, ring->nodes, ring->nnodes, sizeof(RingNodeInfo),
					   node_name_cmp);
		if (node == NULL)
			elog(ERROR, "node history of ring \"%s\" does not match its nodes", ring->name);
		jump->node[bucket_of[r]] = node - ring->nodes;
	}
	ring->jump = jump;
	ring->per_key = true;
}

/* Token-pair priorities for apply_pins: on equal tokens, the lowest wins. */
#define PIN_PRIORITY_PIN		0
#define PIN_PRIORITY_TOKEN		1
#define PIN_PRIORITY_BOUNDARY	2
#define PIN_PRIORITY_SHIFT		16

/*
 * Add the pinned keys to a compiled ring: token p for the pinned node, and
 * token p - 1 for the owner of the range p is in, unless a token is there
 * already.  The ring without pins stays reachable as ring->unpinned.  An
 * empty ring stays empty: a pin alone would own every position.
 */
static void
apply_pins(CompiledRing *ring, const RingTokenRow *pins, uint32 npins,
		   MemoryContext tmpcxt)
{
	MemoryContext oldcxt;
	CompiledRing *base;
	TokenPair  *pairs;
	int32	   *vnodes;
	int64	  **lists;
	uint64		n = 0;
	uint64		kept = 0;

	if (ring->ntokens == 0)
		return;

	/* the ring as it is, without pins */
	base = palloc(sizeof(CompiledRing));
	memcpy(base, ring, sizeof(CompiledRing));
	base->unpinned = base;

	oldcxt = MemoryContextSwitchTo(tmpcxt);
	pairs = palloc((ring->ntokens + 2 * (uint64) npins) * sizeof(TokenPair));
	for (uint32 i = 0; i < ring->ntokens; i++)
	{
		pairs[n].token = ring_token(ring, i);
		pairs[n++].node = ring_token_owner(ring, i) | (PIN_PRIORITY_TOKEN << PIN_PRIORITY_SHIFT);
	}
	for (uint32 k = 0; k < npins; k++)
	{
		RingNodeInfo key;
		RingNodeInfo *node;
		int64		p = pins[k].token;

		key.name = pins[k].node;
		node = bsearch(&key, ring->nodes, ring->nnodes, sizeof(RingNodeInfo),
					   node_name_cmp);
		if (node == NULL)
			elog(ERROR, "pin at " INT64_FORMAT " of ring \"%s\" belongs to no node",
				 p, ring->name);
		pairs[n].token = p;
		pairs[n++].node = (uint32) (node - ring->nodes) | (PIN_PRIORITY_PIN << PIN_PRIORITY_SHIFT);
		pairs[n].token = (int64) ((uint64) p - 1);
		pairs[n++].node = ring_owner_of(ring, p) | (PIN_PRIORITY_BOUNDARY << PIN_PRIORITY_SHIFT);
	}
	sort_token_pairs(pairs, n);

	/* the first of equal tokens, as per-node lists */
	vnodes = palloc(Max(ring->nnodes, 1) * sizeof(int32));
	lists = palloc(Max(ring->nnodes, 1) * sizeof(int64 *));
	for (int i = 0; i < ring->nnodes; i++)
	{
		vnodes[i] = ring->nodes[i].vnodes;
		ring->nodes[i].vnodes = 0;
	}
	for (uint64 j = 0; j < n; j++)
	{
		if (j > 0 && pairs[j].token == pairs[j - 1].token)
			continue;
		pairs[j].node &= (1 << PIN_PRIORITY_SHIFT) - 1;
		ring->nodes[pairs[j].node].vnodes++;
		pairs[kept++] = pairs[j];
	}
	for (int i = 0; i < ring->nnodes; i++)
	{
		lists[i] = palloc(Max(ring->nodes[i].vnodes, 1) * sizeof(int64));
		ring->nodes[i].vnodes = 0;
	}
	for (uint64 j = 0; j < kept; j++)
		lists[pairs[j].node][ring->nodes[pairs[j].node].vnodes++] = pairs[j].token;
	MemoryContextSwitchTo(oldcxt);

	ring->nowners = 0;
	place_tokens(ring, kept, lists, tmpcxt);
	for (int i = 0; i < ring->nnodes; i++)
		ring->nodes[i].vnodes = vnodes[i];
	ring->npins = npins;
	ring->unpinned = base;
}

/*
 * On a 'redis' ring, whose tokens end runs of hash slots: give each node's
 * vnodes as the number of slots it holds.
 */
static void
redis_slot_counts(CompiledRing *ring)
{
	int32		prev = -1;

	for (int i = 0; i < ring->nnodes; i++)
		ring->nodes[i].vnodes = 0;
	for (uint32 t = 0; t < ring->ntokens; t++)
	{
		int32		last = ring_redis_position_slot(ring_token(ring, t));

		ring->nodes[ring_token_owner(ring, t)].vnodes += last - prev;
		prev = last;
	}
}

/* Whether ring_compile may build a version from an earlier one. */
bool		ring_incremental_compile = true;

/* The virtual nodes of ring's nodes, all counted. */
static uint64
ring_token_pairs(const CompiledRing *ring)
{
	uint64		n = 0;

	for (int i = 0; i < ring->nnodes; i++)
		n += ring->nodes[i].vnodes;
	return n;
}

/*
 * Compile one version of a ring as snap sees it, from prev (an earlier
 * compiled version of the same ring, or NULL) where that is cheaper.  The
 * result lives in its own memory context, a child of the current one until
 * the caller adopts it.
 */
CompiledRing *
ring_compile(const RingHeader *hdr, int32 version, Snapshot snap,
			 const CompiledRing *prev)
{
	MemoryContext ringcxt;
	MemoryContext tmpcxt;
	MemoryContext oldcxt;
	CompiledRing *ring;
	List	   *rows;
	ListCell   *lc;
	uint64		npairs = 0;
	int64	  **lists = NULL;
	RingTokenRow *pins;
	uint32		npins;
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
	ring->compat_hash = hdr->algorithm == RING_ALGORITHM_REDIS ||
		RING_ALGORITHM_IS_KETAMA(hdr->algorithm) ||
		hdr->algorithm == RING_ALGORITHM_CASSANDRA;
	ring->vnodes = hdr->vnodes;
	ring->table_size = hdr->table_size;
	ring->stored_tokens = hdr->stored_tokens;
	ring->built_from = -1;

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
		node->zone = -1;
		node->joined = row->joined;
		node->server = row->server == NULL ? NULL :
			DatumGetTextPCopy(PointerGetDatum(row->server));
		node->weight = row->weight;
		node->vnodes = ring_virtual_nodes(hdr->vnodes, row->weight);
		npairs += node->vnodes;
	}
	qsort(ring->nodes, ring->nnodes, sizeof(RingNodeInfo), node_name_cmp);
	assign_zones(ring, rows);

	if (ring->nnodes > RING_MAX_NODES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("version %d of ring \"%s\" has too many nodes",
						version, hdr->name),
				 errdetail("It has %d nodes; the limit is %d.",
						   ring->nnodes, RING_MAX_NODES)));

	MemoryContextSwitchTo(tmpcxt);
	if (hdr->stored_tokens)
		lists = stored_token_lists(ring, hdr, version, snap, &npairs);
	else if (hdr->algorithm == RING_ALGORITHM_MAGLEV)
		lists = ring_maglev_lists(ring, hdr->table_size, &npairs);
	else if (RING_ALGORITHM_IS_KETAMA(hdr->algorithm))
		lists = ring_ketama_lists(ring, &npairs);
	MemoryContextSwitchTo(ringcxt);
	if (hdr->algorithm == RING_ALGORITHM_RENDEZVOUS)
	{
		ring_hrw_seeds(ring);
		npairs = 0;
	}
	else if (hdr->algorithm == RING_ALGORITHM_JUMP)
	{
		List	   *history;

		for (int j = 0; j < ring->nnodes; j++)
			ring->nodes[j].vnodes = 0;
		MemoryContextSwitchTo(tmpcxt);
		history = ring_catalog_node_history(hdr, version, snap);
		MemoryContextSwitchTo(ringcxt);
		jump_buckets(ring, history);
		npairs = 0;
	}

	if (npairs > RING_MAX_RING_TOKENS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("version %d of ring \"%s\" has too many virtual nodes",
						version, hdr->name),
				 errdetail("It has " UINT64_FORMAT " virtual nodes; the limit is %d.",
						   npairs, RING_MAX_RING_TOKENS)));

	/*
	 * A hashed 'vnode' ring from an earlier compiled version of it when
	 * that is cheaper (usually one node changed): the same arrays.
	 */
	if (!(prev != NULL && ring_incremental_compile &&
		  hdr->algorithm == RING_ALGORITHM_VNODE && !hdr->stored_tokens &&
		  prev->algorithm == RING_ALGORITHM_VNODE && !prev->stored_tokens &&
		  prev->vnodes == hdr->vnodes && prev->npins == 0 && !prev->per_key &&
		  prev->ntokens > 0 && prev->ntokens == ring_token_pairs(prev) &&
		  npairs > 0 &&
		  place_tokens_from(ring, prev, npairs, tmpcxt)))
		place_tokens(ring, npairs, lists, tmpcxt);
	else
		ring->built_from = prev->key.version;
	ring->unpinned = ring;
	if (ring->algorithm == RING_ALGORITHM_REDIS)
		redis_slot_counts(ring);
	if (ring->per_key)
	{
		for (int j = 0; j < ring->nnodes; j++)
			ring->nowners += ring->nodes[j].weight > 0;
	}

	MemoryContextSwitchTo(tmpcxt);
	pins = ring_catalog_pins(hdr, version, snap, &npins);
	MemoryContextSwitchTo(ringcxt);
	if (npins > 0)
		apply_pins(ring, pins, npins, tmpcxt);

	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(tmpcxt);
	return ring;
}

/*
 * Per-node token lists from owners given per token of ring (indexes into
 * nodes, -1 for none), as ring_layout returns them.
 */
static int64 **
lists_from_layout(CompiledRing *ring, const LayoutToken *tokens, uint32 n,
				  uint64 *npairs)
{
	int64	  **lists = palloc(Max(ring->nnodes, 1) * sizeof(int64 *));

	for (int i = 0; i < ring->nnodes; i++)
		ring->nodes[i].vnodes = 0;
	for (uint32 t = 0; t < n; t++)
		ring->nodes[tokens[t].node].vnodes++;
	for (int i = 0; i < ring->nnodes; i++)
	{
		lists[i] = palloc(Max(ring->nodes[i].vnodes, 1) * sizeof(int64));
		ring->nodes[i].vnodes = 0;
	}
	for (uint32 t = 0; t < n; t++)
	{
		RingNodeInfo *node = &ring->nodes[tokens[t].node];

		lists[tokens[t].node][node->vnodes++] = (int64) (tokens[t].biased ^ RING_SIGN_BIT);
	}
	*npairs = n;
	return lists;
}

/*
 * What ring would be after one change: a node called add_name of weight
 * add_weight added (add_name not NULL), or node remove removed; tokens as
 * the ring's algorithm gives them after such a change.  Compiled in a new
 * child of the current memory context (ring_what_if's mcxt), for figures
 * such as ring_quality's; zones are left out.
 */
CompiledRing *
ring_what_if(const CompiledRing *ring, text *add_name, double add_weight,
			 int remove)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "consistent_ring what-if ring",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);
	CompiledRing *res = palloc0(sizeof(CompiledRing));
	int32	   *map = palloc(Max(ring->nnodes, 1) * sizeof(int32));
	int64	  **lists = NULL;
	uint64		npairs = 0;
	int			n = 0;
	int			at = -1;

	memcpy(res->name, ring->name, sizeof(res->name));
	res->mcxt = cxt;
	res->algorithm = ring->algorithm;
	res->compat_hash = ring->compat_hash;
	res->vnodes = ring->vnodes;
	res->built_from = -1;
	res->table_size = ring->table_size;
	res->stored_tokens = ring->stored_tokens;
	res->nodes = palloc0((ring->nnodes + 1) * sizeof(RingNodeInfo));
	for (int i = 0; i < ring->nnodes; i++)
	{
		map[i] = -1;
		if (i == remove)
			continue;
		if (add_name && at < 0 && text_bytes_cmp(add_name, ring->nodes[i].name) < 0)
			at = n++;
		map[i] = n;
		res->nodes[n] = ring->nodes[i];
		res->nodes[n++].zone = -1;
	}
	if (add_name && at < 0)
		at = n++;
	if (add_name)
	{
		res->nodes[at].name = add_name;
		res->nodes[at].weight = add_weight;
		res->nodes[at].zone = -1;
		res->nodes[at].joined = PG_INT64_MAX;	/* joins last */
	}
	res->nnodes = n;
	for (int i = 0; i < n; i++)
	{
		/* a 'cassandra' node keeps its tokens; only a new one gets vnodes */
		if (ring->algorithm != RING_ALGORITHM_CASSANDRA || i == at)
			res->nodes[i].vnodes = ring_virtual_nodes(ring->vnodes, res->nodes[i].weight);
		npairs += res->nodes[i].vnodes;
	}

	if (ring->algorithm == RING_ALGORITHM_RENDEZVOUS)
	{
		ring_hrw_seeds(res);
		npairs = 0;
		for (int i = 0; i < n; i++)
			res->nowners += res->nodes[i].weight > 0;
	}
	else if (ring->algorithm == RING_ALGORITHM_JUMP)
	{
		/* the same buckets, one removed (MementoHash) or one more */
		RingJump   *jump = ring_jump_copy(ring->jump);

		for (int32 b = 0; b < jump->nbuckets; b++)
		{
			if (jump->node[b] < 0)
				continue;
			if (jump->node[b] == remove)
				ring_jump_remove(jump, b);
			else
				jump->node[b] = map[jump->node[b]];
		}
		if (add_name)
			jump->node[ring_jump_add(jump)] = at;
		res->jump = jump;
		res->per_key = true;
		res->nowners = jump->nworking;
		npairs = 0;
		for (int i = 0; i < n; i++)
			res->nodes[i].vnodes = 0;
	}
	else if (ring->algorithm == RING_ALGORITHM_MAGLEV)
		lists = ring_maglev_lists(res, ring->table_size, &npairs);
	else if (RING_ALGORITHM_IS_KETAMA(ring->algorithm))
		lists = ring_ketama_lists(res, &npairs);
	else if (ring->stored_tokens)
	{
		LayoutNode *lnodes = palloc(Max(n, 1) * sizeof(LayoutNode));
		LayoutToken *tokens = palloc(Max(ring->ntokens, 1) * sizeof(LayoutToken));
		uint32		nres;

		for (int i = 0; i < n; i++)
		{
			lnodes[i].weight = res->nodes[i].weight;
			lnodes[i].target = res->nodes[i].vnodes;
		}
		for (uint32 t = 0; t < ring->ntokens; t++)
		{
			tokens[t].biased = (uint64) ring_token(ring, t) ^ RING_SIGN_BIT;
			tokens[t].node = map[ring_token_owner(ring, t)];
		}
		if (ring->algorithm == RING_ALGORITHM_SLOTS)
		{
			/* every slot has an owner in a ring with nodes */
			uint32		nslots = ring->ntokens;
			int32	   *owner = palloc(Max(nslots, 1) * sizeof(int32));

			Assert(nslots > 0 && (nslots & (nslots - 1)) == 0);
			for (uint32 t = 0; t < nslots; t++)
				owner[t] = tokens[t].node;
			ring_layout_slots(owner, nslots, lnodes, n, false);
			nres = 0;
			for (uint32 t = 0; t < nslots; t++)
			{
				if (owner[t] < 0)
					continue;
				tokens[nres].biased = tokens[t].biased;
				tokens[nres++].node = owner[t];
			}
		}
		else if (ring->algorithm == RING_ALGORITHM_REDIS)
		{
			/* tokens end runs of slots; every slot has an owner */
			int32	   *owner = palloc(RING_REDIS_SLOTS * sizeof(int32));
			uint32		t = 0;

			for (uint32 slot = 0; slot < RING_REDIS_SLOTS; slot++)
			{
				if (ring->ntokens == 0)
				{
					owner[slot] = -1;
					continue;
				}
				while (ring_redis_position_slot(ring_token(ring, t)) < (int32) slot)
					t++;
				owner[slot] = map[ring_token_owner(ring, t)];
			}
			ring_layout_slots(owner, RING_REDIS_SLOTS, lnodes, n, true);
			tokens = palloc(RING_REDIS_SLOTS * sizeof(LayoutToken));
			nres = 0;
			for (uint32 slot = 0; slot < RING_REDIS_SLOTS; slot++)
			{
				if (owner[slot] < 0 ||
					(slot + 1 < RING_REDIS_SLOTS && owner[slot + 1] == owner[slot]))
					continue;
				tokens[nres].biased = (uint64) ring_slot_token(slot, RING_REDIS_SLOT_BITS) ^ RING_SIGN_BIT;
				tokens[nres++].node = owner[slot];
			}
		}
		else
			tokens = ring_layout_balanced(tokens, ring->ntokens, lnodes, n, &nres);
		lists = lists_from_layout(res, tokens, nres, &npairs);
	}

	place_tokens(res, npairs, lists, cxt);
	res->unpinned = res;
	if (res->algorithm == RING_ALGORITHM_REDIS)
		redis_slot_counts(res);
	MemoryContextSwitchTo(oldcxt);
	return res;
}
