/*-------------------------------------------------------------------------
 *
 * dbopt.h
 *	  Module-wide state and settings shared by every dbopt source file.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DBOPT_H
#define DBOPT_H

#include "postgres.h"

#ifndef DBOPT_VERSION
#error "DBOPT_VERSION must be defined by the Makefile"
#endif

/* True when the library was loaded through shared_preload_libraries. */
extern bool dbopt_preloaded;

/* GUC variables (guc.c). */
extern int	dbopt_lock_timeout_ms;
extern int	dbopt_check_timeout_ms;
extern int	dbopt_retention_batch_delay_ms;
extern char *dbopt_timezone;
extern bool dbopt_enable_worker;
extern int	dbopt_max_concurrent_jobs;
extern int	dbopt_launcher_naptime_ms;
extern int	dbopt_job_history_retention_s;
extern int	dbopt_findings_history_retention_s;
extern char *dbopt_job_role;
extern char *dbopt_tenant_columns;
extern int	dbopt_max_partitions_per_call;
extern int	dbopt_min_partition_interval_s;

/* Register the launcher (worker.c); only while preloading. */
extern void dbopt_register_launcher(void);

extern void dbopt_define_gucs(void);
extern int	dbopt_guc_count(void);
extern const char *dbopt_guc_name(int i);

/* Raise a clear error when a feature needs shared_preload_libraries. */
extern void dbopt_require_preloaded(const char *feature);

#endif							/* DBOPT_H */
