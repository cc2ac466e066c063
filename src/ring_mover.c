/*-------------------------------------------------------------------------
 *
 * ring_mover.c
 *	  ring_migrate: move a table's rows between the servers of two versions
 *	  of a ring while they are written, and ring_migrate_check, its
 *	  preflight.
 *
 * The coordinator connects to every server of both versions with libpq
 * (the foreign server's options and the caller's user mapping, as
 * postgres_fdw does); each server runs consistent_ring too and computes
 * placement itself (ring_shard.c has the servers' side and its states).
 * Sources are moved one after the other; for each:
 *
 *	1. shard_begin: the source records writes to its moving keys.
 *	2. Copy: COPY (SELECT destination, row ...) TO STDOUT at the source,
 *	   under one snapshot, demultiplexed row by row into COPY FROM STDIN at
 *	   each destination (binary format), which first drops the copies an
 *	   interrupted run may have left.  Placement is computed at the source.
 *	3. Catch up: take the recorded keys (at most batch_size per round) and
 *	   copy those keys' rows as they are now, replacing them at their
 *	   destination, until a round finds fewer than batch_size.  A change
 *	   recorded later is taken by a later round: each key ends with the
 *	   state of its last write.
 *	4. Verify (on by default): one more round, in which the source's moving
 *	   rows (count and checksum per destination) are read under the same
 *	   snapshot as the round's keys, and each destination's copies after
 *	   the round is applied, before it commits: the two are the same rows
 *	   at one point in time, whatever is written meanwhile.  A difference is
 *	   XX001 and nothing is cut over.
 *	5. Cut over: shard_cut waits for the writers of moving keys and fences
 *	   them; the last recorded keys are copied; the source commits (from
 *	   then on writes to moving keys fail there with 40001); then the
 *	   coordinator commits the source's phase 'cut over', from which
 *	   ring_route sends the keys to their new servers.  Writers of keys
 *	   that stay never wait.
 *	6. Delete the moved rows at the source; phase 'done'.
 *
 * Every step commits on its own and can be repeated: the same CALL after
 * any failure (backend killed, cancelled, a server stopped) carries on from
 * the phase the coordinator recorded, and a source whose server already
 * cut over (the coordinator did not commit it) is recognised by its state.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq-fe.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "pgstat.h"
#include "portability/instr_time.h"
#include "storage/latch.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/wait_event.h"

#include "compat.h"
#include "ring_catalog.h"
#include "ring_servers.h"

/* One server of the migration, and the connection to it. */
typedef struct MoverServer MoverServer;
struct MoverServer
{
	char	   *name;			/* foreign server */
	bool		source;
	char	   *phase;			/* a source's, as recorded */
	int64		rows_copied;	/* as recorded */
	PGconn	   *conn;
	char	   *schema;			/* consistent_ring's schema there, quoted */
	StringInfoData out;			/* COPY data waiting to be sent */
	MoverServer **dests;		/* a source's destinations, once known */
	int			ndests;
	MoverServer *deleter;		/* a source's second connection, deleting */
	char	   *notice;			/* a source's figures, once deleted */
	int64		copied;			/* rows sent by the current COPY */
};

typedef struct Mover
{
	MemoryContext cxt;
	char	   *extschema;		/* here, quoted */
	Oid			relid;
	char	   *qualified;		/* schema.table, quoted */
	char	   *key;			/* key column, quoted */
	char	   *keyname;		/* key column */
	char	   *keytype;		/* its type, qualified */
	char	   *key_eq;			/* OPERATOR(...) of its type's equality */
	char	   *cols;			/* the copied columns, quoted, in order */
	char	   *ring;
	int32		old_version;
	int32		new_version;
	int32		batch_size;
	bool		verify;
	bool		cascade_deletes;
	int32		migration_id;
	char	   *migration;		/* sysid/dboid/id: the servers' name for it */
	char	   *definition;		/* ring_export, jsonb text */
	int			nservers;
	MoverServer *servers;
	bool		ranges;			/* the ring has ranges (ring_moves applies) */
	int32		parallel;		/* sources copied at once */
	List	   *extra;			/* their own connections to destinations */
} Mover;

static Mover *current_mover = NULL;

static void report_misplaced(MoverServer *src, const char *server) pg_attribute_noreturn();

/* ---- coordinator SQL (SPI, as the caller) ---- */

static void
spi_exec(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls, int expect)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);

	if (rc != expect)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
}

static char *
spi_text(int row, int col)
{
	return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
}

static void
commit(void)
{
	SPI_commit();
	SPI_start_transaction();
}

/* ---- connections ---- */

static void
close_conn(MoverServer *s)
{
	if (s->conn != NULL)
	{
		/* a busy server is told to stop; an open transaction rolls back */
		if (PQtransactionStatus(s->conn) == PQTRANS_ACTIVE)
		{
			PGcancel   *cancel = PQgetCancel(s->conn);
			char		errbuf[256];

			if (cancel != NULL)
			{
				(void) PQcancel(cancel, errbuf, sizeof(errbuf));
				PQfreeCancel(cancel);
			}
		}
		PQfinish(s->conn);
		s->conn = NULL;
	}
}

static void
close_all(Mover *m)
{
	ListCell   *lc;

	foreach(lc, m->extra)
		close_conn(lfirst(lc));
	for (int i = 0; i < m->nservers; i++)
	{
		close_conn(&m->servers[i]);
		if (m->servers[i].deleter)
			close_conn(m->servers[i].deleter);
	}
}

/* Raise a server's error as ours, with its SQLSTATE. */
static void pg_attribute_noreturn()
report_remote(MoverServer *s, PGresult *res, const char *what)
{
	const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
	int			code = ERRCODE_CONNECTION_FAILURE;
	char	   *msg;
	char	   *det = detail ? pstrdup(detail) : NULL;
	char	   *hin = hint ? pstrdup(hint) : NULL;

	if (sqlstate && strlen(sqlstate) == 5)
		code = MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2], sqlstate[3], sqlstate[4]);
	msg = pstrdup(primary ? primary : pchomp(PQerrorMessage(s->conn)));
	if (res)
		PQclear(res);
	ereport(ERROR,
			(errcode(code),
			 errmsg_internal("%s", msg),
			 det ? errdetail_internal("%s", det) : 0,
			 hin ? errhint("%s", hin) : 0,
			 errcontext("%s on server \"%s\"", what, s->name)));
}

/* Wait for the server's next result, interruptibly; NULL when none. */
static PGresult *
next_result(MoverServer *s)
{
	while (PQisBusy(s->conn))
	{
		int			rc = WaitLatchOrSocket(MyLatch,
										   WL_LATCH_SET | WL_SOCKET_READABLE | WL_EXIT_ON_PM_DEATH,
										   PQsocket(s->conn), -1L, PG_WAIT_EXTENSION);

		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if ((rc & WL_SOCKET_READABLE) && !PQconsumeInput(s->conn))
			report_remote(s, NULL, "reading a result");
	}
	return PQgetResult(s->conn);
}

/*
 * Run sql (with text parameters) on a server and return its result, which
 * must have status expect; the caller PQclears it.
 */
static PGresult *remote_collect(MoverServer *s, ExecStatusType expect);

static void
remote_send(MoverServer *s, const char *sql, int nparams, const char *const *params)
{
	if (!(nparams == 0 ? PQsendQuery(s->conn, sql) :
		  PQsendQueryParams(s->conn, sql, nparams, NULL, params, NULL, NULL, 0)))
		report_remote(s, NULL, "sending a query");
}

static PGresult *
remote(MoverServer *s, const char *sql, int nparams, const char *const *params,
	   ExecStatusType expect)
{
	remote_send(s, sql, nparams, params);
	return remote_collect(s, expect);
}

/* The result of the query sent to a server (remote_send). */
static PGresult *
remote_collect(MoverServer *s, ExecStatusType expect)
{
	PGresult   *res = NULL;
	PGresult   *r;

	while ((r = next_result(s)) != NULL)
	{
		ExecStatusType st = PQresultStatus(r);

		if (res)
			PQclear(res);
		res = r;
		if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_FATAL_ERROR)
			break;
	}
	if (res == NULL || PQresultStatus(res) != expect)
	{
		if (res && PQresultStatus(res) != PGRES_FATAL_ERROR)
		{
			ExecStatusType st = PQresultStatus(res);

			PQclear(res);
			elog(ERROR, "unexpected result from server \"%s\": %s", s->name, PQresStatus(st));
		}
		/* drain what follows an error */
		if (res && PQresultStatus(res) == PGRES_FATAL_ERROR)
		{
			while ((r = next_result(s)) != NULL)
				PQclear(r);
		}
		report_remote(s, res, "running ring_migrate's statement");
	}
	return res;
}

static void
remote_command(MoverServer *s, const char *sql)
{
	PQclear(remote(s, sql, 0, NULL, PGRES_COMMAND_OK));
}

