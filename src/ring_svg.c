/*-------------------------------------------------------------------------
 *
 * ring_svg.c
 *	  ring_svg: an SVG picture of a ring version, or of what moves between
 *	  two versions.
 *
 * The token space is drawn as a circle, the smallest position at the top
 * and positions growing clockwise; each node's ranges are arcs in its
 * colour, with a legend of nodes and their shares.  The moves picture draws
 * the new version and, in an outer band, the ranges that change owner, in
 * the colour of the node they move to.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "ring_cache.h"
#include "ring_diff.h"
#include "ring_compile.h"

#define SVG_WIDTH 720
#define SVG_HEIGHT 440
#define CX 220.0
#define CY 220.0
#define R_IN 130.0
#define R_OUT 175.0
#define R_MOVE_IN 182.0
#define R_MOVE_OUT 198.0
#define TWO_POW_64 18446744073709551616.0

/* Where position pos sits on the circle, as a fraction of a turn. */
static double
turn_of(int64 pos)
{
	return (double) ((uint64) pos ^ RING_SIGN_BIT) / TWO_POW_64;
}

/* The colour of node i of n: hues spread round the wheel. */
static void
append_color(StringInfo buf, int i, int n)
{
	appendStringInfo(buf, "hsl(%d,65%%,%d%%)", (i * 360) / Max(n, 1), 45 + (i % 3) * 8);
}

/* Append s, of len bytes, escaped for XML text and attributes. */
static void
append_escaped(StringInfo buf, const char *s, int len)
{
	for (int i = 0; i < len; i++)
	{
		switch (s[i])
		{
			case '&':
				appendStringInfoString(buf, "&amp;");
				break;
			case '<':
				appendStringInfoString(buf, "&lt;");
				break;
			case '>':
				appendStringInfoString(buf, "&gt;");
				break;
			case '"':
				appendStringInfoString(buf, "&quot;");
				break;
			case '\'':
				appendStringInfoString(buf, "&apos;");
				break;
			default:
				if ((unsigned char) s[i] < 0x20)
					appendStringInfoChar(buf, '?');	/* not allowed in XML */
				else
					appendStringInfoChar(buf, s[i]);
		}
	}
}

/* Append an arc of the band between radii r_in and r_out, in turns. */
static void
append_arc(StringInfo buf, double from, double to, double r_in, double r_out,
		   int color, int ncolors)
{
	double		a0 = from * 2 * M_PI;
	double		a1 = to * 2 * M_PI;
	int			large = (to - from) > 0.5 ? 1 : 0;

	if (to - from >= 0.999999)
	{
		/* a whole circle: two halves */
		append_arc(buf, from, from + 0.5, r_in, r_out, color, ncolors);
		append_arc(buf, from + 0.5, to, r_in, r_out, color, ncolors);
		return;
	}
	appendStringInfo(buf,
					 "<path d=\"M%.2f %.2f A%.1f %.1f 0 %d 1 %.2f %.2f L%.2f %.2f A%.1f %.1f 0 %d 0 %.2f %.2fZ\" fill=\"",
					 CX + r_out * sin(a0), CY - r_out * cos(a0), r_out, r_out, large,
					 CX + r_out * sin(a1), CY - r_out * cos(a1),
					 CX + r_in * sin(a1), CY - r_in * cos(a1), r_in, r_in, large,
					 CX + r_in * sin(a0), CY - r_in * cos(a0));
	append_color(buf, color, ncolors);
	appendStringInfoString(buf, "\"/>\n");
}

/* Draw a ring's ranges as arcs, one per maximal run of one owner. */
static void
append_ring(StringInfo buf, const CompiledRing *ring)
{
	double		run_from = 0;
	uint32		run_owner = RING_NO_OWNER;

	if (ring->ntokens == 0)
	{
		appendStringInfo(buf, "<circle cx=\"%.0f\" cy=\"%.0f\" r=\"%.1f\" fill=\"none\" stroke=\"#bbb\" stroke-width=\"%.1f\"/>\n",
						 CX, CY, (R_IN + R_OUT) / 2, R_OUT - R_IN);
		return;
	}

	/* range i ends at token i; range 0 starts after the last token (a lap back) */
	for (uint32 i = 0; i < ring->ntokens; i++)
	{
		uint32		owner = ring_token_owner(ring, i);
		double		from = i == 0 ? turn_of(ring_token(ring, ring->ntokens - 1)) - 1.0 :
			turn_of(ring_token(ring, i - 1));

		if (owner != run_owner)
		{
			if (run_owner != RING_NO_OWNER)
				append_arc(buf, run_from, from, R_IN, R_OUT, run_owner, ring->nnodes);
			run_owner = owner;
			run_from = from;
		}
	}
	append_arc(buf, run_from, turn_of(ring_token(ring, ring->ntokens - 1)),
			   R_IN, R_OUT, run_owner, ring->nnodes);
}

