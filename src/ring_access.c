/*-------------------------------------------------------------------------
 *
 * ring_access.c
 *	  Who may do what to a ring.  A ring's owner (its creator), members of
 *	  the owning role and superusers change it and grant or revoke lookups
 *	  (ring_grant, ring_revoke); others look it up if it is public or they
 *	  are among its readers.  The catalog tables belong to the extension's
 *	  owner: the functions that change rings check the caller's rights and
 *	  then write them as that owner, in a security-restricted operation
 *	  with search_path pg_catalog (begin_as_catalog_owner).  The row
 *	  security predicates of the migration tables (ring_may_change,
 *	  ring_may_read) tie each row to the ring it claims.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "ring_admin.h"
#include "ring_catalog.h"

/*
 * Connect to SPI and act as the owner of the catalog tables, with
 * search_path pinned to pg_catalog (every name is qualified anyway).  An
 * error restores the caller's identity and settings with the abort.
 */
void
begin_as_catalog_owner(RingCaller *caller)
{
	Oid			owner = ring_catalog_owner();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	GetUserIdAndSecContext(&caller->user, &caller->sec_context);
	SetUserIdAndSecContext(owner, caller->sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	caller->guc_nest_level = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

/* Back to the calling user and settings; disconnect from SPI. */
void
end_as_catalog_owner(RingCaller *caller)
{
	AtEOXact_GUC(true, caller->guc_nest_level);
	SetUserIdAndSecContext(caller->user, caller->sec_context);
	SPI_finish();
}

/*
 * Change who may look a ring up: role 'public' is everyone (as in
 * has_table_privilege), any other name a role whose members may.  Not a ring version: placement does
 * not change.
 */
static void
set_lookup_right(text *ring, text *role, bool allow)
{
	char	   *rolename = text_to_cstring(role);
	RingCaller	caller;
	RingChange	chg;
	Oid			types[2] = {INT4OID, OIDOID};
	Datum		values[2];

	ring_change_begin(ring, &caller, &chg);
	values[0] = Int32GetDatum(chg.ring_id);
	if (strcmp(rolename, "public") == 0)
	{
		values[1] = BoolGetDatum(allow);
		types[1] = BOOLOID;
		ring_admin_run("UPDATE consistent_ring.rings SET public_lookup = $2"
			" WHERE ring_id OPERATOR(pg_catalog.=) $1",
			2, types, values, SPI_OK_UPDATE);
	}
	else
	{
		values[1] = ObjectIdGetDatum(get_role_oid(rolename, false));
		ring_admin_run(allow ?
			"UPDATE consistent_ring.rings SET readers = pg_catalog.array_append("
			"pg_catalog.array_remove(readers, $2::pg_catalog.regrole), $2::pg_catalog.regrole)"
			" WHERE ring_id OPERATOR(pg_catalog.=) $1" :
			"UPDATE consistent_ring.rings SET readers = pg_catalog.array_remove(readers, $2::pg_catalog.regrole)"
			" WHERE ring_id OPERATOR(pg_catalog.=) $1",
			2, types, values, SPI_OK_UPDATE);
	}
	end_as_catalog_owner(&caller);
}

/* ring_grant(ring, role): let role (or public) look the ring up. */
PG_FUNCTION_INFO_V1(ring_grant);
Datum
ring_grant(PG_FUNCTION_ARGS)
{
	set_lookup_right(PG_GETARG_TEXT_PP(0), PG_GETARG_TEXT_PP(1), true);
	PG_RETURN_VOID();
}

/* ring_revoke(ring, role): take back role's (or public's) lookup right. */
PG_FUNCTION_INFO_V1(ring_revoke);
Datum
ring_revoke(PG_FUNCTION_ARGS)
{
	set_lookup_right(PG_GETARG_TEXT_PP(0), PG_GETARG_TEXT_PP(1), false);
	PG_RETURN_VOID();
}

/* consistent_ring.may_look_up(owner, public_lookup, readers): for the views. */
PG_FUNCTION_INFO_V1(ring_may_look_up);
Datum
ring_may_look_up(PG_FUNCTION_ARGS)
{
	RingAccess	access;

	ring_access_from_datums(PG_GETARG_DATUM(0), PG_GETARG_DATUM(1),
							PG_GETARG_DATUM(2), &access);
	PG_RETURN_BOOL(ring_may_look_up_as(GetUserId(), &access));
}

/*
 * consistent_ring.may_change(ring) and consistent_ring.may_read(ring):
 * whether the current user owns the ring (may change it), or may look it
 * up; false for a ring that does not exist.  For the row security policies
 * of the migration tables, which run as the querying user.
 */
static bool
ring_arg_access(FunctionCallInfo fcinfo, RingAccess *access)
{
	text	   *ring = PG_GETARG_TEXT_PP(0);

	return VARSIZE_ANY_EXHDR(ring) <= RING_NAME_MAXLEN &&
		ring_catalog_access(VARDATA_ANY(ring), VARSIZE_ANY_EXHDR(ring),
							ring_current_snapshot(), access);
}

PG_FUNCTION_INFO_V1(ring_may_change);
Datum
ring_may_change(PG_FUNCTION_ARGS)
{
	RingAccess	access;

	PG_RETURN_BOOL(ring_arg_access(fcinfo, &access) &&
				   has_privs_of_role(GetUserId(), access.owner));
}

PG_FUNCTION_INFO_V1(ring_may_read);
Datum
ring_may_read(PG_FUNCTION_ARGS)
{
	RingAccess	access;

	PG_RETURN_BOOL(ring_arg_access(fcinfo, &access) &&
				   ring_may_look_up_as(GetUserId(), &access));
}
