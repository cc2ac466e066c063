/*-------------------------------------------------------------------------
 *
 * ring_rendezvous.c
 *	  'rendezvous' rings: highest random weight hashing.  A compiled
 *	  'rendezvous' ring has no tokens, only a seed per node; the lookup
 *	  (ring_rendezvous.h) scores every node for the key and takes the
 *	  highest.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "mb/pg_wchar.h"

#include "ring_compile.h"

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
