/*-------------------------------------------------------------------------
 *
 * checks.c
 *	  Registry of every check_name a dbopt report can emit.
 *
 * Users' scripts and suppressions key on these names, so they are listed in
 * one place: dbopt.suppress() validates against it and dbopt.check_names()
 * documents it.  A report that emits an unregistered name fails an
 * assertion in assert-enabled builds.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"
#include "utils/varlena.h"

#include "dbopt/compat.h"
#include "dbopt/findings.h"

typedef struct DboptCheckDef
{
	const char *name;
	const char *report;
	const char *description;
} DboptCheckDef;

static const DboptCheckDef known_checks[] = {
	{"extension_version", "status", "Installed SQL objects and loaded library versions match."},
	{"library_preloaded", "status", "dbopt is in shared_preload_libraries (needed by the worker)."},
	{"pg_stat_statements_loaded", "status", "pg_stat_statements is preloaded and usable."},
	{"pg_stat_statements_fill", "status", "Entries in pg_stat_statements against pg_stat_statements.max."},
	{"pg_stat_statements_deallocations", "status", "Entries evicted from pg_stat_statements since its last reset."},
	{"companion_extension", "status", "Optional companion extensions: installed, available or absent."},
	{"setting", "status", "Current value of a dbopt.* setting."},
	{"worker", "status", "The background worker: launcher and this database's scheduler running, jobs failing or overdue."},
	{"worker_slots", "status", "Background worker slots: the launcher, one scheduler per dbopt database and their jobs against max_worker_processes less the other workers; critical once a job was skipped for want of a slot since the server started."},
	{"jobs_skipped", "status", "Job runs recorded skipped in the last day, by reason (no free slot, role dropped or NOLOGIN, schedule unreadable)."},
	{"unused", "analyze_index_usage", "Index backing no constraint with no scan seen, here or on a registered standby, over at least min_stats_age of observation (since the statistics epoch, or across the snapshot windows)."},
	{"unused_recent_stats", "analyze_index_usage", "Index with no scan seen, but observed for less than min_stats_age."},
	{"duplicate", "analyze_index_usage", "Another valid index on the table has the same definition; this is the one to drop."},
	{"redundant", "analyze_index_usage", "Non-unique btree whose keys lead another valid btree with the same predicate, opclasses and collations."},
	{"invalid", "analyze_index_usage", "Index marked invalid and not being built right now."},
	{"bloated", "analyze_index_usage", "Estimated bloat above dbopt.index_bloat_threshold."},
	{"fk_without_index", "find_unindexed_foreign_keys", "Foreign key whose columns lead no valid index on the referencing table."},
	{"fk_orphan_rows", "check_data_integrity", "Rows of a referencing table with no referenced row (NOT VALID or unenforced foreign keys; every foreign key with deep)."},
	{"check_violation", "check_data_integrity", "Rows failing a NOT VALID CHECK constraint (every CHECK with deep)."},
	{"not_valid_constraint", "check_data_integrity", "NOT VALID constraint that no row violates: it can be validated."},
	{"disabled_constraint_trigger", "check_data_integrity", "Disabled trigger enforcing a foreign key or constraint trigger."},
	{"invalid_unique_index", "check_data_integrity", "Invalid unique index, with the number of duplicated keys that block its rebuild."},
	{"sequence_exhaustion", "check_data_integrity", "Sequence at 75% (warning) or 90% (critical) of the limit of the column it feeds, or its own."},
	{"xid_wraparound", "check_data_integrity", "Table or database whose freeze age passed autovacuum_freeze_max_age (warning) or vacuum_failsafe_age (critical)."},
	{"index_corruption", "check_data_integrity", "amcheck bt_index_check(heapallindexed) found a problem (deep, amcheck installed)."},
	{"heap_corruption", "check_data_integrity", "amcheck verify_heapam found a problem (deep, amcheck installed)."},
	{"collation_version_mismatch", "check_data_integrity", "Collation whose recorded version differs from the library's, with the indexes to rebuild."},
	{"check_failed", "check_data_integrity", "A check that could not run (permission, lock or time limit, error); the others still ran."},

	/*
	 * health_check().  xid_wraparound and check_failed are shared with
	 * check_data_integrity(): one row per report, so that filtering
	 * check_names() by report keeps working.
	 */
	{"check_failed", "health_check", "A health check that could not run (permission, time limit, error); object_name names it, and the others still ran."},
	{"xid_wraparound", "health_check", "Database whose transaction ID or multixact age passed dbopt.health_xid_wraparound (critical past vacuum_failsafe_age too)."},
	{"cache_hit_ratio", "health_check", "Block requests of a database found in shared buffers, in percent, below dbopt.health_cache_hit_ratio."},
	{"connection_utilization", "health_check", "Client connections in percent of max_connections less the superuser reserve, above dbopt.health_connection_utilization (critical from 95)."},
	{"role_connection_limit", "health_check", "A role's connections in percent of its CONNECTION LIMIT, above dbopt.health_connection_utilization (critical at the limit)."},
	{"idle_in_transaction", "health_check", "Session idle in a transaction for longer than dbopt.health_idle_in_transaction (critical when it blocks others)."},
	{"long_running_query", "health_check", "Statement running for longer than dbopt.health_long_running_query (critical when it blocks others)."},
	{"slow_queries", "health_check", "More statements than dbopt.health_slow_queries with a mean time of at least dbopt.health_slow_query_time."},
	{"replication_lag", "health_check", "Standby replay lag, or WAL kept by an inactive replication slot, in bytes above dbopt.health_replication_lag."},
	{"archiving_failing", "health_check", "archive_command failed since the last success (critical); info when archive_mode is off."},
	{"archive_lag", "health_check", "WAL waits to be archived and the last archived file is older than dbopt.health_archive_lag: the recovery point is at risk."},
	{"dead_tuple_ratio", "health_check", "Table with at least 1000 dead tuples, in percent of its tuples above dbopt.health_dead_tuple_ratio."},
	{"table_bloat", "health_check", "Table of 1 MB or more whose estimated bloat is above dbopt.health_table_bloat; info with a NULL value when it cannot be estimated."},
	{"autovacuum_stale", "health_check", "Table past its autovacuum trigger whose last vacuum is older than dbopt.health_autovacuum_stale, never happened, or is disabled."},
	{"checkpoints_requested", "health_check", "Requested checkpoints in percent of all, above dbopt.health_checkpoints_requested: max_wal_size is too small."},
	{"temp_file_usage", "health_check", "Temporary file bytes a database wrote since the last snapshot, above dbopt.health_temp_file_usage."},
	{"pg_stat_statements_full", "health_check", "pg_stat_statements evicted entries since its last reset."},
	{"password_encryption_not_scram", "validate_security_configuration", "password_encryption is not scram-sha-256."},
	{"md5_password_hashes", "validate_security_configuration", "A role's stored password is an md5 hash (superuser only)."},
	{"superuser_count", "validate_security_configuration", "More than one login role is a superuser."},
	{"role_bypassrls", "validate_security_configuration", "A role other than a superuser bypasses row-level security."},
	{"role_createrole", "validate_security_configuration", "A role other than a superuser has CREATEROLE."},
	{"public_schema_create", "validate_security_configuration", "PUBLIC may CREATE in a user schema."},
	{"security_definer_search_path", "validate_security_configuration", "A SECURITY DEFINER function does not pin its search_path."},
	{"security_definer_public_execute", "validate_security_configuration", "PUBLIC may execute a SECURITY DEFINER function."},
	{"rls_enabled_no_policy", "validate_security_configuration", "Row-level security is enabled on a table with no policy."},
	{"rls_not_forced", "validate_security_configuration", "Row-level security is not forced, so the owner bypasses it."},
	{"tenant_table_without_rls", "validate_security_configuration", "A table with a column named in dbopt.tenant_columns has no row-level security."},
	{"pg_hba_trust", "validate_security_configuration", "A pg_hba.conf line uses trust (critical for TCP lines)."},
	{"pg_hba_password", "validate_security_configuration", "A pg_hba.conf line uses password, in clear text."},
	{"pg_hba_md5", "validate_security_configuration", "A pg_hba.conf line uses md5."},
	{"pg_hba_host_without_ssl", "validate_security_configuration", "A pg_hba.conf host line accepts TCP without SSL."},
	{"ssl_off", "validate_security_configuration", "ssl is off."},
	{"logging_connections", "validate_security_configuration", "log_connections or log_disconnections is off."},
	{"logging_ddl", "validate_security_configuration", "log_statement does not log DDL."},
	{"data_checksums_off", "validate_security_configuration", "The cluster has no data checksums."},
	{"default_privileges_public", "validate_security_configuration", "Default privileges grant to PUBLIC (beyond the built-in EXECUTE and USAGE)."},
	{"sensitive_column_unprotected", "validate_security_configuration", "A registered sensitive column is stored in clear and masked by no view."},
	{"sensitive_table_not_audited", "validate_security_configuration", "A table with registered sensitive columns is not audited."},
	{"check_skipped", "validate_security_configuration", "A check that could not be evaluated (usually: needs superuser); the others still ran."},
};

bool
dbopt_check_is_known(const char *check_name)
{
	for (int i = 0; i < lengthof(known_checks); i++)
		if (strcmp(known_checks[i].name, check_name) == 0)
			return true;
	return false;
}

const char *
dbopt_check_closest(const char *check_name)
{
	const char *best = NULL;
	int			best_dist = INT_MAX;

	for (int i = 0; i < lengthof(known_checks); i++)
	{
		int			d = varstr_levenshtein(check_name, strlen(check_name),
										   known_checks[i].name,
										   strlen(known_checks[i].name),
										   1, 1, 1, false);

		if (d < best_dist)
		{
			best_dist = d;
			best = known_checks[i].name;
		}
	}
	/* Only suggest names that are plausibly a typo. */
	return (best_dist <= 3) ? best : NULL;
}

PG_FUNCTION_INFO_V1(dbopt_check_names);

Datum
dbopt_check_names(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	dbopt_init_materialized_srf(fcinfo);
	for (int i = 0; i < lengthof(known_checks); i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(known_checks[i].name);
		values[1] = CStringGetTextDatum(known_checks[i].report);
		values[2] = CStringGetTextDatum(known_checks[i].description);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