/* The one value a query returns, palloc'd (NULL for SQL NULL). */
static char *
remote_value(MoverServer *s, const char *sql, int nparams, const char *const *params)
{
	PGresult   *res = remote(s, sql, nparams, params, PGRES_TUPLES_OK);
	char	   *v = NULL;

	if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		v = pstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

static void
connect_server(MoverServer *s)
{
	bool		password_required;
	char	   *conninfo = ring_server_connstr(s->name, &password_required);
	char	   *v;

	s->conn = PQconnectdb(conninfo);
	if (s->conn == NULL || PQstatus(s->conn) != CONNECTION_OK)
		ereport(ERROR,
				(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
				 errmsg("could not connect to server \"%s\"", s->name),
				 errdetail_internal("%s", s->conn ? pchomp(PQerrorMessage(s->conn)) : "out of memory")));
	if (password_required && !superuser() && !PQconnectionUsedPassword(s->conn))
		ereport(ERROR,
				(errcode(ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED),
				 errmsg("password is required"),
				 errdetail("Non-superuser cannot connect if the server does not request a password."),
				 errhint("Target server's authentication method must be changed or set the user mapping's password_required to false.")));
	/* the same text forms everywhere: checksums compare row texts */
	remote_command(s, "SET search_path = pg_catalog, pg_temp; SET datestyle = ISO;"
				   " SET intervalstyle = postgres; SET extra_float_digits = 3;"
				   " SET timezone = 'UTC'; SET bytea_output = hex; SET lc_monetary = 'C'");
	v = remote_value(s, "SELECT pg_catalog.quote_ident(n.nspname) OPERATOR(pg_catalog.||) ' '"
					 " OPERATOR(pg_catalog.||) e.extversion"
					 " FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n"
					 " ON n.oid OPERATOR(pg_catalog.=) e.extnamespace"
					 " WHERE e.extname OPERATOR(pg_catalog.=) 'consistent_ring'", 0, NULL);
	if (v == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"consistent_ring\" is not installed on server \"%s\"", s->name),
				 errhint("Run CREATE EXTENSION consistent_ring there: each server computes placement and fences writes itself.")));
	s->schema = pstrdup(v);
	*strrchr(s->schema, ' ') = '\0';
	if (strcmp(strrchr(v, ' ') + 1, "1.0") == 0 || strcmp(strrchr(v, ' ') + 1, "1.1") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"consistent_ring\" on server \"%s\" is version %s", s->name,
						strrchr(v, ' ') + 1),
				 errhint("Run ALTER EXTENSION consistent_ring UPDATE there.")));
}

static MoverServer *
find_server(Mover *m, const char *name, int len)
{
	for (int i = 0; i < m->nservers; i++)
		if ((int) strlen(m->servers[i].name) == len &&
			memcmp(m->servers[i].name, name, len) == 0)
			return &m->servers[i];
	return NULL;
}

/* ---- COPY between servers ---- */

static const char copy_signature[11] = "PGCOPY\n\377\r\n\0";

static void
flush_out(MoverServer *d, bool all)
{
	if (d->out.len == 0 || (!all && d->out.len < 65536))
		return;
	if (PQputCopyData(d->conn, d->out.data, d->out.len) != 1)
		report_remote(d, NULL, "sending rows");
	resetStringInfo(&d->out);
}

static uint32
read_u32(const char *p)
{
	uint32		v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

/*
 * One source's binary COPY TO STDOUT streamed into COPY FROM STDIN at its
 * destinations: with demux, each row's first field names its destination
 * and is dropped; else every row goes to dests[0].
 */
typedef struct CopyStream
{
	MoverServer *src;
	MoverServer **dests;
	int			ndests;
	bool		demux;
	bool		header_seen;
	bool		done;
	int64		rows;
} CopyStream;

static void
stream_begin(CopyStream *cs, const char *copy_out, const char *copy_in)
{
	for (int i = 0; i < cs->ndests; i++)
	{
		MoverServer *d = cs->dests[i];

		PQclear(remote(d, copy_in, 0, NULL, PGRES_COPY_IN));
		if (d->out.data == NULL)
			initStringInfo(&d->out);
		resetStringInfo(&d->out);
		appendBinaryStringInfo(&d->out, copy_signature, 11);
		appendBinaryStringInfo(&d->out, "\0\0\0\0\0\0\0\0", 8);
		d->copied = 0;
	}
	PQclear(remote(cs->src, copy_out, 0, NULL, PGRES_COPY_OUT));
	cs->header_seen = false;
	cs->done = false;
	cs->rows = 0;
}

/* The destination a row names (demux). */
static MoverServer *
stream_dest(CopyStream *cs, const char *name, int len)
{
	for (int i = 0; i < cs->ndests; i++)
		if ((int) strlen(cs->dests[i]->name) == len &&
			memcmp(cs->dests[i]->name, name, len) == 0)
			return cs->dests[i];
	report_misplaced(cs->src, pnstrdup(name, len));
	return NULL;
}

/* Forward what the source has sent so far; false if it had nothing. */
static bool
stream_step(CopyStream *cs)
{
	MoverServer *src = cs->src;
	bool		progress = false;

	while (!cs->done)
	{
		char	   *buf;
		int			len = PQgetCopyData(src->conn, &buf, 1);
		const char *p;
		const char *end;

		if (len == 0)
			break;
		progress = true;
		if (len == -1)
		{
			cs->done = true;
			break;
		}
		if (len < 0)
			report_remote(src, NULL, "reading rows");
		CHECK_FOR_INTERRUPTS();
		p = buf;
		end = buf + len;
		if (!cs->header_seen)
		{
			if (len < 19 || memcmp(p, copy_signature, 11) != 0)
				elog(ERROR, "server \"%s\" sent no binary COPY header", src->name);
			p += 19 + read_u32(p + 15);
			cs->header_seen = true;
		}
		while (p < end)
		{
			int16		nfields;
			const char *row = p;
			const char *first_end;
			MoverServer *d = cs->dests[0];

			memcpy(&nfields, p, 2);
			nfields = (int16) ntohs((uint16) nfields);
			p += 2;
			if (nfields == -1)
				continue;		/* the trailer */
			first_end = p;
			for (int f = 0; f < nfields; f++)
			{
				int32		flen;

				if (p + 4 > end)
					elog(ERROR, "server \"%s\" sent a row split across messages", src->name);
				flen = (int32) read_u32(p);
				p += 4;
				if (f == 0 && cs->demux)
				{
					if (flen < 0 || p + flen > end)
						elog(ERROR, "a row of server \"%s\" has no destination", src->name);
					d = stream_dest(cs, p, flen);
				}
				if (flen > 0)
					p += flen;
				if (f == 0)
					first_end = p;
				if (p > end)
					elog(ERROR, "server \"%s\" sent a row split across messages", src->name);
			}
			if (cs->demux)
			{
				uint16		n = htons((uint16) (nfields - 1));

				appendBinaryStringInfo(&d->out, (char *) &n, 2);
				appendBinaryStringInfo(&d->out, first_end, p - first_end);
			}
			else
				appendBinaryStringInfo(&d->out, row, p - row);
			d->copied++;
			cs->rows++;
			flush_out(d, false);
		}
		PQfreemem(buf);
	}
	return progress;
}

/* Wait until a source of an unfinished stream has more to read. */
static void
streams_wait(CopyStream *cs, int n)
{
	WaitEventSet *set = CreateWaitEventSet(CurrentMemoryContext, n + 2);
	WaitEvent	event;

	AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	for (int i = 0; i < n; i++)
		if (!cs[i].done)
			AddWaitEventToSet(set, WL_SOCKET_READABLE, PQsocket(cs[i].src->conn), NULL, NULL);
	(void) WaitEventSetWait(set, -1L, &event, 1, PG_WAIT_EXTENSION);
	FreeWaitEventSet(set);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
	for (int i = 0; i < n; i++)
		if (!cs[i].done && !PQconsumeInput(cs[i].src->conn))
			report_remote(cs[i].src, NULL, "reading rows");
}

static void
stream_end(CopyStream *cs)
{
	PGresult   *res = next_result(cs->src);

	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
		report_remote(cs->src, res, "copying rows out");
	PQclear(res);
	while ((res = next_result(cs->src)) != NULL)
		PQclear(res);
	for (int i = 0; i < cs->ndests; i++)
	{
		MoverServer *d = cs->dests[i];

		appendBinaryStringInfo(&d->out, "\377\377", 2);
		flush_out(d, true);
		if (PQputCopyEnd(d->conn, NULL) != 1)
			report_remote(d, NULL, "ending a copy");
		res = next_result(d);
		if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
			report_remote(d, res, "copying rows in");
		PQclear(res);
		while ((res = next_result(d)) != NULL)
			PQclear(res);
		pfree(d->out.data);
		d->out.data = NULL;
	}
}

/* Run streams to their end, all at once; returns the rows sent. */
static int64
streams_run(CopyStream *cs, int n)
{
	int64		rows = 0;

	for (;;)
	{
		bool		progress = false;
		bool		all_done = true;

		for (int i = 0; i < n; i++)
		{
			if (!cs[i].done)
				progress |= stream_step(&cs[i]);
			all_done &= cs[i].done;
		}
		if (all_done)
			break;
		if (!progress)
			streams_wait(cs, n);
	}
	for (int i = 0; i < n; i++)
	{
		stream_end(&cs[i]);
		rows += cs[i].rows;
	}
	return rows;
}

/* One source's stream, to its end. */
static int64
copy_rows(Mover *m, MoverServer *src, const char *copy_out, MoverServer **dests, int ndests,
		  const char *copy_in, bool demux)
{
	CopyStream	cs = {src, dests, ndests, demux};

	stream_begin(&cs, copy_out, copy_in);
	return streams_run(&cs, 1);
}

/* ---- the SQL each server runs ---- */

/* "t.a, t.b, ...": the copied columns of row t */
static char *
row_columns(Mover *m)
{
	StringInfoData buf;
	char	   *cols = pstrdup(m->cols);
	char	   *save;

	initStringInfo(&buf);
	for (char *c = strtok_r(cols, ",", &save); c; c = strtok_r(NULL, ",", &save))
	{
		while (*c == ' ')
			c++;
		appendStringInfo(&buf, "%st.%s", buf.len ? ", " : "", c);
	}
	return buf.data;
}

/* The imported ring's name on the servers, quoted. */
static char *
imported_ring(Mover *m)
{
	return quote_literal_cstr(psprintf("migration %s", m->migration));
}

/* The key's server in a version, computed on server s. */
static char *
placement(Mover *m, MoverServer *s, int32 version)
{
	return psprintf("%s.ring_server(%s, t.%s, %d)", s->schema, imported_ring(m), m->key, version);
}

/* Rows of s whose keys move from src (where they are) to dest (or anywhere). */
static char *
moving_rows(Mover *m, MoverServer *s, MoverServer *src, MoverServer *dest)
{
	return psprintf("t.%s IS NOT NULL AND %s OPERATOR(pg_catalog.=) %s AND %s %s %s",
					m->key, placement(m, s, m->old_version), quote_literal_cstr(src->name),
					placement(m, s, m->new_version),
					dest ? "OPERATOR(pg_catalog.=)" : "IS DISTINCT FROM",
					quote_literal_cstr(dest ? dest->name : src->name));
}

/* Keys in a literal array of the key type. */
static char *
key_array(Mover *m, List *keys)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	foreach(lc, keys)
	{
		appendStringInfoString(&buf, buf.len > 1 ? ",\"" : "\"");
		for (const char *p = lfirst(lc); *p; p++)
		{
			if (*p == '"' || *p == '\\')
				appendStringInfoChar(&buf, '\\');
			appendStringInfoChar(&buf, *p);
		}
		appendStringInfoChar(&buf, '"');
	}
	appendStringInfoChar(&buf, '}');
	return psprintf("CAST(%s AS %s[])", quote_literal_cstr(buf.data), m->keytype);
}

