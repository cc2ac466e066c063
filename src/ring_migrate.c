/*-------------------------------------------------------------------------
 *
 * ring_migrate.c
 *	  C support for ring_migrate (consistent_ring--1.0.sql): the key
 *	  column's comparison operators, schema-qualified.
 *
 * ring_migrate builds its queries at run time, under its caller's
 * search_path (a procedure that commits cannot pin one).  A bare "<=" in
 * such a query is looked up on that path, where a schema searched before
 * pg_catalog can hold a look-alike that would then run as the migrating
 * role.  So every operator it spells is qualified: pg_catalog's for the
 * built-in types it compares, and for the key column's type those of the
 * type's default btree operator class, found here, written as
 * OPERATOR(schema.name).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/stratnum.h"
#include "catalog/pg_operator.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

/* The btree strategies ring_migrate compares keys with. */
static const struct
{
	const char *name;
	StrategyNumber strategy;
} key_operators[] = {
	{"<", BTLessStrategyNumber},
	{"<=", BTLessEqualStrategyNumber},
	{"=", BTEqualStrategyNumber},
	{">=", BTGreaterEqualStrategyNumber},
	{">", BTGreaterStrategyNumber},
};

/*
 * consistent_ring.key_operator(keytype, op): the operator of keytype's
 * default btree operator class with op's meaning ('<', '<=', '=', '>=',
 * '>'), as OPERATOR(schema.name), for queries that must not depend on the
 * search_path.
 */
PG_FUNCTION_INFO_V1(ring_key_operator);
Datum
ring_key_operator(PG_FUNCTION_ARGS)
{
	Oid			keytype = PG_GETARG_OID(0);
	char	   *op = text_to_cstring(PG_GETARG_TEXT_PP(1));
	StrategyNumber strategy = InvalidStrategy;
	TypeCacheEntry *tc;
	Oid			opr;
	HeapTuple	tuple;
	Form_pg_operator form;
	char	   *result;

	for (int i = 0; i < lengthof(key_operators); i++)
	{
		if (strcmp(op, key_operators[i].name) == 0)
			strategy = key_operators[i].strategy;
	}
	if (strategy == InvalidStrategy)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is not a key comparison",
						pnstrdup(op, pg_mbcliplen(op, strlen(op), 16))),
				 errhint("Use one of <, <=, =, >= and >.")));
	if (!SearchSysCacheExists1(TYPEOID, ObjectIdGetDatum(keytype)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("type with OID %u does not exist", keytype)));

	tc = lookup_type_cache(keytype, TYPECACHE_BTREE_OPFAMILY);
	opr = OidIsValid(tc->btree_opf) ?
		get_opfamily_member(tc->btree_opf, tc->btree_opintype,
							tc->btree_opintype, strategy) : InvalidOid;
	if (!OidIsValid(opr))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("could not identify a comparison operator for type %s",
						format_type_be(keytype)),
				 errdetail("Keys are compared with the operators of their type's default btree operator class.")));

	tuple = SearchSysCache1(OPEROID, ObjectIdGetDatum(opr));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for operator %u", opr);
	form = (Form_pg_operator) GETSTRUCT(tuple);
	result = psprintf("OPERATOR(%s.%s)",
					  quote_identifier(get_namespace_name(form->oprnamespace)),
					  NameStr(form->oprname));
	ReleaseSysCache(tuple);
	PG_RETURN_TEXT_P(cstring_to_text(result));
}
