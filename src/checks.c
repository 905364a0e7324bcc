/*-------------------------------------------------------------------------
 *
 * checks.c
 *	  The registry of checks: every check_name a dbopt report can emit,
 *	  with its report, description and severity rules, its threshold
 *	  settings and their defaults, and, for a check written in SQL, its
 *	  query.
 *
 * Everything else is derived from this one table: dbopt.check_names(),
 * the validation of dbopt.suppress(), the dbopt.* threshold settings (and
 * so status()'s setting rows), and the runners of health_check() and
 * validate_security_configuration(), which run the checks of their report
 * that have a query.  The queries live in src/checks/<report>.sql and are
 * compiled in by scripts/sql2c.  Adding a check is one entry here (plus its
 * query) and its test.  A report that emits an unregistered name fails an
 * assertion in assert-enabled builds.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/tuplestore.h"
#include "utils/varlena.h"

#include "dbopt/checks.h"
#include "dbopt/compat.h"
#include "dbopt/findings.h"

#include "checks/health_sql.h"
#include "checks/security_sql.h"

static const DboptCheck registry[] = {
	{"extension_version", "status",
		"Installed SQL objects and loaded library versions match."},
	{"library_preloaded", "status",
		"dbopt is in shared_preload_libraries (needed by the worker)."},
	{"pg_stat_statements_loaded", "status",
		"pg_stat_statements is preloaded and usable."},
	{"pg_stat_statements_fill", "status",
		"Entries in pg_stat_statements against pg_stat_statements.max."},
	{"pg_stat_statements_deallocations", "status",
		"Entries evicted from pg_stat_statements since its last reset."},
	{"companion_extension", "status",
		"Optional companion extensions: installed, available or absent."},
	{"setting", "status",
		"Current value of a dbopt.* setting."},
	{"worker", "status",
		"The background worker: launcher and this database's scheduler running, jobs failing or overdue."},
	{"worker_slots", "status",
		"Background worker slots: the launcher, one scheduler per dbopt database and their jobs against max_worker_processes less the other workers; critical once a job was skipped for want of a slot since the server started."},
	{"jobs_skipped", "status",
		"Job runs recorded skipped in the last day, by reason (no free slot, role dropped or NOLOGIN, schedule unreadable)."},
	{"unused", "analyze_index_usage",
		"Index backing no constraint with no scan seen, here or on a registered standby, over at least min_stats_age of observation (since the statistics epoch, or across the snapshot windows)."},
	{"unused_recent_stats", "analyze_index_usage",
		"Index with no scan seen, but observed for less than min_stats_age."},
	{"duplicate", "analyze_index_usage",
		"Another valid index on the table has the same definition; this is the one to drop."},
	{"redundant", "analyze_index_usage",
		"Non-unique btree whose keys lead another valid btree with the same predicate, opclasses and collations."},
	{"invalid", "analyze_index_usage",
		"Index marked invalid and not being built right now."},
	{"bloated", "analyze_index_usage",
		"Estimated bloat above dbopt.index_bloat_threshold.",
		.threshold = {"dbopt.index_bloat_threshold",
			"Estimated bloat, in percent of an index's size, above which analyze_index_usage() reports it as bloated.",
			0, true, 30, 100,
			"The estimate is statistical; indexes under 1 MB are never reported."}},
	{"empty", "analyze_partition_distribution",
		"Partition with no rows. run_checks() does not record it: premade future partitions are empty by design."},
	{"oversized", "analyze_partition_distribution",
		"Partition more than 3 times the median size of its non-default siblings (at least 3 siblings)."},
	{"default_has_rows", "analyze_partition_distribution",
		"The default partition holds rows (read, not estimated); they block creating the partition for their range."},
	{"gap_before", "analyze_partition_distribution",
		"A hole in the key range between this partition and the previous one: rows there go to the default partition or fail."},
	{"missing_future", "analyze_partition_distribution",
		"Time key: no partition holds now plus one interval; set on the newest partition."},
	{"straddles_retention", "analyze_partition_distribution",
		"Registered table with a retention: this partition holds rows on both sides of the cutoff, so it cannot be dropped whole yet."},
	{"fk_without_index", "find_unindexed_foreign_keys",
		"Foreign key whose columns lead no valid index on the referencing table."},
	{"fk_orphan_rows", "check_data_integrity",
		"Rows of a referencing table with no referenced row (NOT VALID or unenforced foreign keys; every foreign key with deep)."},
	{"check_violation", "check_data_integrity",
		"Rows failing a NOT VALID CHECK constraint (every CHECK with deep)."},
	{"not_valid_constraint", "check_data_integrity",
		"NOT VALID constraint that no row violates: it can be validated."},
	{"disabled_constraint_trigger", "check_data_integrity",
		"Disabled trigger enforcing a foreign key or constraint trigger."},
	{"invalid_unique_index", "check_data_integrity",
		"Invalid unique index, with the number of duplicated keys that block its rebuild."},
	{"sequence_exhaustion", "check_data_integrity",
		"Sequence at 75% (warning) or 90% (critical) of the limit of the column it feeds, or its own."},
	{"xid_wraparound", "check_data_integrity",
		"Table or database whose freeze age passed autovacuum_freeze_max_age (warning) or vacuum_failsafe_age (critical)."},
	{"index_corruption", "check_data_integrity",
		"amcheck bt_index_check(heapallindexed) found a problem (deep, amcheck installed)."},
	{"heap_corruption", "check_data_integrity",
		"amcheck verify_heapam found a problem (deep, amcheck installed)."},
	{"collation_version_mismatch", "check_data_integrity",
		"Collation whose recorded version differs from the library's, with the indexes to rebuild."},
	{"check_failed", "check_data_integrity",
		"A check that could not run (permission, lock or time limit, error); the others still ran."},

	/*
	 * health_check(), in the order it runs them.  xid_wraparound and
	 * check_failed are shared with check_data_integrity(): one row per
	 * report, so that filtering check_names() by report keeps working.
	 */
	{"check_failed", "health_check",
		"A health check that could not run (permission, time limit, error); object_name names it, and the others still ran."},
	{"cache_hit_ratio", "health_check",
		"Block requests of a database found in shared buffers, in percent, below dbopt.health_cache_hit_ratio.",
		.query = DBOPT_SQL_HEALTH_CACHE_HIT_RATIO,
		.ok_detail = "no database has made a block request",
		.threshold = {"dbopt.health_cache_hit_ratio",
			"Percentage of block reads served from shared buffers below which health_check() warns.",
			0, true, 95, 100}},
	{"connection_utilization", "health_check",
		"Client connections in percent of max_connections less the superuser reserve, above dbopt.health_connection_utilization (critical from 95).",
		.query = DBOPT_SQL_HEALTH_CONNECTION_UTILIZATION,
		.threshold = {"dbopt.health_connection_utilization",
			"Percentage of available connections (server-wide, and of a role's CONNECTION LIMIT) above which health_check() warns.",
			0, true, 80, 100}},
	{"role_connection_limit", "health_check",
		"A role's connections in percent of its CONNECTION LIMIT, above dbopt.health_connection_utilization (critical at the limit).",
		.query = DBOPT_SQL_HEALTH_ROLE_CONNECTION_LIMIT,
		.ok_detail = "no login role has a CONNECTION LIMIT",
		.threshold = {"dbopt.health_connection_utilization"}},
	{"idle_in_transaction", "health_check",
		"Session idle in a transaction for longer than dbopt.health_idle_in_transaction (critical when it blocks others).",
		.query = DBOPT_SQL_HEALTH_IDLE_IN_TRANSACTION,
		.ok_detail = "no session is idle in a transaction",
		.threshold = {"dbopt.health_idle_in_transaction",
			"Age of an idle-in-transaction session above which health_check() reports it.",
			GUC_UNIT_S, false, 300, INT_MAX}},
	{"long_running_query", "health_check",
		"Statement running for longer than dbopt.health_long_running_query (critical when it blocks others).",
		.query = DBOPT_SQL_HEALTH_LONG_RUNNING_QUERY,
		.ok_detail = "no other statement is running",
		.threshold = {"dbopt.health_long_running_query",
			"Age of a running statement above which health_check() reports it.",
			GUC_UNIT_S, false, 300, INT_MAX}},
	{"slow_queries", "health_check",
		"More statements than dbopt.health_slow_queries with a mean time of at least dbopt.health_slow_query_time.",
		.query = DBOPT_SQL_HEALTH_SLOW_QUERIES,
		.threshold = {"dbopt.health_slow_queries",
			"Number of slow statements in pg_stat_statements above which health_check() warns.",
			0, false, 10, INT_MAX},
		.second = {"dbopt.health_slow_query_time",
			"Mean execution time from which health_check() counts a statement as slow.",
			GUC_UNIT_MS, false, 1000, INT_MAX},
		.needs_pgss = true},
	{"replication_lag", "health_check",
		"Standby replay lag, or WAL kept by an inactive replication slot, in bytes above dbopt.health_replication_lag.",
		.query = DBOPT_SQL_HEALTH_REPLICATION_LAG,
		.ok_detail = "no standby is connected and no replication slot is inactive",
		.threshold = {"dbopt.health_replication_lag",
			"Replay lag of a standby, or WAL kept by an inactive replication slot, above which health_check() warns.",
			GUC_UNIT_MB, false, 1024, INT_MAX},
		.scale = 1024.0 * 1024.0},
	{"xid_wraparound", "health_check",
		"Database whose transaction ID or multixact age passed dbopt.health_xid_wraparound (critical past vacuum_failsafe_age too).",
		.query = DBOPT_SQL_HEALTH_XID_WRAPAROUND,
		.threshold = {"dbopt.health_xid_wraparound",
			"Transaction ID age of a database above which health_check() warns (critical past vacuum_failsafe_age).",
			0, false, 1000000000, 2000000000}},
	{"archiving_failing", "health_check",
		"archive_command failed since the last success (critical); info when archive_mode is off.",
		.query = DBOPT_SQL_HEALTH_ARCHIVING_FAILING},
	{"archive_lag", "health_check",
		"WAL waits to be archived and the last archived file is older than dbopt.health_archive_lag: the recovery point is at risk.",
		.query = DBOPT_SQL_HEALTH_ARCHIVE_LAG,
		.threshold = {"dbopt.health_archive_lag",
			"Age of the last archived WAL, while WAL waits to be archived, above which health_check() warns.",
			GUC_UNIT_S, false, 900, INT_MAX}},
	{"dead_tuple_ratio", "health_check",
		"Table with at least 1000 dead tuples, in percent of its tuples above dbopt.health_dead_tuple_ratio.",
		.query = DBOPT_SQL_HEALTH_DEAD_TUPLE_RATIO,
		.ok_detail = "no table has 1000 dead tuples",
		.threshold = {"dbopt.health_dead_tuple_ratio",
			"Percentage of dead tuples in a table above which health_check() warns.",
			0, true, 20, 100}},
	{"table_bloat", "health_check",
		"Table of 1 MB or more whose estimated bloat is above dbopt.health_table_bloat; info with a NULL value when it cannot be estimated.",
		.query = DBOPT_SQL_HEALTH_TABLE_BLOAT,
		.ok_detail = "no table of 1 MB or more",
		.threshold = {"dbopt.health_table_bloat",
			"Estimated percentage of a table's size that is bloat above which health_check() warns.",
			0, true, 50, 100}},
	{"autovacuum_stale", "health_check",
		"Table past its autovacuum trigger whose last vacuum is older than dbopt.health_autovacuum_stale, never happened, or is disabled.",
		.query = DBOPT_SQL_HEALTH_AUTOVACUUM_STALE,
		.ok_detail = "no table has more dead tuples than its autovacuum trigger",
		.threshold = {"dbopt.health_autovacuum_stale",
			"Age of the last vacuum of a table that needs one above which health_check() warns.",
			GUC_UNIT_S, false, 86400, INT_MAX}},
	{"checkpoints_requested", "health_check",
		"Requested checkpoints in percent of all, above dbopt.health_checkpoints_requested: max_wal_size is too small.",
		.query = DBOPT_SQL_HEALTH_CHECKPOINTS_REQUESTED,
		.threshold = {"dbopt.health_checkpoints_requested",
			"Percentage of checkpoints that were requested rather than timed above which health_check() warns.",
			0, true, 20, 100},
		.second = {"dbopt.health_checkpoints_min_sample",
			"Fewest checkpoints since statistics were reset from which health_check() judges the share of requested checkpoints.",
			0, false, 20, INT_MAX}},
	{"temp_file_usage", "health_check",
		"Temporary file bytes a database wrote since the last snapshot, above dbopt.health_temp_file_usage.",
		.query = DBOPT_SQL_HEALTH_TEMP_FILE_USAGE,
		.threshold = {"dbopt.health_temp_file_usage",
			"Temporary file bytes written by a database since the last snapshot above which health_check() warns.",
			GUC_UNIT_MB, false, 1024, INT_MAX},
		.scale = 1024.0 * 1024.0},
	{"pg_stat_statements_full", "health_check",
		"pg_stat_statements evicted entries since its last reset.",
		.query = DBOPT_SQL_HEALTH_PG_STAT_STATEMENTS_FULL,
		.needs_pgss = true},

	/* validate_security_configuration(); $1 is dbopt.tenant_columns as text[]. */
	{"password_encryption_not_scram", "validate_security_configuration",
		"password_encryption is not scram-sha-256.",
		.query = DBOPT_SQL_SECURITY_PASSWORD_ENCRYPTION_NOT_SCRAM,
		.ok_detail = "password_encryption is scram-sha-256"},
	{"md5_password_hashes", "validate_security_configuration",
		"A role's stored password is an md5 hash (superuser only).",
		.query = DBOPT_SQL_SECURITY_MD5_PASSWORD_HASHES,
		.ok_detail = "no role has an md5 password hash"},
	{"superuser_count", "validate_security_configuration",
		"More than one login role is a superuser.",
		.query = DBOPT_SQL_SECURITY_SUPERUSER_COUNT,
		.ok_detail = "at most one login role is a superuser"},
	{"role_bypassrls", "validate_security_configuration",
		"A role other than a superuser bypasses row-level security.",
		.query = DBOPT_SQL_SECURITY_ROLE_BYPASSRLS,
		.ok_detail = "no role besides superusers has BYPASSRLS"},
	{"role_createrole", "validate_security_configuration",
		"A role other than a superuser has CREATEROLE.",
		.query = DBOPT_SQL_SECURITY_ROLE_CREATEROLE,
		.ok_detail = "no role besides superusers has CREATEROLE"},
	{"public_schema_create", "validate_security_configuration",
		"PUBLIC may CREATE in a user schema.",
		.query = DBOPT_SQL_SECURITY_PUBLIC_SCHEMA_CREATE,
		.ok_detail = "PUBLIC may create in no schema"},
	{"security_definer_search_path", "validate_security_configuration",
		"A SECURITY DEFINER function does not pin its search_path.",
		.query = DBOPT_SQL_SECURITY_SECURITY_DEFINER_SEARCH_PATH,
		.ok_detail = "every SECURITY DEFINER function pins its search_path"},
	{"security_definer_public_execute", "validate_security_configuration",
		"PUBLIC may execute a SECURITY DEFINER function.",
		.query = DBOPT_SQL_SECURITY_SECURITY_DEFINER_PUBLIC_EXECUTE,
		.ok_detail = "no SECURITY DEFINER function is executable by PUBLIC"},
	{"rls_enabled_no_policy", "validate_security_configuration",
		"Row-level security is enabled on a table with no policy.",
		.query = DBOPT_SQL_SECURITY_RLS_ENABLED_NO_POLICY,
		.ok_detail = "every table with row-level security has a policy"},
	{"rls_not_forced", "validate_security_configuration",
		"Row-level security is not forced, so the owner bypasses it.",
		.query = DBOPT_SQL_SECURITY_RLS_NOT_FORCED,
		.ok_detail = "every table with row-level security forces it"},
	{"tenant_table_without_rls", "validate_security_configuration",
		"A table with a column named in dbopt.tenant_columns has no row-level security.",
		.query = DBOPT_SQL_SECURITY_TENANT_TABLE_WITHOUT_RLS,
		.ok_detail = "every table with a tenant column has row-level security"},
	{"pg_hba_trust", "validate_security_configuration",
		"A pg_hba.conf line uses trust (critical for TCP lines).",
		.query = DBOPT_SQL_SECURITY_PG_HBA_TRUST,
		.ok_detail = "no pg_hba.conf line uses trust"},
	{"pg_hba_password", "validate_security_configuration",
		"A pg_hba.conf line uses password, in clear text.",
		.query = DBOPT_SQL_SECURITY_PG_HBA_PASSWORD,
		.ok_detail = "no pg_hba.conf line uses password"},
	{"pg_hba_md5", "validate_security_configuration",
		"A pg_hba.conf line uses md5.",
		.query = DBOPT_SQL_SECURITY_PG_HBA_MD5,
		.ok_detail = "no pg_hba.conf line uses md5"},
	{"pg_hba_host_without_ssl", "validate_security_configuration",
		"A pg_hba.conf host line accepts TCP without SSL.",
		.query = DBOPT_SQL_SECURITY_PG_HBA_HOST_WITHOUT_SSL,
		.ok_detail = "every TCP line of pg_hba.conf requires SSL"},
	{"ssl_off", "validate_security_configuration",
		"ssl is off.",
		.query = DBOPT_SQL_SECURITY_SSL_OFF,
		.ok_detail = "ssl is on"},
	{"logging_connections", "validate_security_configuration",
		"log_connections or log_disconnections is off.",
		.query = DBOPT_SQL_SECURITY_LOGGING_CONNECTIONS,
		.ok_detail = "log_connections and log_disconnections are on"},
	{"logging_ddl", "validate_security_configuration",
		"log_statement does not log DDL.",
		.query = DBOPT_SQL_SECURITY_LOGGING_DDL,
		.ok_detail = "log_statement logs DDL"},
	{"data_checksums_off", "validate_security_configuration",
		"The cluster has no data checksums.",
		.query = DBOPT_SQL_SECURITY_DATA_CHECKSUMS_OFF,
		.ok_detail = "data checksums are on"},
	{"default_privileges_public", "validate_security_configuration",
		"Default privileges grant to PUBLIC (beyond the built-in EXECUTE and USAGE).",
		.query = DBOPT_SQL_SECURITY_DEFAULT_PRIVILEGES_PUBLIC,
		.ok_detail = "no default privileges grant to PUBLIC"},
	{"sensitive_column_unprotected", "validate_security_configuration",
		"A registered sensitive column is stored in clear and masked by no view.",
		.query = DBOPT_SQL_SECURITY_SENSITIVE_COLUMN_UNPROTECTED,
		.ok_detail = "every registered sensitive column is masked by a view or stored encrypted"},
	{"sensitive_table_not_audited", "validate_security_configuration",
		"A table with registered sensitive columns is not audited.",
		.query = DBOPT_SQL_SECURITY_SENSITIVE_TABLE_NOT_AUDITED,
		.ok_detail = "every table with sensitive columns is audited"},
	{"check_skipped", "validate_security_configuration",
		"A check that could not be evaluated (usually: needs superuser); the others still ran."},
};

