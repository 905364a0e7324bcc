/*-------------------------------------------------------------------------
 *
 * util.h
 *	  Catalog and SPI utilities shared by dbopt's reports.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DBOPT_UTIL_H
#define DBOPT_UTIL_H

#include "postgres.h"

#include "access/genam.h"
#include "access/htup.h"
#include "access/tupdesc.h"
#include "fmgr.h"
#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

#include "dbopt/privs.h"

/* Installed version of an extension in this database, or NULL. */
extern char *dbopt_extension_version(const char *extname);

/* Schema an extension is installed in, or InvalidOid. */
extern Oid	dbopt_extension_schema(const char *extname);


/* Whether the server has a control file for the extension. */
extern bool dbopt_extension_available(const char *extname);

/* "schema.name", each part quoted only where needed. */
extern char *dbopt_qualified_relname(Oid relid);

/*
 * Scan a catalog, opened under AccessShareLock, through its index indexid
 * for the rows whose OID column attno is value.  dbopt_catalog_scan_end()
 * ends the scan and closes the catalog.
 */
extern SysScanDesc dbopt_catalog_scan(Oid catalog, Oid indexid, AttrNumber attno, Oid value);
extern void dbopt_catalog_scan_end(SysScanDesc scan);

/*
 * Size in bytes of a relation's main fork, summed over its leaf partitions
 * for a partitioned table or index.  Never waits: a relation whose
 * AccessShareLock is not free right now, or that has vanished, gives -1.
 * The lock is released at once, so a report over 100,000 relations does not
 * fill the lock table.
 */
extern int64 dbopt_relation_size_nowait(Oid relid);
extern int64 dbopt_relation_size_nowait_relkind(Oid relid, char relkind);

/*
 * Planner's row estimate and total on-disk bytes (table, TOAST and indexes)
 * of a relation, summed over the leaves of a partitioned table.  Never
 * waits, as above: returns false, with both set to -1, when a lock is not
 * free right now or the relation has vanished.
 */
extern bool dbopt_relation_stats_nowait(Oid relid, int64 *rows, int64 *bytes);

/* Namespace OID for a schema-name filter argument; clear error if absent. */
extern Oid	dbopt_schema_filter(const char *schema_name);

/* Whether a namespace holds user relations (not catalogs, toast, or others' temp). */
extern bool dbopt_is_user_namespace(Oid nspid);

/*
 * OIDs of the relations in user namespaces whose relkind is one of the
 * characters in relkinds, sorted.  One pass over pg_class.
 */
extern List *dbopt_user_relations(const char *relkinds);

/* Access method of a relation (pg_class.relam), or InvalidOid if it is gone. */
extern Oid	dbopt_relation_am(Oid relid);

/*
 * Run one statement on a dbopt table that returns exactly one row (an
 * INSERT/UPDATE … RETURNING, or a WITH … SELECT), parameters $1…, as the
 * extension owner.  Returns the row, and its descriptor in *desc unless
 * desc is NULL, both in the caller's memory context.
 */
extern HeapTuple dbopt_write_elevated(const char *sql, int nargs, Oid *argtypes,
								Datum *values, const char *nulls, TupleDesc *desc);

/*
 * Delete the rows of one of dbopt's registries (dbopt.<table>) whose
 * <column> equals key, as the extension owner, then log it under
 * object_name, or say in a NOTICE "<object_name> <absent>" when there was
 * none.  The caller checks privileges first.
 */
extern bool dbopt_unregister_key(const char *table, const char *column, Datum key, Oid keytype,
								 const char *object_name, const char *operation,
								 const char *log_detail, const char *absent);

/*
 * The same for a registry keyed by a regclass, privileges included: while
 * relid exists only its owner may (owner_detail, what the caller changes,
 * for the error); a dropped table's row anyone allowed to call may clear.
 */
extern bool dbopt_unregister(const char *table, const char *column, Oid relid,
							 const char *operation, const char *log_detail,
							 const char *absent, const char *owner_detail);

/* Whether a library name appears in shared_preload_libraries. */
extern bool dbopt_library_preloaded(const char *libname);

/*
 * Run a read-only query through SPI (caller connected) and return the first
 * column of the first row as int8; *isnull is set when there is no row or
 * the value is NULL.
 */
extern int64 dbopt_spi_int8(const char *sql, bool *isnull);

/*
 * The first column of the one row a statement with $n parameters returns
 * (SPI connected); an error for any other number of rows.
 */
