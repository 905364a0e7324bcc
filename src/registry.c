/*-------------------------------------------------------------------------
 *
 * registry.c
 *	  Which databases use dbopt: the launcher's list, kept in shared memory
 *	  and in a file in the data directory, so that no worker ever connects
 *	  to a database without dbopt.
 *
 * CREATE EXTENSION and ALTER EXTENSION UPDATE add the database at commit,
 * DROP EXTENSION removes it, and CREATE DATABASE ... TEMPLATE copies the
 * template's entry (a ProcessUtility hook, as TimescaleDB's launcher is
 * told).  A scheduler that finds no dbopt removes its own entry, which
 * repairs a list that missed a change.  Only when the file does not exist
 * yet (the first start with this version) does the launcher probe every
 * database once.
 *
 * DROP DATABASE, ALTER DATABASE ... RENAME and CREATE DATABASE ...
 * TEMPLATE need the database to themselves: the hook pauses its entry and
 * signals its scheduler, which leaves with its job workers; core's own
 * wait for other sessions then sees them gone.  The entry is resumed when
 * the command ends, and the launcher starts a scheduler again.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>
#include <unistd.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "tcop/utility.h"
#include "utils/memutils.h"

#include "dbopt/compat.h"
#include "dbopt/registry.h"

#define REGISTRY_FILE "dbopt_databases"
#define REGISTRY_MAX 4096

typedef struct RegistryEntry
{
	Oid			dboid;
	pid_t		scheduler;		/* 0 when none runs */
	bool		paused;			/* a command needs the database to itself */
} RegistryEntry;

typedef struct Registry
{
	LWLock	   *lock;
	bool		loaded;			/* filled from the file (or by a probe) */
	bool		dirty;			/* changed since the file was written */
	Latch	   *launcher;
	int			n;
	RegistryEntry e[REGISTRY_MAX];
} Registry;

static Registry *reg = NULL;
static shmem_request_hook_type prev_request = NULL;
static shmem_startup_hook_type prev_startup = NULL;
static ProcessUtility_hook_type prev_utility = NULL;

/* Changes to apply when this transaction commits: +oid adds, -oid removes. */
typedef struct Pending
{
	Oid			dboid;
	bool		add;
	SubTransactionId subid;		/* rolled back with it */
} Pending;
static List *pending = NIL;		/* in TopMemoryContext */
static bool xact_callback_set = false;

static void
registry_request(void)
{
	if (prev_request)
		prev_request();
	RequestAddinShmemSpace(MAXALIGN(sizeof(Registry)));
	RequestNamedLWLockTranche("dbopt registry", 1);
}

static void
registry_startup(void)
{
	bool		found;

	if (prev_startup)
		prev_startup();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	reg = ShmemInitStruct("dbopt registry", sizeof(Registry), &found);
	if (!found)
	{
		memset(reg, 0, sizeof(Registry));
		reg->lock = &(GetNamedLWLockTranche("dbopt registry"))->lock;
	}
	LWLockRelease(AddinShmemInitLock);
}

static int
find(Oid dboid)
{
	for (int i = 0; i < reg->n; i++)
		if (reg->e[i].dboid == dboid)
			return i;
	return -1;
}

/* Add dboid if absent and there is room; the caller holds the lock exclusively. */
static void
add_entry(Oid dboid)
{
	if (find(dboid) >= 0 || reg->n >= REGISTRY_MAX)
		return;
	reg->e[reg->n].dboid = dboid;
	reg->e[reg->n].scheduler = 0;
	reg->e[reg->n].paused = false;
	reg->n++;
	reg->dirty = true;
}

static void
wake_launcher(void)
{
	if (reg->launcher)
		SetLatch(reg->launcher);
}

void
dbopt_registry_set(Oid dboid, bool present)
{
	int			i;

	if (reg == NULL)
		return;
	LWLockAcquire(reg->lock, LW_EXCLUSIVE);
	i = find(dboid);
	if (present)
		add_entry(dboid);
	else if (i >= 0)
	{
		reg->e[i] = reg->e[reg->n - 1];
		reg->n--;
		reg->dirty = true;
	}
	LWLockRelease(reg->lock);
	wake_launcher();
}

/* dboid's entry with the lock taken in mode, or NULL (lock released) when it has none. */
static RegistryEntry *
locked_entry(Oid dboid, LWLockMode mode)
{
	int			i;

	if (reg == NULL)
		return NULL;
	LWLockAcquire(reg->lock, mode);
	i = find(dboid);
	if (i < 0)
	{
		LWLockRelease(reg->lock);
		return NULL;
	}
	return &reg->e[i];
}

