/*-------------------------------------------------------------------------
 *
 * standbys.c
 *	  Hot standbys whose index scans count: dbopt.add_standby(),
 *	  dbopt.remove_standby(), dbopt.standby_index_usage() and
 *	  dbopt_standby_scans() for analyze_index_usage().
 *
 * A physical standby keeps the primary's OIDs, so its pg_stat_user_indexes
 * is matched by indexrelid.  Each standby is read with one dblink query
 * (the indexes plus a header row with its statistics epoch, database,
 * system identifier and recovery state), as the caller: dblink's rule that
 * a non-superuser must authenticate with a password applies.  Only the
 * connection strings are read as the extension owner, because they may
 * hold passwords.  A standby that cannot be read becomes a row with the
 * problem, never an error for the whole call.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "commands/dbcommands.h"
#include "catalog/partition.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "dbopt/compat.h"
#include "dbopt/isolate.h"
#include "dbopt/privs.h"
#include "dbopt/standbys.h"
#include "dbopt/util.h"

/* Added to a conninfo without one: PostgreSQL 15's dblink cannot be cancelled while connecting. */
#define STANDBY_CONNECT_TIMEOUT_S 10
#define STANDBY_NAME_MAX (NAMEDATALEN - 1)	/* application_name is cut there */
#define STANDBY_CONNINFO_MAX 4096

/*
 * On the standby: a header row (indexrelid NULL) with the statistics
 * epoch, then one row per user index.  The epoch is the latest reset of
 * any statistics that crash recovery resets, and of this database's.
 */
static const char *const remote_sql =
"SELECT NULL::pg_catalog.oid, NULL::pg_catalog.name, NULL::pg_catalog.name, NULL::pg_catalog.int8,"
"       GREATEST((SELECT d.stats_reset FROM pg_catalog.pg_stat_database d"
"                  WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()),"
"                (SELECT b.stats_reset FROM pg_catalog.pg_stat_bgwriter b),"
"                (SELECT a.stats_reset FROM pg_catalog.pg_stat_archiver a),"
"                (SELECT w.stats_reset FROM pg_catalog.pg_stat_wal w),"
"                (SELECT pg_catalog.max(s.stats_reset) FROM pg_catalog.pg_stat_slru s)),"
"       pg_catalog.current_database()::pg_catalog.text,"
"       (SELECT c.system_identifier FROM pg_catalog.pg_control_system() c)::pg_catalog.text,"
"       pg_catalog.pg_is_in_recovery()"
" UNION ALL "
"SELECT i.indexrelid, i.schemaname, i.indexrelname, i.idx_scan, NULL, NULL, NULL, NULL"
"  FROM pg_catalog.pg_stat_user_indexes i";

#define REMOTE_COLUMNS "AS t(indexrelid pg_catalog.oid, schemaname pg_catalog.name, indexname pg_catalog.name," \
	" idx_scan pg_catalog.int8, epoch pg_catalog.timestamptz, dbname pg_catalog.text," \
	" sysid pg_catalog.text, in_recovery pg_catalog.bool)"

/* Walsenders that are neither logical, nor a base backup, nor pg_receivewal. */
static const char *const walsenders_sql =
"SELECT COALESCE(r.application_name, ''), r.pid FROM pg_catalog.pg_stat_replication r"
" WHERE COALESCE(r.state, '') OPERATOR(pg_catalog.<>) 'backup'"
"   AND COALESCE(r.application_name, '') OPERATOR(pg_catalog.<>) ALL"
"       ('{pg_basebackup,pg_receivewal}'::pg_catalog.text[])"
"   AND NOT EXISTS (SELECT FROM pg_catalog.pg_replication_slots s"
"                    WHERE s.active_pid OPERATOR(pg_catalog.=) r.pid"
"                      AND s.slot_type OPERATOR(pg_catalog.=) 'logical')";

typedef struct Standby
{
	char	   *name;
	char	   *conninfo;
} Standby;

/* Where the rows go: the SRF's tuplestore, or the scans table. */
typedef struct Sink
{
	Tuplestorestate *ts;
	TupleDesc	desc;
	HTAB	   *scans;
	List	   *problems;
	int			unregistered;	/* of the problems, walsenders not registered */
	TimestampTz latest_epoch;
	MemoryContext cxt;			/* of scans and problems */
} Sink;

#define NCOLS 7

/* ---------- the registry ---------- */

/* Whether this install's SQL has dbopt.standbys (the library may be newer). */
static bool
standbys_table_exists(void)
{
	Oid			nsp = dbopt_extension_schema("dbopt");

	return OidIsValid(nsp) && OidIsValid(get_relname_relid("standbys", nsp));
}