static void
set_phase(Mover *m, MoverServer *src, const char *phase)
{
	Oid			types[3] = {INT4OID, TEXTOID, TEXTOID};
	Datum		values[3] = {Int32GetDatum(m->migration_id), CStringGetTextDatum(src->name),
	CStringGetTextDatum(phase)};

	spi_exec("UPDATE consistent_ring.migration_servers SET phase = $3,"
			 " phase_started_at = pg_catalog.clock_timestamp(), updated_at = pg_catalog.clock_timestamp()"
			 " WHERE migration_id OPERATOR(pg_catalog.=) $1 AND server OPERATOR(pg_catalog.=) $2",
			 3, types, values, NULL, SPI_OK_UPDATE);
	src->phase = pstrdup(phase);
}

/* Add to a source's counters (column = column + value). */
static void
add_counter(Mover *m, MoverServer *src, const char *column, int64 value)
{
	Oid			types[3] = {INT4OID, TEXTOID, INT8OID};
	Datum		values[3] = {Int32GetDatum(m->migration_id), CStringGetTextDatum(src->name),
	Int64GetDatum(value)};

	spi_exec(psprintf("UPDATE consistent_ring.migration_servers SET %s = %s OPERATOR(pg_catalog.+) $3,"
					  " updated_at = pg_catalog.clock_timestamp()"
					  " WHERE migration_id OPERATOR(pg_catalog.=) $1 AND server OPERATOR(pg_catalog.=) $2",
					  column, column),
			 3, types, values, NULL, SPI_OK_UPDATE);
}

static void
set_value(Mover *m, MoverServer *src, const char *column, const char *value)
{
	Oid			types[3] = {INT4OID, TEXTOID, TEXTOID};
	Datum		values[3] = {Int32GetDatum(m->migration_id), CStringGetTextDatum(src->name), 0};
	char		nulls[3] = {' ', ' ', value ? ' ' : 'n'};

	if (value)
		values[2] = CStringGetTextDatum(value);
	spi_exec(psprintf("UPDATE consistent_ring.migration_servers SET %s = $3::pg_catalog.text::%s,"
					  " updated_at = pg_catalog.clock_timestamp()"
					  " WHERE migration_id OPERATOR(pg_catalog.=) $1 AND server OPERATOR(pg_catalog.=) $2",
					  column,
					  strcmp(column, "fence_ms") == 0 ? "pg_catalog.float8" :
					  strcmp(column, "verified") == 0 ? "pg_catalog.bool" : "pg_catalog.int8"),
			 3, types, values, nulls, SPI_OK_UPDATE);
}

/*
 * The servers a source's rows may move to: those of the nodes ring_moves
 * gives its nodes' ranges to, and the new servers of its nodes whose server
 * changes; every other server where the ring has no ranges.  A row placed
 * elsewhere by the source stops the move (see copy_rows and replay_round).
 */
static MoverServer **
destinations(Mover *m, MoverServer *src, int *n)
{
	if (src->dests == NULL)
	{
		MemoryContext old;
		bool	   *to = palloc0(sizeof(bool) * m->nservers);

		if (m->ranges)
		{
			Oid			types[4] = {TEXTOID, INT4OID, INT4OID, TEXTOID};
			Datum		values[4] = {CStringGetTextDatum(m->ring), Int32GetDatum(m->old_version),
			Int32GetDatum(m->new_version), CStringGetTextDatum(src->name)};

			spi_exec(psprintf("SELECT nn.server FROM %1$s.ring_moves($1, $2, $3) mv"
							  " JOIN %1$s.ring_nodes_at($1, $2) o ON o.node OPERATOR(pg_catalog.=) mv.from_node"
							  " JOIN %1$s.ring_nodes_at($1, $3) nn ON nn.node OPERATOR(pg_catalog.=) mv.to_node"
							  " WHERE o.server OPERATOR(pg_catalog.=) $4"
							  " UNION SELECT n.server FROM %1$s.ring_nodes_at($1, $2) o"
							  " JOIN %1$s.ring_nodes_at($1, $3) n ON n.node OPERATOR(pg_catalog.=) o.node"
							  " WHERE o.server OPERATOR(pg_catalog.=) $4",
							  m->extschema),
					 4, types, values, NULL, SPI_OK_SELECT);
			for (uint64 r = 0; r < SPI_processed; r++)
			{
				char	   *name = spi_text(r, 1);

				for (int i = 0; name && i < m->nservers; i++)
					if (strcmp(m->servers[i].name, name) == 0)
						to[i] = true;
			}
		}
		old = MemoryContextSwitchTo(m->cxt);
		src->dests = palloc(sizeof(MoverServer *) * m->nservers);
		src->ndests = 0;
		for (int i = 0; i < m->nservers; i++)
			if (&m->servers[i] != src && (to[i] || !m->ranges))
				src->dests[src->ndests++] = &m->servers[i];
		MemoryContextSwitchTo(old);
	}
	*n = src->ndests;
	return src->dests;
}

/* A row or key of the source placed on a server it may not move to. */
static void
report_misplaced(MoverServer *src, const char *server)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("a row of server \"%s\" belongs to server \"%s\", which the migration does not write from it",
					src->name, server),
			 errdetail("The ring's moves between the two versions and the server's placement of the row disagree."),
			 errhint("Nothing was cut over from this source.")));
}

/*
 * At a destination, in its open transaction: drop the copies an
 * interrupted run left of the source's moving rows.  Before any copy from
 * the source (first), such rows were written by someone else: never
 * replace them silently.
 */
static void
drop_copies(Mover *m, MoverServer *src, MoverServer *d, bool first)
{
	PGresult   *res = remote(d, psprintf("DELETE FROM ONLY %s t WHERE %s", m->qualified,
										 moving_rows(m, d, src, d)),
							 0, NULL, PGRES_COMMAND_OK);

	if (first && strcmp(PQcmdTuples(res), "0") != 0)
	{
		char	   *n = pstrdup(PQcmdTuples(res));

		PQclear(res);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("server \"%s\" already has %s rows of keys that move to it from server \"%s\"",
						d->name, n, src->name),
				 errdetail("They were written there before this migration copied anything: ring_route routes a table that has never been migrated by the ring's newest version, so writers may have followed the ring change before the rows moved."),
				 errhint("Record where a table's rows are before changing its ring, with CALL ring_migrate(tbl, key_column, ring, v, v). Merge or delete these rows, then call ring_migrate again.")));
	}
	PQclear(res);
}

/*
 * 2. Copy the moving rows of n sources at once (see the file header): each
 * source under one snapshot, into connections of its own to its
 * destinations (a destination's connection carries one COPY at a time),
 * or the destinations' own connections for a single source.  Sets
 * src->copied of each.
 */