/* Storage of the threshold settings: [i][0] for registry[i].threshold, [i][1] for .second. */
static int	setting_int[lengthof(registry)][2];
static double setting_real[lengthof(registry)][2];

int
dbopt_check_count(void)
{
	return lengthof(registry);
}

const DboptCheck *
dbopt_check_at(int i)
{
	Assert(i >= 0 && i < lengthof(registry));
	return &registry[i];
}

bool
dbopt_check_is_known(const char *check_name)
{
	for (int i = 0; i < lengthof(registry); i++)
		if (strcmp(registry[i].name, check_name) == 0)
			return true;
	return false;
}

const char *
dbopt_check_closest(const char *check_name)
{
	const char *best = NULL;
	int			best_dist = INT_MAX;

	for (int i = 0; i < lengthof(registry); i++)
	{
		int			d = varstr_levenshtein(check_name, strlen(check_name),
										   registry[i].name,
										   strlen(registry[i].name),
										   1, 1, 1, false);

		if (d < best_dist)
		{
			best_dist = d;
			best = registry[i].name;
		}
	}
	/* Only suggest names that are plausibly a typo. */
	return (best_dist <= 3) ? best : NULL;
}

/* The entry that describes (and so stores) the setting called name. */
static bool
find_setting(const char *name, int *entry, int *which)
{
	for (int i = 0; i < lengthof(registry); i++)
	{
		const DboptSetting *s[2] = {&registry[i].threshold, &registry[i].second};

		for (int k = 0; k < 2; k++)
			if (s[k]->name && s[k]->description && strcmp(s[k]->name, name) == 0)
			{
				*entry = i;
				*which = k;
				return true;
			}
	}
	return false;
}