/* The registered standbys, read as the extension owner, in name order. */
static List *
registered_standbys(void)
{
	MemoryContext caller = CurrentMemoryContext;
	DboptIdentity saved;
	List	   *result = NIL;

	if (!standbys_table_exists())
		return NIL;
	dbopt_elevate(&saved);
	SPI_connect();
	if (SPI_execute("SELECT s.name, s.conninfo FROM dbopt.standbys s ORDER BY s.name",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read dbopt.standbys");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(caller);
		Standby    *s = palloc(sizeof(Standby));

		s->name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		s->conninfo = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		result = lappend(result, s);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	dbopt_restore_identity(&saved);
	return result;
}

/* A standby name argument: not NULL, not blank, short enough to be an application_name. */
static char *
standby_name_arg(FunctionCallInfo fcinfo, int argno)
{
	char	   *name;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("standby name must not be null"),
				 errdetail("A standby is registered under its application_name, as pg_stat_replication shows it."),
				 errhint("SELECT application_name FROM pg_stat_replication lists the names.")));
	name = dbopt_trimmed(text_to_cstring(PG_GETARG_TEXT_PP(argno)));
	if (name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("standby name must not be empty"),
				 errdetail("A standby is registered under its application_name, as pg_stat_replication shows it."),
				 errhint("SELECT application_name FROM pg_stat_replication lists the names.")));
	if (strlen(name) > STANDBY_NAME_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("standby name is longer than %d bytes", STANDBY_NAME_MAX),
				 errdetail("The server cuts application_name at %d bytes, so a longer name could never match a walsender.",
						   STANDBY_NAME_MAX),
				 errhint("Use the standby's application_name as pg_stat_replication shows it.")));
	return name;
}

PG_FUNCTION_INFO_V1(dbopt_add_standby);

Datum
dbopt_add_standby(PG_FUNCTION_ARGS)
{
	char	   *name = standby_name_arg(fcinfo, 0);
	char	   *conninfo;
	Oid			argtypes[3] = {TEXTOID, TEXTOID, NAMEOID};
	Datum		values[3];
	DboptIdentity saved;
	uint64		n;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("conninfo must not be null"),
				 errdetail("dbopt connects to the standby with it, through dblink."),
				 errhint("Pass a connection string such as 'host=standby1 dbname=app user=monitor password=...', or the name of a postgres_fdw foreign server.")));
	conninfo = dbopt_trimmed(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	if (conninfo[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("conninfo must not be empty"),
				 errdetail("An empty connection string would connect to this server, not to the standby."),
				 errhint("Pass a connection string such as 'host=standby1 dbname=app user=monitor password=...', or the name of a postgres_fdw foreign server.")));
	if (strlen(conninfo) > STANDBY_CONNINFO_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("conninfo is longer than %d bytes", STANDBY_CONNINFO_MAX),
				 errhint("Pass a libpq connection string, or the name of a postgres_fdw foreign server.")));

	values[0] = CStringGetTextDatum(name);
	values[1] = CStringGetTextDatum(conninfo);
	values[2] = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(GetUserId(), false)));
	dbopt_elevate(&saved);
	SPI_connect();
	if (SPI_execute_with_args("INSERT INTO dbopt.standbys (name, conninfo, added_by) VALUES ($1, $2, $3)"
							  " ON CONFLICT (name) DO NOTHING",
							  3, argtypes, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not insert into dbopt.standbys");
	n = SPI_processed;
	SPI_finish();
	dbopt_restore_identity(&saved);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("standby \"%s\" is already registered", name),
				 errhint("To change its connection string, SELECT dbopt.remove_standby(%s) first.",
						 quote_literal_cstr(name))));
	/* Never the conninfo: it may hold a password. */
	dbopt_log_action("add_standby", name, "registered", -1, -1, NULL);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(dbopt_remove_standby);

Datum
dbopt_remove_standby(PG_FUNCTION_ARGS)
{
	char	   *name = standby_name_arg(fcinfo, 0);
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};
	DboptIdentity saved;
	uint64		n;

	dbopt_elevate(&saved);
	SPI_connect();
	if (SPI_execute_with_args("DELETE FROM dbopt.standbys WHERE name OPERATOR(pg_catalog.=) $1",
							  1, argtypes, values, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete from dbopt.standbys");
	n = SPI_processed;
	SPI_finish();
	dbopt_restore_identity(&saved);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("standby \"%s\" is not registered", name),
				 errhint("SELECT name FROM dbopt.registered_standbys lists the registered standbys.")));
	dbopt_log_action("remove_standby", name, "unregistered", -1, -1, NULL);
	PG_RETURN_VOID();
}

