/*-------------------------------------------------------------------------
 *
 * registry.h
 *	  Which databases use dbopt (registry.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef DBOPT_REGISTRY_H
#define DBOPT_REGISTRY_H

#include "postgres.h"

#include "nodes/pg_list.h"

/* Hooks: shared memory and ProcessUtility; only while preloading. */
extern void dbopt_registry_init(void);

/* Add or remove a database. */
extern void dbopt_registry_set(Oid dboid, bool present);
extern int	dbopt_registry_count(void);

/* A scheduler says it runs (pid) or has left (0). */
extern void dbopt_registry_scheduler(Oid dboid, pid_t pid);

/* Whether a command needs the database to itself right now. */
extern bool dbopt_registry_paused(Oid dboid);

/*
 * The launcher: load the list from its file; true when there is none yet
 * and every database must be probed once.
 */
extern bool dbopt_registry_launcher_start(void);

/* The databases whose scheduler should run now; writes the file if it changed. */
extern List *dbopt_registry_due(void);

#endif							/* DBOPT_REGISTRY_H */
