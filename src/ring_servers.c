/*-------------------------------------------------------------------------
 *
 * ring_servers.c
 *	  Nodes that are real servers: connection strings, reachability, and
 *	  the cluster configuration PL/Proxy reads.
 *
 * A node may name a foreign server (ring_add_node(..., server => ...),
 * ring_set_server); the server's options are the node's connection, as
 * postgres_fdw reads them.  Only the options that are libpq connection
 * options are used (postgres_fdw's own options, such as fetch_size, are
 * not), with, for PL/Proxy, the options of the calling user's user mapping
 * (user, password) where pg_user_mappings would show them to that user.
 *
 * PL/Proxy asks three functions for a cluster named in CLUSTER: its
 * partitions (connection strings), their version and settings.  For a ring
 * of that name the partitions are the nodes of its newest version in name
 * order, each its server's connection, padded to a power of two (PL/Proxy
 * requires one) by repeating the nodes from the first: ring_partition
 * returns only the owner's own place, so padding changes no owner.  The
 * version changes whenever the ring's version or a connection string does,
 * so PL/Proxy reloads the partitions on its next call.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/reloptions.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq-fe.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "utils/acl.h"
#include "utils/memutils.h"
#include "utils/builtins.h"
#include "utils/syscache.h"

#include "compat.h"
#include "ring_cache.h"
#include "ring_keys.h"
#include "ring_servers.h"

/* How long a reachability check waits for a server, unless it sets one. */
#define RING_PING_TIMEOUT "2"

/* libpq's connection option names, read once. */
static PQconninfoOption *libpq_options = NULL;

/* Whether name is a libpq connection option (debug options excluded). */
static bool
is_libpq_option(const char *name)
{
	if (libpq_options == NULL)
	{
		libpq_options = PQconndefaults();
		if (libpq_options == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("Could not get libpq's default connection options.")));
	}
	for (PQconninfoOption *opt = libpq_options; opt->keyword; opt++)
	{
		if (strcmp(opt->keyword, name) == 0)
			return strchr(opt->dispchar, 'D') == NULL;
	}
	return false;
}

/* Append name='value' to a connection string, quoted as libpq reads it. */
static void
append_conn_option(StringInfo buf, const char *name, const char *value)
{
	if (buf->len > 0)
		appendStringInfoChar(buf, ' ');
	appendStringInfo(buf, "%s='", name);
	for (const char *p = value; *p; p++)
	{
		if (*p == '\'' || *p == '\\')
			appendStringInfoChar(buf, '\\');
		appendStringInfoChar(buf, *p);
	}
	appendStringInfoChar(buf, '\'');
}

/* The libpq options among a server's or a user mapping's options. */
static void
append_conn_options(StringInfo buf, List *options)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *d = lfirst(lc);

		if (is_libpq_option(d->defname))
			append_conn_option(buf, d->defname, defGetString(d));
	}
}

/*
 * The options of the user mapping the current user would use for a server
 * (their own, else PUBLIC's), or NIL, shown as pg_user_mappings shows them:
 * one's own mapping with USAGE on the server, a PUBLIC mapping only to the
 * server's owner.  Unlike GetUserMapping, no error when there is none.
 */
static List *
user_mapping_options(ForeignServer *server)
{
	Oid			user = GetUserId();
	Oid			users[2] = {user, InvalidOid};
	bool		owner = has_privs_of_role(user, server->owner);

	for (int i = 0; i < 2; i++)
	{
		HeapTuple	tp = SearchSysCache2(USERMAPPINGUSERSERVER,
										 ObjectIdGetDatum(users[i]),
										 ObjectIdGetDatum(server->serverid));
		bool		isnull;
		Datum		datum;
		List	   *options;

		if (!HeapTupleIsValid(tp))
			continue;
		if (!(owner ||
			  (i == 0 && pg_foreign_server_aclcheck(server->serverid, user, ACL_USAGE) == ACLCHECK_OK)))
		{
			ReleaseSysCache(tp);
			return NIL;
		}
		datum = SysCacheGetAttr(USERMAPPINGUSERSERVER, tp, Anum_pg_user_mapping_umoptions,
								&isnull);
		options = isnull ? NIL : untransformRelOptions(datum);
		ReleaseSysCache(tp);
		return options;
	}
	return NIL;
}

/*
 * The connection string of a node of ring, for PL/Proxy: its server's
 * options and the current user's user mapping options.
 */
static char *
node_conninfo(const CompiledRing *ring, const RingNodeInfo *node)
{
	ForeignServer *server;
	StringInfoData buf;

	if (node->server == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("node \"%s\" of ring \"%s\" has no server",
						text_to_cstring(node->name), ring->name),
				 errhint("Name its foreign server with ring_set_server().")));
	server = GetForeignServerByName(text_to_cstring(node->server), false);
	initStringInfo(&buf);
	append_conn_options(&buf, server->options);
	append_conn_options(&buf, user_mapping_options(server));
	return buf.data;
}

