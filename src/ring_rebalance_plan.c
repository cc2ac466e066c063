/*-------------------------------------------------------------------------
 *
 * ring_rebalance_plan.c
 *	  Planning the moves that bring every node of a ring within a
 *	  threshold of its share of a table's bytes, moving the least data,
 *	  from what ring_rebalance.c measured.
 *
 * Plan.  Node i's target is its capacity's share of the bytes (capacity:
 * ring_set_capacity, else its weight).  The ring is balanced when every
 * node's bytes are within [(1 - t) target, (1 + t) target], t the
 * threshold.  Imbalance is the sum over nodes of how far each is outside
 * that band.  Moves are chosen greedily by imbalance removed per byte
 * moved, the largest removal on ties, until the ring is balanced or no
 * move removes at least improvement_threshold times its bytes (a move
 * between a node above its band and one below removes twice its bytes).
 * 'slots' and 'redis' rings move single slots (or, when no single move is
 * worth it, swap two slots of different sizes); 'cassandra' and balanced
 * 'vnode' rings move a token with its range the same way.  Hashed 'vnode'
 * rings change a node's virtual node count (its weight) by 1 to 16, which
 * moves the ranges of the tokens added or removed, and pin heavy keys to
 * other nodes (at most max_pins): several plans are made (weights alone,
 * then pins; the heaviest keys held where they are while the weights
 * change, then pins, then weights and pins again; pins alone) and the best
 * kept.  A node being drained loses its virtual nodes first, and its
 * pinned keys go to other nodes.  The plan reports net moves: a unit that
 * moved twice is reported once, from its first owner to its last.
 *
 * Lower bound: to bring every node within its band, at least the bytes
 * above the bands, and at least those missing below them, must move.  A
 * node's band is widened only where a slot the plan leaves on it (on a
 * 'vnode' ring: the heaviest key) is heavier than the band with its pinned
 * bytes: then at least the rest must leave it.  The
 * floor of max(bytes / target) is the largest of 1, the heaviest slot (on
 * a 'vnode' ring: a lower bound of the heaviest key's bytes, from the
 * Space-Saving summary of the scan) over the largest target, and each
 * node's pinned bytes over its target: no assignment of whole slots (keys)
 * does better.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "ring_rebalance_private.h"

/*
 * Most virtual nodes one step of a 'vnode' plan adds to or removes from a
 * node: plans are made with each of these limits, the best kept.
 */
static const int rebalance_vnode_steps[] = {1, 2, 4, 8, 16};

/*
 * Least imbalance removed per byte of the weight changes made before pins:
 * plans are made with each (and the improvement threshold), the best kept.
 */
static const double rebalance_pin_efficiency[] = {0, 1.0, 1.5};

/* How far bytes is outside a node's band. */
static inline double
distance(const RebalanceNode *node, double bytes)
{
	if (bytes > node->high)
		return bytes - node->high;
	if (bytes < node->low)
		return node->low - bytes;
	return 0;
}

/* Set every node's target and band; the imbalance and floor before moves. */
static void
plan_targets(Rebalance *rb)
{
	double		capacity = 0;
	double		total = 0;
	double		max_target = 0;
	int64		max_unit = 0;

	for (int i = 0; i < rb->nnodes; i++)
	{
		RebalanceNode *node = &rb->nodes[i];

		node->receives = node->weight > 0 && node->capacity > 0;
		node->load = node->bytes;
		node->load_rows = node->rows;
		if (node->weight > 0)
		{
			capacity += node->capacity;
			total += node->bytes;
		}
	}
	if (!(capacity > 0))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no node of ring \"%s\" has a capacity greater than 0", rb->ring->name),
				 errhint("Give a node a capacity with ring_set_capacity().")));
	rb->ratio_before = 0;
	rb->ratio_floor = 1;
	for (int i = 0; i < rb->nnodes; i++)
	{
		RebalanceNode *node = &rb->nodes[i];

		if (!(node->weight > 0))
		{
			/* holds nothing but keys pinned to it: no band */
			node->target = node->low = node->high = (double) node->bytes;
			continue;
		}
		node->target = total * node->capacity / capacity;
		node->low = (1 - rb->threshold) * node->target;
		node->high = (1 + rb->threshold) * node->target;
		max_target = Max(max_target, node->target);
		if (node->target > 0)
		{
			rb->ratio_before = Max(rb->ratio_before, node->bytes / node->target);
			rb->ratio_floor = Max(rb->ratio_floor, node->fixed_bytes / node->target);
		}
	}
	for (int u = 0; u < rb->nunits; u++)
		max_unit = Max(max_unit, rb->units[u].bytes);
	if (!rb->by_slots)
		max_unit = rb->heaviest_key;
	if (max_target > 0)
		rb->ratio_floor = Max(rb->ratio_floor, max_unit / max_target);
	if (total == 0)
		rb->ratio_before = rb->ratio_floor = 1;
}

/* Move unit u's bytes from node a to node b in the running plan. */
static void
plan_shift(Rebalance *rb, int a, int b, int64 bytes, int64 rows)
{
	rb->nodes[a].load -= bytes;
	rb->nodes[a].load_rows -= rows;
	rb->nodes[b].load += bytes;
	rb->nodes[b].load_rows += rows;
}