/* ---------- reading the standbys ---------- */

static void
emit_problem(Sink *sink, const char *standby, TimestampTz epoch, const char *problem)
{
	if (sink->ts)
	{
		Datum		values[NCOLS] = {0};
		bool		nulls[NCOLS] = {true, true, true, true, true, true, false};

		if (standby && standby[0] != '\0')
		{
			values[0] = CStringGetTextDatum(standby);
			nulls[0] = false;
		}
		values[5] = TimestampTzGetDatum(epoch);
		nulls[5] = (epoch == 0);
		values[6] = CStringGetTextDatum(problem);
		tuplestore_putvalues(sink->ts, sink->desc, values, nulls);
	}
	else
	{
		MemoryContext old = MemoryContextSwitchTo(sink->cxt);

		sink->problems = lappend(sink->problems,
								 psprintf("standby %s: %s", quote_identifier(standby), problem));
		MemoryContextSwitchTo(old);
	}
}

/* The conninfo with a connect_timeout, unless it has one or names a foreign server. */
static char *
with_connect_timeout(const char *conninfo)
{
	if (strstr(conninfo, "connect_timeout") != NULL)
		return pstrdup(conninfo);
	if (strncmp(conninfo, "postgresql://", 13) == 0 || strncmp(conninfo, "postgres://", 11) == 0)
		return psprintf("%s%cconnect_timeout=%d", conninfo,
						strchr(conninfo, '?') ? '&' : '?', STANDBY_CONNECT_TIMEOUT_S);
	if (strchr(conninfo, '=') != NULL)
		return psprintf("%s connect_timeout=%d", conninfo, STANDBY_CONNECT_TIMEOUT_S);
	return pstrdup(conninfo);
}

/* Errors that must end the call: a cancel, a shutdown, no memory. */
static bool
must_rethrow(int sqlerrcode)
{
	int			category = ERRCODE_TO_CATEGORY(sqlerrcode);

	return category == ERRCODE_OPERATOR_INTERVENTION ||
		category == ERRCODE_INSUFFICIENT_RESOURCES;
}

/*
 * Check the header row against this server; NULL when the standby's
 * index rows can be matched by OID, else the reason.
 */
static char *
header_problem(HeapTuple tup, TupleDesc desc, const char *local_sysid)
{
	char	   *dbname = SPI_getvalue(tup, desc, 6);
	char	   *sysid = SPI_getvalue(tup, desc, 7);
	char	   *recovery = SPI_getvalue(tup, desc, 8);

	if (dbname == NULL || strcmp(dbname, get_database_name(MyDatabaseId)) != 0)
		return psprintf("the connection string leads to database %s, not %s: add dbname to it",
						quote_identifier(dbname ? dbname : "?"),
						quote_identifier(get_database_name(MyDatabaseId)));
	if (sysid == NULL || strcmp(sysid, local_sysid) != 0)
		return psprintf("it is not a physical standby of this server (system identifier %s, here %s), so its OIDs do not match",
						sysid ? sysid : "unknown", local_sysid);
	if (recovery == NULL || strcmp(recovery, "t") != 0)
		return pstrdup("it is not in recovery (this server itself, or a promoted standby), so its scans are not counted");
	return NULL;
}

static void
add_scans(HTAB *scans, Oid indexrelid, int64 n)
{
	bool		found;
	DboptStandbyScan *ent = hash_search(scans, &indexrelid, HASH_ENTER, &found);

	if (!found)
		ent->scans = 0;
	ent->scans += n;
}

static void
emit_rows(Sink *sink, const char *standby, TimestampTz epoch)
{
	TupleDesc	desc = SPI_tuptable->tupdesc;

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		bool		isnull;
		Datum		relid = SPI_getbinval(tup, desc, 1, &isnull);

		CHECK_FOR_INTERRUPTS();
		if (isnull)
			continue;			/* the header */
		if (sink->ts)
		{
			Datum		values[NCOLS];
			bool		nulls[NCOLS];

			values[0] = CStringGetTextDatum(standby);
			nulls[0] = false;
			values[1] = relid;
			nulls[1] = false;
			for (int c = 2; c <= 4; c++)
				values[c] = SPI_getbinval(tup, desc, c, &nulls[c]);
			values[5] = TimestampTzGetDatum(epoch);
			nulls[5] = (epoch == 0);
			values[6] = (Datum) 0;
			nulls[6] = true;
			tuplestore_putvalues(sink->ts, sink->desc, values, nulls);
		}
		else
		{
			Datum		n = SPI_getbinval(tup, desc, 4, &isnull);

			if (!isnull)
				add_scans(sink->scans, DatumGetObjectId(relid), DatumGetInt64(n));
		}
	}
}