double
dbopt_setting_value(const DboptSetting *s)
{
	int			i,
				k;

	if (s->name == NULL)
		return 0.0;
	if (!find_setting(s->name, &i, &k))
		elog(ERROR, "dbopt setting \"%s\" is named but described by no check", s->name);
	return (k == 0 ? registry[i].threshold.real : registry[i].second.real)
		? setting_real[i][k] : (double) setting_int[i][k];
}

double
dbopt_check_threshold(const DboptCheck *c)
{
	return dbopt_setting_value(&c->threshold) * (c->scale != 0 ? c->scale : 1.0);
}

/* The threshold of a check by name, for the reports whose checks are C code. */
double
dbopt_check_threshold_of(const char *check_name, const char *report)
{
	for (int i = 0; i < lengthof(registry); i++)
		if (strcmp(registry[i].name, check_name) == 0 && strcmp(registry[i].report, report) == 0)
			return dbopt_check_threshold(&registry[i]);
	elog(ERROR, "no check %s of %s in the registry", check_name, report);
	return 0.0;					/* keep the compiler quiet */
}

static void
replace_token(StringInfo buf, const char *sql, const char *token, const char *with)
{
	const char *p = sql;
	const char *hit;

	while ((hit = strstr(p, token)) != NULL)
	{
		appendBinaryStringInfo(buf, p, hit - p);
		appendStringInfoString(buf, with);
		p = hit + strlen(token);
	}
	appendStringInfoString(buf, p);
}

