/*-------------------------------------------------------------------------
 *
 * index_evidence.c
 *	  How long index usage has really been observed: dbopt.stats_epoch()
 *	  and the observation windows that take_snapshot() keeps in
 *	  dbopt.index_observations.
 *
 * PostgreSQL 15 discards every counter in crash recovery without moving
 * pg_stat_database.stats_reset, so "statistics since the last reset" is
 * not enough to call an index unused.  The epoch is the latest reset time
 * the server exposes; crash recovery shows as the shared statistics all
 * reset at one instant.  Each snapshot then adds the window since the
 * previous one to a per-index sum: scans seen, and time observed without a
 * scan.  A window that a reset cut short counts only from the reset, so a
 * crash loses the minutes before it, not the history.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "catalog/pg_class.h"
#include "utils/timestamp.h"

#include "dbopt/compat.h"
#include "dbopt/index_evidence.h"

void
dbopt_stats_epoch(TimestampTz *epoch, const char **source)
{
	TimestampTz db = dbopt_db_stats_reset_time();
	TimestampTz shared;
	const char *view;
	bool		all_equal;

	dbopt_shared_stats_reset_time(&shared, &view, &all_equal);
	if (db == 0 && shared == 0)
	{
		*epoch = PgStartTime;
		*source = "server start (no reset time recorded)";
	}
	else if (db >= shared)
	{
		*epoch = db;
		*source = "pg_stat_database.stats_reset of this database (pg_stat_reset() or a reset of single counters)";
	}
	else
	{
		*epoch = shared;
		*source = all_equal
			? "crash recovery or a start without saved statistics (every shared statistic was reset at this instant)"
			: psprintf("%s.stats_reset (pg_stat_reset_shared)", view);
	}
}

PG_FUNCTION_INFO_V1(dbopt_stats_epoch_sql);

Datum
dbopt_stats_epoch_sql(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	TimestampTz epoch;
	const char *source;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "stats_epoch must return a record");
	dbopt_stats_epoch(&epoch, &source);
	values[0] = TimestampTzGetDatum(epoch);
	values[1] = CStringGetTextDatum(source);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

/*
 * The upsert take_snapshot() runs (as the extension owner, search_path
 * pinned).  $1 is the snapshot's time, $2 the epoch.  A reset inside the
 * window (the epoch moved past the last sighting, or the counter went
 * down) makes the window count from the reset; when the counter went down
 * with no reset time to show for it, the window counts for nothing.  An
 * index absent from the previous snapshot is newer than it.  Any scan sets
 * the idle time back to zero.
 */
#define OBS_DELTA \
	"CASE WHEN EXCLUDED.last_epoch > o.last_seen OR EXCLUDED.last_idx_scan < o.last_idx_scan" \
	" THEN EXCLUDED.last_idx_scan ELSE EXCLUDED.last_idx_scan - o.last_idx_scan END"

const char *const dbopt_observe_indexes_sql =
	"WITH prev AS (SELECT pg_catalog.max(last_seen) AS t FROM dbopt.index_observations)"
	"  INSERT INTO dbopt.index_observations AS o"
	"   (indexrelid, index_name, first_seen, last_seen, last_idx_scan, last_epoch, scans, idle, last_used)"
	"  SELECT s.indexrelid, pg_catalog.quote_ident(s.schemaname) || '.' || pg_catalog.quote_ident(s.indexrelname), $1, $1,"
	"         COALESCE(s.idx_scan, 0), $2, COALESCE(s.idx_scan, 0),"
	"         CASE WHEN s.idx_scan > 0 THEN interval '0' ELSE $1 - greatest($2, prev.t) END,"
	"         CASE WHEN s.idx_scan > 0 THEN $1 END"
	"    FROM pg_catalog.pg_stat_user_indexes s, prev"
	"  ON CONFLICT (indexrelid) DO UPDATE SET"
	"   index_name = EXCLUDED.index_name,"
	"   scans = o.scans + " OBS_DELTA ","
	"   idle = CASE WHEN " OBS_DELTA " > 0 THEN interval '0'"
	"               WHEN EXCLUDED.last_epoch > o.last_seen THEN o.idle + (EXCLUDED.last_seen - EXCLUDED.last_epoch)"
	"               WHEN EXCLUDED.last_idx_scan < o.last_idx_scan THEN o.idle"
	"               ELSE o.idle + (EXCLUDED.last_seen - o.last_seen) END,"
	"   last_used = CASE WHEN " OBS_DELTA " > 0 THEN EXCLUDED.last_seen ELSE o.last_used END,"
	"   resets = o.resets + CASE WHEN EXCLUDED.last_epoch > o.last_seen"
	"                              OR EXCLUDED.last_idx_scan < o.last_idx_scan THEN 1 ELSE 0 END,"
	"   last_seen = EXCLUDED.last_seen, last_idx_scan = EXCLUDED.last_idx_scan,"
	"   last_epoch = EXCLUDED.last_epoch";

/* Then the indexes that are gone; a separate statement, so no row is written twice. */
const char *const dbopt_forget_indexes_sql =
	"DELETE FROM dbopt.index_observations WHERE last_seen < $1";

/* Column order of dbopt.index_observations, as 0.11 creates it. */
enum
{
	OBS_INDEXRELID = 1, OBS_INDEX_NAME, OBS_FIRST_SEEN, OBS_LAST_SEEN, OBS_LAST_IDX_SCAN,
	OBS_LAST_EPOCH, OBS_SCANS, OBS_IDLE, OBS_LAST_USED, OBS_RESETS, OBS_NATTS = OBS_RESETS
};

