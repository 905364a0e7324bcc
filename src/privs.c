/*-------------------------------------------------------------------------
 *
 * privs.c
 *	  Identity switches and the pinned search_path (see privs.h).
 *
 * Nothing else in dbopt calls SetUserIdAndSecContext(): one place to read
 * when asking "as whom does this run".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "dbopt/compat.h"
#include "dbopt/privs.h"
#include "dbopt/util.h"

void
dbopt_set_local_guc(const char *name, const char *value)
{
	(void) set_config_option(name, value, PGC_SUSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

int
dbopt_pin_search_path(void)
{
	int			nest = NewGUCNestLevel();

	dbopt_set_local_guc("search_path", DBOPT_SAFE_SEARCH_PATH);
	return nest;
}

Oid
dbopt_extension_owner(void)
{
	return dbopt_extension_owner_of("dbopt");
}

Oid
dbopt_extension_owner_of(const char *extname)
{
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			owner = BOOTSTRAP_SUPERUSERID;

	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum(extname));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return owner;
}

Oid
dbopt_relation_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner = InvalidOid;

	if (HeapTupleIsValid(tup))
	{
		owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
		ReleaseSysCache(tup);
	}
	return owner;
}

void
dbopt_become_keep_path(Oid role, DboptIdentity *id)
{
	GetUserIdAndSecContext(&id->userid, &id->sec_context);
	SetUserIdAndSecContext(role, id->sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	id->nest = NewGUCNestLevel();
}

void
dbopt_become(Oid role, DboptIdentity *id)
{
	dbopt_become_keep_path(role, id);
	dbopt_set_local_guc("search_path", DBOPT_SAFE_SEARCH_PATH);
}

void
dbopt_elevate(DboptIdentity *id)
{
	dbopt_become(dbopt_extension_owner(), id);
}

void
dbopt_restore_identity(const DboptIdentity *id)
{
	AtEOXact_GUC(true, id->nest);
	SetUserIdAndSecContext(id->userid, id->sec_context);
}

/*
 * The server's own error for a caller who does not own the relation
 * (aclcheck_error, ACLCHECK_NOT_OWNER: SQLSTATE 42501, "must be owner of
 * table ..."), named with its schema and completed with what the caller
 * was about to do (why_fmt, a printf format), since aclcheck_error()
 * carries no detail or hint.  The detail is built only on failure.
 */
void
dbopt_require_owner(Oid relid, const char *why_fmt,...)
{
	MemoryContext cxt = CurrentMemoryContext;
	StringInfoData why;

	if (dbopt_relation_ownercheck(relid, GetUserId()))
		return;
	initStringInfo(&why);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, why_fmt);
		needed = appendStringInfoVA(&why, why_fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&why, needed);
	}
	PG_TRY();
	{
		aclcheck_error(ACLCHECK_NOT_OWNER, get_relkind_objtype(get_rel_relkind(relid)),
					   dbopt_qualified_relname(relid));
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(cxt);
		e = CopyErrorData();
		FlushErrorState();
		e->detail = why.data;
		e->hint = pstrdup("Run it as the owner, or as a member of the owning role.");
		ReThrowError(e);
	}
	PG_END_TRY();
}