static void
copy_sources(Mover *m, MoverServer **srcs, const bool *first, int n)
{
	CopyStream *cs = palloc0(sizeof(CopyStream) * n);

	for (int i = 0; i < n; i++)
	{
		MoverServer *src = srcs[i];
		int			ndests;
		MoverServer **dests = destinations(m, src, &ndests);

		if (n > 1)
		{
			MemoryContext old = MemoryContextSwitchTo(m->cxt);
			MoverServer **own = palloc(sizeof(MoverServer *) * Max(ndests, 1));

			for (int j = 0; j < ndests; j++)
			{
				own[j] = palloc0(sizeof(MoverServer));
				own[j]->name = dests[j]->name;
				m->extra = lappend(m->extra, own[j]);
			}
			MemoryContextSwitchTo(old);
			for (int j = 0; j < ndests; j++)
				connect_server(own[j]);
			dests = own;
		}
		remote_command(src, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
		for (int j = 0; j < ndests; j++)
		{
			remote_command(dests[j], "BEGIN");
			drop_copies(m, src, dests[j], first[i]);
		}
		cs[i].src = src;
		cs[i].dests = dests;
		cs[i].ndests = ndests;
		cs[i].demux = true;
		stream_begin(&cs[i],
					 psprintf("COPY (SELECT %s, %s FROM ONLY %s t WHERE %s) TO STDOUT (FORMAT binary)",
							  placement(m, src, m->new_version), row_columns(m), m->qualified,
							  moving_rows(m, src, src, NULL)),
					 psprintf("COPY %s (%s) FROM STDIN (FORMAT binary)", m->qualified, m->cols));
	}
	(void) streams_run(cs, n);
	for (int i = 0; i < n; i++)
	{
		for (int j = 0; j < cs[i].ndests; j++)
			remote_command(cs[i].dests[j], "COMMIT");
		remote_command(cs[i].src, "COMMIT");
		srcs[i]->copied = cs[i].rows;
	}
	/* the sources' own connections to their destinations */
	if (n > 1)
	{
		ListCell   *lc;

		foreach(lc, m->extra)
			close_conn(lfirst(lc));
		list_free(m->extra);
		m->extra = NIL;
	}
}

/* Per destination: its name, count and checksum of rows (a query's result). */
static char *
checksums_of(PGresult *res, const char *dest)
{
	for (int i = 0; i < PQntuples(res); i++)
		if (dest == NULL || strcmp(PQgetvalue(res, i, 0), dest) == 0)
			return psprintf("%s rows, checksum %s", PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
	return pstrdup("0 rows, checksum 0");
}

/*
 * 3-5. One round: take up to max_keys recorded keys at the source (in its
 * open transaction if in_xact, else in one of repeatable read) and replace
 * their rows at their destinations; with verify, compare the moving rows
 * at both ends (file header).  Commits the destinations, and the source
 * unless in_xact.  Returns the keys taken.
 */
static int64
replay_round(Mover *m, MoverServer *src, int32 max_keys, bool in_xact, bool verify,
			 int64 *rows_verified)
{
	PGresult   *res;
	PGresult   *sums = NULL;
	int			ndests;
	MoverServer **dests = destinations(m, src, &ndests);
	List	  **keys = palloc0(sizeof(List *) * ndests);
	char		limit[16];
	const char *params[3];
	int64		nkeys;

	if (!in_xact)
		remote_command(src, "BEGIN ISOLATION LEVEL REPEATABLE READ");
	snprintf(limit, sizeof(limit), "%d", max_keys);
	params[0] = m->qualified;
	params[1] = m->migration;
	params[2] = limit;
	res = remote(src, psprintf("SELECT k, %s.ring_server(%s, k, %d)"
							   " FROM consistent_ring.shard_take_changes($1::pg_catalog.regclass, $2, $3::pg_catalog.int4) k",
							   src->schema, imported_ring(m), m->new_version),
				 3, params, PGRES_TUPLES_OK);
	nkeys = PQntuples(res);
	for (int i = 0; i < PQntuples(res); i++)
	{
		MoverServer *d = find_server(m, PQgetvalue(res, i, 1), strlen(PQgetvalue(res, i, 1)));
		int			j = 0;

		while (j < ndests && dests[j] != d)
			j++;
		if (j == ndests)
		{
			char	   *server = pstrdup(PQgetvalue(res, i, 1));

			PQclear(res);
			report_misplaced(src, server);
		}
		keys[j] = lappend(keys[j], pstrdup(PQgetvalue(res, i, 0)));
	}
	PQclear(res);
	for (int j = 0; j < ndests; j++)
	{
		MoverServer *d = dests[j];

		if (keys[j] == NIL && !verify)
			continue;
		remote_command(d, "BEGIN");
		if (keys[j] != NIL)
		{
			char	   *arr = key_array(m, keys[j]);

			remote_command(d, psprintf("DELETE FROM ONLY %s t WHERE t.%s %s ANY (%s)",
									   m->qualified, m->key, m->key_eq, arr));
			copy_rows(m, src,
					  psprintf("COPY (SELECT %s FROM ONLY %s t WHERE t.%s %s ANY (%s)) TO STDOUT (FORMAT binary)",
							   row_columns(m), m->qualified, m->key, m->key_eq, arr),
					  &d, 1,
					  psprintf("COPY %s (%s) FROM STDIN (FORMAT binary)", m->qualified, m->cols),
					  false);
		}
	}
	if (verify)
	{
		PGresult  **there = palloc0(sizeof(PGresult *) * ndests);

		/* the source's rows and each destination's copies, counted at once */
		remote_send(src, psprintf("SELECT %s, pg_catalog.count(*),"
								  " COALESCE(pg_catalog.sum(pg_catalog.hashtextextended(ROW(%s)::pg_catalog.text, 0)), 0)"
								  " FROM ONLY %s t WHERE %s GROUP BY 1",
								  placement(m, src, m->new_version), row_columns(m), m->qualified,
								  moving_rows(m, src, src, NULL)),
					0, NULL);
		for (int j = 0; j < ndests; j++)
			remote_send(dests[j], psprintf("SELECT %s, pg_catalog.count(*),"
										   " COALESCE(pg_catalog.sum(pg_catalog.hashtextextended(ROW(%s)::pg_catalog.text, 0)), 0)"
										   " FROM ONLY %s t WHERE %s GROUP BY 1",
										   quote_literal_cstr(dests[j]->name), row_columns(m), m->qualified,
										   moving_rows(m, dests[j], src, dests[j])),
						0, NULL);
		sums = remote_collect(src, PGRES_TUPLES_OK);
		for (int j = 0; j < ndests; j++)
			there[j] = remote_collect(dests[j], PGRES_TUPLES_OK);
		for (int j = 0; j < ndests; j++)
		{
			char	   *here_sum = checksums_of(sums, dests[j]->name);
			char	   *there_sum = checksums_of(there[j], NULL);

			if (strcmp(here_sum, there_sum) != 0)
			{
				/* libpq's results are not freed by an error: free them first */
				for (int k = 0; k < ndests; k++)
					PQclear(there[k]);
				PQclear(sums);
				/* the next run copies again, replacing these copies */
				set_phase(m, src, "copying");
				commit();
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("the copies on server \"%s\" of the rows moving from server \"%s\" differ from them",
								dests[j]->name, src->name),
						 errdetail("Source: %s; destination: %s.", here_sum, there_sum),
						 errhint("Nothing was cut over: the source still has every row and takes the writes; the next run copies them again.")));
			}
			*rows_verified += strtoi64(here_sum, NULL, 10);
		}
		for (int j = 0; j < ndests; j++)
			PQclear(there[j]);
	}
	for (int j = 0; j < ndests; j++)
		if (keys[j] != NIL || verify)
			remote_command(dests[j], "COMMIT");
	if (sums)
		PQclear(sums);
	if (!in_xact)
		remote_command(src, "COMMIT");
	return nkeys;
}

static char *
table_param(Mover *m)
{
	return m->qualified;
}

/*
 * 1. The source records writes to its moving keys from here on (waiting
 * for the writers already running); returns its state there.  *copy: its
 * rows are to be copied (phase recorded as 'copying'), *first: before any
 * copy of ours committed at a destination.
 */
static char *
source_begin(Mover *m, MoverServer *src, bool *copy, bool *first)
{
	const char *params[7];
	char		oldv[16];
	char		newv[16];
	char	   *state;

	snprintf(oldv, sizeof(oldv), "%d", m->old_version);
	snprintf(newv, sizeof(newv), "%d", m->new_version);
	params[0] = table_param(m);
	params[1] = m->keyname;
	params[2] = m->migration;
	params[3] = src->name;
	params[4] = oldv;
	params[5] = newv;
	params[6] = m->definition;
	remote_command(src, "SET lock_timeout = '30s'");
	state = remote_value(src, "SELECT consistent_ring.shard_begin($1::pg_catalog.regclass, $2::pg_catalog.name,"
						 " $3, $4, $5::pg_catalog.int4, $6::pg_catalog.int4, $7::pg_catalog.jsonb)",
						 7, params);
	remote_command(src, "RESET lock_timeout");
	*copy = strcmp(state, "copying") == 0 &&
		(strcmp(src->phase, "waiting") == 0 || strcmp(src->phase, "copying") == 0);
	*first = false;
	if (*copy)
	{
		char	   *estimate;

		/* reltuples times the share of a 1% sample that moves */
		estimate = remote_value(src, psprintf("SELECT (CASE WHEN c.reltuples OPERATOR(pg_catalog.>=) 0"
											  " THEN c.reltuples OPERATOR(pg_catalog.*) s.moving"
											  " OPERATOR(pg_catalog./) GREATEST(s.n, 1)"
											  " ELSE s.moving OPERATOR(pg_catalog.*) 100 END)::pg_catalog.int8"
											  " FROM pg_catalog.pg_class c, (SELECT pg_catalog.count(*)::pg_catalog.float8 AS n,"
											  " (pg_catalog.count(*) FILTER (WHERE %s))::pg_catalog.float8 AS moving"
											  " FROM ONLY %s t TABLESAMPLE SYSTEM (1)) s"
											  " WHERE c.oid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
											  moving_rows(m, src, src, NULL), m->qualified),
								1, params);
		/*
		 * Nothing of ours can be at the destinations yet unless a copy
		 * committed there (recorded with rows_copied, or a verification
		 * that failed): any row there of a moving key is someone else's.
		 */
		*first = strcmp(src->phase, "waiting") == 0 || src->rows_copied == 0;
		set_phase(m, src, "copying");
		set_value(m, src, "rows_estimate", estimate);
		commit();
	}
	return state;
}

/* 2. done: record the copy. */
static void
source_copied(Mover *m, MoverServer *src)
{
	set_phase(m, src, "catching up");
	add_counter(m, src, "rows_copied", src->copied);
	commit();
}

