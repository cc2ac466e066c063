/*-------------------------------------------------------------------------
 *
 * ring_layout.c
 *	  Choosing stored tokens when a ring's nodes change.
 *
 * 'slots' (doc/placement.md, "'slots'"), and 'redis' once its slots have owners (with
 * b = 14): 2^b slots, slot s covering the positions whose
 * biased value (position XOR 2^63) has s as its top b bits; the tokens table
 * holds each slot's last position with its owner.  After every change each
 * node with weight w > 0 of total W holds floor(q) or ceil(q) slots, q =
 * 2^b * w / W, and the fewest slots move to get there:
 *	- slots of removed (or zero-weight) nodes are freed;
 *	- every node gets floor(q); the remaining slots go one each, first to
 *	  the nodes holding more than floor(q) already, then by largest fraction
 *	  of q, then by name;
 *	- nodes over their count give up their highest-numbered slots ('redis':
 *	  their lowest-numbered ones, as redis-cli --cluster rebalance takes
 *	  them), the most over-loaded (count - q) first; the freed slots come
 *	  first in the pool, lowest-numbered first;
 *	- nodes under their count take from the pool in order, the most
 *	  under-loaded (q - count) first, then by name.
 *
 * Balanced token allocation for 'vnode' rings (doc/placement.md):
 * a node of weight w has round(vnodes * w) tokens, as on a hashed ring, but
 * they are chosen when it joins (or its weight grows), one at a time:
 *	- on an empty ring, the first node's n tokens are evenly spaced: biased
 *	  values floor((k + 1) 2^64 / n) - 1;
 *	- otherwise each new token goes into the largest range of the node that
 *	  is most loaded for its weight (owned positions / weight; ties by name),
 *	  taking from its start as many positions as the new node still needs
 *	  divided by the tokens it has left to place (at least 1, leaving the
 *	  donor at least 1), the need being its weight-proportional share minus
 *	  what it owns.
 * Removing a node removes its tokens.  Lowering a weight removes the node's
 * tokens one at a time, each time the one whose range is closest to what the
 * node owns beyond its new share divided by the tokens still to remove.  So
 * only the changed node's keys move; other tokens never change.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/builtins.h"

#include "ring_layout.h"

#define SIGN_BIT (UINT64CONST(1) << 63)

int64
ring_slot_token(uint32 s, int bits)
{
	uint64		last = bits == 0 ? PG_UINT64_MAX :
		(((uint64) s + 1) << (64 - bits)) - 1;

	return (int64) (last ^ SIGN_BIT);
}

/* ---- slots ---- */

typedef struct SlotNode
{
	int			node;
	int64		count;			/* slots held now */
	int64		target;
	double		q;				/* weight-proportional share */
} SlotNode;

/* Who gets the slots left after every node got floor(q). */
static int
extra_cmp(const void *a, const void *b)
{
	const SlotNode *x = a;
	const SlotNode *y = b;
	bool		xo = x->count > x->target;
	bool		yo = y->count > y->target;
	double		xf = x->q - floor(x->q);
	double		yf = y->q - floor(y->q);

	if (xo != yo)
		return xo ? -1 : 1;
	if (xf != yf)
		return xf > yf ? -1 : 1;
	return x->node - y->node;
}

/* Most over-loaded first. */
static int
donor_cmp(const void *a, const void *b)
{
	const SlotNode *x = a;
	const SlotNode *y = b;
	double		xe = (double) x->count - x->q;
	double		ye = (double) y->count - y->q;

	if (xe != ye)
		return xe > ye ? -1 : 1;
	return x->node - y->node;
}

/* Most under-loaded first. */
static int
receiver_cmp(const void *a, const void *b)
{
	const SlotNode *x = a;
	const SlotNode *y = b;
	double		xd = x->q - (double) x->count;
	double		yd = y->q - (double) y->count;

	if (xd != yd)
		return xd > yd ? -1 : 1;
	return x->node - y->node;
}

/*
 * Reassign slots: owner[s] is slot s's owner (an index into nodes, or -1),
 * updated in place.  Over-loaded nodes give up their highest-numbered
 * slots, or with lowest_first their lowest-numbered ones.
 */
