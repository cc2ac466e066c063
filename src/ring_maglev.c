/*-------------------------------------------------------------------------
 *
 * ring_maglev.c
 *	  The 'maglev' algorithm: a Maglev lookup table, as ranges of positions.
 *
 * Placement rules (doc/placement.md, "'maglev'"):
 *	- the table has M entries (table_size, a prime); entry e covers the
 *	  positions p whose biased value u = p XOR 2^63 has floor(u * M / 2^64)
 *	  = e, so each entry is a contiguous range of the token space;
 *	- a node N of weight w > 0 prefers the entries offset, offset + skip,
 *	  offset + 2 skip, ... (mod M), where offset = XXH3-64(N) mod M and
 *	  skip = XXH3-64(N, seed 1) mod (M - 1) + 1, N being the node name's
 *	  UTF-8 bytes;
 *	- the table fills in rounds: in each round, the nodes in name byte order
 *	  each add w / wmax (wmax: the largest weight) to their credit, and while
 *	  a node's credit is at least 1 it takes its next preferred entry that is
 *	  still empty and spends 1; rounds go on until every entry is taken.
 *
 * The node of the greatest weight takes one entry per round, so shares
 * follow weights to within about one entry.  A changed node changes the
 * table elsewhere too (Maglev's design trades that for balance): ring_quality
 * and the comparison benchmark report how much.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "ring_keys.h"
#include "ring_compile.h"

/* One node filling the table. */
typedef struct MaglevFiller
{
	uint32		node;			/* index into ring->nodes */
	uint32		next;			/* next preferred entry to try */
	uint32		skip;
	double		step;			/* weight / largest weight */
	double		credit;
} MaglevFiller;

/* Last biased position of table entry e of m: ceil((e + 1) 2^64 / m) - 1. */
static inline uint64
entry_last(uint64 e, uint64 m)
{
	uint128		end = ((uint128) (e + 1)) << 64;

	return (uint64) ((end + m - 1) / m - 1);
}

/*
 * Fill the Maglev table of ring's nodes and return its runs of equal owners
 * as token lists, one per node (allocated in the current memory context);
 * sets each node's vnodes to its run count and *npairs to the total.
 */
int64 **
ring_maglev_lists(CompiledRing *ring, int32 table_size, uint64 *npairs)
{
	uint32		m = (uint32) table_size;
	uint32	   *table = palloc(m * sizeof(uint32));
	MaglevFiller *fill = palloc(Max(ring->nnodes, 1) * sizeof(MaglevFiller));
	int64	  **lists = palloc(Max(ring->nnodes, 1) * sizeof(int64 *));
	bool		to_utf8 = ring_convert_to_utf8();
	int			nfill = 0;
	double		wmax = 0;
	uint32		taken = 0;
	uint64		runs = 0;

	for (int i = 0; i < ring->nnodes; i++)
		wmax = Max(wmax, ring->nodes[i].weight);
	for (int i = 0; i < ring->nnodes; i++)
	{
		const RingNodeInfo *node = &ring->nodes[i];
		const char *name = VARDATA_ANY(node->name);
		size_t		len = VARSIZE_ANY_EXHDR(node->name);
		MaglevFiller *f;

		ring->nodes[i].vnodes = 0;
		if (!(node->weight > 0))
			continue;
		if (to_utf8)
		{
			const char *conv = pg_server_to_any(name, len, PG_UTF8);

			if (conv != name)
				len = strlen(conv);
			name = conv;
		}
		f = &fill[nfill++];
		f->node = i;
		f->next = (uint32) (XXH3_64bits_withSeed(name, len, 0) % m);
		f->skip = (uint32) (XXH3_64bits_withSeed(name, len, 1) % (m - 1)) + 1;
		f->step = node->weight / wmax;
		f->credit = 0;
	}

	*npairs = 0;
	if (nfill == 0)
		return lists;

	memset(table, 0xFF, m * sizeof(uint32));
	while (taken < m)
	{
		for (int k = 0; k < nfill && taken < m; k++)
		{
			MaglevFiller *f = &fill[k];

			f->credit += f->step;
			while (f->credit >= 1.0 && taken < m)
			{
				while (table[f->next] != PG_UINT32_MAX)
				{
					f->next += f->skip;
					if (f->next >= m)
						f->next -= m;
				}
				table[f->next] = f->node;
				taken++;
				f->credit -= 1.0;
			}
		}
	}

	/* a token ends each run of equal owners, and the last entry */
	for (uint32 e = 0; e < m; e++)
	{
		if (e + 1 == m || table[e + 1] != table[e])
		{
			ring->nodes[table[e]].vnodes++;
			runs++;
		}
	}
	for (int i = 0; i < ring->nnodes; i++)
	{
		lists[i] = palloc(Max(ring->nodes[i].vnodes, 1) * sizeof(int64));
		ring->nodes[i].vnodes = 0;
	}
	for (uint32 e = 0; e < m; e++)
	{
		if (e + 1 == m || table[e + 1] != table[e])
		{
			RingNodeInfo *node = &ring->nodes[table[e]];

			lists[table[e]][node->vnodes++] = (int64) (entry_last(e, m) ^ RING_SIGN_BIT);
		}
	}
	pfree(table);
	pfree(fill);
	*npairs = runs;
	return lists;
}