/* Move one source through its phases (file header). */
static void
move_source(Mover *m, MoverServer *src)
{
	const char *params[7];
	char		oldv[16];
	char		newv[16];
	char	   *state;
	volatile int64 replayed = 0;
	int64		rows_verified = 0;
	volatile int64 copied = 0;
	double		fence_ms = 0;
	bool		verified_before;
	bool		first;

	snprintf(oldv, sizeof(oldv), "%d", m->old_version);
	snprintf(newv, sizeof(newv), "%d", m->new_version);
	params[0] = table_param(m);
	params[1] = NULL;
	params[2] = m->migration;
	params[3] = src->name;
	params[4] = oldv;
	params[5] = newv;
	params[6] = m->definition;

	if (strcmp(src->phase, "done") == 0)
		return;
	verified_before = strcmp(src->phase, "cut over") == 0;
	if (strcmp(src->phase, "cut over") != 0)
	{
		bool		copy;

		state = source_begin(m, src, &copy, &first);
		if (copy)
		{
			copy_sources(m, &src, &first, 1);
			source_copied(m, src);
		}
		copied = src->copied;
		if (strcmp(state, "copying") == 0)
		{
			instr_time	start;
			instr_time	now;
			volatile int attempts = 0;

			/* 3. catch up while the writers go on */
			for (;;)
			{
				int64		n = replay_round(m, src, m->batch_size, false, false, NULL);
				char	   *pending;

				replayed += n;
				pending = remote_value(src, "SELECT consistent_ring.shard_pending($1::pg_catalog.regclass)", 1, params);
				add_counter(m, src, "changes_replayed", n);
				set_value(m, src, "pending_changes", pending);
				commit();
				if (n < m->batch_size)
					break;
			}
			/* 4. verify at one point in time */
			if (m->verify)
			{
				/* every key recorded so far, under the round's snapshot */
				int64		n = replay_round(m, src, PG_INT32_MAX, false, true, &rows_verified);

				replayed += n;
				add_counter(m, src, "changes_replayed", n);
				set_value(m, src, "rows_verified", psprintf(INT64_FORMAT, rows_verified));
				set_value(m, src, "verified", "true");
				commit();
			}
			/* 5. cut over: fence, the last keys, commit there, commit here */
			for (;;)
			{
				PG_TRY();
				{
					INSTR_TIME_SET_CURRENT(start);
					remote_command(src, "BEGIN");
					remote_command(src, "SET LOCAL lock_timeout = '1s'");
					PQclear(remote(src, "SELECT consistent_ring.shard_cut($1::pg_catalog.regclass, $2)",
								   2, (const char *const *) (const char *[]) {params[0], m->migration},
								   PGRES_TUPLES_OK));
					{
						/* every key recorded: none can be written now */
						int64		n = replay_round(m, src, PG_INT32_MAX, true, false, NULL);

						replayed += n;
						add_counter(m, src, "changes_replayed", n);
					}
					remote_command(src, "COMMIT");
				}
				PG_CATCH();
				{
					ErrorData  *edata;
					MemoryContext ecxt = MemoryContextSwitchTo(m->cxt);

					edata = CopyErrorData();
					MemoryContextSwitchTo(ecxt);
					/* a long writer held the fence: catch up again, retry */
					if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE || ++attempts >= 5)
						PG_RE_THROW();
					FlushErrorState();
					remote_command(src, "ROLLBACK");
					ereport(NOTICE,
							(errmsg("ring_migrate: server %s: writers held the moving keys for 1 s; catching up and trying again",
									src->name)));
					replayed += replay_round(m, src, m->batch_size, false, false, NULL);
					continue;
				}
				PG_END_TRY();
				break;
			}
			set_phase(m, src, "cut over");
			commit();
			INSTR_TIME_SET_CURRENT(now);
			INSTR_TIME_SUBTRACT(now, start);
			fence_ms = INSTR_TIME_GET_MILLISEC(now);
			set_value(m, src, "fence_ms", psprintf("%.3f", fence_ms));
			set_value(m, src, "pending_changes", "0");
			commit();
		}
		else
		{
			/* the server cut over; this coordinator had not recorded it */
			set_phase(m, src, "cut over");
			commit();
		}
	}
	/*
	 * 6. The moved rows leave the source, over a connection of their own
	 * while the next sources move (finish_deletes collects them).
	 */
	{
		MemoryContext old = MemoryContextSwitchTo(m->cxt);

		src->deleter = palloc0(sizeof(MoverServer));
		src->deleter->name = src->name;
		src->notice = psprintf("ring_migrate: server %s: " INT64_FORMAT " rows copied, " INT64_FORMAT " changes replayed, %s",
							   src->name, copied, replayed,
							   !m->verify ? "not verified" : verified_before ? "verified before" :
							   psprintf(INT64_FORMAT " rows verified", rows_verified));
		MemoryContextSwitchTo(old);
		connect_server(src->deleter);
		remote_send(src->deleter, "SELECT consistent_ring.shard_delete_moved($1::pg_catalog.regclass, $2)",
					2, (const char *const *) (const char *[]) {params[0], m->migration});
	}
}

/* Wait for the sources' deletes; each source is then done. */
static void
finish_deletes(Mover *m)
{
	for (int i = 0; i < m->nservers; i++)
	{
		MoverServer *src = &m->servers[i];
		PGresult   *res;
		int64		deleted;

		if (src->deleter == NULL)
			continue;
		res = remote_collect(src->deleter, PGRES_TUPLES_OK);
		deleted = strtoi64(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
		close_conn(src->deleter);
		src->deleter = NULL;
		set_value(m, src, "rows_deleted", psprintf(INT64_FORMAT, deleted));
		set_phase(m, src, "done");
		commit();
		ereport(NOTICE,
				(errmsg("%s, " INT64_FORMAT " rows deleted", src->notice, deleted)));
	}
}

/* ---- setup, shared by ring_migrate and ring_migrate_check ---- */

/* The table, key column and ring of the call; errors as the old procedure's. */
static void
mover_setup(Mover *m, FunctionCallInfo fcinfo)
{
	Oid			types[3] = {OIDOID, TEXTOID, TEXTOID};
	Datum		values[3];
	AttrNumber	attnum;
	Oid			keytypid;

	m->extschema = pstrdup(quote_identifier(get_namespace_name(get_func_namespace(fcinfo->flinfo->fn_oid))));
	m->relid = PG_GETARG_OID(0);
	m->keyname = pstrdup(NameStr(*PG_GETARG_NAME(1)));
	m->key = pstrdup(quote_identifier(m->keyname));
	m->ring = text_to_cstring(PG_GETARG_TEXT_PP(2));
	m->old_version = PG_GETARG_INT32(3);
	m->new_version = PG_GETARG_INT32(4);

	values[0] = ObjectIdGetDatum(m->relid);
	spi_exec("SELECT pg_catalog.format('%I.%I', n.nspname, c.relname)"
			 " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
			 " WHERE c.oid OPERATOR(pg_catalog.=) $1",
			 1, types, values, NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", m->relid)));
	m->qualified = spi_text(0, 1);
	attnum = get_attnum(m->relid, m->keyname);
	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist",
						m->keyname, get_rel_name(m->relid))));
	keytypid = get_atttype(m->relid, attnum);
	m->keytype = format_type_extended(keytypid, -1, FORMAT_TYPE_FORCE_QUALIFY);
	values[0] = ObjectIdGetDatum(keytypid);
	spi_exec("SELECT consistent_ring.key_operator($1, '=')", 1, types, values, NULL, SPI_OK_SELECT);
	m->key_eq = spi_text(0, 1);
	values[0] = ObjectIdGetDatum(m->relid);
	spi_exec("SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum)"
			 " FROM pg_catalog.pg_attribute a WHERE a.attrelid OPERATOR(pg_catalog.=) $1"
			 " AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped"
			 " AND a.attgenerated OPERATOR(pg_catalog.=) ''",
			 1, types, values, NULL, SPI_OK_SELECT);
	m->cols = spi_text(0, 1);

	values[1] = CStringGetTextDatum(m->ring);
	spi_exec("SELECT consistent_ring.may_change($2)", 2, types, values, NULL, SPI_OK_SELECT);
	if (strcmp(spi_text(0, 1), "t") != 0)
	{
		/* does not exist, or may not be looked up: that error */
		spi_exec(psprintf("SELECT %s.ring_version($2)", m->extschema), 2, types, values, NULL, SPI_OK_SELECT);
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of ring \"%s\"", m->ring)));
	}

	/* whether ring_moves applies: the ring has ranges */
	spi_exec(psprintf("SELECT l.algorithm OPERATOR(pg_catalog.<>) ALL ('{jump,rendezvous}'::pg_catalog.text[])"
					  " FROM %s.ring_list l WHERE l.ring OPERATOR(pg_catalog.=) $2", m->extschema),
			 2, types, values, NULL, SPI_OK_SELECT);
	m->ranges = SPI_processed == 1 && strcmp(spi_text(0, 1), "t") == 0;

	/* every node of both versions on a postgres_fdw server */
	{
		Oid			t[3] = {TEXTOID, INT4OID, INT4OID};
		Datum		v[3] = {CStringGetTextDatum(m->ring), Int32GetDatum(m->old_version),
		Int32GetDatum(m->new_version)};

		spi_exec(psprintf("SELECT v.version, n.node, n.server, w.fdwname"
						  " FROM pg_catalog.unnest(ARRAY[$2, $3]) v(version)"
						  " CROSS JOIN LATERAL %s.ring_nodes_at($1, v.version) n"
						  " LEFT JOIN pg_catalog.pg_foreign_server s ON s.srvname OPERATOR(pg_catalog.=) n.server"
						  " LEFT JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid OPERATOR(pg_catalog.=) s.srvfdw"
						  " WHERE (w.fdwname OPERATOR(pg_catalog.=) 'postgres_fdw') IS NOT TRUE LIMIT 1",
						  m->extschema),
				 3, t, v, NULL, SPI_OK_SELECT);
		if (SPI_processed > 0)
		{
			char	   *server = spi_text(0, 3);
			char	   *fdw = spi_text(0, 4);

			if (server == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("node \"%s\" of ring \"%s\" has no server in version %s",
								spi_text(0, 2), m->ring, spi_text(0, 1)),
						 errhint("Name its foreign server with ring_set_server().")));
			if (fdw == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_OBJECT),
						 errmsg("server \"%s\" does not exist", server)));
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("server \"%s\" does not use postgres_fdw", server),
					 errdetail("Its foreign-data wrapper is %s.", fdw)));
		}
	}
}

