/*-------------------------------------------------------------------------
 *
 * ring_servers.h
 *	  Nodes that are real servers: their connection strings.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RING_SERVERS_H
#define RING_SERVERS_H

#include "nodes/pg_list.h"

struct CompiledRing;

extern List *ring_migration_servers(const struct CompiledRing *ring);
extern char *ring_server_connstr(const char *servername, bool *password_required);

#endif							/* RING_SERVERS_H */