/*
 * Whether a move removing gain at efficiency eff beats the best so far:
 * higher efficiency, then (efficiencies equal but for rounding) more gain.
 */
static inline bool
better_move(double eff, double gain, double best_eff, double best_gain)
{
	if (eff > best_eff + 1e-9)
		return true;
	return eff > best_eff - 1e-9 && gain > best_gain;
}

/* Imbalance removed by moving x bytes from a to b. */
static inline double
move_gain(const Rebalance *rb, int a, int b, double x)
{
	const RebalanceNode *na = &rb->nodes[a];
	const RebalanceNode *nb = &rb->nodes[b];

	return distance(na, na->load) + distance(nb, nb->load) -
		distance(na, na->load - x) - distance(nb, nb->load + x);
}

/* Whether every node is within its band. */
static bool
plan_balanced(const Rebalance *rb)
{
	for (int i = 0; i < rb->nnodes; i++)
		if (distance(&rb->nodes[i], rb->nodes[i].load) > 0)
			return false;
	return true;
}

/* Smaller slot first, for qsort_arg over unit indexes. */
static int
unit_lighter_cmp(const void *a, const void *b, void *arg)
{
	const RebalanceUnit *units = arg;
	int64		x = units[*(const int *) a].bytes;
	int64		y = units[*(const int *) b].bytes;

	if (x != y)
		return x < y ? -1 : 1;
	return (*(const int *) a > *(const int *) b) - (*(const int *) a < *(const int *) b);
}