/* Legend: a swatch, the name and the share of every node. */
static void
append_legend(StringInfo buf, const CompiledRing *ring, const char *title)
{
	uint128    *owned = ring_owned_sizes(ring);
	int			shown = Min(ring->nnodes, 20);

	appendStringInfo(buf, "<text x=\"440\" y=\"36\" font-family=\"sans-serif\" font-size=\"15\" font-weight=\"bold\">");
	append_escaped(buf, title, strlen(title));
	appendStringInfoString(buf, "</text>\n");
	for (int i = 0; i < shown; i++)
	{
		const text *name = ring->nodes[i].name;

		appendStringInfo(buf, "<rect x=\"440\" y=\"%d\" width=\"14\" height=\"14\" fill=\"", 52 + i * 19);
		append_color(buf, i, ring->nnodes);
		appendStringInfo(buf, "\"/><text x=\"462\" y=\"%d\" font-family=\"sans-serif\" font-size=\"13\">",
						 64 + i * 19);
		append_escaped(buf, VARDATA_ANY(name),
					   pg_mbcliplen(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name), 32));
		appendStringInfo(buf, " %.1f%%</text>\n", 100.0 * (double) owned[i] / TWO_POW_64);
	}
	if (ring->nnodes > shown)
		appendStringInfo(buf, "<text x=\"440\" y=\"%d\" font-family=\"sans-serif\" font-size=\"13\">and %d more nodes</text>\n",
						 64 + shown * 19, ring->nnodes - shown);
}

/* MoveSink for the picture: an arc per moving run, in the new owner's colour. */
static void
append_move(const MoveRun *run, const CompiledRing *oldr, const CompiledRing *newr,
			void *arg)
{
	StringInfo	buf = (StringInfo) arg;

	if (run->to == RING_NO_OWNER)
		return;
	append_arc(buf, turn_of(run->start), turn_of(run->end), R_MOVE_IN, R_MOVE_OUT,
			   run->to, newr->nnodes);
}

/* MoveSink that adds up the size of the moving ranges. */
static void
add_move(const MoveRun *run, const CompiledRing *oldr, const CompiledRing *newr,
		 void *arg)
{
	*(uint128 *) arg += (uint128) ((uint64) run->end - (uint64) run->start) + 1;
}

/* The whole picture. */
static text *
ring_picture(const CompiledRing *ring, const CompiledRing *oldr)
{
	StringInfoData buf;
	char		title[RING_NAME_MAXLEN + 64];

	if (ring->per_key)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ring \"%s\" has no ranges to draw", ring->name),
				 errdetail("A '%s' ring places each key on its own.",
						   ring_algorithm_name(ring->algorithm)),
				 errhint("Use ring_ownership() for the nodes' shares.")));

	initStringInfo(&buf);
	appendStringInfo(&buf,
					 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n"
					 "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
					 SVG_WIDTH, SVG_HEIGHT, SVG_WIDTH, SVG_HEIGHT);
	append_ring(&buf, ring);
	if (oldr != NULL)
	{
		uint128		moved = 0;

		ring_diff_rings(oldr, ring, append_move, &buf);
		ring_diff_rings(oldr, ring, add_move, &moved);
		snprintf(title, sizeof(title), "%s: version %d to %d", ring->name,
				 oldr->key.version, ring->key.version);
		append_legend(&buf, ring, title);
		appendStringInfo(&buf, "<text x=\"440\" y=\"%d\" font-family=\"sans-serif\" font-size=\"13\">outer band: %.1f%% moves</text>\n"
						 "<text x=\"440\" y=\"%d\" font-family=\"sans-serif\" font-size=\"13\">(to the node of its colour)</text>\n",
						 SVG_HEIGHT - 40, 100.0 * (double) moved / TWO_POW_64, SVG_HEIGHT - 22);
	}
	else
	{
		snprintf(title, sizeof(title), "%s: version %d", ring->name, ring->key.version);
		append_legend(&buf, ring, title);
	}
	appendStringInfo(&buf, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"12\">min</text>\n",
					 CX, CY - R_MOVE_OUT - 6);
	appendStringInfoString(&buf, "</svg>\n");
	return cstring_to_text_with_len(buf.data, buf.len);
}

/* The call site's two ring references, set up on first use. */
static RingRef *
svg_refs(FunctionCallInfo fcinfo)
{
	RingRef    *refs = (RingRef *) fcinfo->flinfo->fn_extra;

	if (refs == NULL)
	{
		refs = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, 2 * sizeof(RingRef));
		ring_ref_init(&refs[0], fcinfo->flinfo->fn_mcxt);
		ring_ref_init(&refs[1], fcinfo->flinfo->fn_mcxt);
		fcinfo->flinfo->fn_extra = refs;
	}
	return refs;
}

/* ring_svg(ring, version): a picture of a version (NULL: the newest). */
PG_FUNCTION_INFO_V1(ring_svg);
Datum
ring_svg(PG_FUNCTION_ARGS)
{
	text	   *name;
	CompiledRing *ring;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	name = PG_GETARG_TEXT_PP(0);
	ring = ring_ref_get(&svg_refs(fcinfo)[0], VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name),
						PG_ARGISNULL(1) ? RING_VERSION_CURRENT : PG_GETARG_INT32(1));
	PG_RETURN_TEXT_P(ring_picture(ring, NULL));
}

/* ring_svg(ring, old_version, new_version): what moves between versions. */
PG_FUNCTION_INFO_V1(ring_svg_moves);
Datum
ring_svg_moves(PG_FUNCTION_ARGS)
{
	text	   *name = PG_GETARG_TEXT_PP(0);
	RingRef    *refs = svg_refs(fcinfo);
	CompiledRing *oldr;
	CompiledRing *newr;

	oldr = ring_ref_get(&refs[0], VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name), PG_GETARG_INT32(1));
	newr = ring_ref_get(&refs[1], VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name), PG_GETARG_INT32(2));
	PG_RETURN_TEXT_P(ring_picture(newr, oldr));
}