void
dbopt_registry_scheduler(Oid dboid, pid_t pid)
{
	RegistryEntry *e = locked_entry(dboid, LW_EXCLUSIVE);

	if (e == NULL)
		return;
	e->scheduler = pid;
	LWLockRelease(reg->lock);
}

bool
dbopt_registry_paused(Oid dboid)
{
	RegistryEntry *e = locked_entry(dboid, LW_SHARED);
	bool		paused;

	if (e == NULL)
		return false;
	paused = e->paused;
	LWLockRelease(reg->lock);
	return paused;
}

int
dbopt_registry_count(void)
{
	int			n;

	if (reg == NULL)
		return 0;
	LWLockAcquire(reg->lock, LW_SHARED);
	n = reg->n;
	LWLockRelease(reg->lock);
	return n;
}

/* ---------- the launcher's side ---------- */

static void
write_file(void)
{
	char		tmp[MAXPGPATH];
	FILE	   *f;
	Oid			oids[REGISTRY_MAX];
	int			n;

	LWLockAcquire(reg->lock, LW_EXCLUSIVE);
	n = reg->n;
	for (int i = 0; i < n; i++)
		oids[i] = reg->e[i].dboid;
	reg->dirty = false;
	LWLockRelease(reg->lock);

	snprintf(tmp, sizeof(tmp), "%s.tmp", REGISTRY_FILE);
	f = AllocateFile(tmp, PG_BINARY_W);
	if (f == NULL)
	{
		ereport(LOG, (errcode_for_file_access(),
					  errmsg("dbopt: could not write \"%s\": %m", tmp)));
		reg->dirty = true;
		return;
	}
	/* The timeline first: after a promotion or a point-in-time recovery the list may be stale. */
	fprintf(f, "timeline %u\n", GetWALInsertionTimeLine());
	for (int i = 0; i < n; i++)
		fprintf(f, "%u\n", oids[i]);
	if (FreeFile(f) != 0 || durable_rename(tmp, REGISTRY_FILE, LOG) != 0)
		reg->dirty = true;
}

bool
dbopt_registry_launcher_start(void)
{
	FILE	   *f;
	bool		probe = false;

	LWLockAcquire(reg->lock, LW_EXCLUSIVE);
	reg->launcher = MyLatch;
	if (!reg->loaded)
	{
		unsigned int tli = 0;

		f = AllocateFile(REGISTRY_FILE, PG_BINARY_R);
		if (f != NULL && fscanf(f, "timeline %u", &tli) == 1 && tli == GetWALInsertionTimeLine())
		{
			unsigned int oid;

			while (fscanf(f, "%u", &oid) == 1)
				add_entry((Oid) oid);
			FreeFile(f);
			reg->dirty = false;
		}
		else
		{
			/* No list yet, or one from another timeline: look once. */
			if (f != NULL)
				FreeFile(f);
			probe = true;
			reg->dirty = true;	/* write the file even if no database has dbopt */
		}
		reg->loaded = true;
	}
	LWLockRelease(reg->lock);
	return probe;
}

List *
dbopt_registry_due(void)
{
	List	   *result = NIL;

	if (reg->dirty)
		write_file();
	LWLockAcquire(reg->lock, LW_SHARED);
	for (int i = 0; i < reg->n; i++)
		if (!reg->e[i].paused)
			result = lappend_oid(result, reg->e[i].dboid);
	LWLockRelease(reg->lock);
	return result;
}

/* ---------- the hook ---------- */

/*
 * At commit the pending changes apply.  At PREPARE TRANSACTION only the
 * additions do: one too many only lets a scheduler look (it removes the
 * database again if dbopt is absent), one removal too many would stop jobs.
 */
static void
registry_xact(XactEvent event, void *arg)
{
	ListCell   *lc;
	bool		commit = (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT);

	if (commit || event == XACT_EVENT_PREPARE)
		foreach(lc, pending)
		{
			Pending    *p = lfirst(lc);

			if (commit || p->add)
				dbopt_registry_set(p->dboid, p->add);
		}
	if (commit || event == XACT_EVENT_PREPARE ||
		event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		list_free_deep(pending);
		pending = NIL;
	}
}

/* A savepoint rolled back takes its changes with it; one released hands them up. */
static void
registry_subxact(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid, void *arg)
{
	ListCell   *lc;

	foreach(lc, pending)
	{
		Pending    *p = lfirst(lc);

		if (p->subid != mySubid)
			continue;
		if (event == SUBXACT_EVENT_ABORT_SUB)
		{
			pending = foreach_delete_current(pending, lc);
			pfree(p);
		}
		else if (event == SUBXACT_EVENT_COMMIT_SUB)
			p->subid = parentSubid;
	}
}