/* The query of the columns as information_schema.columns describes them. */
static const char columns_query[] =
"SELECT c.column_name::pg_catalog.text, pg_catalog.concat_ws(' ',"
" CASE WHEN c.domain_name IS NOT NULL THEN pg_catalog.format('%I.%I', c.domain_schema, c.domain_name)"
"      WHEN c.data_type::pg_catalog.text OPERATOR(pg_catalog.=) ANY ('{USER-DEFINED,ARRAY}'::pg_catalog.text[])"
"      THEN pg_catalog.format('%I.%I', c.udt_schema, c.udt_name)"
"      ELSE c.data_type::pg_catalog.text END,"
" CASE WHEN c.character_maximum_length IS NOT NULL"
"      THEN pg_catalog.format('(%s)', c.character_maximum_length) END,"
" CASE WHEN c.data_type::pg_catalog.text OPERATOR(pg_catalog.=) 'numeric' AND c.numeric_precision IS NOT NULL"
"      THEN pg_catalog.format('(%s,%s)', c.numeric_precision, c.numeric_scale) END,"
" CASE WHEN c.datetime_precision IS NOT NULL"
"      THEN pg_catalog.format('precision %s', c.datetime_precision) END,"
" c.interval_type::pg_catalog.text,"
" CASE WHEN c.collation_name IS NOT NULL"
"      THEN pg_catalog.format('COLLATE %I.%I', c.collation_schema, c.collation_name) END,"
" CASE WHEN c.is_nullable::pg_catalog.text OPERATOR(pg_catalog.=) 'NO' THEN 'NOT NULL' END,"
" CASE WHEN c.is_generated::pg_catalog.text OPERATOR(pg_catalog.=) 'ALWAYS'"
"      THEN pg_catalog.format('GENERATED ALWAYS AS %s', c.generation_expression) END)"
" FROM information_schema.columns c"
" WHERE c.table_schema::pg_catalog.text OPERATOR(pg_catalog.=) $1 AND c.table_name::pg_catalog.text OPERATOR(pg_catalog.=) $2"
" ORDER BY 1";

static const char cascade_query[] =
"SELECT con.conname::pg_catalog.text, pg_catalog.format('%s.%s', rn.nspname, r.relname),"
"       con.confdeltype OPERATOR(pg_catalog.=) 'c'"
"  FROM pg_catalog.pg_constraint con"
"  JOIN pg_catalog.pg_class t ON t.oid OPERATOR(pg_catalog.=) con.confrelid"
"  JOIN pg_catalog.pg_namespace tn ON tn.oid OPERATOR(pg_catalog.=) t.relnamespace"
"  JOIN pg_catalog.pg_class r ON r.oid OPERATOR(pg_catalog.=) con.conrelid"
"  JOIN pg_catalog.pg_namespace rn ON rn.oid OPERATOR(pg_catalog.=) r.relnamespace"
" WHERE con.contype OPERATOR(pg_catalog.=) 'f'"
"   AND con.confdeltype OPERATOR(pg_catalog.=) ANY ('{c,n,d}'::pg_catalog.\"char\"[])"
"   AND tn.nspname OPERATOR(pg_catalog.=) $1 AND t.relname OPERATOR(pg_catalog.=) $2"
" ORDER BY 2, 1 LIMIT 1";

/*
 * A problem with a server's table, as (SQLSTATE, message, detail, hint), or
 * false if none: the columns must be the coordinator's (the copy names
 * them; a column only a server has would lose its values), and no foreign
 * key may cascade the deletes unless cascade_deletes.
 */
typedef struct Problem
{
	int			code;
	char	   *item;
	char	   *message;
	char	   *detail;
	char	   *hint;
} Problem;

static bool
check_server_table(Mover *m, MoverServer *s, Problem *p)
{
	char	   *nsp = get_namespace_name(get_rel_namespace(m->relid));
	char	   *rel = get_rel_name(m->relid);
	const char *params[2] = {nsp, rel};
	PGresult   *there = remote(s, columns_query, 2, params, PGRES_TUPLES_OK);
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2] = {CStringGetTextDatum(nsp), CStringGetTextDatum(rel)};
	int			i = 0;
	int			j = 0;

	memset(p, 0, sizeof(*p));
	p->item = "columns";
	if (PQntuples(there) == 0)
	{
		PQclear(there);
		p->code = ERRCODE_UNDEFINED_TABLE;
		p->message = psprintf("relation \"%s.%s\" does not exist on server \"%s\"", nsp, rel, s->name);
		p->hint = "ring_migrate moves rows between tables of the same name on every server, and needs the privilege to read and write them.";
		return true;
	}
	spi_exec(columns_query, 2, types, values, NULL, SPI_OK_SELECT);
	/* both sorted by name: merge */
	while (i < (int) SPI_processed || j < PQntuples(there))
	{
		char	   *here_name = i < (int) SPI_processed ? spi_text(i, 1) : NULL;
		char	   *there_name = j < PQntuples(there) ? PQgetvalue(there, j, 0) : NULL;
		int			c = here_name == NULL ? 1 : there_name == NULL ? -1 : strcmp(here_name, there_name);

		if (c > 0)
		{
			p->code = ERRCODE_UNDEFINED_COLUMN;
			p->message = psprintf("column \"%s\" of relation \"%s.%s\" on server \"%s\" is not a column of relation \"%s\"",
								  there_name, nsp, rel, s->name, m->qualified);
			p->detail = "ring_migrate copies the columns of the coordinator's table: the values of that column would be lost.";
		}
		else if (c < 0)
		{
			p->code = ERRCODE_UNDEFINED_COLUMN;
			p->message = psprintf("column \"%s\" of relation \"%s\" is not a column of relation \"%s.%s\" on server \"%s\"",
								  here_name, m->qualified, nsp, rel, s->name);
		}
		else if (strcmp(spi_text(i, 2), PQgetvalue(there, j, 1)) != 0)
		{
			p->code = ERRCODE_DATATYPE_MISMATCH;
			p->message = psprintf("column \"%s\" of relation \"%s.%s\" on server \"%s\" differs from the column of relation \"%s\"",
								  here_name, nsp, rel, s->name, m->qualified);
			p->detail = psprintf("It is %s on the coordinator, %s on the server.", spi_text(i, 2),
								 PQgetvalue(there, j, 1));
		}
		if (p->code)
		{
			p->hint = "Give the coordinator's table the same columns as the servers'.";
			PQclear(there);
			return true;
		}
		i++;
		j++;
	}
	PQclear(there);
	if (!m->cascade_deletes)
	{
		PGresult   *res = remote(s, cascade_query, 2, params, PGRES_TUPLES_OK);

		if (PQntuples(res) > 0)
		{
			p->item = "foreign keys";
			p->code = ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST;
			p->message = psprintf("deleting moved rows of \"%s.%s\" on server \"%s\" would cascade to \"%s\" through foreign key \"%s\"",
								  nsp, rel, s->name, PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 0));
			p->detail = psprintf("Deleting a moved row at the source would %s the rows of \"%s\" that refer to it.",
								 strcmp(PQgetvalue(res, 0, 2), "t") == 0 ? "delete" : "change",
								 PQgetvalue(res, 0, 1));
			p->hint = "Pass cascade_deletes => true if that is what should happen to them.";
			PQclear(res);
			return true;
		}
		PQclear(res);
	}
	return false;
}

/* The servers of the migration: sources first, by name. */
static void
load_servers(Mover *m)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(m->migration_id)};
	MemoryContext old;

	spi_exec("SELECT server, source, phase, rows_copied FROM consistent_ring.migration_servers"
			 " WHERE migration_id OPERATOR(pg_catalog.=) $1 ORDER BY source DESC, server",
			 1, types, values, NULL, SPI_OK_SELECT);
	old = MemoryContextSwitchTo(m->cxt);
	m->nservers = SPI_processed;
	m->servers = palloc0(sizeof(MoverServer) * Max(m->nservers, 1));
	for (int i = 0; i < m->nservers; i++)
	{
		m->servers[i].name = spi_text(i, 1);
		m->servers[i].source = strcmp(spi_text(i, 2), "t") == 0;
		m->servers[i].phase = spi_text(i, 3);
		m->servers[i].rows_copied = strtoi64(spi_text(i, 4), NULL, 10);
	}
	MemoryContextSwitchTo(old);
}

/*
 * The migration's servers and whether each is a source ($2 ring, $3 old,
 * $4 new version): the servers of the nodes that give ranges away
 * (ring_moves) or whose server changes; every server of the old version
 * where the ring has no ranges.
 */
static char *
servers_query(Mover *m)
{
	bool		ranges = m->ranges;

	return psprintf("SELECT x.server, pg_catalog.bool_or(x.source) AS source"
					" FROM (SELECT o.server, %s AS source"
					"       FROM %s.ring_nodes_at($2, $3) o"
					"       LEFT JOIN %s.ring_nodes_at($2, $4) n ON n.node OPERATOR(pg_catalog.=) o.node"
					"       UNION ALL"
					"       SELECT n.server, false FROM %s.ring_nodes_at($2, $4) n) x"
					" GROUP BY x.server",
					ranges ?
					psprintf("o.node OPERATOR(pg_catalog.=) ANY (SELECT mv.from_node FROM %s.ring_moves($2, $3, $4) mv)"
							 " OR (o.server OPERATOR(pg_catalog.=) n.server) IS NOT TRUE", m->extschema) :
					"true",
					m->extschema, m->extschema, m->extschema);
}

static void
insert_servers(Mover *m)
{
	Oid			types[4] = {INT4OID, TEXTOID, INT4OID, INT4OID};
	Datum		values[4] = {Int32GetDatum(m->migration_id), CStringGetTextDatum(m->ring),
	Int32GetDatum(m->old_version), Int32GetDatum(m->new_version)};

	spi_exec(psprintf("INSERT INTO consistent_ring.migration_servers (migration_id, ring, server, source)"
					  " SELECT $1, $2, s.server, s.source FROM (%s) s", servers_query(m)),
			 4, types, values, NULL, SPI_OK_INSERT);
}

