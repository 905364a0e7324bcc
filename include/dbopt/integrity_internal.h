/*-------------------------------------------------------------------------
 *
 * integrity_internal.h
 *	  What the check_data_integrity() files share (integrity.c,
 *	  constraints.c, integrity_sequences.c): one run, its findings and
 *	  isolated scans.  Not for the rest of dbopt; that is integrity.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DBOPT_INTEGRITY_INTERNAL_H
#define DBOPT_INTEGRITY_INTERNAL_H

#include "postgres.h"

#include "nodes/pg_list.h"

#include "dbopt/findings.h"
#include "dbopt/isolate.h"

typedef struct IntegrityRun
{
	DboptFindings out;
	bool		deep;
	int			sample_limit;
	Oid			amcheck_nsp;	/* InvalidOid: amcheck not installed */
	bool		amcheck_heap;	/* verify_heapam() available */
	List	   *pending;
	List	   *skipped;		/* Skipped per check, for the caller's rights */
	MemoryContext runcxt;		/* lives for the whole call */
} IntegrityRun;

/*
 * How far the caller may look into a relation's rows.  A member of
 * pg_stat_scan_tables (pg_monitor) may run scans that yield aggregate
 * figures, as pgstattuple does: the scan then runs as the owner and only
 * counts come back, never sample rows.
 */
typedef enum ReadAccess
{
	READ_NONE,
	READ_COUNTS,
	READ_FULL
} ReadAccess;

/* The tables a run covers, sorted; NULL means every table. */
typedef struct OidSet
{
	Oid		   *oids;
	int			n;
} OidSet;

/* integrity.c: the run */
extern bool dbopt_integrity_oidset_contains(const OidSet *set, Oid oid);
extern void dbopt_integrity_add_pending(IntegrityRun *run, DboptSeverity sev, const char *check,
										const char *object, const char *detail,
										const char *remediation, const char *fix_sql,
										bool has_rows, int64 rows, const char *sample);
extern void dbopt_integrity_flush_pending(IntegrityRun *run);
extern void dbopt_integrity_add_check_failed(IntegrityRun *run, const char *check,
											 const char *object, const DboptUnitError *err);
extern bool dbopt_integrity_run_scan(const char *sql, Oid owner_of, int sample_limit,
									 bool ri_memory, int64 *count, char **sample,
									 DboptUnitError *err);
extern void dbopt_integrity_note_skipped(IntegrityRun *run, const char *check, const char *object);
extern ReadAccess dbopt_integrity_read_access(IntegrityRun *run, Oid relid, const char *check,
											  const char *object);
extern List *dbopt_integrity_tables_to_check(Oid target);
extern void dbopt_integrity_check_target_kind(Oid target);

/* constraints.c */
extern void dbopt_integrity_check_constraints(IntegrityRun *run, Oid relid);
extern void dbopt_integrity_check_disabled_triggers(IntegrityRun *run, Oid relid);

/* integrity_sequences.c */
extern void dbopt_integrity_check_sequences(IntegrityRun *run, const OidSet *only);

#endif							/* DBOPT_INTEGRITY_INTERNAL_H */