static void
at_commit(Oid dboid, bool add)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
	Pending    *p = palloc(sizeof(Pending));

	p->dboid = dboid;
	p->add = add;
	p->subid = GetCurrentSubTransactionId();
	pending = lappend(pending, p);
	MemoryContextSwitchTo(old);
	if (!xact_callback_set)
	{
		RegisterXactCallback(registry_xact, NULL);
		RegisterSubXactCallback(registry_subxact, NULL);
		xact_callback_set = true;
	}
}

/* Pause dboid's entry and tell its scheduler to leave; false if it has none. */
static bool
pause_database(Oid dboid)
{
	RegistryEntry *e = locked_entry(dboid, LW_EXCLUSIVE);
	pid_t		pid;

	if (e == NULL)
		return false;
	e->paused = true;
	pid = e->scheduler;
	LWLockRelease(reg->lock);
	if (pid != 0)
		(void) kill(pid, SIGTERM);
	return true;
}

static void
resume_database(Oid dboid)
{
	RegistryEntry *e = locked_entry(dboid, LW_EXCLUSIVE);

	if (e != NULL)
	{
		e->paused = false;
		LWLockRelease(reg->lock);
	}
	wake_launcher();
}

static bool
listed_database(Oid dboid)
{
	if (locked_entry(dboid, LW_SHARED) == NULL)
		return false;
	LWLockRelease(reg->lock);
	return true;
}

static bool
names_dbopt(List *names)
{
	ListCell   *lc;

	foreach(lc, names)
		if (strcmp(strVal(lfirst(lc)), "dbopt") == 0)
			return true;
	return false;
}

/* The database a command needs to itself (dropped, renamed or copied), or InvalidOid. */
static Oid
needed_database(Node *stmt)
{
	if (IsA(stmt, CreatedbStmt))
	{
		ListCell   *lc;

		foreach(lc, ((CreatedbStmt *) stmt)->options)
		{
			DefElem    *d = lfirst_node(DefElem, lc);

			/* TEMPLATE DEFAULT, like no TEMPLATE, copies template1. */
			if (strcmp(d->defname, "template") == 0 && d->arg != NULL)
				return get_database_oid(defGetString(d), true);
		}
		return get_database_oid("template1", true);
	}
	if (IsA(stmt, DropdbStmt))
		return get_database_oid(((DropdbStmt *) stmt)->dbname, true);
	if (IsA(stmt, RenameStmt) && ((RenameStmt *) stmt)->renameType == OBJECT_DATABASE)
		return get_database_oid(((RenameStmt *) stmt)->subname, true);
	return InvalidOid;
}

static void
registry_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
				 ProcessUtilityContext context, ParamListInfo params,
				 QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;
	Oid			needed = reg ? needed_database(stmt) : InvalidOid;
	bool		listed = OidIsValid(needed) && listed_database(needed);
	bool		paused = false;

	/*
	 * Only the database's owner (or a superuser), outside a transaction
	 * block, may make its scheduler leave: checked here, before core's own
	 * checks, so that a command bound to fail cannot stop another role's
	 * jobs.
	 */
	if (listed && needed != MyDatabaseId && !IsTransactionBlock() &&
		dbopt_database_ownercheck(needed, GetUserId()))
		paused = pause_database(needed);

	PG_TRY();
	{
		if (prev_utility)
			prev_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		if (paused)
			resume_database(needed);
	}
	PG_END_TRY();

	if (reg == NULL)
		return;
	if (IsA(stmt, CreateExtensionStmt) && strcmp(((CreateExtensionStmt *) stmt)->extname, "dbopt") == 0)
		at_commit(MyDatabaseId, true);
	else if (IsA(stmt, AlterExtensionStmt) && strcmp(((AlterExtensionStmt *) stmt)->extname, "dbopt") == 0)
		at_commit(MyDatabaseId, true);
	else if (IsA(stmt, DropStmt) && ((DropStmt *) stmt)->removeType == OBJECT_EXTENSION &&
			 names_dbopt(((DropStmt *) stmt)->objects))
		at_commit(MyDatabaseId, false);
	else if (IsA(stmt, DropdbStmt) && listed && !OidIsValid(get_database_oid(((DropdbStmt *) stmt)->dbname, true)))
		dbopt_registry_set(needed, false);
	else if (IsA(stmt, CreatedbStmt) && listed)
	{
		Oid			created = get_database_oid(((CreatedbStmt *) stmt)->dbname, true);

		if (OidIsValid(created))
			dbopt_registry_set(created, true);
	}
}

void
dbopt_registry_init(void)
{
	prev_request = shmem_request_hook;
	shmem_request_hook = registry_request;
	prev_startup = shmem_startup_hook;
	shmem_startup_hook = registry_startup;
	prev_utility = ProcessUtility_hook;
	ProcessUtility_hook = registry_utility;
}