/* Whether a node of ring is on server (a C string). */
static bool
ring_has_server(const CompiledRing *ring, const char *server)
{
	for (int i = 0; i < ring->nnodes; i++)
	{
		text	   *t = ring->nodes[i].server;

		if (t && VARSIZE_ANY_EXHDR(t) == strlen(server) &&
			memcmp(VARDATA_ANY(t), server, VARSIZE_ANY_EXHDR(t)) == 0)
			return true;
	}
	return false;
}

static int
cstring_cmp(const ListCell *a, const ListCell *b)
{
	return strcmp(lfirst(a), lfirst(b));
}

/*
 * The servers a key may still be on during the unfinished migrations by
 * the ring (the nodes' servers of their old versions, as the caller may
 * read the migrations) that no node of ring (its newest version) has, in
 * name order: the PL/Proxy partitions after the nodes, so that
 * ring_partition(ring, key, table) reaches every key ring_route names.
 */
List *
ring_migration_servers(const CompiledRing *ring)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(ring->name)};
	List	   *versions = NIL;
	List	   *servers = NIL;
	ListCell   *lc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT DISTINCT m.old_version FROM consistent_ring.migrations m"
							  " WHERE m.ring OPERATOR(pg_catalog.=) $1 AND m.finished_at IS NULL",
							  1, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read consistent_ring.migrations");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		versions = lappend_int(versions, DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i],
																	  SPI_tuptable->tupdesc, 1, &isnull)));
	}
	SPI_finish();
	foreach(lc, versions)
	{
		/* the reference is released with its context, before this returns */
		MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext, "consistent_ring partitions",
												  ALLOCSET_SMALL_SIZES);
		RingRef    *ref = MemoryContextAllocZero(tmp, sizeof(RingRef));
		CompiledRing *old;

		ring_ref_init(ref, tmp);
		old = ring_ref_resolve(ref, ring->name, strlen(ring->name), lfirst_int(lc));
		for (int i = 0; i < old->nnodes; i++)
		{
			char	   *server;
			ListCell   *s2;
			bool		seen = false;

			if (old->nodes[i].server == NULL)
				continue;
			server = text_to_cstring(old->nodes[i].server);
			if (ring_has_server(ring, server))
				continue;
			foreach(s2, servers)
				seen = seen || strcmp(lfirst(s2), server) == 0;
			if (!seen)
				servers = lappend(servers, server);
		}
		MemoryContextDelete(tmp);
	}
	list_sort(servers, cstring_cmp);
	return servers;
}

/* A server's connection string, for PL/Proxy. */
static char *
server_conninfo(const char *name)
{
	ForeignServer *server = GetForeignServerByName(name, false);
	StringInfoData buf;

	initStringInfo(&buf);
	append_conn_options(&buf, server->options);
	append_conn_options(&buf, user_mapping_options(server));
	return buf.data;
}

/* The newest version of the ring named by argument 0, for this call site. */
static CompiledRing *
cluster_ring(FunctionCallInfo fcinfo)
{
	text	   *name = PG_GETARG_TEXT_PP(0);
	RingRef    *ref = (RingRef *) fcinfo->flinfo->fn_extra;
	CompiledRing *ring;

	if (ref == NULL)
	{
		ref = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(RingRef));
		ring_ref_init(ref, fcinfo->flinfo->fn_mcxt);
		fcinfo->flinfo->fn_extra = ref;
	}
	ring = ring_ref_get(ref, VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name),
						RING_VERSION_CURRENT);
	if (ring->nnodes == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("ring \"%s\" has no nodes to use as partitions", ring->name),
				 errhint("Add a node with ring_add_node().")));
	return ring;
}

/*
 * The connection strings of a ring's PL/Proxy partitions before padding:
 * its nodes, then the servers of unfinished migrations' old versions.
 */
static List *
partition_conninfos(const CompiledRing *ring)
{
	List	   *conninfo = NIL;
	ListCell   *lc;

	for (int i = 0; i < ring->nnodes; i++)
		conninfo = lappend(conninfo, node_conninfo(ring, &ring->nodes[i]));
	foreach(lc, ring_migration_servers(ring))
		conninfo = lappend(conninfo, server_conninfo(lfirst(lc)));
	return conninfo;
}

/*
 * ring_plproxy_partitions(cluster): PL/Proxy's get_cluster_partitions for
 * the ring of that name.
 */
