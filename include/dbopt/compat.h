/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Every PostgreSQL-version-specific call dbopt makes goes through here.
 *
 * dbopt targets PostgreSQL 15.  Porting to 16/17 should only touch this
 * file: callers use the dbopt_* names below, never the version-specific
 * core symbols directly.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DBOPT_COMPAT_H
#define DBOPT_COMPAT_H

#include "postgres.h"

#include "funcapi.h"
#include "utils/acl.h"

#if PG_VERSION_NUM < 150000
#error "dbopt requires PostgreSQL 15 or later"
#endif

/*
 * Materialized set-returning functions.  15.0-15.1 only have
 * SetSingleFuncCall; later 15.x and 16+ have InitMaterializedSRF.
 */
#ifdef MAT_SRF_USE_EXPECTED_DESC
#define dbopt_init_materialized_srf(fcinfo) InitMaterializedSRF((fcinfo), 0)
#else
#define dbopt_init_materialized_srf(fcinfo) SetSingleFuncCall((fcinfo), 0)
#endif

/* tuplesort_begin_heap() moved to its own header in 16. */
#if PG_VERSION_NUM >= 160000
#include "utils/tuplesortvariants.h"
#else
#include "utils/tuplesort.h"
#endif

/* Ownership checks: 16 replaced the per-catalog functions. */
#if PG_VERSION_NUM >= 160000
#define dbopt_relation_ownercheck(relid, roleid) \
	object_ownercheck(RelationRelationId, (relid), (roleid))
#define dbopt_database_ownercheck(dboid, roleid) \
	object_ownercheck(DatabaseRelationId, (dboid), (roleid))
#else
#define dbopt_relation_ownercheck(relid, roleid) \
	pg_class_ownercheck((relid), (roleid))
#define dbopt_database_ownercheck(dboid, roleid) \
	pg_database_ownercheck((dboid), (roleid))
#endif

/*
 * When this database's statistics were last reset, or 0 if never.  The
 * cumulative-statistics structs are internal and change between majors.
 */
#include "pgstat.h"
#include "miscadmin.h"

static inline TimestampTz
dbopt_db_stats_reset_time(void)
{
	PgStat_StatDBEntry *db = pgstat_fetch_stat_dbentry(MyDatabaseId);

	return db ? db->stat_reset_timestamp : 0;
}


/*
 * Reset times of the server-wide statistics, latest first in *ts with its
 * view's name in *source.  Crash recovery, and a start without the saved
 * statistics file, reset all of them at once (and every database's and
 * table's counters with them, without touching pg_stat_database).
 */
static inline void
dbopt_shared_stats_reset_time(TimestampTz *ts, const char **source, bool *all_equal)
{
	TimestampTz t[5];
	const char *names[5] = {"pg_stat_bgwriter", "pg_stat_archiver", "pg_stat_wal", "pg_stat_slru", NULL};
	int			n = 4;

	t[0] = pgstat_fetch_stat_bgwriter()->stat_reset_timestamp;
	t[1] = pgstat_fetch_stat_archiver()->stat_reset_timestamp;
	t[2] = pgstat_fetch_stat_wal()->stat_reset_timestamp;
	t[3] = 0;
	{
		PgStat_SLRUStats *slru = pgstat_fetch_slru();

		for (int i = 0; pgstat_get_slru_name(i) != NULL; i++)
			t[3] = Max(t[3], slru[i].stat_reset_timestamp);
	}
#if PG_VERSION_NUM >= 170000
	t[4] = pgstat_fetch_stat_checkpointer()->stat_reset_timestamp;
	names[4] = "pg_stat_checkpointer";
	n = 5;
#endif
	*ts = 0;
	*source = NULL;
	*all_equal = true;
	for (int i = 0; i < n; i++)
	{
		if (t[i] != t[0])
			*all_equal = false;
		if (t[i] > *ts)
		{
			*ts = t[i];
			*source = names[i];
		}
	}
}


/* Columns and PK = FK operators of a foreign key's pg_constraint row. */
#include "catalog/pg_constraint.h"
#define dbopt_deconstruct_fk(tup, nkeys, conkey, confkey, pfeqop) \
	DeconstructFkConstraintRow((tup), (nkeys), (conkey), (confkey), (pfeqop), \
							   NULL, NULL, NULL, NULL)

/*
 * Last value a sequence handed out, or *isnull when it never has.  Raises
 * the core privilege error when the caller may not read it.
 */
#include "utils/fmgrprotos.h"

static inline int64
dbopt_sequence_last_value(Oid seqid, bool *isnull)
{
	LOCAL_FCINFO(fcinfo, 1);
	Datum		d;

	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = ObjectIdGetDatum(seqid);
	fcinfo->args[0].isnull = false;
	d = pg_sequence_last_value(fcinfo);
	*isnull = fcinfo->isnull;
	return *isnull ? 0 : DatumGetInt64(d);
}