char *
dbopt_check_query(const DboptCheck *c, const char *pgss_schema)
{
	StringInfoData a,
				b;

	initStringInfo(&a);
	replace_token(&a, c->query, "@checkpoint_counts@", DBOPT_SQL_CHECKPOINT_COUNTS);
	if (!c->needs_pgss)
		return a.data;
	Assert(pgss_schema != NULL);
	initStringInfo(&b);
	replace_token(&b, a.data, "@pgss@", quote_identifier(pgss_schema));
	pfree(a.data);
	return b.data;
}

void
dbopt_define_check_settings(void)
{
	for (int i = 0; i < lengthof(registry); i++)
	{
		const DboptSetting *s[2] = {&registry[i].threshold, &registry[i].second};
		char	   *documented = psprintf("Documented with dbopt.%s() in README.md.", registry[i].report);

		for (int k = 0; k < 2; k++)
		{
			const char *long_desc;

			/* Thresholds only change what a report says, so anyone may set them. */
			if (s[k]->name == NULL || s[k]->description == NULL)
				continue;
			long_desc = s[k]->long_description ? s[k]->long_description : documented;
			if (s[k]->real)
			{
				setting_real[i][k] = s[k]->boot;
				DefineCustomRealVariable(s[k]->name, s[k]->description, long_desc,
										 &setting_real[i][k], s[k]->boot, 0, s[k]->max,
										 PGC_USERSET, s[k]->unit, NULL, NULL, NULL);
			}
			else
			{
				setting_int[i][k] = (int) s[k]->boot;
				DefineCustomIntVariable(s[k]->name, s[k]->description, long_desc,
										&setting_int[i][k], (int) s[k]->boot, 0, (int) s[k]->max,
										PGC_USERSET, s[k]->unit, NULL, NULL, NULL);
			}
		}
	}
}

PG_FUNCTION_INFO_V1(dbopt_check_names);

Datum
dbopt_check_names(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	dbopt_init_materialized_srf(fcinfo);
	for (int i = 0; i < lengthof(registry); i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(registry[i].name);
		values[1] = CStringGetTextDatum(registry[i].report);
		values[2] = CStringGetTextDatum(registry[i].description);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
