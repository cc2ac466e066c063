/*-------------------------------------------------------------------------
 *
 * ring_vnode.c
 *	  'vnode' rings with hashed tokens: where a node's virtual nodes sit.
 *	  A node of weight w has round(vnodes * w) virtual nodes, at least one
 *	  when w > 0 (ring_virtual_nodes, ring_catalog.c); virtual node i
 *	  (0-based) of node N sits at token XXH3-64 of the UTF-8 bytes "N-i",
 *	  read as a signed 64-bit integer.  A node's tokens do not depend on
 *	  how many it has: a change of weight adds or removes its last ones.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "ring_compile.h"

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

/* consistent_ring.virtual_nodes(vnodes, weight): for the ring_nodes view. */
PG_FUNCTION_INFO_V1(ring_virtual_node_count);
Datum
ring_virtual_node_count(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(ring_virtual_nodes(PG_GETARG_INT32(0), PG_GETARG_FLOAT8(1)));
}