extern Datum dbopt_spi_value(const char *sql, int nargs, Oid *types, Datum *values, bool *isnull);

/*
 * Record one action of a function that changes things in
 * dbopt.maintenance_log, in the current (sub)transaction, and repeat it in
 * the server log.  rows/bytes < 0 are stored as NULL.
 */
extern void dbopt_log_action(const char *operation, const char *object_name,
							 const char *action, int64 rows, int64 bytes,
							 const char *detail);

/* One action, kept for dbopt_log_actions(). */
typedef struct DboptLogEntry
{
	const char *operation;
	const char *object_name;
	const char *action;
	int64		rows;
	int64		bytes;
	const char *detail;
} DboptLogEntry;

/*
 * Record many actions (a List of DboptLogEntry) at once, in one statement:
 * for a run that acts on hundreds of objects.  The caller records an
 * action only once it is done, so a rolled-back unit leaves no row.
 */
extern void dbopt_log_actions(List *entries);

/*
 * Error out unless relid is a table or partitioned table that the current
 * user owns; what names the calling function in the messages.
 */
extern void dbopt_require_own_table(Oid relid, const char *what);

/*
 * The live columns of a descriptor, quoted and comma separated; without
 * the generated ones when skip_generated.
 */
extern char *dbopt_column_names(TupleDesc desc, bool skip_generated);

/*
 * The same for a relation, opened under AccessShareLock; keep_lock holds
 * that lock to the end of the transaction, else it is released at once.
 */
extern char *dbopt_relation_column_names(Oid relid, bool skip_generated, bool keep_lock);

/*
 * Run DDL (one or more statements) as the extension owner, with lock waits
 * limited to dbopt.lock_timeout.  The caller has checked that the current
 * user owns what the DDL changes.
 */
extern void dbopt_run_ddl(const char *sql);

/*
 * The column's number, or an error naming the table, with detail and hint
 * (NULL: a query that lists the table's columns).
 */
extern AttrNumber dbopt_require_column(Oid relid, const char *column, const char *detail,
									   const char *hint);

/*
 * Argument argno of the calling SQL function, which must not be NULL:
 * 22004 with the argument's name otherwise.  dbopt_steering_bool() is for
 * booleans that decide whether anything is destroyed (dry_run and the
 * like): a NULL there is never read as a default.
 */
extern void dbopt_require_arg(FunctionCallInfo fcinfo, int argno, const char *name);
extern bool dbopt_steering_bool(FunctionCallInfo fcinfo, int argno, const char *name);

/*
 * Parse an interval literal without catching errors that are not the
 * text's fault: false with *problem set for bad input (SQLSTATE class 22);
 * a cancel, out of memory or anything else propagates.
 */
extern bool dbopt_interval_in_safe(const char *text, Interval *out, char **problem);

/*
 * An interval argument given as text, with its unit required: a bare
 * number ('24', '90') is an error (22023) naming argname, because
 * PostgreSQL would read it as seconds.  Other bad input is an error too.
 */
extern Interval *dbopt_interval_arg(const char *argname, const char *text);

/*
 * The unit check alone: a bare number in text is an error (22023) naming
 * argname; what, when given, is the detail's first clause (why it is an
 * interval).
 */
extern void dbopt_require_unit(const char *argname, const char *text, const char *what);

/*
 * Argument argno, declared interval in one overload and text in another:
 * as given, or parsed by dbopt_interval_arg() (unit required) when text.
 */
extern Interval *dbopt_interval_or_text_arg(FunctionCallInfo fcinfo, int argno, const char *argname);

/* text without leading and trailing white space, palloc'd. */
extern char *dbopt_trimmed(const char *text);

/* True if text is only a number (sign, digits, a decimal point, blanks). */
extern bool dbopt_is_bare_number(const char *text);

/*
 * Call a V1 function that may return NULL (inet_client_addr(),
 * to_regclass(), ...), with no argument or one; *isnull tells.
 */
static inline Datum
dbopt_call_nullable(PGFunction fn, int nargs, Datum arg, bool *isnull)
{
	LOCAL_FCINFO(fcinfo, 1);
	Datum		d;

	Assert(nargs == 0 || nargs == 1);
	InitFunctionCallInfoData(*fcinfo, NULL, nargs, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = arg;
	fcinfo->args[0].isnull = false;
	d = fn(fcinfo);
	*isnull = fcinfo->isnull;
	return d;
}

#endif							/* DBOPT_UTIL_H */