/* Unique indexes that treat NULL keys as equal (NULLS NOT DISTINCT, 15+). */
#define dbopt_index_nulls_not_distinct(indexform) ((indexform)->indnullsnotdistinct)

/* Parse analysis of one raw statement without parameters (renamed in 15). */
#include "tcop/tcopprot.h"
#define dbopt_analyze_and_rewrite(raw, sql) \
	pg_analyze_and_rewrite_fixedparams((raw), (sql), NULL, 0, NULL)

/*
 * Parse analysis of one raw statement whose $n parameter types are to be
 * inferred (named so since 15).
 */
#define dbopt_analyze_varparams(raw, sql, types, ntypes) \
	pg_analyze_and_rewrite_varparams((raw), (sql), (types), (ntypes), NULL)

/* May the current user read every table a plan reads?  (16 added permInfos.) */
#include "executor/executor.h"
#if PG_VERSION_NUM >= 160000
#define dbopt_rt_permissions_ok(pstmt) \
	ExecCheckPermissions((pstmt)->rtable, (pstmt)->permInfos, false)
#else
#define dbopt_rt_permissions_ok(pstmt) ExecCheckRTPerms((pstmt)->rtable, false)
#endif

/*
 * Timed and requested checkpoint counts, with the time their statistics
 * were reset: pg_stat_bgwriter up to 16, pg_stat_checkpointer from 17.
 */
#if PG_VERSION_NUM >= 170000
#define DBOPT_SQL_CHECKPOINT_COUNTS \
	"SELECT num_timed AS timed, num_requested AS req, stats_reset FROM pg_catalog.pg_stat_checkpointer"
#else
#define DBOPT_SQL_CHECKPOINT_COUNTS \
	"SELECT checkpoints_timed AS timed, checkpoints_req AS req, stats_reset FROM pg_catalog.pg_stat_bgwriter"
#endif

/*
 * Job workers connect as the job's role.  Before PostgreSQL 17 a
 * background worker cannot connect as a NOLOGIN role.
 */
#if PG_VERSION_NUM >= 170000
#define DBOPT_BGW_NOLOGIN_OK true
#define DBOPT_BGW_CONNECT_FLAGS BGWORKER_BYPASS_ROLELOGINCHECK
#else
#define DBOPT_BGW_NOLOGIN_OK false
#define DBOPT_BGW_CONNECT_FLAGS 0
#endif

/* ExecInsertIndexTuples() for one new heap tuple; PostgreSQL 16 added onlySummarizing. */
#if PG_VERSION_NUM >= 160000
#define dbopt_exec_insert_index_tuples(rri, slot, estate) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, false, NULL, NIL, false)
#else
#define dbopt_exec_insert_index_tuples(rri, slot, estate) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, false, NULL, NIL)
#endif

/* Soft input errors (ErrorSaveContext) arrived in PostgreSQL 16. */
#if PG_VERSION_NUM >= 160000
#define DBOPT_HAVE_SOFT_INPUT 1
#endif

/*
 * Path of the main fork of a permanent or unlogged relation in this
 * database, palloc'd.  The arguments are the pg_class row's tablespace
 * (already defaulted) and relfilenode.  17 renamed the "no backend"
 * constant; 18 returns the path by value.
 */
#include "common/relpath.h"
static inline char *
dbopt_main_fork_path(Oid spcoid, Oid filenumber)
{
#if PG_VERSION_NUM >= 180000
	RelPathStr	p = GetRelationPath(MyDatabaseId, spcoid, filenumber,
									INVALID_PROC_NUMBER, MAIN_FORKNUM);

	return pstrdup(p.str);
#elif PG_VERSION_NUM >= 170000
	return GetRelationPath(MyDatabaseId, spcoid, filenumber,
						   INVALID_PROC_NUMBER, MAIN_FORKNUM);
#else
	return GetRelationPath(MyDatabaseId, spcoid, filenumber,
						   InvalidBackendId, MAIN_FORKNUM);
#endif
}

/*
 * When a file was created (statx's birth time), or 0 where the kernel, the
 * C library or the file system does not say.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include "utils/timestamp.h"
static inline TimestampTz
dbopt_file_birth(const char *path)
{
#ifdef STATX_BTIME
	struct statx st;

	if (statx(AT_FDCWD, path, 0, STATX_BTIME, &st) == 0 && (st.stx_mask & STATX_BTIME))
		return time_t_to_timestamptz((pg_time_t) st.stx_btime.tv_sec) +
			st.stx_btime.tv_nsec / 1000;
#endif
	return 0;
}

/*
 * The server's table of settings (utils/guc_tables.h): from 16 it returns
 * its length itself.
 */
#if PG_VERSION_NUM >= 160000
#define dbopt_guc_variables(n) get_guc_variables(n)
#else
#define dbopt_guc_variables(n) (*(n) = GetNumConfigOptions(), get_guc_variables())
#endif

#endif							/* DBOPT_COMPAT_H */