void
ring_layout_slots(int32 *owner, uint32 nslots, const LayoutNode *nodes,
				  int nnodes, bool lowest_first)
{
	SlotNode   *sn = palloc0(Max(nnodes, 1) * sizeof(SlotNode));
	int		   *pos = palloc(Max(nnodes, 1) * sizeof(int));
	uint32	   *pool = palloc(nslots * sizeof(uint32));
	uint32		npool = 0;
	uint32		take = 0;
	double		total = 0;
	double		maxw = 0;
	int64		assigned = 0;
	int			n = 0;

	/* weights as fractions of the largest, so that their sum is finite */
	for (int i = 0; i < nnodes; i++)
		maxw = Max(maxw, nodes[i].weight);
	for (int i = 0; i < nnodes; i++)
		if (nodes[i].weight > 0)
			total += nodes[i].weight / maxw;

	/* the nodes that hold slots, and the slots of the others */
	for (int i = 0; i < nnodes; i++)
	{
		pos[i] = -1;
		if (nodes[i].weight > 0)
		{
			sn[n].node = i;
			sn[n].q = (double) nslots * ((nodes[i].weight / maxw) / total);
			sn[n].target = (int64) floor(sn[n].q);
			assigned += sn[n].target;
			pos[i] = n++;
		}
	}
	for (uint32 s = 0; s < nslots; s++)
	{
		if (owner[s] >= 0 && pos[owner[s]] >= 0)
			sn[pos[owner[s]]].count++;
		else
		{
			owner[s] = -1;
			pool[npool++] = s;
		}
	}
	if (n == 0)
		return;

	/* the slots left after floor(q) each: one per node, in extra_cmp order */
	qsort(sn, n, sizeof(SlotNode), extra_cmp);
	for (int k = 0; k < n && assigned < nslots; k++)
	{
		if (sn[k].q > (double) sn[k].target)
		{
			sn[k].target++;
			assigned++;
		}
	}
	/* only rounding in q can leave some: same order */
	for (int k = 0; assigned < nslots; k = (k + 1) % n)
	{
		sn[k].target++;
		assigned++;
	}

	/* over-loaded nodes give up their highest-numbered slots */
	qsort(sn, n, sizeof(SlotNode), donor_cmp);
	for (int k = 0; k < n; k++)
	{
		int64		surplus = sn[k].count - sn[k].target;
		uint32		from = nslots;

		if (surplus <= 0)
			continue;
		if (lowest_first)
		{
			for (uint32 s = 0; surplus > 0; s++)
			{
				if (owner[s] == sn[k].node)
				{
					owner[s] = -1;
					pool[npool++] = s;
					surplus--;
				}
			}
			sn[k].count = sn[k].target;
			continue;
		}
		while (surplus > 0)
		{
			if (owner[--from] == sn[k].node)
				surplus--;
		}
		for (uint32 s = from; s < nslots; s++)
		{
			if (owner[s] == sn[k].node)
			{
				owner[s] = -1;
				pool[npool++] = s;
			}
		}
		sn[k].count = sn[k].target;
	}

	/* under-loaded nodes take from the pool */
	qsort(sn, n, sizeof(SlotNode), receiver_cmp);
	for (int k = 0; k < n; k++)
	{
		while (sn[k].count < sn[k].target)
		{
			Assert(take < npool);
			owner[pool[take++]] = sn[k].node;
			sn[k].count++;
		}
	}
	pfree(sn);
	pfree(pos);
	pfree(pool);
}

/* ---- balanced token allocation ---- */

typedef struct Balance
{
	uint64	   *tok;			/* biased tokens, ascending */
	int32	   *own;
	uint32		n;
	double	   *load;			/* positions owned, per node */
	int32	   *count;			/* tokens, per node */
} Balance;

/* Positions of the range ending at token k: (previous token, token k]. */
static uint128
range_size(const Balance *b, uint32 k)
{
	if (b->n == 1)
		return ((uint128) 1) << 64;
	return (uint64) (b->tok[k] - b->tok[k == 0 ? b->n - 1 : k - 1]);
}