/* What read_standby_unit() reads, and what it found. */
typedef struct StandbyRead
{
	Sink	   *sink;
	const Standby *s;
	const char *dblink_fn;
	const char *local_sysid;
	MemoryContext cxt;			/* the caller's, for problem */
	char	   *problem;
	TimestampTz epoch;
} StandbyRead;

static void
read_standby_unit(void *arg)
{
	StandbyRead *rd = arg;
	char	   *sql = psprintf("SELECT * FROM %s(%s, %s) " REMOTE_COLUMNS, rd->dblink_fn,
							   "$1", "$2");
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2] = {CStringGetTextDatum(with_connect_timeout(rd->s->conninfo)),
	CStringGetTextDatum(remote_sql)};
	HeapTuple	header = NULL;

	SPI_connect();
	if (SPI_execute_with_args(sql, 2, argtypes, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not run dblink");
	for (uint64 i = 0; i < SPI_processed && header == NULL; i++)
	{
		bool		isnull;

		(void) SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
		if (isnull)
			header = SPI_tuptable->vals[i];
	}
	if (header == NULL)
		rd->problem = MemoryContextStrdup(rd->cxt, "the standby returned no statistics header");
	else
	{
		bool		isnull;
		Datum		e = SPI_getbinval(header, SPI_tuptable->tupdesc, 5, &isnull);
		char	   *p = header_problem(header, SPI_tuptable->tupdesc, rd->local_sysid);

		rd->epoch = isnull ? 0 : DatumGetTimestampTz(e);
		if (p)
			rd->problem = MemoryContextStrdup(rd->cxt, p);
		else
			emit_rows(rd->sink, rd->s->name, rd->epoch);
	}
	SPI_finish();
}

/* Why a standby could not be read, from the error, for its problem row. */
static char *
read_error_problem(const Standby *s, ErrorData *edata)
{
	char	   *problem = edata->detail
		? psprintf("%s: %s", edata->message, edata->detail)
		: pstrdup(edata->message);

	/* libpq's messages end with a newline. */
	while (problem[0] && problem[strlen(problem) - 1] == '\n')
		problem[strlen(problem) - 1] = '\0';

	/*
	 * A connection failure names the host, port and user of a conninfo only
	 * the extension owner may read: others get the fact, and the server log
	 * the whole message.
	 */
	if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_CONNECTION_EXCEPTION &&
		!has_privs_of_role(GetUserId(), dbopt_extension_owner()))
	{
		ereport(LOG,
				(errmsg("dbopt: standby \"%s\" could not be read: %s", s->name, problem)));
		problem = psprintf("could not connect (%s); the server log has the details, which name the standby's address",
						   unpack_sql_state(edata->sqlerrcode));
	}
	return problem;
}

/*
 * One standby, one query, in a subtransaction: whatever goes wrong (the
 * connection, authentication, the remote query) becomes its problem row.
 */
static void
read_standby(Sink *sink, const char *dblink_fn, const Standby *s, const char *local_sysid)
{
	StandbyRead rd = {sink, s, dblink_fn, local_sysid, CurrentMemoryContext, NULL, 0};
	ErrorData  *edata = dbopt_try_subxact(read_standby_unit, &rd);
	char	   *problem = rd.problem;
	TimestampTz epoch = rd.epoch;

	if (edata)
	{
		if (must_rethrow(edata->sqlerrcode))
			ReThrowError(edata);
		problem = read_error_problem(s, edata);
	}

	if (problem)
		emit_problem(sink, s->name, epoch, problem);
	else if (epoch > sink->latest_epoch)
		sink->latest_epoch = epoch;
}

/* dblink(text, text), schema-qualified, or NULL when dblink is not installed. */
static char *
dblink_function(void)
{
	Oid			nsp = dbopt_extension_schema("dblink");

	if (!OidIsValid(nsp))
		return NULL;
	return psprintf("%s.dblink", quote_identifier(get_namespace_name(nsp)));
}

static const char *
no_dblink_problem(void)
{
	if (OidIsValid(dbopt_extension_schema("postgres_fdw")))
		return "dblink is not installed in this database, so the standby's statistics cannot be read"
			" (postgres_fdw is, but it only reads through foreign tables): CREATE EXTENSION dblink;"
			" a postgres_fdw foreign server's name can then be the conninfo";
	return "neither dblink nor postgres_fdw is installed in this database, so the standby's statistics cannot be read: CREATE EXTENSION dblink";
}