/* Connect to every server and check its table; the ring to send them. */
static void
prepare_servers(Mover *m)
{
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		values[2] = {CStringGetTextDatum(m->ring),
	Int32GetDatum(Max(m->old_version, m->new_version))};

	for (int i = 0; i < m->nservers; i++)
	{
		Problem		p;

		connect_server(&m->servers[i]);
		if (check_server_table(m, &m->servers[i], &p))
			ereport(ERROR,
					(errcode(p.code),
					 errmsg_internal("%s", p.message),
					 p.detail ? errdetail_internal("%s", p.detail) : 0,
					 p.hint ? errhint("%s", p.hint) : 0));
	}
	spi_exec("SELECT consistent_ring.ring_export($1, $2)::pg_catalog.text", 2, types, values, NULL,
			 SPI_OK_SELECT);
	m->definition = MemoryContextStrdup(m->cxt, spi_text(0, 1));
	m->migration = MemoryContextStrdup(m->cxt,
									   psprintf(UINT64_FORMAT "/%u/%d", GetSystemIdentifier(),
												MyDatabaseId, m->migration_id));
	/* every server computes placement: the ring on each */
	for (int i = 0; i < m->nservers; i++)
	{
		const char *params[2] = {m->migration, m->definition};

		const char *fparams[2] = {m->qualified, m->migration};

		pfree(remote_value(&m->servers[i], "SELECT consistent_ring.shard_import($1, $2::pg_catalog.jsonb)",
						   2, params));
		/*
		 * An earlier migration's refusals must not stop rows coming back,
		 * at a destination or at a source not begun yet (one begun keeps
		 * this migration's state)
		 */
		PQclear(remote(&m->servers[i], "SELECT consistent_ring.shard_forget($1::pg_catalog.regclass, $2)",
					   2, fparams, PGRES_TUPLES_OK));
	}
}

static void
run_migrate(Mover *m)
{
	Oid			types[6] = {TEXTOID, NAMEOID, NAMEOID, NAMEOID, INT4OID, INT4OID};
	Datum		values[6];
	char	   *nsp = get_namespace_name(get_rel_namespace(m->relid));
	char	   *rel = get_rel_name(m->relid);
	bool		resuming;
	int64		lock_key;

	values[0] = CStringGetTextDatum(m->ring);
	/* name parameters are passed as NameData, never as short C strings */
	values[1] = DirectFunctionCall1(namein, CStringGetDatum(nsp));
	values[2] = DirectFunctionCall1(namein, CStringGetDatum(rel));
	values[3] = DirectFunctionCall1(namein, CStringGetDatum(m->keyname));
	values[4] = Int32GetDatum(m->old_version);
	values[5] = Int32GetDatum(m->new_version);
	spi_exec("SELECT m.migration_id, m.old_version, m.new_version, m.key_column::pg_catalog.text"
			 " FROM consistent_ring.migrations m"
			 " WHERE m.ring OPERATOR(pg_catalog.=) $1 AND m.table_schema OPERATOR(pg_catalog.=) $2"
			 " AND m.table_name OPERATOR(pg_catalog.=) $3 AND m.finished_at IS NULL",
			 3, types, values, NULL, SPI_OK_SELECT);
	resuming = SPI_processed > 0;
	if (resuming)
	{
		m->migration_id = pg_strtoint32(spi_text(0, 1));
		if (pg_strtoint32(spi_text(0, 2)) != m->old_version ||
			pg_strtoint32(spi_text(0, 3)) != m->new_version ||
			strcmp(spi_text(0, 4), m->keyname) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table %s has an unfinished migration of ring \"%s\" from version %s to version %s",
							m->qualified, m->ring, spi_text(0, 2), spi_text(0, 3)),
					 errhint("Finish it first: CALL ring_migrate(%s, %s, %s, %s, %s).",
							 quote_literal_cstr(m->qualified), quote_literal_cstr(spi_text(0, 4)),
							 quote_literal_cstr(m->ring), spi_text(0, 2), spi_text(0, 3))));
	}

	/*
	 * One session at a time moves a table by a ring: a session-level
	 * advisory lock (1919510119, hash of ring and table), released at the
	 * end or when the session ends.
	 */
	{
		Oid			t[2] = {TEXTOID, OIDOID};
		Datum		v[2] = {CStringGetTextDatum(m->ring), ObjectIdGetDatum(m->relid)};

		spi_exec("SELECT pg_catalog.hashtext(pg_catalog.format('%s.%s', $1, $2))", 2, t, v, NULL, SPI_OK_SELECT);
		lock_key = strtoi64(spi_text(0, 1), NULL, 10);
		v[1] = Int32GetDatum((int32) lock_key);
		t[1] = INT4OID;
		spi_exec("SELECT EXISTS (SELECT FROM pg_catalog.pg_locks l"
				 " WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory' AND l.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid()"
				 " AND l.classid OPERATOR(pg_catalog.=) 1919510119::pg_catalog.oid AND l.objid OPERATOR(pg_catalog.=) $2::pg_catalog.oid"
				 " AND l.objsubid OPERATOR(pg_catalog.=) 2 AND l.granted)"
				 " OR pg_catalog.pg_try_advisory_lock(1919510119, $2)",
				 2, t, v, NULL, SPI_OK_SELECT);
		if (strcmp(spi_text(0, 1), "t") != 0)
		{
			spi_exec("SELECT l.pid FROM pg_catalog.pg_locks l WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory'"
					 " AND l.classid OPERATOR(pg_catalog.=) 1919510119::pg_catalog.oid"
					 " AND l.objid OPERATOR(pg_catalog.=) $2::pg_catalog.oid"
					 " AND l.objsubid OPERATOR(pg_catalog.=) 2 AND l.granted LIMIT 1",
					 2, t, v, NULL, SPI_OK_SELECT);
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("table %s is being migrated by ring \"%s\" in another session", m->qualified, m->ring),
					 errdetail("The session with PID %s holds the migration.",
							   SPI_processed > 0 ? spi_text(0, 1) : "(ended)"),
					 errhint("A run that failed keeps the migration until its session ends; resume it there, or end that session.")));
		}
	}

	if (resuming)
		ereport(NOTICE,
				(errmsg("ring_migrate: resuming migration %d of %s from version %d to version %d",
						m->migration_id, m->qualified, m->old_version, m->new_version)));
	else
	{
		spi_exec("INSERT INTO consistent_ring.migrations (ring, table_schema, table_name, key_column, old_version, new_version)"
				 " VALUES ($1, $2, $3, $4, $5, $6) RETURNING migration_id",
				 6, types, values, NULL, SPI_OK_INSERT_RETURNING);
		m->migration_id = pg_strtoint32(spi_text(0, 1));
		insert_servers(m);
	}
	load_servers(m);
	prepare_servers(m);
	commit();

	/*
	 * With parallel, the copies first, that many sources at once; each
	 * source then catches up, is verified and cut over on its own (short).
	 */
	if (m->parallel > 1)
	{
		MoverServer **wave = palloc(sizeof(MoverServer *) * m->nservers);
		bool	   *first = palloc(sizeof(bool) * m->nservers);
		int			n = 0;

		for (int i = 0; i < m->nservers; i++)
		{
			MoverServer *src = &m->servers[i];
			bool		copy = false;

			if (src->source && (strcmp(src->phase, "waiting") == 0 ||
								strcmp(src->phase, "copying") == 0))
				(void) source_begin(m, src, &copy, &first[n]);
			if (copy)
				wave[n++] = src;
			if (n > 0 && (n == m->parallel || i == m->nservers - 1))
			{
				copy_sources(m, wave, first, n);
				for (int j = 0; j < n; j++)
					source_copied(m, wave[j]);
				n = 0;
			}
		}
	}
	for (int i = 0; i < m->nservers; i++)
		if (m->servers[i].source)
			move_source(m, &m->servers[i]);
	finish_deletes(m);

	/* keep refusing writes to keys that moved away, at every source */
	for (int i = 0; i < m->nservers; i++)
	{
		const char *params[2] = {m->qualified, m->migration};

		if (m->servers[i].source)
			PQclear(remote(&m->servers[i], "SELECT consistent_ring.shard_finish($1::pg_catalog.regclass, $2)",
						   2, params, PGRES_TUPLES_OK));
	}
	{
		Oid			t[2] = {INT4OID, BOOLOID};
		Datum		v[2] = {Int32GetDatum(m->migration_id), BoolGetDatum(true)};
		char		nulls[2] = {' ', m->verify ? ' ' : 'n'};

		spi_exec("UPDATE consistent_ring.migrations SET finished_at = pg_catalog.now(), verified = $2"
				 " WHERE migration_id OPERATOR(pg_catalog.=) $1", 2, t, v, nulls, SPI_OK_UPDATE);
		spi_exec("SELECT pg_catalog.sum(rows_copied OPERATOR(pg_catalog.+) changes_replayed)::pg_catalog.text,"
				 " pg_catalog.sum(rows_deleted)::pg_catalog.text"
				 " FROM consistent_ring.migration_servers WHERE migration_id OPERATOR(pg_catalog.=) $1",
				 1, t, v, NULL, SPI_OK_SELECT);
		ereport(NOTICE,
				(errmsg("ring_migrate: migration %d of %s from version %d to version %d done: %s rows moved",
						m->migration_id, m->qualified, m->old_version, m->new_version,
						spi_text(0, 2) ? spi_text(0, 2) : "0")));
		v[0] = Int32GetDatum((int32) lock_key);
		t[0] = INT4OID;
		spi_exec("SELECT pg_catalog.pg_advisory_unlock(1919510119, $1)", 1, t, v, NULL, SPI_OK_SELECT);
	}
	commit();
}

