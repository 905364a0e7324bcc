/*-------------------------------------------------------------------------
 *
 * privs.h
 *	  The one way dbopt runs anything with rights other than the caller's.
 *
 * Two cases, one mechanism:
 *	- dbopt's own tables (registries, logs, job bookkeeping) are read and
 *	  written as the extension owner (dbopt_elevate);
 *	- code that a table's owner controls (triggers, CHECK expressions,
 *	  functions in planned statements, partition keys) runs as that owner
 *	  (dbopt_become() with dbopt_relation_owner(), usually through
 *	  dbopt_run_unit()), never as a superuser caller.
 * Both switch under SECURITY_RESTRICTED_OPERATION, as VACUUM and amcheck
 * do, and pin search_path = pg_catalog, pg_temp for the duration, so a
 * caller's or a database owner's search_path cannot substitute a
 * function, operator, type or cast.  An error unwinds both with the
 * (sub)transaction.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DBOPT_PRIVS_H
#define DBOPT_PRIVS_H

#include "postgres.h"

/* What a switch replaced, to put back. */
typedef struct DboptIdentity
{
	Oid			userid;
	int			sec_context;
	int			nest;			/* GUC nest level of the pinned search_path */
} DboptIdentity;

/* The search_path every statement dbopt builds runs under. */
#define DBOPT_SAFE_SEARCH_PATH "pg_catalog, pg_temp"

/*
 * Set search_path to DBOPT_SAFE_SEARCH_PATH in a new GUC nest level;
 * returns the level for AtEOXact_GUC(true, level).
 */
extern int	dbopt_pin_search_path(void);

/* Set a GUC in the current nest level, for this (sub)transaction only. */
extern void dbopt_set_local_guc(const char *name, const char *value);

/* Owner of the dbopt extension in this database (bootstrap superuser if none). */
extern Oid	dbopt_extension_owner(void);

/* The owner of another extension (the bootstrap superuser if it is absent). */
extern Oid	dbopt_extension_owner_of(const char *extname);

/* Owner of a relation; InvalidOid when it is gone. */
extern Oid	dbopt_relation_owner(Oid relid);

/*
 * The one ownership check: an error unless the caller owns relid (or is a
 * member of its owner); why_fmt formats the error's detail, a sentence.
 */
extern void dbopt_require_owner(Oid relid, const char *why_fmt,...) pg_attribute_printf(2, 3);

/* Become role, restricted, with the pinned search_path. */
extern void dbopt_become(Oid role, DboptIdentity *id);

/*
 * Become role, restricted, keeping the search_path: for re-planning a
 * user's statement, whose names were resolved under that path.
 */
extern void dbopt_become_keep_path(Oid role, DboptIdentity *id);

/* Become the extension owner, for dbopt's own tables. */
extern void dbopt_elevate(DboptIdentity *id);

/* Undo dbopt_become*() / dbopt_elevate(). */
extern void dbopt_restore_identity(const DboptIdentity *id);

#endif							/* DBOPT_PRIVS_H */