static void
insert_token(Balance *b, uint64 biased, int32 node)
{
	uint32		lo = 0;
	uint32		hi = b->n;

	while (lo < hi)
	{
		uint32		mid = lo + (hi - lo) / 2;

		if (b->tok[mid] < biased)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(&b->tok[lo + 1], &b->tok[lo], (b->n - lo) * sizeof(uint64));
	memmove(&b->own[lo + 1], &b->own[lo], (b->n - lo) * sizeof(int32));
	b->tok[lo] = biased;
	b->own[lo] = node;
	b->n++;
	b->count[node]++;
}

/*
 * The new stored tokens of a balanced 'vnode' ring: tokens (ascending by
 * biased value) are the current ones, nodes the newest version's with their
 * target token counts.  Returns the new tokens, ascending, in palloc'd
 * memory.
 */
LayoutToken *
ring_layout_balanced(const LayoutToken *tokens, uint32 ntokens,
					 const LayoutNode *nodes, int nnodes, uint32 *nresult)
{
	Balance		b;
	uint64		total = 0;
	double		wtotal = 0;
	LayoutToken *result;

	for (int i = 0; i < nnodes; i++)
	{
		total += nodes[i].target;
		if (nodes[i].target > 0)
			wtotal += nodes[i].weight;
	}
	b.tok = palloc((Max(total, ntokens) + 1) * sizeof(uint64));
	b.own = palloc((Max(total, ntokens) + 1) * sizeof(int32));
	b.load = palloc0(Max(nnodes, 1) * sizeof(double));
	b.count = palloc0(Max(nnodes, 1) * sizeof(int32));
	b.n = 0;

	/* the tokens of nodes that stay */
	for (uint32 t = 0; t < ntokens; t++)
	{
		int32		node = tokens[t].node;

		if (node < 0 || nodes[node].target == 0)
			continue;
		b.tok[b.n] = tokens[t].biased;
		b.own[b.n++] = node;
		b.count[node]++;
	}

	for (uint32 k = 0; k < b.n; k++)
		b.load[b.own[k]] += (double) range_size(&b, k);

	/*
	 * Nodes over their count drop tokens one at a time: the one whose range
	 * is closest to what the node still owns beyond its share, divided by
	 * the tokens it has yet to drop.
	 */
	for (int i = 0; i < nnodes; i++)
	{
		double		share = ldexp(nodes[i].weight / wtotal, 64);

		while (b.count[i] > nodes[i].target)
		{
			double		want = (b.load[i] - share) / (b.count[i] - nodes[i].target);
			double		best_diff = 0;
			uint32		best = 0;
			bool		found = false;
			uint32		next;
			double		size;

			for (uint32 k = 0; k < b.n; k++)
			{
				double		diff;

				if (b.own[k] != i)
					continue;
				diff = fabs((double) range_size(&b, k) - want);
				if (!found || diff < best_diff)
				{
					best_diff = diff;
					best = k;
					found = true;
				}
			}
			/* its range goes to the owner of the next token */
			size = (double) range_size(&b, best);
			next = best + 1 == b.n ? 0 : best + 1;
			b.load[i] -= size;
			b.load[b.own[next]] += size;
			memmove(&b.tok[best], &b.tok[best + 1], (b.n - best - 1) * sizeof(uint64));
			memmove(&b.own[best], &b.own[best + 1], (b.n - best - 1) * sizeof(int32));
			b.n--;
			b.count[i]--;
		}
	}

	/* nodes under their count place new tokens, in name order */
	for (int i = 0; i < nnodes; i++)
	{
		int32		missing = nodes[i].target - b.count[i];
		double		share = ldexp(nodes[i].weight / wtotal, 64);

		if (missing <= 0)
			continue;
		if (b.n == 0)
		{
			for (int32 k = 0; k < missing; k++)
			{
				uint128		end = (((uint128) (k + 1)) << 64) / (uint32) missing;

				insert_token(&b, (uint64) (end - 1), i);
			}
			b.load[i] = ldexp(1.0, 64);
			continue;
		}
		for (int32 k = 0; k < missing; k++)
		{
			int			donor = -1;
			double		worst = -1;
			uint32		best = 0;
			uint128		size = 0;
			uint64		prev;
			uint64		take;
			double		want;

			/* each token scans the nodes and tokens: let a long run be cancelled */
			CHECK_FOR_INTERRUPTS();
			for (int j = 0; j < nnodes; j++)
			{
				double		ratio;

				if (j == i || b.count[j] == 0)
					continue;
				ratio = b.load[j] / nodes[j].weight;
				if (ratio > worst)
				{
					worst = ratio;
					donor = j;
				}
			}
			if (donor < 0)
				donor = i;
			for (uint32 t = 0; t < b.n; t++)
			{
				if (b.own[t] == donor && range_size(&b, t) > size)
				{
					size = range_size(&b, t);
					best = t;
				}
			}
			if (size < 2)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("no room left in the token space for a new token")));
			prev = b.tok[best == 0 ? b.n - 1 : best - 1];
			if (b.n == 1)
				prev = b.tok[0];
			want = (share - b.load[i]) / (missing - k);
			if (want < 1)
				take = 1;
			else if (want >= (double) (size - 1))
				take = (uint64) (size - 1);
			else
				take = (uint64) want;
			insert_token(&b, prev + take, i);
			b.load[donor] -= (double) take;
			b.load[i] += (double) take;
		}
	}

	result = palloc(Max(b.n, 1) * sizeof(LayoutToken));
	for (uint32 k = 0; k < b.n; k++)
	{
		result[k].biased = b.tok[k];
		result[k].node = b.own[k];
	}
	*nresult = b.n;
	return result;
}

/* Token order, for qsort. */
int
ring_layout_token_cmp(const void *a, const void *b)
{
	uint64		x = ((const LayoutToken *) a)->biased;
	uint64		y = ((const LayoutToken *) b)->biased;

	return (x > y) - (x < y);
}

/* Index of name among names (sorted by bytes), or -1. */
int32
ring_layout_find_name(text **names, int n, text *name)
{
	int			lo = 0;
	int			hi = n - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;
		int			la = VARSIZE_ANY_EXHDR(names[mid]);
		int			lb = VARSIZE_ANY_EXHDR(name);
		int			c = memcmp(VARDATA_ANY(names[mid]), VARDATA_ANY(name), Min(la, lb));

		if (c == 0)
			c = (la > lb) - (la < lb);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}
