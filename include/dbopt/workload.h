/*-------------------------------------------------------------------------
 *
 * workload.h
 *	  The statements of pg_stat_statements, loaded once and planned in the
 *	  server: shared by suggest_indexes() and the what-if drop.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DBOPT_WORKLOAD_H
#define DBOPT_WORKLOAD_H

#include "postgres.h"

#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "utils/hsearch.h"

typedef enum DboptStmtStatus
{
	DBOPT_STMT_UNPLANNED,
	DBOPT_STMT_PLANNED,			/* planned; the fields below are set */
	DBOPT_STMT_ERROR,			/* could not be parsed or planned */
	DBOPT_STMT_UTILITY,			/* DDL and other statements with no plan */
	DBOPT_STMT_DENIED,			/* reads a table the caller may not read */
	DBOPT_STMT_UNRELATED		/* not planned: reads none of only_rels */
} DboptStmtStatus;

typedef struct DboptStatement
{
	int64		queryid;
	char	   *query;
	int64		calls;
	Oid			userid;			/* the role whose rights its plans run with */
	char	   *search_path;	/* that role's own, which names are resolved in */
	DboptStmtStatus status;
	/* set once planned */
	char	   *parsed;			/* the text parsed: typed parameters as casts */
	List	   *querytrees;		/* analyzed and rewritten, copied before each plan */
	RawStmt    *raw;			/* the statement itself (inside a PREPARE) */
	Oid		   *types;			/* its parameters' types, inferred or declared */
	int			ntypes;
	double		cost;			/* the generic plan's total cost */
	List	   *relids;			/* relations the plan depends on (relationOids) */
	List	   *indexes;		/* indexes the plan scans */
} DboptStatement;

typedef struct DboptWorkload
{
	bool		available;		/* pg_stat_statements is loaded and installed here */
	MemoryContext cxt;			/* everything below lives here */
	DboptStatement *stmts;
	int			nstmts;
	int			skipped_error;
	int			skipped_utility;
	int			skipped_privilege;
	List	   *only_rels;		/* when set, plan only statements that name one */
	HTAB	   *by_index;		/* index OID -> statements whose plan scans it */
	HTAB	   *by_rel;			/* relation OID -> statements that depend on it */
} DboptWorkload;

/*
 * The statements of this database with at least min_calls calls and a
 * mean time of at least min_mean_ms, busiest first, at most 5,000, not yet
 * planned.  available is false (and nothing read) without
 * pg_stat_statements.
 */
/* At most this many statements, the busiest by total time, are read. */
#define DBOPT_WORKLOAD_MAX_STATEMENTS 5000

/* Inside a GUC nest level, as s->userid: resolve names as that role does. */
extern void dbopt_workload_use_path(const DboptStatement *s);

extern DboptWorkload *dbopt_workload_read(int64 min_calls, double min_mean_ms);

/*
 * Plan each statement once, generically, as the role that ran it (the
 * caller when it may not act as that role), restricted, each in its own
 * subtransaction: one that fails is counted, never fatal.  cb, when given,
 * runs inside that subtransaction with the plan, in the caller's memory
 * context; without cb the plans are not kept.
 */
typedef void (*DboptPlanCallback) (DboptWorkload *w, int i, PlannedStmt *ps, void *arg);
extern void dbopt_workload_plan(DboptWorkload *w, DboptPlanCallback cb, void *arg);

/* Read and plan (min_mean_ms 0), then map indexes and relations to statements. */
extern DboptWorkload *dbopt_workload_load(int64 min_calls);

/*
 * The same, planning only the statements whose analyzed text names one
 * of rels (an OID List; name the partitioned parents of partitions too):
 * the others are left DBOPT_STMT_UNRELATED, at the cost of a parse.
 */
extern DboptWorkload *dbopt_workload_load_for(int64 min_calls, List *rels);

/* Statement numbers (an int List) for an index or a relation; NIL if none. */
extern List *dbopt_workload_by_index(DboptWorkload *w, Oid indexrelid);
extern List *dbopt_workload_by_rel(DboptWorkload *w, Oid relid);

/*
 * Plan a planned statement again from its analyzed tree.  The caller runs
 * it as dbopt_workload_plan() does (as s->userid, in a subtransaction).
 */
extern PlannedStmt *dbopt_statement_replan(DboptStatement *s);

/*
 * Its generic plan's cost through EXPLAIN EXECUTE of a prepared copy, as
 * its role: what HypoPG needs.  The caller is connected to SPI.
 */
extern double dbopt_statement_explain_cost(DboptStatement *s);

/* The indexes a plan scans (index, index-only and bitmap), sorted, unique. */
extern List *dbopt_plan_indexes(PlannedStmt *ps);

#endif							/* DBOPT_WORKLOAD_H */