static int64
interval_usecs(Interval *iv)
{
	return iv->time + (int64) iv->day * USECS_PER_DAY + (int64) iv->month * 30 * USECS_PER_DAY;
}

/*
 * Every row of dbopt.index_observations, keyed by index OID.  NULL when
 * the table is missing (an older install) or the caller may not read it:
 * then only the live counters count.
 */
HTAB *
dbopt_observations_load(TimestampTz *latest)
{
	Oid			nsp = get_namespace_oid("dbopt", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("index_observations", nsp) : InvalidOid;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	HASHCTL		ctl;
	HTAB	   *result;

	*latest = 0;
	if (!OidIsValid(relid) ||
		pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		return NULL;
	rel = table_open(relid, AccessShareLock);
	if (RelationGetDescr(rel)->natts < OBS_NATTS)
	{
		table_close(rel, AccessShareLock);
		return NULL;
	}
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(DboptObservation);
	ctl.hcxt = CurrentMemoryContext;
	result = hash_create("dbopt index observations", 1024, &ctl,
						 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Datum		v[OBS_NATTS];
		bool		n[OBS_NATTS];
		Oid			key;
		DboptObservation *o;

		CHECK_FOR_INTERRUPTS();
		heap_deform_tuple(tup, RelationGetDescr(rel), v, n);
		if (n[OBS_INDEXRELID - 1] || n[OBS_LAST_SEEN - 1] || n[OBS_LAST_IDX_SCAN - 1] ||
			n[OBS_SCANS - 1] || n[OBS_IDLE - 1])
			continue;
		key = DatumGetObjectId(v[OBS_INDEXRELID - 1]);
		o = hash_search(result, &key, HASH_ENTER, NULL);
		o->last_seen = DatumGetTimestampTz(v[OBS_LAST_SEEN - 1]);
		o->first_seen = n[OBS_FIRST_SEEN - 1] ? o->last_seen : DatumGetTimestampTz(v[OBS_FIRST_SEEN - 1]);
		o->last_idx_scan = DatumGetInt64(v[OBS_LAST_IDX_SCAN - 1]);
		o->scans = DatumGetInt64(v[OBS_SCANS - 1]);
		o->idle = interval_usecs(DatumGetIntervalP(v[OBS_IDLE - 1]));
		o->resets = n[OBS_RESETS - 1] ? 0 : DatumGetInt32(v[OBS_RESETS - 1]);
		*latest = Max(*latest, o->last_seen);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	return result;
}

/*
 * When the index's file was created: its CREATE INDEX, or a later rewrite
 * (REINDEX, VACUUM FULL, TRUNCATE), which only shortens what is claimed.
 * 0 when unknown.
 */
static TimestampTz
index_birth(Oid indexrelid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(indexrelid));
	Form_pg_class c;
	TimestampTz result = 0;

	if (!HeapTupleIsValid(tup))
		return 0;
	c = (Form_pg_class) GETSTRUCT(tup);
	if (OidIsValid(c->relfilenode) && c->relpersistence != RELPERSISTENCE_TEMP)
		result = dbopt_file_birth(dbopt_main_fork_path(OidIsValid(c->reltablespace) ? c->reltablespace
													   : MyDatabaseTableSpace, c->relfilenode));
	ReleaseSysCache(tup);
	return result;
}

/*
 * Evidence for one index (not partitioned) whose live counter is `live`:
 * scans seen over all windows, and how long it has been observed without
 * a scan (-1 when it was scanned in the window still open).
 */
void
dbopt_index_evidence(HTAB *obs, TimestampTz latest, Oid indexrelid, int64 live,
					 TimestampTz epoch, TimestampTz now, DboptEvidence *ev)
{
	DboptObservation *o = obs ? hash_search(obs, &indexrelid, HASH_FIND, NULL) : NULL;
	int64		delta;
	TimestampTz birth = index_birth(indexrelid);

	memset(ev, 0, sizeof(*ev));
	ev->birth_known = (birth != 0);
	if (o == NULL)
	{
		/* Not in the last snapshot: it is newer than that snapshot. */
		TimestampTz from = Max(epoch, latest);

		from = Max(from, birth);
		ev->scans = live;
		ev->idle = live > 0 ? -1 : Max(now - from, 0);
		ev->since = from;
		return;
	}
	ev->history = true;
	ev->since = o->first_seen;
	ev->resets = o->resets;
	if (epoch > o->last_seen)
	{
		delta = live;
		ev->idle = delta > 0 ? -1 : o->idle + (now - epoch);
		ev->resets++;
	}
	else if (live < o->last_idx_scan)
	{
		/* Went down with no reset time to show for it: this window is lost. */
		delta = live;
		ev->idle = delta > 0 ? -1 : o->idle;
		ev->resets++;
	}
	else
	{
		delta = live - o->last_idx_scan;
		ev->idle = delta > 0 ? -1 : o->idle + (now - o->last_seen);
	}
	ev->scans = o->scans + delta;
	/* No index is idle for longer than its file has existed. */
	if (birth != 0 && ev->idle > now - birth)
		ev->idle = Max(now - birth, 0);
	ev->since = Max(ev->since, birth);
}