PG_FUNCTION_INFO_V1(ring_plproxy_partitions);
Datum
ring_plproxy_partitions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	CompiledRing *ring;
	List	   *conninfo;
	int			n;

	RING_INIT_MATERIALIZED_SRF(fcinfo, RING_SRF_USE_EXPECTED_DESC);
	ring = cluster_ring(fcinfo);
	conninfo = partition_conninfos(ring);
	n = (int) pg_nextpower2_32((uint32) list_length(conninfo));
	for (int p = 0; p < n; p++)
	{
		Datum		value = CStringGetTextDatum(list_nth(conninfo, p % list_length(conninfo)));
		bool		isnull = false;

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
	}
	return (Datum) 0;
}

/*
 * ring_plproxy_version(cluster): PL/Proxy's get_cluster_version for the
 * ring of that name: a number that changes with the ring's version and
 * with the partitions' connection strings.
 */
PG_FUNCTION_INFO_V1(ring_plproxy_version);
Datum
ring_plproxy_version(PG_FUNCTION_ARGS)
{
	CompiledRing *ring = cluster_ring(fcinfo);
	StringInfoData buf;
	uint64		h;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfo(&buf, "%d", ring->key.version);
	foreach(lc, partition_conninfos(ring))
	{
		appendStringInfoChar(&buf, '\n');
		appendStringInfoString(&buf, lfirst(lc));
	}
	h = (uint64) ring_hash_bytes(buf.data, buf.len);
	pfree(buf.data);
	PG_RETURN_INT32((int32) (h & PG_INT32_MAX));
}

/*
 * ring_plproxy_config(cluster): PL/Proxy's get_cluster_config: no settings
 * of its own (PL/Proxy's defaults), for a ring that exists.
 */
PG_FUNCTION_INFO_V1(ring_plproxy_config);
Datum
ring_plproxy_config(PG_FUNCTION_ARGS)
{
	RING_INIT_MATERIALIZED_SRF(fcinfo, RING_SRF_USE_EXPECTED_DESC);
	(void) cluster_ring(fcinfo);
	return (Datum) 0;
}

/*
 * consistent_ring.server_status(server): whether a foreign server accepts
 * connections (libpq's PQping with the server's connection options; no
 * login is attempted): 'ok', 'rejecting connections', 'no response' or
 * 'bad connection options'.  NULL for a server that does not exist or
 * that the current user has no USAGE on.
 */
PG_FUNCTION_INFO_V1(ring_server_status);
Datum
ring_server_status(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	ForeignServer *server = GetForeignServerByName(name, true);
	const char **keywords;
	const char **values;
	int			n = 0;
	bool		timeout_set = false;
	ListCell   *lc;
	const char *status;

	if (server == NULL ||
		pg_foreign_server_aclcheck(server->serverid, GetUserId(), ACL_USAGE) != ACLCHECK_OK)
		PG_RETURN_NULL();

	keywords = palloc((list_length(server->options) + 3) * sizeof(char *));
	values = palloc((list_length(server->options) + 3) * sizeof(char *));
	foreach(lc, server->options)
	{
		DefElem    *d = lfirst(lc);

		if (!is_libpq_option(d->defname))
			continue;
		keywords[n] = d->defname;
		values[n++] = defGetString(d);
		if (strcmp(d->defname, "connect_timeout") == 0)
			timeout_set = true;
	}
	if (!timeout_set)
	{
		keywords[n] = "connect_timeout";
		values[n++] = RING_PING_TIMEOUT;
	}
	keywords[n] = NULL;
	values[n] = NULL;

	switch (PQpingParams(keywords, values, 0))
	{
		case PQPING_OK:
			status = "ok";
			break;
		case PQPING_REJECT:
			status = "rejecting connections";
			break;
		case PQPING_NO_RESPONSE:
			status = "no response";
			break;
		default:
			status = "bad connection options";
			break;
	}
	PG_RETURN_TEXT_P(cstring_to_text(status));
}

/*
 * The libpq connection string of a foreign server for the current user:
 * the server's options and the user's own mapping's (as postgres_fdw
 * connects).  Requires USAGE on the server and a user mapping;
 * *password_required is the mapping's password_required (true unless set).
 */
char *
ring_server_connstr(const char *servername, bool *password_required)
{
	ForeignServer *server = GetForeignServerByName(servername, false);
	AclResult	acl = pg_foreign_server_aclcheck(server->serverid, GetUserId(), ACL_USAGE);
	UserMapping *um;
	ListCell   *lc;
	StringInfoData buf;

	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_FOREIGN_SERVER, server->servername);
	um = GetUserMapping(GetUserId(), server->serverid);
	*password_required = true;
	foreach(lc, um->options)
	{
		DefElem    *d = (DefElem *) lfirst(lc);

		if (strcmp(d->defname, "password_required") == 0)
			*password_required = defGetBoolean(d);
	}
	initStringInfo(&buf);
	append_conn_option(&buf, "application_name", "ring_migrate");
	append_conn_option(&buf, "connect_timeout", "10");
	append_conn_options(&buf, server->options);
	append_conn_options(&buf, um->options);
	return buf.data;
}