/* Index into sorted (n unit indexes, lighter first) of the first of at least bytes. */
static int
lighter_search(const Rebalance *rb, const int *sorted, int n, double bytes)
{
	int			lo = 0;
	int			hi = n;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if ((double) rb->units[sorted[mid]].bytes < bytes)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Swap a slot of the node furthest outside its band with a slot of another
 * node, the swap that removes the most imbalance per byte moved; false if
 * none removes at least improvement_threshold times its bytes.  This gets
 * past the point where a heavy slot fits nowhere until the receiver gives
 * up lighter ones.  For each slot r of another node, the slots s of the
 * node tried are those nearest in size to r plus what would bring the node
 * to its band or to its target (a binary search over its slots by size).
 */
static bool
plan_swap(Rebalance *rb)
{
	int			a = -1;
	double		worst = 0;
	int			best_s = -1;
	int			best_r = -1;
	double		best_eff = 0;
	double		best_gain = 0;
	int		   *mine;
	int			nmine = 0;
	double		wants[2];

	for (int i = 0; i < rb->nnodes; i++)
	{
		double		d = distance(&rb->nodes[i], rb->nodes[i].load);

		if (rb->nodes[i].receives && d > worst)
		{
			worst = d;
			a = i;
		}
	}
	if (a < 0)
		return false;
	/* the net bytes a should give (negative: take) */
	if (rb->nodes[a].load > rb->nodes[a].high)
		wants[0] = rb->nodes[a].load - rb->nodes[a].high;
	else
		wants[0] = rb->nodes[a].load - rb->nodes[a].low;
	wants[1] = rb->nodes[a].load - rb->nodes[a].target;

	mine = palloc_extended(sizeof(int) * Max(rb->nunits, 1), MCXT_ALLOC_HUGE);
	for (int u = 0; u < rb->nunits; u++)
		if (rb->units[u].plan_owner == a)
			mine[nmine++] = u;
	qsort_arg(mine, nmine, sizeof(int), unit_lighter_cmp, rb->units);

	for (int r = 0; r < rb->nunits; r++)
	{
		RebalanceUnit *ur = &rb->units[r];
		int			b = ur->plan_owner;

		if ((r & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		if (b < 0 || b == a || !rb->nodes[b].receives)
			continue;
		for (int w = 0; w < 2; w++)
		{
			int			at = lighter_search(rb, mine, nmine, ur->bytes + wants[w]);

			for (int k = at - 1; k <= at; k++)
			{
				RebalanceUnit *us;
				double		net;
				double		gain;
				double		eff;

				if (k < 0 || k >= nmine)
					continue;
				us = &rb->units[mine[k]];
				if (us->bytes == ur->bytes)
					continue;
				net = (double) us->bytes - (double) ur->bytes;	/* a to b */
				gain = move_gain(rb, a, b, net);
				if (!(gain > 0))
					continue;
				eff = gain / (double) (us->bytes + ur->bytes);
				if (better_move(eff, gain, best_eff, best_gain))
				{
					best_eff = eff;
					best_gain = gain;
					best_s = mine[k];
					best_r = r;
				}
			}
		}
	}
	pfree(mine);
	if (best_s < 0 || best_eff < rb->improvement || best_gain < 0.5)
		return false;
	{
		int			b = rb->units[best_r].plan_owner;

		plan_shift(rb, a, b, rb->units[best_s].bytes, rb->units[best_s].rows);
		plan_shift(rb, b, a, rb->units[best_r].bytes, rb->units[best_r].rows);
		rb->units[best_s].plan_owner = b;
		rb->units[best_r].plan_owner = a;
	}
	return true;
}

/*
 * Whether a planner takes another step: the ring is not balanced yet and
 * the steps are not past their bound (4 per unit).  Lets a cancel or
 * statement_timeout in between steps.
 */
static bool
plan_go_on(const Rebalance *rb, int *steps)
{
	CHECK_FOR_INTERRUPTS();
	return !plan_balanced(rb) && (*steps)++ < 4 * rb->nunits;
}

/*
 * 'slots' and 'redis': move one slot at a time.  For each slot, the
 * receivers worth trying are the node furthest below its band and the one
 * with the most room in it (other than the slot's owner).
 */
static void
plan_slots(Rebalance *rb)
{
	int			steps = 0;

	while (plan_go_on(rb, &steps))
	{
		int			deficit[2] = {-1, -1};
		int			room[2] = {-1, -1};
		int			best_u = -1;
		int			best_b = -1;
		double		best_eff = 0;
		double		best_gain = 0;

		for (int i = 0; i < rb->nnodes; i++)
		{
			RebalanceNode *node = &rb->nodes[i];
			double		d = node->low - node->load;
			double		r = node->high - node->load;

			if (!node->receives)
				continue;
			if (deficit[0] < 0 || d > rb->nodes[deficit[0]].low - rb->nodes[deficit[0]].load)
			{
				deficit[1] = deficit[0];
				deficit[0] = i;
			}
			else if (deficit[1] < 0 || d > rb->nodes[deficit[1]].low - rb->nodes[deficit[1]].load)
				deficit[1] = i;
			if (room[0] < 0 || r > rb->nodes[room[0]].high - rb->nodes[room[0]].load)
			{
				room[1] = room[0];
				room[0] = i;
			}
			else if (room[1] < 0 || r > rb->nodes[room[1]].high - rb->nodes[room[1]].load)
				room[1] = i;
		}
		for (int u = 0; u < rb->nunits; u++)
		{
			RebalanceUnit *unit = &rb->units[u];
			int			a = unit->plan_owner;
			int			cand[2];
			double		x = (double) unit->bytes;

			if (a < 0 || unit->bytes == 0)
				continue;
			cand[0] = deficit[0] == a ? deficit[1] : deficit[0];
			cand[1] = room[0] == a ? room[1] : room[0];
			for (int c = 0; c < 2; c++)
			{
				int			b = cand[c];
				double		gain;
				double		eff;

				if (b < 0)
					continue;
				gain = move_gain(rb, a, b, x);
				eff = gain / x;
				if (gain > 0 && better_move(eff, gain, best_eff, best_gain))
				{
					best_eff = eff;
					best_gain = gain;
					best_u = u;
					best_b = b;
				}
			}
		}
		if (best_u < 0 || best_eff < rb->improvement || best_gain < 0.5)
		{
			/* no single move is worth it: swap two slots, if that is */
			if (!plan_swap(rb))
				break;
			continue;
		}
		plan_shift(rb, rb->units[best_u].plan_owner, best_b,
				   rb->units[best_u].bytes, rb->units[best_u].rows);
		rb->units[best_u].plan_owner = best_b;
	}
}

/* Bytes and rows of units (from, to], wrapping; all of them if from == to. */
static void
range_sum(const Rebalance *rb, int from, int to, int64 *bytes, int64 *rows)
{
	int64		b;
	int64		r;

	if (from < to)
	{
		b = rb->prefix[to + 1] - rb->prefix[from + 1];
		r = rb->prefix_rows[to + 1] - rb->prefix_rows[from + 1];
	}
	else
	{
		b = rb->prefix[rb->nunits] - rb->prefix[from + 1] + rb->prefix[to + 1];
		r = rb->prefix_rows[rb->nunits] - rb->prefix_rows[from + 1] + rb->prefix_rows[to + 1];
	}
	*bytes = b;
	*rows = r;
}

/* A node's change of load while a 'vnode' step is tried. */
typedef struct LoadDelta
{
	int			node;
	int64		bytes;
	int64		rows;
} LoadDelta;

static void
delta_add(LoadDelta *d, int *nd, int node, int64 bytes, int64 rows)
{
	for (int i = 0; i < *nd; i++)
		if (d[i].node == node)
		{
			d[i].bytes += bytes;
			d[i].rows += rows;
			return;
		}
	d[*nd].node = node;
	d[*nd].bytes = bytes;
	d[(*nd)++].rows = rows;
}

/*
 * Activate (on) or deactivate token k, recording in d whose load changes:
 * its range (previous token, k] goes to k's node, or back to the owner of
 * the next token.  Returns the bytes that change owner.
 */
static int64
vnode_toggle(Rebalance *rb, int k, bool on, LoadDelta *d, int *nd)
{
	int			prev = prev_active(rb, k);
	int			next;
	int			from;
	int			to;
	int64		bytes;
	int64		rows;

	if (on)
	{
		next = next_active(rb, k);
		if (!rb->active[next] || next == k)
		{
			rb->active[k] = true;
			return 0;
		}
		from = rb->potential[next].node;
		to = rb->potential[k].node;
		rb->active[k] = true;
	}
	else
	{
		rb->active[k] = false;
		next = next_active(rb, k);
		if (!rb->active[next])
			return 0;			/* the last token: not done */
		from = rb->potential[k].node;
		to = rb->potential[next].node;
	}
	if (prev == k)
		prev = next;
	range_sum(rb, prev, k, &bytes, &rows);
	if (from == to)
		return 0;
	delta_add(d, nd, from, -bytes, -rows);
	delta_add(d, nd, to, bytes, rows);
	return bytes;
}

/*
 * 'vnode': the sums of the units before each, for range_sum: the bytes a
 * range takes with it, not those of keys the plan pins.
 */
static void
prefix_build(Rebalance *rb)
{
	if (rb->prefix == NULL)
	{
		rb->prefix = palloc_extended(sizeof(int64) * (rb->nunits + 1), MCXT_ALLOC_HUGE);
		rb->prefix_rows = palloc_extended(sizeof(int64) * (rb->nunits + 1), MCXT_ALLOC_HUGE);
	}
	rb->prefix[0] = rb->prefix_rows[0] = 0;
	for (int u = 0; u < rb->nunits; u++)
	{
		rb->prefix[u + 1] = rb->prefix[u] + rb->units[u].bytes - rb->units[u].pinned_bytes;
		rb->prefix_rows[u + 1] = rb->prefix_rows[u] + rb->units[u].rows - rb->units[u].pinned_rows;
	}
}

/* 'vnode': each unit's owner after the plan so far. */
static void
units_owners(Rebalance *rb)
{
	for (int k = 0; k < rb->nunits; k++)
	{
		int			next = rb->active[k] ? k : next_active(rb, k);

		rb->units[k].plan_owner = rb->active[next] ? rb->potential[next].node : -1;
	}
}

/*
 * 'vnode': take every virtual node from the nodes being drained (capacity
 * 0), before any other step: greedy steps alone can get stuck where a
 * drained node's range would go to a node above its band.
 */
static void
plan_drain(Rebalance *rb)
{
	LoadDelta  *d = NULL;

	for (int i = 0; i < rb->nnodes; i++)
	{
		RebalanceNode *node = &rb->nodes[i];

		if (!(node->weight > 0) || node->receives)
			continue;
		if (d == NULL)
		{
			d = palloc(sizeof(LoadDelta) * (rb->nnodes + 1));
			prefix_build(rb);
		}
		while (node->vnodes > 0)
		{
			int			nd = 0;

			(void) vnode_toggle(rb, node->tokens[node->vnodes - 1], false, d, &nd);
			for (int j = 0; j < nd; j++)
			{
				rb->nodes[d[j].node].load += d[j].bytes;
				rb->nodes[d[j].node].load_rows += d[j].rows;
			}
			node->vnodes--;
		}
	}
	if (d != NULL)
	{
		pfree(d);
		units_owners(rb);
	}
}

/*
 * 'vnode': give a node 1 to max_step more or fewer virtual nodes
 * at a time (its tokens are its first vnodes ones, so the tokens added are
 * the next ones, those removed its last ones).
 */
static void
plan_vnodes(Rebalance *rb, int max_step, double min_eff)
{
	LoadDelta  *d = palloc(sizeof(LoadDelta) * (2 * max_step + 2));
	int			steps = 0;
	int64		total = 0;

	for (int i = 0; i < rb->nnodes; i++)
		total += rb->nodes[i].vnodes;

	prefix_build(rb);

	while (plan_go_on(rb, &steps))
	{
		int			best_node = -1;
		int			best_step = 0;
		double		best_eff = 0;
		double		best_gain = 0;

		for (int i = 0; i < rb->nnodes; i++)
		{
			RebalanceNode *node = &rb->nodes[i];

			if (!(node->weight > 0))
				continue;
			for (int dir = -1; dir <= 1; dir += 2)
			{
				int			nd = 0;
				int64		moved = 0;
				int			m;

				for (m = 1; m <= max_step; m++)
				{
					int			v = dir > 0 ? node->vnodes + m - 1 : node->vnodes - m;
					double		gain = 0;

					if (v < 0 || v >= node->max_vnodes ||
						(dir < 0 && v == 0 && node->capacity > 0) ||
						(dir > 0 && total + m > RING_MAX_RING_TOKENS))
						break;
					moved += vnode_toggle(rb, node->tokens[v], dir > 0, d, &nd);
					for (int j = 0; j < nd; j++)
					{
						RebalanceNode *x = &rb->nodes[d[j].node];

						gain += distance(x, x->load) - distance(x, x->load + d[j].bytes);
					}
					if (moved > 0 && gain > 0)
					{
						double		eff = gain / moved;

						if (better_move(eff, gain, best_eff, best_gain))
						{
							best_eff = eff;
							best_gain = gain;
							best_node = i;
							best_step = dir * m;
						}
					}
				}
				/* undo */
				for (int k = m - 1; k >= 1; k--)
				{
					int			v = dir > 0 ? node->vnodes + k - 1 : node->vnodes - k;

					rb->active[node->tokens[v]] = dir < 0;
				}
			}
		}
		if (best_node < 0 || best_eff < min_eff || best_gain < 0.5)
			break;
		{
			RebalanceNode *node = &rb->nodes[best_node];
			int			nd = 0;
			int			m = abs(best_step);

			for (int k = 1; k <= m; k++)
			{
				int			v = best_step > 0 ? node->vnodes + k - 1 : node->vnodes - k;

				(void) vnode_toggle(rb, node->tokens[v], best_step > 0, d, &nd);
			}
			for (int j = 0; j < nd; j++)
			{
				rb->nodes[d[j].node].load += d[j].bytes;
				rb->nodes[d[j].node].load_rows += d[j].rows;
			}
			node->vnodes += best_step;
			total += best_step;
		}
	}
	pfree(d);
	units_owners(rb);
}

/*
 * Pin a candidate to node to (-1: unpin it), keeping its unit's pinned
 * bytes: those of the heavy keys pinned out of it.  Loads do not change.
 */
static void
cand_set(Rebalance *rb, PinCandidate *cand, int to)
{
	RebalanceUnit *unit = &rb->units[cand->unit];

	if (!cand->existing && (cand->pin_to < 0) != (to < 0))
	{
		int			sign = to >= 0 ? 1 : -1;

		unit->pinned_bytes += sign * cand->bytes;
		unit->pinned_rows += sign * cand->rows;
	}
	cand->pin_to = to;
}

/* How many keys the plan pins (not counting pins it only moves). */
static int
plan_pin_count(const Rebalance *rb)
{
	int			n = 0;

	for (int c = 0; c < rb->ncand; c++)
		n += rb->cand[c].pin_to >= 0 && !rb->cand[c].existing;
	return n;
}

/*
 * 'vnode': hold the heaviest pin candidates where they are, so that the weight changes
 * that follow move the ranges without their heavy keys.
 */
static void
plan_hold(Rebalance *rb)
{
	/* the heaviest ones: at most max_pins stay pinned */
	for (int c = 0; c < Min(rb->ncand, rb->max_pins); c++)
	{
		PinCandidate *cand = &rb->cand[c];
		RebalanceUnit *unit = &rb->units[cand->unit];

		/* not on a node being drained: its keys are to leave it */
		if (cand->existing || unit->owner < 0 || !rb->nodes[unit->owner].receives)
			continue;
		cand_set(rb, cand, unit->owner);
	}
}

/*
 * Let go of the pins that keep a key on the node its range goes to anyway:
 * no pin is needed for it (and none is made).
 */
static void
plan_release(Rebalance *rb)
{
	for (int c = 0; c < rb->ncand; c++)
	{
		PinCandidate *cand = &rb->cand[c];

		if (cand->pin_to >= 0 && cand->pin_to == rb->units[cand->unit].plan_owner)
			cand_set(rb, cand, -1);
	}
}

/*
 * 'vnode': pin heavy keys to other nodes, after the weight changes (whose
 * lever is coarse: a node keeps every token before the one that covers a
 * heavy key).  A pin moves one key, exactly counted, the way ring_pin does
 * (Citus isolates a tenant the same way).  Pins are few (max_pins), so
 * each step takes the pin removing the most imbalance among those that
 * remove at least improvement_threshold times their bytes, over the
 * candidates and the nodes that may receive.  A key pinned back to the
 * node it is on now stays there while its range moves; a key pinned to a
 * node being drained moves like the others.
 */
static void
plan_pins(Rebalance *rb)
{
	int			steps = 0;
	int			npins = plan_pin_count(rb);

	while (plan_go_on(rb, &steps))
	{
		int			best_cand = -1;
		int			best_to = -1;
		double		best_eff = 0;
		double		best_gain = 0;

		for (int c = 0; c < rb->ncand; c++)
		{
			PinCandidate *cand = &rb->cand[c];
			int			a = cand_at(rb, cand);

			if (a < 0 || (cand->pin_to < 0 && !cand->existing && npins >= rb->max_pins))
				continue;
			for (int b = 0; b < rb->nnodes; b++)
			{
				double		gain;
				double		eff;

				if (b == a || !rb->nodes[b].receives)
					continue;
				gain = move_gain(rb, a, b, (double) cand->bytes);
				eff = gain / cand->bytes;
				/* a pin is scarce: the most imbalance removed per pin */
				if (gain > 0 && eff >= rb->improvement &&
					(rb->pins_by_gain ? better_move(gain, eff, best_gain, best_eff) :
					 better_move(eff, gain, best_eff, best_gain)))
				{
					best_eff = eff;
					best_gain = gain;
					best_cand = c;
					best_to = b;
				}
			}
		}
		if (best_cand < 0 || best_eff < rb->improvement || best_gain < 0.5)
			break;
		{
			PinCandidate *cand = &rb->cand[best_cand];

			plan_shift(rb, cand_at(rb, cand), best_to, cand->bytes, cand->rows);
			if (cand->pin_to < 0 && !cand->existing)
				npins++;
			cand_set(rb, cand, best_to);
		}
	}
}

/*
 * 'vnode': after the weight changes and pins, pin heavy keys whose range
 * moved back to the node they are on now, heaviest first, wherever that
 * leaves the ring no further outside the bands (the two nodes' distances
 * added) and no node above the largest ratio: data that need not move
 * stays.
 */
static void
plan_give_back(Rebalance *rb)
{
	double		max_ratio = 0;
	int			npins = plan_pin_count(rb);

	for (int i = 0; i < rb->nnodes; i++)
		if (rb->nodes[i].target > 0)
			max_ratio = Max(max_ratio, rb->nodes[i].load / rb->nodes[i].target);
	/* candidates are heaviest first */
	for (int c = 0; c < rb->ncand; c++)
	{
		PinCandidate *cand = &rb->cand[c];
		int			a = cand_at(rb, cand);
		int			b = cand_from(rb, cand);
		RebalanceNode *nb;

		CHECK_FOR_INTERRUPTS();
		if (a < 0 || b < 0 || a == b || !rb->nodes[b].receives ||
			(cand->pin_to < 0 && !cand->existing && npins >= rb->max_pins))
			continue;
		nb = &rb->nodes[b];
		if (move_gain(rb, a, b, (double) cand->bytes) < 0 ||
			(nb->load + cand->bytes) / nb->target > max_ratio)
			continue;
		plan_shift(rb, a, b, cand->bytes, cand->rows);
		if (cand->pin_to < 0 && !cand->existing)
			npins++;
		cand_set(rb, cand, b);
	}
}

/* A candidate plan: each unit's owner, each node's virtual nodes, its score. */
typedef struct PlanResult
{
	bool		valid;
	int32	   *owner;
	int32	   *vnodes;
	int32	   *pin_to;			/* of each pin candidate */
	bool		balanced;
	double		ratio;			/* max bytes / target */
	double		outside;		/* imbalance left */
	int64		moved;
	int			npins;
	int64		stranded;		/* bytes left on nodes being drained */
} PlanResult;

/* Back to the ring as it is, before any move. */
static void
plan_reset(Rebalance *rb)
{
	for (int u = 0; u < rb->nunits; u++)
	{
		rb->units[u].plan_owner = rb->units[u].owner;
		rb->units[u].pinned_bytes = rb->units[u].pinned_rows = 0;
	}
	for (int c = 0; c < rb->ncand; c++)
		rb->cand[c].pin_to = rb->cand[c].existing ? rb->cand[c].from : -1;
	for (int i = 0; i < rb->nnodes; i++)
	{
		RebalanceNode *node = &rb->nodes[i];

		node->load = node->bytes;
		node->load_rows = node->rows;
		if (!rb->by_slots)
			node->vnodes = rb->ring->unpinned ? rb->ring->unpinned->nodes[i].vnodes :
				rb->ring->nodes[i].vnodes;
	}
	if (!rb->by_slots)
	{
		for (int k = 0; k < rb->nunits; k++)
			rb->active[k] = rb->potential[k].vnode < rb->nodes[rb->potential[k].node].vnodes;
		plan_drain(rb);
	}
}

/*
 * Keep the plan just made if it beats best: less data left on nodes being
 * drained (their ratio is infinite), then balanced with less data moved,
 * or (neither balanced) a lower largest ratio, less imbalance left (by more
 * than 1% of a node's mean bytes), less data moved; where the data moved
 * differs by at most 1%, fewer keys pinned.
 */
static void
plan_keep(Rebalance *rb, PlanResult *best)
{
	PlanResult	r = {0};
	int64	   *load;
	bool		better;

	if (plan_pin_count(rb) > rb->max_pins)
		return;					/* held keys whose ranges moved: too many */
	load = palloc0(sizeof(int64) * rb->nnodes);

	for (int i = 0; i < rb->nnodes; i++)
		load[i] = rb->nodes[i].fixed_bytes;
	for (int u = 0; u < rb->nunits; u++)
	{
		RebalanceUnit *unit = &rb->units[u];

		if (unit->plan_owner >= 0)
			load[unit->plan_owner] += unit->bytes - unit->pinned_bytes;
		if (unit->plan_owner != unit->owner && unit->owner >= 0 && unit->plan_owner >= 0)
			r.moved += unit->bytes - unit->pinned_bytes;
	}
	for (int c = 0; c < rb->ncand; c++)
	{
		const PinCandidate *cand = &rb->cand[c];
		int			at = cand_at(rb, cand);

		/* a heavy key not pinned is part of its unit's bytes */
		if ((cand->pin_to < 0 && !cand->existing) || at < 0)
			continue;
		load[at] += cand->bytes;
		if (at != cand_from(rb, cand))
			r.moved += cand->bytes;
	}
	r.balanced = true;
	for (int i = 0; i < rb->nnodes; i++)
	{
		RebalanceNode *node = &rb->nodes[i];
		double		dist;

		if (!(node->weight > 0))
			continue;
		dist = distance(node, (double) load[i]);
		r.outside += dist;
		r.balanced &= dist == 0;
		if (node->target > 0)
			r.ratio = Max(r.ratio, load[i] / node->target);
		else
			r.stranded += load[i];
	}
	pfree(load);
	r.npins = plan_pin_count(rb);
	if (!best->valid)
		better = true;
	else if (r.stranded != best->stranded)
		better = r.stranded < best->stranded;
	else if (r.balanced != best->balanced)
		better = r.balanced;
	else if (!r.balanced && fabs(r.ratio - best->ratio) > 1e-9)
		better = r.ratio < best->ratio;
	else if (!r.balanced &&
			 fabs(r.outside - best->outside) > 0.01 * rb->total_bytes / Max(rb->nnodes, 1))
		better = r.outside < best->outside;
	else if (llabs(r.moved - best->moved) > Max(r.moved, best->moved) / 100)
		better = r.moved < best->moved;
	else if (r.npins != best->npins)
		better = r.npins < best->npins;		/* within 1% of the data: fewer pins */
	else
		better = r.moved < best->moved;
	if (!better)
		return;
	if (!best->valid)
	{
		best->owner = palloc_extended(sizeof(int32) * Max(rb->nunits, 1), MCXT_ALLOC_HUGE);
		best->vnodes = palloc(sizeof(int32) * Max(rb->nnodes, 1));
		best->pin_to = palloc(sizeof(int32) * Max(rb->ncand, 1));
	}
	best->valid = true;
	best->balanced = r.balanced;
	best->ratio = r.ratio;
	best->outside = r.outside;
	best->moved = r.moved;
	best->npins = r.npins;
	best->stranded = r.stranded;
	for (int u = 0; u < rb->nunits; u++)
		best->owner[u] = rb->units[u].plan_owner;
	for (int i = 0; i < rb->nnodes; i++)
		best->vnodes[i] = rb->nodes[i].vnodes;
	for (int c = 0; c < rb->ncand; c++)
		best->pin_to[c] = rb->cand[c].pin_to;
}

/* Make the kept plan the plan. */
static void
plan_restore(Rebalance *rb, const PlanResult *best)
{
	for (int u = 0; u < rb->nunits; u++)
	{
		rb->units[u].plan_owner = best->owner[u];
		rb->units[u].pinned_bytes = rb->units[u].pinned_rows = 0;
	}
	for (int i = 0; i < rb->nnodes; i++)
		rb->nodes[i].vnodes = best->vnodes[i];
	for (int c = 0; c < rb->ncand; c++)
	{
		rb->cand[c].pin_to = -1;
		cand_set(rb, &rb->cand[c], best->pin_to[c]);
	}
}

/* Heaviest unit first, for qsort_arg over unit indexes. */
static int
unit_bytes_cmp(const void *a, const void *b, void *arg)
{
	const RebalanceUnit *units = arg;
	int64		x = units[*(const int *) a].bytes;
	int64		y = units[*(const int *) b].bytes;

	if (x != y)
		return x > y ? -1 : 1;
	return (*(const int *) a > *(const int *) b) - (*(const int *) a < *(const int *) b);
}

/*
 * 'slots' and 'redis': a fresh assignment that keeps slots where they are
 * when they fit: heaviest slot first, each stays with its owner if the
 * owner's band has room for it, else goes to the node with the most room
 * (or, fitting nowhere, the one it loads least).  The greedy moves then
 * start from it: where single moves get stuck behind a heavy slot, this
 * finds room for it by moving lighter ones.
 */
static void
plan_sticky_fit(Rebalance *rb)
{
	int		   *order = palloc_extended(sizeof(int) * Max(rb->nunits, 1), MCXT_ALLOC_HUGE);

	for (int u = 0; u < rb->nunits; u++)
		order[u] = u;
	qsort_arg(order, rb->nunits, sizeof(int), unit_bytes_cmp, rb->units);
	for (int i = 0; i < rb->nnodes; i++)
	{
		rb->nodes[i].load = rb->nodes[i].fixed_bytes;
		rb->nodes[i].load_rows = rb->nodes[i].fixed_rows;
	}
	for (int k = 0; k < rb->nunits; k++)
	{
		RebalanceUnit *unit = &rb->units[order[k]];
		int			o = unit->owner;
		int			to = -1;

		if (o < 0)
			continue;
		if (unit->bytes == 0 ||
			(rb->nodes[o].receives && rb->nodes[o].load + unit->bytes <= rb->nodes[o].high))
			to = o;
		else
		{
			double		best_room = 0;
			double		best_ratio = 0;

			for (int i = 0; i < rb->nnodes; i++)
			{
				RebalanceNode *node = &rb->nodes[i];
				double		room = node->high - node->load;

				if (node->receives && room >= unit->bytes && (to < 0 || room > best_room))
				{
					to = i;
					best_room = room;
				}
			}
			if (to < 0)
				for (int i = 0; i < rb->nnodes; i++)
				{
					RebalanceNode *node = &rb->nodes[i];
					double		ratio;

					if (!node->receives || !(node->target > 0))
						continue;
					ratio = (node->load + unit->bytes) / node->target;
					if (to < 0 || ratio < best_ratio)
					{
						to = i;
						best_ratio = ratio;
					}
				}
			if (to < 0)
				to = o;
		}
		unit->plan_owner = to;
		rb->nodes[to].load += unit->bytes;
		rb->nodes[to].load_rows += unit->rows;
	}
	pfree(order);
}

/* Plan, then total the net moves and the figures. */
void
rebalance_plan(Rebalance *rb, double threshold, double improvement, int32 max_pins)
{
	double		excess = 0;
	double		missing = 0;
	PlanResult	best = {0};

	rb->threshold = threshold;
	rb->improvement = improvement;
	rb->max_pins = max_pins;
	if (max_pins == 0)
		rb->ncand = rb->nexisting;	/* no new pins */
	else if (!rb->by_slots)
	{
		/*
		 * Only keys heavier than a virtual node's mean range are worth a
		 * pin: lighter ones move well enough with their ranges.
		 */
		int64		vnodes = 0;
		int			n = rb->nexisting;

		for (int i = 0; i < rb->nnodes; i++)
			vnodes += rb->ring->nodes[i].vnodes;
		while (n < rb->ncand && rb->cand[n].bytes * Max(vnodes, 1) >= rb->total_bytes)
			n++;
		rb->ncand = n;
	}
	plan_targets(rb);
	if (rb->by_slots)
	{
		/* from the layout as it is, then from a sticky first fit */
		plan_slots(rb);
		plan_keep(rb, &best);
		plan_reset(rb);
		plan_sticky_fit(rb);
		plan_slots(rb);
		plan_keep(rb, &best);
	}
	else
	{
		/*
		 * Weights alone, weights then pins, heavy keys held where they are
		 * while the weights change then pins, and pins alone.
		 */
		for (int i = 0; i < lengthof(rebalance_vnode_steps); i++)
		{
			plan_reset(rb);
			plan_vnodes(rb, rebalance_vnode_steps[i], rb->improvement);
			plan_keep(rb, &best);
			if (rb->ncand > 0)
			{
				plan_pins(rb);
				plan_give_back(rb);
				plan_release(rb);
				plan_keep(rb, &best);
				for (int e = 0; e < lengthof(rebalance_pin_efficiency); e++)
				{
					plan_reset(rb);
					plan_hold(rb);
					plan_vnodes(rb, rebalance_vnode_steps[i],
								Max(rb->improvement, rebalance_pin_efficiency[e]));
					plan_release(rb);
					plan_pins(rb);
					plan_give_back(rb);
					plan_release(rb);
					plan_keep(rb, &best);
					/* the weights again around the keys pinned, then pins */
					plan_vnodes(rb, rebalance_vnode_steps[i], rb->improvement);
					plan_release(rb);
					plan_pins(rb);
					plan_give_back(rb);
					plan_release(rb);
					plan_keep(rb, &best);
				}
			}
		}
		if (rb->ncand > 0)
		{
			plan_reset(rb);
			plan_pins(rb);
			plan_release(rb);
			plan_keep(rb, &best);
		}
	}
	plan_restore(rb, &best);

	/* net moves: a unit counts once, from its first owner to its last */
	for (int i = 0; i < rb->nnodes; i++)
	{
		rb->nodes[i].load = rb->nodes[i].fixed_bytes;
		rb->nodes[i].load_rows = rb->nodes[i].fixed_rows;
	}
	rb->moved_bytes = rb->moved_rows = 0;
	for (int u = 0; u < rb->nunits; u++)
	{
		RebalanceUnit *unit = &rb->units[u];

		int64		bytes = unit->bytes - unit->pinned_bytes;
		int64		rows = unit->rows - unit->pinned_rows;

		if (unit->plan_owner >= 0)
		{
			rb->nodes[unit->plan_owner].load += bytes;
			rb->nodes[unit->plan_owner].load_rows += rows;
		}
		if (unit->plan_owner != unit->owner && unit->owner >= 0 && unit->plan_owner >= 0)
		{
			rb->moved_bytes += bytes;
			rb->moved_rows += rows;
			rb->nodes[unit->owner].out_bytes += bytes;
			rb->nodes[unit->plan_owner].in_bytes += bytes;
		}
	}
	for (int c = 0; c < rb->ncand; c++)
	{
		const PinCandidate *cand = &rb->cand[c];
		int			from = cand_from(rb, cand);
		int			at = cand_at(rb, cand);

		if ((cand->pin_to < 0 && !cand->existing) || at < 0)
			continue;
		rb->nodes[at].load += cand->bytes;
		rb->nodes[at].load_rows += cand->rows;
		if (at != from && from >= 0)
		{
			rb->moved_bytes += cand->bytes;
			rb->moved_rows += cand->rows;
			rb->nodes[from].out_bytes += cand->bytes;
			rb->nodes[at].in_bytes += cand->bytes;
		}
	}

	/*
	 * The lower bound.  A node's band is widened only where a slot it keeps
	 * (on a 'vnode' ring: the heaviest key, where the plan leaves it) is
	 * heavier than the band with the node's pinned bytes.
	 */
	for (int i = 0; i < rb->nnodes; i++)
		rb->nodes[i].bound_high = rb->nodes[i].high;
	if (rb->by_slots)
	{
		for (int u = 0; u < rb->nunits; u++)
		{
			RebalanceUnit *unit = &rb->units[u];

			if (unit->plan_owner >= 0)
			{
				RebalanceNode *node = &rb->nodes[unit->plan_owner];

				node->bound_high = Max(node->bound_high,
									   (double) (node->fixed_bytes + unit->bytes));
			}
		}
	}
	else if (rb->heaviest_key > 0)
	{
		int			holder = rb->units[unit_of(rb, rb->heaviest_pos)].plan_owner;

		for (int c = 0; c < rb->ncand; c++)
			if (rb->cand[c].pos == rb->heaviest_pos && rb->cand[c].pin_to >= 0)
				holder = rb->cand[c].pin_to;

		if (holder >= 0)
			rb->nodes[holder].bound_high = Max(rb->nodes[holder].bound_high,
											   (double) (rb->nodes[holder].fixed_bytes +
														 rb->heaviest_key));
	}
	rb->ratio_after = 0;
	for (int i = 0; i < rb->nnodes; i++)
	{
		RebalanceNode *node = &rb->nodes[i];

		if (!(node->weight > 0))
			continue;
		excess += Max(0, node->bytes - node->bound_high);
		missing += Max(0, node->low - node->bytes);
		if (node->target > 0)
			rb->ratio_after = Max(rb->ratio_after, node->load / node->target);
	}
	if (rb->total_bytes == 0)
		rb->ratio_after = 1;
	rb->lower_bound = (int64) ceil(Max(excess, missing));
}