/* A row for each walsender whose application_name no registered standby has. */
static void
unregistered_walsenders(Sink *sink, List *standbys)
{
	MemoryContext cxt = CurrentMemoryContext;
	List	   *found = NIL;
	ListCell   *lc;

	SPI_connect();
	if (SPI_execute(walsenders_sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read pg_stat_replication");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *app = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		char	   *pid = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		bool		registered = false;

		foreach(lc, standbys)
			if (strcmp(((Standby *) lfirst(lc))->name, app) == 0)
				registered = true;
		if (!registered)
		{
			MemoryContext old = MemoryContextSwitchTo(cxt);

			found = lappend(found, list_make2(pstrdup(app), pstrdup(pid)));
			MemoryContextSwitchTo(old);
		}
	}
	SPI_finish();
	foreach(lc, found)
	{
		List	   *w = lfirst(lc);
		const char *app = linitial(w);

		sink->unregistered++;
		emit_problem(sink, app, 0,
					 psprintf("streams from this server but is not registered (walsender pid %s%s): its index scans are not counted;"
							  " SELECT dbopt.add_standby(%s, %s)",
							  (char *) lsecond(w), app[0] ? "" : ", no application_name",
							  quote_literal_cstr(app[0] ? app : "name"),
							  quote_literal_cstr(psprintf("host=... dbname=%s user=... password=...",
														  get_database_name(MyDatabaseId)))));
	}
}

static void
read_all(Sink *sink, List *standbys)
{
	char	   *dblink_fn = dblink_function();
	char	   *local_sysid = psprintf(UINT64_FORMAT, GetSystemIdentifier());
	ListCell   *lc;

	foreach(lc, standbys)
	{
		Standby    *s = lfirst(lc);

		CHECK_FOR_INTERRUPTS();
		if (dblink_fn == NULL)
			emit_problem(sink, s->name, 0, no_dblink_problem());
		else
			read_standby(sink, dblink_fn, s, local_sysid);
	}
	unregistered_walsenders(sink, standbys);
}

PG_FUNCTION_INFO_V1(dbopt_standby_index_usage);

Datum
dbopt_standby_index_usage(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Sink		sink = {0};

	dbopt_init_materialized_srf(fcinfo);
	if (rsinfo->setDesc->natts != NCOLS)
		elog(ERROR, "standby_index_usage declares %d columns, expected %d",
			 rsinfo->setDesc->natts, NCOLS);
	sink.ts = rsinfo->setResult;
	sink.desc = rsinfo->setDesc;
	sink.cxt = CurrentMemoryContext;
	read_all(&sink, registered_standbys());
	return (Datum) 0;
}

HTAB *
dbopt_standby_scans(int *nregistered, int *nunregistered, List **problems, TimestampTz *latest_epoch)
{
	List	   *standbys;
	Sink		sink = {0};
	HASHCTL		ctl;
	HASH_SEQ_STATUS seq;
	DboptStandbyScan *ent;
	List	   *leaves = NIL;
	ListCell   *lc;

	*nregistered = 0;
	*nunregistered = 0;
	*problems = NIL;
	*latest_epoch = 0;
	if (RecoveryInProgress())
		return NULL;
	standbys = registered_standbys();
	*nregistered = list_length(standbys);

	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(DboptStandbyScan);
	ctl.hcxt = CurrentMemoryContext;
	sink.scans = hash_create("dbopt standby scans", 1024, &ctl,
							 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	sink.cxt = CurrentMemoryContext;
	read_all(&sink, standbys);

	/* A partitioned index counts its leaves' scans, as analyze_index_usage does. */
	hash_seq_init(&seq, sink.scans);
	while ((ent = hash_seq_search(&seq)) != NULL)
		if (ent->scans > 0 && get_rel_relispartition(ent->indexrelid))
			leaves = lappend(leaves, ent);
	foreach(lc, leaves)
	{
		DboptStandbyScan *leaf = lfirst(lc);
		int64		n = leaf->scans;
		ListCell   *anc;

		CHECK_FOR_INTERRUPTS();
		foreach(anc, get_partition_ancestors(leaf->indexrelid))
			add_scans(sink.scans, lfirst_oid(anc), n);
	}

	*problems = sink.problems;
	*nunregistered = sink.unregistered;
	*latest_epoch = sink.latest_epoch;
	if (*nregistered == 0)
	{
		hash_destroy(sink.scans);
		return NULL;
	}
	return sink.scans;
}