/* CALL ring_migrate(tbl, key_column, ring, old_version, new_version, batch_size, verify, cascade_deletes) */
PG_FUNCTION_INFO_V1(ring_migrate);
Datum
ring_migrate(PG_FUNCTION_ARGS)
{
	MemoryContext cxt;
	MemoryContext oldcxt = CurrentMemoryContext;
	Mover	   *m;

	if (fcinfo->context == NULL || !IsA(fcinfo->context, CallContext) ||
		castNode(CallContext, fcinfo->context)->atomic)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
				 errmsg("ring_migrate cannot run inside a transaction block"),
				 errhint("It commits after each step: CALL it on its own.")));
	for (int i = 0; i < 9; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("arguments of ring_migrate must not be null")));
	if (PG_GETARG_INT32(5) < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch_size must be at least 1")));
	if (PG_GETARG_INT32(8) < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parallel must be at least 1")));
	if (current_mover != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("ring_migrate is already running in this session")));

	cxt = AllocSetContextCreate(TopMemoryContext, "ring_migrate", ALLOCSET_DEFAULT_SIZES);
	m = MemoryContextAllocZero(cxt, sizeof(Mover));
	m->cxt = cxt;
	m->batch_size = PG_GETARG_INT32(5);
	m->verify = PG_GETARG_BOOL(6);
	m->cascade_deletes = PG_GETARG_BOOL(7);
	m->parallel = PG_GETARG_INT32(8);
	if (SPI_connect_ext(SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	current_mover = m;
	PG_TRY();
	{
		MemoryContextSwitchTo(cxt);
		mover_setup(m, fcinfo);
		run_migrate(m);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		close_all(m);
		current_mover = NULL;
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	close_all(m);
	current_mover = NULL;
	SPI_finish();
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(cxt);
	PG_RETURN_VOID();
}

/* ---- ring_migrate_check ---- */

static void
check_row(ReturnSetInfo *rsinfo, const char *server, const char *dest, const char *item,
		  bool ok, const char *rows, const char *bytes, const char *detail)
{
	Datum		values[7];
	bool		nulls[7] = {false};

	nulls[0] = server == NULL;
	if (server)
		values[0] = CStringGetTextDatum(server);
	nulls[1] = dest == NULL;
	if (dest)
		values[1] = CStringGetTextDatum(dest);
	values[2] = CStringGetTextDatum(item);
	values[3] = BoolGetDatum(ok);
	nulls[4] = rows == NULL;
	if (rows)
		values[4] = Int64GetDatum(strtoi64(rows, NULL, 10));
	nulls[5] = bytes == NULL;
	if (bytes)
		values[5] = Int64GetDatum(strtoi64(bytes, NULL, 10));
	nulls[6] = detail == NULL;
	if (detail)
		values[6] = CStringGetTextDatum(detail);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* Connect, or the error's message (NULL when connected). */
static char *
try_connect(MoverServer *s)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	char	   *volatile msg = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		connect_server(s);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(oldcxt);
		e = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		msg = e->detail ? psprintf("%s: %s", e->message, e->detail) : e->message;
		if (e->hint)
			msg = psprintf("%s (%s)", msg, e->hint);
		if (s->conn)
			PQfinish(s->conn);
		s->conn = NULL;
	}
	PG_END_TRY();
	return msg;
}

static void
run_check(Mover *m, ReturnSetInfo *rsinfo)
{
	Oid			types[4] = {INT4OID, TEXTOID, INT4OID, INT4OID};
	Datum		values[4] = {0, CStringGetTextDatum(m->ring), Int32GetDatum(m->old_version),
	Int32GetDatum(m->new_version)};
	Oid			t2[2] = {TEXTOID, INT4OID};
	Datum		v2[2] = {CStringGetTextDatum(m->ring), Int32GetDatum(Max(m->old_version, m->new_version))};

	spi_exec(psprintf("SELECT s.server, s.source FROM (%s) s ORDER BY s.source DESC, s.server", servers_query(m)),
			 4, types, values, NULL, SPI_OK_SELECT);
	m->nservers = SPI_processed;
	m->servers = palloc0(sizeof(MoverServer) * Max(m->nservers, 1));
	for (int i = 0; i < m->nservers; i++)
	{
		m->servers[i].name = spi_text(i, 1);
		m->servers[i].source = strcmp(spi_text(i, 2), "t") == 0;
	}
	spi_exec("SELECT consistent_ring.ring_export($1, $2)::pg_catalog.text", 2, t2, v2, NULL, SPI_OK_SELECT);
	m->definition = spi_text(0, 1);
	/* a key whose text form depends on settings is placed by them */
	switch (getBaseType(get_atttype(m->relid, get_attnum(m->relid, m->keyname))))
	{
		case DATEOID:
		case TIMEOID:
		case TIMETZOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
		case INTERVALOID:
		case FLOAT4OID:
		case FLOAT8OID:
		case CASHOID:
			check_row(rsinfo, NULL, NULL, "key type", false, NULL, NULL,
					  psprintf("the text form of %s depends on settings (DateStyle, IntervalStyle, TimeZone, extra_float_digits, lc_monetary): the servers place such keys as sessions with DateStyle ISO, IntervalStyle postgres, TimeZone UTC, extra_float_digits 3 and lc_monetary C do, so route them from such sessions",
							   m->keytype));
			break;
		default:
			check_row(rsinfo, NULL, NULL, "key type", true, NULL, NULL,
					  psprintf("%s: its text form does not depend on settings", m->keytype));
	}
	m->migration = psprintf("check " UINT64_FORMAT "/%u/%d", GetSystemIdentifier(), MyDatabaseId, MyProcPid);

	for (int i = 0; i < m->nservers; i++)
	{
		MoverServer *s = &m->servers[i];
		char	   *err = try_connect(s);
		Problem		p;
		const char *params[2] = {m->qualified, m->keyname};
		PGresult   *res;
		char	   *v;

		check_row(rsinfo, s->name, NULL, "connection", err == NULL, NULL, NULL,
				  err ? err : psprintf("consistent_ring in schema %s", s->schema));
		if (err)
			continue;
		res = remote(s, "SELECT pg_catalog.to_regclass($1) IS NOT NULL", 1, params, PGRES_TUPLES_OK);
		if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
		{
			PQclear(res);
			check_row(rsinfo, s->name, NULL, "columns", false, NULL, NULL,
					  psprintf("relation \"%s\" does not exist on server \"%s\"", m->qualified, s->name));
			continue;
		}
		PQclear(res);
		if (check_server_table(m, s, &p))
			check_row(rsinfo, s->name, NULL, p.item, false, NULL, NULL,
					  p.detail ? psprintf("%s: %s", p.message, p.detail) : p.message);
		else
		{
			check_row(rsinfo, s->name, NULL, "columns", true, NULL, NULL, "the coordinator's");
			if (!m->cascade_deletes)
				check_row(rsinfo, s->name, NULL, "foreign keys", true, NULL, NULL, "none cascades deletes");
		}
		v = remote_value(s, psprintf("SELECT pg_catalog.has_table_privilege($1::pg_catalog.regclass, '%s')",
									 s->source ? "SELECT, INSERT, DELETE, TRIGGER" : "SELECT, INSERT, DELETE"),
						 1, params);
		check_row(rsinfo, s->name, NULL, "privileges", strcmp(v, "t") == 0, NULL, NULL,
				  s->source ? "SELECT, INSERT, DELETE and TRIGGER on the table (a source)" :
				  "SELECT, INSERT and DELETE on the table");
		v = remote_value(s, "SELECT EXISTS (SELECT FROM pg_catalog.pg_index i"
						 " JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid"
						 " AND a.attnum OPERATOR(pg_catalog.=) i.indkey[0]"
						 " WHERE i.indrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass"
						 " AND a.attname OPERATOR(pg_catalog.=) $2 AND i.indpred IS NULL AND i.indisvalid)",
						 2, params);
		check_row(rsinfo, s->name, NULL, "key index", strcmp(v, "t") == 0, NULL, NULL,
				  strcmp(v, "t") == 0 ? "an index leads with the key column" :
				  "no index leads with the key column: each replay of written keys scans the table");
		if (!s->source)
			continue;
		res = remote(s, "SELECT pg_catalog.count(*),"
					 " (pg_catalog.max(pg_catalog.now() OPERATOR(pg_catalog.-) a.xact_start))::pg_catalog.text"
					 " FROM pg_catalog.pg_stat_activity a"
					 " WHERE a.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()"
					 " AND a.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()"
					 " AND a.xact_start OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) '1 minute'::pg_catalog.interval)",
					 0, NULL, PGRES_TUPLES_OK);
		check_row(rsinfo, s->name, NULL, "long transactions", strcmp(PQgetvalue(res, 0, 0), "0") == 0, NULL, NULL,
				  strcmp(PQgetvalue(res, 0, 0), "0") == 0 ? "none open for more than a minute" :
				  psprintf("%s open for more than a minute (the longest for %s): ring_migrate waits for those that wrote the table before it records writes, and writes to the table wait behind it",
						   PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1)));
		PQclear(res);
		/* what would move, placed by the ring imported in a transaction rolled back */
		remote_command(s, "BEGIN");
		{
			const char *ip[2] = {m->migration, m->definition};

			pfree(remote_value(s, "SELECT consistent_ring.shard_import($1, $2::pg_catalog.jsonb)", 2, ip));
		}
		res = remote(s, psprintf("SELECT %s, pg_catalog.count(*), pg_catalog.sum(pg_catalog.pg_column_size(t.*))"
								 " FROM ONLY %s t WHERE %s GROUP BY 1 ORDER BY 1",
								 placement(m, s, m->new_version), m->qualified, moving_rows(m, s, s, NULL)),
					 0, NULL, PGRES_TUPLES_OK);
		for (int r = 0; r < PQntuples(res); r++)
			check_row(rsinfo, s->name, PQgetvalue(res, r, 0), "move", true,
					  PQgetvalue(res, r, 1), PQgetvalue(res, r, 2), NULL);
		if (PQntuples(res) == 0)
			check_row(rsinfo, s->name, NULL, "move", true, "0", "0", "no row moves away");
		PQclear(res);
		remote_command(s, "ROLLBACK");
	}
}

/* ring_migrate_check(tbl, key_column, ring, old_version, new_version, cascade_deletes) */
PG_FUNCTION_INFO_V1(ring_migrate_check);
Datum
ring_migrate_check(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext oldcxt;
	Mover	   *m = palloc0(sizeof(Mover));

	RING_INIT_MATERIALIZED_SRF(fcinfo, 0);
	oldcxt = CurrentMemoryContext;
	m->cxt = CurrentMemoryContext;
	m->cascade_deletes = PG_GETARG_BOOL(5);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		mover_setup(m, fcinfo);
		run_check(m, rsinfo);
	}
	PG_CATCH();
	{
		close_all(m);
		PG_RE_THROW();
	}
	PG_END_TRY();
	close_all(m);
	SPI_finish();
	return (Datum) 0;
}
