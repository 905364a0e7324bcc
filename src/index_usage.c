/*-------------------------------------------------------------------------
 *
 * index_usage.c
 *	  Index analysis: dbopt.analyze_index_usage().  Foreign keys without
 *	  an index are unindexed_fk.c's.
 *
 * Everything is read from the catalogs in C (pg_index, pg_class,
 * pg_constraint, pg_statistic) rather than by regex-matching
 * pg_get_indexdef() text.  Duplicate and redundant detection builds one
 * signature per index and sorts them once: O(n log n) in the number of
 * indexes.  Sizes are read without waiting for locks, so the report never
 * queues behind DDL.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/itup.h"
#include "access/nbtree.h"
#include "access/reloptions.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/partition.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "catalog/dependency.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/nodes.h"
#include "storage/bufpage.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "dbopt/checks.h"
#include "dbopt/compat.h"
#include "dbopt/dbopt.h"
#include "dbopt/findings.h"
#include "dbopt/index_evidence.h"
#include "dbopt/index_usage_internal.h"
#include "dbopt/index_whatif.h"
#include "dbopt/integrity.h"
#include "dbopt/standbys.h"
#include "dbopt/util.h"

/* Indexes smaller than this are never called bloated: the estimate is noise there. */
#define BLOAT_MIN_BYTES		(1024 * 1024)

/* Finding codes, in the order they are reported. */
typedef enum IdxCode
{
	CODE_UNUSED,
	CODE_UNUSED_RECENT,
	CODE_DUPLICATE,
	CODE_REDUNDANT,
	CODE_INVALID,
	CODE_BLOATED,
	NUM_CODES
} IdxCode;

static const char *const code_names[NUM_CODES] = {
	"unused", "unused_recent_stats", "duplicate", "redundant", "invalid", "bloated"
};

typedef struct IdxEntry
{
	Oid			indexrelid;
	Oid			indrelid;
	char	   *extension;		/* the table belongs to this extension */
	Oid			amoid;
	char	   *schemaname;
	char	   *tablename;
	char	   *indexname;
	char	   *qualname;		/* quoted schema.index, the finding's object */
	char	   *qualtable;
	char		relkind;		/* RELKIND_INDEX or RELKIND_PARTITIONED_INDEX */
	bool		is_unique;
	bool		is_primary;
	bool		is_valid;
	bool		is_replident;
	bool		nulls_not_distinct;
	bool		attached;		/* partition of a partitioned index */
	bool		backs_constraint;
	bool		has_exprs;
	bool		has_pred;
	int			nkeys;
	char	  **keys;			/* one signature element per key column */
	int16	   *keyatts;		/* key column numbers, 0 for expressions */
	const char *serves_fk;		/* sole index covering this FK, or NULL */
	char	   *incl;			/* INCLUDE columns, "" if none */
	char	   *pred;			/* predicate without parse locations, "" if none */
	int64		size;			/* -1 unknown */
	int64		table_size;
	int64		scans;
	int64		tup_read;
	int64		tup_fetched;
	int64		bloat;			/* -1: no trustworthy estimate */
	bool		code[NUM_CODES];
	const char *note[NUM_CODES];	/* suppression note when shown anyway */
	const char *twin;			/* kept duplicate or covering index (qualname) */
	int64		dup_keys;		/* invalid unique: duplicated keys, -1 unknown */
	Oid			twin_oid;
	struct IdxEntry *covering;	/* redundant: the entry that covers it (until sorted) */
	bool		idle_long;		/* idle past min_stats_age, but scans seen before */
	Oid			twin_parent;	/* the kept twin is attached to this partitioned index */
	DboptEvidence ev;			/* partitioned: leaves summed, idle the shortest */
	int64		standby_scans;	/* -1: no standby registered */
	const char *confidence;		/* for unused, duplicate, redundant */
	char	   *conf_reasons;
	/* the what-if check: plans of pg_stat_statements' statements without it */
	bool		wi_done;
	bool		wi_available;
	int			wi_statements;	/* on its table */
	int			wi_using;		/* planned with it */
	int			wi_keeper;		/* of those, planned with the twin without it */
	int			wi_worse;		/* of those, costing over 10% more without it */
	int			wi_failed;		/* of those, that failed to plan without it */
	int			wi_unplanned;	/* statements naming its table that could not be planned */
	double		wi_max_ratio;
} IdxEntry;

/* Standbys as analyze_index_usage() sees them. */
typedef struct StandbyInfo
{
	int			registered;
	int			read;			/* registered and read */
	int			unregistered;	/* streaming from here, not registered */
	char	   *problem;		/* the first one, for the reasons */
	TimestampTz latest_epoch;	/* of the standbys read: their statistics start */
	TimestampTz now;
} StandbyInfo;

/* What every index's evidence is measured against. */
typedef struct EvidenceCtx
{
	HTAB	   *obs;			/* dbopt.index_observations, NULL if unreadable */
	TimestampTz latest;			/* the last snapshot that fed it */
	TimestampTz epoch;
	const char *source;
	TimestampTz now;
} EvidenceCtx;

/* ---------- small helpers ---------- */

static char *human_age(int64 usecs);

static bool
oid_in(const Oid *arr, int n, Oid key)
{
	return n > 0 && bsearch(&key, arr, n, sizeof(Oid), oid_cmp) != NULL;
}

/*
 * Node strings carry parse locations, which differ between two otherwise
 * identical CREATE INDEX statements; drop them so the text compares equal.
 */
static char *
strip_locations(const char *s)
{
	StringInfoData buf;
	const char *p = s;

	initStringInfo(&buf);
	while (*p)
	{
		if (strncmp(p, ":location ", 10) == 0)
		{
			p += 10;
			if (*p == '-')
				p++;
			while (*p >= '0' && *p <= '9')
				p++;
			continue;
		}
		appendStringInfoChar(&buf, *p++);
	}
	return buf.data;
}

/* A foreign key's referencing side, for "this index serves a foreign key". */
typedef struct FkRef
{
	Oid			conrelid;
	char	   *name;
	int			ncols;
	int16	   *cols;
	int			covers;			/* valid indexes whose leading keys are cols */
} FkRef;

static int
fkref_cmp(const void *a, const void *b)
{
	Oid			x = ((const FkRef *) a)->conrelid;
	Oid			y = ((const FkRef *) b)->conrelid;

	return (x > y) - (x < y);
}

/*
 * One pass over pg_constraint: sorted OIDs of indexes that back a primary
 * key, unique or exclusion constraint, and the foreign keys sorted by
 * referencing table.
 */
static Oid *
constraint_index_oids(int *n, FkRef **fks, int *nfks)
{
	Relation	rel = table_open(ConstraintRelationId, AccessShareLock);
	SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	HeapTuple	tup;
	int			cap = 64,
				fkcap = 64;
	Oid		   *arr = palloc(sizeof(Oid) * cap);

	*n = 0;
	*nfks = 0;
	*fks = palloc(sizeof(FkRef) * fkcap);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);

		CHECK_FOR_INTERRUPTS();
		if (con->contype == CONSTRAINT_FOREIGN)
		{
			bool		isnull;
			Datum		d = heap_getattr(tup, Anum_pg_constraint_conkey,
										 RelationGetDescr(rel), &isnull);
			ArrayType  *a;
			FkRef	   *fk;

			if (isnull)
				continue;
			a = DatumGetArrayTypePCopy(d);
			if (*nfks == fkcap)
				*fks = repalloc(*fks, sizeof(FkRef) * (fkcap *= 2));
			fk = &(*fks)[(*nfks)++];
			fk->conrelid = con->conrelid;
			fk->name = pstrdup(NameStr(con->conname));
			fk->ncols = ARR_DIMS(a)[0];
			fk->cols = (int16 *) ARR_DATA_PTR(a);
			fk->covers = 0;
			continue;
		}

		if ((con->contype == CONSTRAINT_PRIMARY || con->contype == CONSTRAINT_UNIQUE ||
			 con->contype == CONSTRAINT_EXCLUSION) && OidIsValid(con->conindid))
		{
			if (*n == cap)
				arr = repalloc(arr, sizeof(Oid) * (cap *= 2));
			arr[(*n)++] = con->conindid;
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	qsort(arr, *n, sizeof(Oid), oid_cmp);
	qsort(*fks, *nfks, sizeof(FkRef), fkref_cmp);
	return arr;
}

/* Range [*lo, *hi) of fks on table relid. */
static void
fks_of_table(FkRef *fks, int nfks, Oid relid, int *lo, int *hi)
{
	int			l = 0,
				h = nfks;

	while (l < h)
	{
		int			mid = l + (h - l) / 2;

		if (fks[mid].conrelid < relid)
			l = mid + 1;
		else
			h = mid;
	}
	*lo = l;
	while (l < nfks && fks[l].conrelid == relid)
		l++;
	*hi = l;
}

/*
 * Mark indexes that are the only valid cover of a foreign key: they have no
 * scans until rows of the referenced table are deleted, and dropping them
 * would create an unindexed foreign key.
 */
static void
mark_fk_covers(IdxEntry *arr, int n, FkRef *fks, int nfks)
{
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < n; i++)
		{
			IdxEntry   *e = &arr[i];
			int			lo,
						hi;

			CHECK_FOR_INTERRUPTS();
			/* Indexes about to be dropped as duplicate or redundant do not count. */
			if (!e->is_valid || e->has_pred || e->attached ||
				e->code[CODE_DUPLICATE] || e->code[CODE_REDUNDANT])
				continue;
			fks_of_table(fks, nfks, e->indrelid, &lo, &hi);
			for (int k = lo; k < hi; k++)
				if (dbopt_iu_leading_keys_are(e->keyatts, e->nkeys, fks[k].cols, fks[k].ncols))
				{
					if (pass == 0)
						fks[k].covers++;
					else if (fks[k].covers == 1)
						e->serves_fk = fks[k].name;
				}
		}
}

/*
 * Sorted OIDs of tables on which CREATE INDEX CONCURRENTLY or REINDEX
 * CONCURRENTLY is running now: their invalid indexes may be in the making.
 */
static Oid *
tables_building_indexes(int *n)
{
	Oid		   *arr;

	*n = 0;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT DISTINCT relid FROM pg_catalog.pg_stat_progress_create_index"
					" WHERE command IN ('CREATE INDEX CONCURRENTLY', 'REINDEX CONCURRENTLY')",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read pg_stat_progress_create_index");
	arr = SPI_palloc(sizeof(Oid) * Max(SPI_processed, 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			arr[(*n)++] = DatumGetObjectId(d);
	}
	SPI_finish();
	qsort(arr, *n, sizeof(Oid), oid_cmp);
	return arr;
}

static int64
stat_counter(PGFunction fn, Oid relid)
{
	return DatumGetInt64(DirectFunctionCall1(fn, ObjectIdGetDatum(relid)));
}

/* Usage counters; a partitioned index sums its leaf partitions. */
static void
index_counters(IdxEntry *e, const EvidenceCtx *cx)
{
	List	   *rels;
	ListCell   *lc;
	bool		first = true;

	e->scans = e->tup_read = e->tup_fetched = 0;
	memset(&e->ev, 0, sizeof(e->ev));
	rels = (e->relkind == RELKIND_PARTITIONED_INDEX)
		? find_all_inheritors(e->indexrelid, NoLock, NULL)
		: list_make1_oid(e->indexrelid);
	foreach(lc, rels)
	{
		Oid			relid = lfirst_oid(lc);
		int64		live;
		DboptEvidence ev;

		CHECK_FOR_INTERRUPTS();
		if (e->relkind != RELKIND_INDEX && get_rel_relkind(relid) != RELKIND_INDEX)
			continue;
		live = stat_counter(pg_stat_get_numscans, relid);
		e->scans += live;
		dbopt_index_evidence(cx->obs, cx->latest, relid, live, cx->epoch, cx->now, &ev);
		/* A partitioned index is idle as long as its busiest leaf. */
		e->ev.scans += ev.scans;
		e->ev.history |= ev.history;
		e->ev.resets = Max(e->ev.resets, ev.resets);
		if (ev.idle < 0 || (!first && e->ev.idle < 0))
			e->ev.idle = -1;
		else
			e->ev.idle = first ? ev.idle : Min(e->ev.idle, ev.idle);
		e->ev.since = first ? ev.since : Max(e->ev.since, ev.since);
		e->ev.birth_known = first ? ev.birth_known : (e->ev.birth_known && ev.birth_known);
		first = false;
		e->tup_read += stat_counter(pg_stat_get_tuples_returned, relid);
		e->tup_fetched += stat_counter(pg_stat_get_tuples_fetched, relid);
	}
	if (first)
	{
		/* no leaf yet: observed since the epoch, never scanned */
		e->ev.idle = Max(cx->now - cx->epoch, 0);
		e->ev.since = cx->epoch;
	}
	list_free(rels);
}

/* The btree leaf fill factor from the index's reloptions. */
static int
btree_fillfactor(Oid indexrelid, bool has_options)
{
	HeapTuple	tup;
	int			ff = BTREE_DEFAULT_FILLFACTOR;
	bool		isnull;
	Datum		opts;

	if (!has_options)
		return ff;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(indexrelid));
	if (!HeapTupleIsValid(tup))
		return ff;
	opts = SysCacheGetAttr(RELOID, tup, Anum_pg_class_reloptions, &isnull);
	if (!isnull)
	{
		ListCell   *lc;

		foreach(lc, untransformRelOptions(opts))
		{
			DefElem    *def = (DefElem *) lfirst(lc);

			if (strcmp(def->defname, "fillfactor") == 0)
				ff = pg_strtoint32(defGetString(def));
		}
	}
	ReleaseSysCache(tup);
	return ff;
}

/*
 * Statistical btree bloat estimate: the expected size of a freshly built
 * index holding reltuples entries of the columns' average widths, against
 * the actual size.  -1 (NULL to the user) where it cannot be trusted:
 * non-btree, expressions, predicates, missing column statistics, or a
 * table never analyzed.  Deduplication can make the real index smaller
 * than expected; that clamps to zero bloat, never to a false alarm.
 */
static int64
estimate_btree_bloat(IdxEntry *e, const int16 *attnums, int natts, double reltuples,
					 bool has_options)
{
	double		data = 0;
	bool		anynull = false;
	double		hdr,
				tuple,
				usable,
				per_leaf,
				per_upper,
				leaf,
				level,
				pages;
	int64		expected;

	if (e->amoid != BTREE_AM_OID || e->has_exprs || e->has_pred ||
		e->relkind != RELKIND_INDEX || e->size <= 0 || reltuples < 0)
		return -1;

	for (int i = 0; i < natts; i++)
	{
		HeapTuple	st = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(e->indrelid),
										 Int16GetDatum(attnums[i]), BoolGetDatum(false));
		Form_pg_statistic s;
		int16		typlen;
		bool		byval;
		char		align;

		if (!HeapTupleIsValid(st))
			return -1;
		s = (Form_pg_statistic) GETSTRUCT(st);
		get_typlenbyvalalign(get_atttype(e->indrelid, attnums[i]), &typlen, &byval, &align);
		data += (typlen > 0 ? typlen : s->stawidth) * (1.0 - s->stanullfrac);
		if (s->stanullfrac > 0)
			anynull = true;
		ReleaseSysCache(st);
	}

	hdr = anynull ? MAXALIGN(sizeof(IndexTupleData) + sizeof(IndexAttributeBitMapData))
		: sizeof(IndexTupleData);
	tuple = MAXALIGN((Size) ceil(hdr + data)) + sizeof(ItemIdData);
	usable = BLCKSZ - SizeOfPageHeaderData - MAXALIGN(sizeof(BTPageOpaqueData));
	per_leaf = Max(1.0, floor(usable * btree_fillfactor(e->indexrelid, has_options) / 100.0 / tuple));
	per_upper = Max(2.0, floor(usable * BTREE_NONLEAF_FILLFACTOR / 100.0 / tuple));

	leaf = Max(1.0, ceil(reltuples / per_leaf));
	pages = 1 + leaf;			/* metapage + leaves */
	for (level = leaf; level > 1;)
	{
		level = ceil(level / per_upper);
		pages += level;
	}
	expected = (int64) pages * BLCKSZ;
	return Max((int64) 0, e->size - expected);
}

/* ---------- collecting ---------- */

typedef struct TableSizeEnt
{
	Oid			relid;
	int64		size;
} TableSizeEnt;

static int64
table_size_cached(HTAB *cache, Oid relid, char relkind)
{
	bool		found;
	TableSizeEnt *ent = hash_search(cache, &relid, HASH_ENTER, &found);

	if (!found)
		ent->size = dbopt_relation_size_nowait_relkind(relid, relkind);
	return ent->size;
}

/*
 * Build the signature of one index from its pg_index row.  Working memory
 * goes to tmpcxt, which the caller resets per index; what the entry keeps
 * is copied into keepcxt.
 */
static void
index_signature(IdxEntry *e, HeapTuple idxtup, TupleDesc desc,
				MemoryContext keepcxt, MemoryContext tmpcxt)
{
	Form_pg_index idx = (Form_pg_index) GETSTRUCT(idxtup);
	MemoryContext old = MemoryContextSwitchTo(tmpcxt);
	bool		isnull;
	Datum		d;
	oidvector  *indclass,
			   *indcoll;
	int2vector *indoption;
	List	   *exprs = NIL;
	ListCell   *next_expr;
	StringInfoData incl;
	char	   *pred = "";

	d = heap_getattr(idxtup, Anum_pg_index_indclass, desc, &isnull);
	indclass = (oidvector *) DatumGetPointer(d);
	d = heap_getattr(idxtup, Anum_pg_index_indcollation, desc, &isnull);
	indcoll = (oidvector *) DatumGetPointer(d);
	d = heap_getattr(idxtup, Anum_pg_index_indoption, desc, &isnull);
	indoption = (int2vector *) DatumGetPointer(d);

	d = heap_getattr(idxtup, Anum_pg_index_indexprs, desc, &isnull);
	if (!isnull)
		exprs = (List *) stringToNode(TextDatumGetCString(d));
	d = heap_getattr(idxtup, Anum_pg_index_indpred, desc, &isnull);
	if (!isnull)
		pred = strip_locations(TextDatumGetCString(d));

	e->has_exprs = (exprs != NIL);
	e->has_pred = (pred[0] != '\0');
	e->nkeys = idx->indnkeyatts;
	e->keys = MemoryContextAlloc(keepcxt, sizeof(char *) * Max(e->nkeys, 1));
	e->keyatts = MemoryContextAlloc(keepcxt, sizeof(int16) * Max(e->nkeys, 1));
	for (int i = 0; i < e->nkeys; i++)
		e->keyatts[i] = idx->indkey.values[i];
	initStringInfo(&incl);
	next_expr = list_head(exprs);

	for (int i = 0; i < idx->indnatts; i++)
	{
		AttrNumber	attnum = idx->indkey.values[i];
		char	   *col;

		if (attnum != 0)
			col = psprintf("c%d", attnum);
		else
		{
			if (next_expr == NULL)
				elog(ERROR, "index %u has too few expressions", e->indexrelid);
			col = psprintf("e%s", strip_locations(nodeToString(lfirst(next_expr))));
			next_expr = lnext(exprs, next_expr);
		}
		if (i < idx->indnkeyatts)
			e->keys[i] = MemoryContextStrdup(keepcxt,
											 psprintf("%s/%u/%u/%d", col,
													  indclass->values[i],
													  indcoll->values[i],
													  indoption->values[i]));
		else
			appendStringInfo(&incl, "%s,", col);
	}
	e->incl = MemoryContextStrdup(keepcxt, incl.data);
	e->pred = MemoryContextStrdup(keepcxt, pred);
	MemoryContextSwitchTo(old);
}

/*
 * The tables that belong to an extension (dbopt's own, pg_partman's, ...),
 * with the extension's OID: one scan of pg_depend's reference index.
 */
static HTAB *
extension_tables(void)
{
	Relation	rel = table_open(DependRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	HASHCTL		ctl;
	HTAB	   *result;

	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(Oid) * 2;
	ctl.hcxt = CurrentMemoryContext;
	result = hash_create("dbopt extension tables", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	ScanKeyInit(&key, Anum_pg_depend_refclassid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(ExtensionRelationId));
	scan = systable_beginscan(rel, DependReferenceIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);
		Oid		   *ent;

		if (dep->deptype != DEPENDENCY_EXTENSION || dep->classid != RelationRelationId)
			continue;
		ent = hash_search(result, &dep->objid, HASH_ENTER, NULL);
		ent[1] = dep->refobjid;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return result;
}

/* What the report reads of one table or index, from one pass over pg_class. */
typedef struct ClassEnt
{
	Oid			oid;			/* hash key */
	char		relkind;
	bool		relispartition;
	bool		has_options;	/* reloptions is not null */
	Oid			relam;
	float4		reltuples;
	const char *nspname;		/* shared by the namespace's relations */
	NameData	relname;
} ClassEnt;

typedef struct NspEnt
{
	Oid			oid;			/* hash key */
	const char *name;			/* NULL: not a user namespace */
} NspEnt;

/*
 * Tables, materialized views and indexes in user namespaces (only
 * nspfilter's if valid), keyed by OID: one heap scan of pg_class instead of
 * a syscache lookup per index and per table, which on a cold cache is an
 * index probe each and cost more than the rest of the collection at 100,000
 * indexes.  Each namespace is judged once.
 */
static HTAB *
class_map(Oid nspfilter)
{
	Relation	rel = table_open(RelationRelationId, AccessShareLock);
	SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	HeapTuple	tup;
	HASHCTL		ctl;
	HTAB	   *map,
			   *nsps;

	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(ClassEnt);
	ctl.hcxt = CurrentMemoryContext;
	map = hash_create("dbopt classes", 1024, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	ctl.entrysize = sizeof(NspEnt);
	nsps = hash_create("dbopt namespaces", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_class c = (Form_pg_class) GETSTRUCT(tup);
		NspEnt	   *ns;
		ClassEnt   *ent;
		bool		found;

		CHECK_FOR_INTERRUPTS();
		if (c->relkind != RELKIND_RELATION && c->relkind != RELKIND_PARTITIONED_TABLE &&
			c->relkind != RELKIND_MATVIEW && c->relkind != RELKIND_INDEX &&
			c->relkind != RELKIND_PARTITIONED_INDEX)
			continue;
		if (OidIsValid(nspfilter) && c->relnamespace != nspfilter)
			continue;
		ns = hash_search(nsps, &c->relnamespace, HASH_ENTER, &found);
		if (!found)
			ns->name = dbopt_is_user_namespace(c->relnamespace)
				? get_namespace_name(c->relnamespace) : NULL;
		if (ns->name == NULL)
			continue;
		ent = hash_search(map, &c->oid, HASH_ENTER, NULL);
		ent->relkind = c->relkind;
		ent->relispartition = c->relispartition;
		ent->has_options = !heap_attisnull(tup, Anum_pg_class_reloptions, RelationGetDescr(rel));
		ent->relam = c->relam;
		ent->reltuples = c->reltuples;
		ent->nspname = ns->name;
		ent->relname = c->relname;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	hash_destroy(nsps);
	return map;
}

static IdxEntry *
collect_indexes(Oid nspfilter, bool include_ext, const EvidenceCtx *cx,
				int *nentries, FkRef **fks_out, int *nfks_out)
{
	Relation	rel = table_open(IndexRelationId, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	HeapTuple	tup;
	MemoryContext keepcxt = CurrentMemoryContext;
	MemoryContext tmpcxt = AllocSetContextCreate(CurrentMemoryContext,
												 "dbopt index item",
												 ALLOCSET_DEFAULT_SIZES);
	int			ncon,
				nfks;
	FkRef	   *fks;
	Oid		   *con = constraint_index_oids(&ncon, &fks, &nfks);
	HASHCTL		ctl;
	HTAB	   *sizes;
	int			cap = 256,
				n = 0;
	IdxEntry   *arr = palloc0(sizeof(IdxEntry) * cap);
	HTAB	   *ext_tables = extension_tables();
	HTAB	   *classes = class_map(nspfilter);

	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(TableSizeEnt);
	ctl.hcxt = CurrentMemoryContext;
	sizes = hash_create("dbopt table sizes", 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_index idx = (Form_pg_index) GETSTRUCT(tup);
		ClassEnt   *irel,
				   *tbl;
		IdxEntry   *e;
		Oid		   *ext;

		CHECK_FOR_INTERRUPTS();
		/* Absent: not in a user namespace (or not nspfilter's), or dropped. */
		tbl = hash_search(classes, &idx->indrelid, HASH_FIND, NULL);
		if (tbl == NULL)
			continue;
		if (tbl->relkind != RELKIND_RELATION && tbl->relkind != RELKIND_PARTITIONED_TABLE &&
			tbl->relkind != RELKIND_MATVIEW)
			continue;
		ext = hash_search(ext_tables, &idx->indrelid, HASH_FIND, NULL);
		if (ext != NULL && !include_ext)
			continue;			/* an extension's internals are not advice */
		irel = hash_search(classes, &idx->indexrelid, HASH_FIND, NULL);
		if (irel == NULL)
			continue;			/* dropped meanwhile */

		if (n == cap)
		{
			arr = repalloc(arr, sizeof(IdxEntry) * (cap *= 2));
			memset(arr + n, 0, sizeof(IdxEntry) * (cap - n));
		}
		e = &arr[n++];
		e->indexrelid = idx->indexrelid;
		e->indrelid = idx->indrelid;
		e->extension = ext ? get_extension_name(ext[1]) : NULL;
		e->amoid = irel->relam;
		e->relkind = irel->relkind;
		e->attached = irel->relispartition;
		e->indexname = pstrdup(NameStr(irel->relname));
		e->schemaname = pstrdup(tbl->nspname);
		e->tablename = pstrdup(NameStr(tbl->relname));
		e->qualname = quote_qualified_identifier(e->schemaname, e->indexname);
		e->qualtable = quote_qualified_identifier(e->schemaname, e->tablename);
		e->is_unique = idx->indisunique;
		e->is_primary = idx->indisprimary;
		e->is_valid = idx->indisvalid;
		e->is_replident = idx->indisreplident;
		e->nulls_not_distinct = idx->indnullsnotdistinct;
		e->backs_constraint = oid_in(con, ncon, idx->indexrelid);
		e->standby_scans = -1;

		index_signature(e, tup, desc, keepcxt, tmpcxt);

		/* Only scalars are kept from here on: work in the per-item context. */
		MemoryContextSwitchTo(tmpcxt);
		e->size = dbopt_relation_size_nowait_relkind(e->indexrelid, e->relkind);
		e->table_size = table_size_cached(sizes, e->indrelid, tbl->relkind);
		index_counters(e, cx);

		e->bloat = estimate_btree_bloat(e, idx->indkey.values, idx->indnatts,
										tbl->reltuples, irel->has_options);
		MemoryContextSwitchTo(keepcxt);
		MemoryContextReset(tmpcxt);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	MemoryContextDelete(tmpcxt);
	hash_destroy(classes);
	*nentries = n;
	*fks_out = fks;
	*nfks_out = nfks;
	return arr;
}

/* ---------- duplicate and redundant detection ---------- */

/* Group order: table, access method, predicate; then keys, INCLUDE, null treatment. */
static int
group_cmp(const IdxEntry *a, const IdxEntry *b)
{
	int			c;

	if (a->indrelid != b->indrelid)
		return a->indrelid < b->indrelid ? -1 : 1;
	if (a->amoid != b->amoid)
		return a->amoid < b->amoid ? -1 : 1;
	c = strcmp(a->pred, b->pred);
	return c;
}

static int
keys_cmp(const IdxEntry *a, const IdxEntry *b)
{
	int			n = Min(a->nkeys, b->nkeys);

	for (int i = 0; i < n; i++)
	{
		int			c = strcmp(a->keys[i], b->keys[i]);

		if (c != 0)
			return c;
	}
	return (a->nkeys > b->nkeys) - (a->nkeys < b->nkeys);
}

static bool
same_definition(const IdxEntry *a, const IdxEntry *b)
{
	return group_cmp(a, b) == 0 && keys_cmp(a, b) == 0 &&
		strcmp(a->incl, b->incl) == 0 &&
		a->nulls_not_distinct == b->nulls_not_distinct;
}

static int
signature_qsort_cmp(const void *pa, const void *pb)
{
	const IdxEntry *a = *(IdxEntry *const *) pa;
	const IdxEntry *b = *(IdxEntry *const *) pb;
	int			c;

	if ((c = group_cmp(a, b)) != 0)
		return c;
	if ((c = keys_cmp(a, b)) != 0)
		return c;
	if ((c = strcmp(a->incl, b->incl)) != 0)
		return c;
	if (a->nulls_not_distinct != b->nulls_not_distinct)
		return a->nulls_not_distinct ? 1 : -1;
	return (a->indexrelid > b->indexrelid) - (a->indexrelid < b->indexrelid);
}

/*
 * Which of two identical indexes to keep: the one backing a constraint,
 * then a unique one, then one attached to a partitioned index (it cannot
 * be dropped alone), then the replica identity, then the one scanned more,
 * then the smaller, then the older (lower OID).
 */
static bool
better_keeper(const IdxEntry *a, const IdxEntry *b)
{
	if (a->is_primary != b->is_primary)
		return a->is_primary;
	if (a->backs_constraint != b->backs_constraint)
		return a->backs_constraint;
	if (a->is_unique != b->is_unique)
		return a->is_unique;
	if (a->attached != b->attached)
		return a->attached;
	if (a->is_replident != b->is_replident)
		return a->is_replident;
	/* the one the workload uses, so that dropping the other changes no plan */
	if (a->ev.scans + Max(a->standby_scans, 0) != b->ev.scans + Max(b->standby_scans, 0))
		return a->ev.scans + Max(a->standby_scans, 0) > b->ev.scans + Max(b->standby_scans, 0);
	if (a->size != b->size)
		return a->size < b->size;
	return a->indexrelid < b->indexrelid;
}

static bool
keys_prefix_of(const IdxEntry *a, const IdxEntry *b)
{
	if (a->nkeys > b->nkeys)
		return false;
	for (int i = 0; i < a->nkeys; i++)
		if (strcmp(a->keys[i], b->keys[i]) != 0)
			return false;
	return true;
}

static void
find_duplicates_and_redundant(IdxEntry *arr, int n)
{
	IdxEntry  **sorted = palloc(sizeof(IdxEntry *) * Max(n, 1));
	int			m = 0;

	/*
	 * Attached partition indexes take part as twins (a partition's own
	 * index can duplicate one its partitioned index gave it) but are never
	 * the one to drop: they go only with their partitioned index, which is
	 * compared on the parent.  Invalid ones are reported as such.
	 */
	for (int i = 0; i < n; i++)
		if (arr[i].is_valid)
			sorted[m++] = &arr[i];
	qsort(sorted, m, sizeof(IdxEntry *), signature_qsort_cmp);

	for (int i = 0; i < m;)
	{
		int			j = i + 1;
		IdxEntry   *keep = sorted[i];

		CHECK_FOR_INTERRUPTS();
		while (j < m && same_definition(sorted[i], sorted[j]))
		{
			if (better_keeper(sorted[j], keep))
				keep = sorted[j];
			j++;
		}
		for (int k = i; k < j; k++)
		{
			IdxEntry   *a = sorted[k];

			if (a->attached)
				continue;
			if (a != keep)
			{
				a->code[CODE_DUPLICATE] = true;
				a->twin = keep->qualname;
				a->twin_oid = keep->indexrelid;
				if (keep->attached)
					a->twin_parent = get_partition_parent(keep->indexrelid, true);
			}
			/*
			 * Redundant: a plain non-unique btree whose keys lead the next
			 * different definition in the same (table, am, predicate) group.
			 * Sorting puts every index it is a prefix of right after it.
			 */
			else if (j < m && a->amoid == BTREE_AM_OID && !a->is_unique &&
					 !a->backs_constraint && !a->is_replident &&
					 a->incl[0] == '\0' && group_cmp(a, sorted[j]) == 0 &&
					 keys_prefix_of(a, sorted[j]))
			{
				a->code[CODE_REDUNDANT] = true;
				a->twin = sorted[j]->qualname;
				a->twin_oid = sorted[j]->indexrelid;
				a->covering = sorted[j];
				if (sorted[j]->attached)
					a->twin_parent = get_partition_parent(sorted[j]->indexrelid, true);
			}
		}
		i = j;
	}
	pfree(sorted);
}

/* ---------- analyze_index_usage ---------- */

/* First standby that could not be read, or walsender not registered: said where it matters. */
static const char *standby_problem;


typedef struct EntryRef
{
	Oid			oid;			/* hash key */
	IdxEntry   *e;
} EntryRef;

static HTAB *
entries_by_oid(IdxEntry *arr, int n)
{
	HASHCTL		ctl;
	HTAB	   *h;

	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(EntryRef);
	ctl.hcxt = CurrentMemoryContext;
	h = hash_create("dbopt index entries", Max(n, 16), &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	for (int i = 0; i < n; i++)
		((EntryRef *) hash_search(h, &arr[i].indexrelid, HASH_ENTER, NULL))->e = &arr[i];
	return h;
}

static IdxEntry *
entry_of(HTAB *byoid, Oid oid)
{
	EntryRef   *r = hash_search(byoid, &oid, HASH_FIND, NULL);

	return r ? r->e : NULL;
}

static void
classify(IdxEntry *arr, int n, int64 min_age, FkRef *fks, int nfks)
{
	int			nbuilding = -1;
	Oid		   *building = NULL;
	HTAB	   *byoid = NULL;
	double		bloat_threshold = dbopt_check_threshold_of("bloated", "analyze_index_usage");

	find_duplicates_and_redundant(arr, n);
	mark_fk_covers(arr, n, fks, nfks);

	for (int i = 0; i < n; i++)
	{
		IdxEntry   *e = &arr[i];

		CHECK_FOR_INTERRUPTS();
		if (!e->is_valid)
		{
			if (nbuilding < 0)
				building = tables_building_indexes(&nbuilding);
			if (!oid_in(building, nbuilding, e->indrelid))
				e->code[CODE_INVALID] = true;
			continue;
		}
		/*
		 * Unused: no scan seen here or on a standby, over at least
		 * min_stats_age of observation.  A scan that dbopt's snapshots saw
		 * before a reset or a crash still counts, until purge_snapshots()
		 * lets it go with the snapshots of its time.
		 */
		if (e->ev.scans == 0 && e->standby_scans <= 0 && !e->attached && !e->backs_constraint &&
			!e->is_unique && !e->is_replident && e->serves_fk == NULL)
			e->code[e->ev.idle >= min_age ? CODE_UNUSED : CODE_UNUSED_RECENT] = true;
		else if (e->ev.scans > 0 && e->ev.idle >= min_age && e->standby_scans <= 0 &&
				 !e->is_unique && !e->backs_constraint && !e->attached)
			e->idle_long = true;
		if (e->bloat >= 0 && e->size >= BLOAT_MIN_BYTES &&
			e->bloat * 100.0 / e->size > bloat_threshold)
			e->code[CODE_BLOATED] = true;
	}

	/*
	 * A redundant index whose covering index is itself unused: following
	 * both verdicts would drop every index serving its lookups.  The
	 * covering one goes (it is unused); this one stays.
	 */
	for (int i = 0; i < n; i++)
		if (arr[i].code[CODE_REDUNDANT] && arr[i].covering->code[CODE_UNUSED] &&
			!arr[i].code[CODE_UNUSED])
			arr[i].code[CODE_REDUNDANT] = false;

	/*
	 * The same when the kept twin or covering index is a partition's share
	 * of a partitioned index that is unused (or not in this report): its
	 * DROP INDEX takes the twin with it.
	 */
	for (int i = 0; i < n; i++)
	{
		IdxEntry   *e = &arr[i];
		List	   *ancestors;
		IdxEntry   *top;

		if (!OidIsValid(e->twin_parent) || (!e->code[CODE_DUPLICATE] && !e->code[CODE_REDUNDANT]))
			continue;
		if (byoid == NULL)
			byoid = entries_by_oid(arr, n);
		ancestors = get_partition_ancestors(e->twin_oid);
		top = ancestors ? entry_of(byoid, llast_oid(ancestors)) : NULL;
		if (top == NULL || top->code[CODE_UNUSED])
			e->code[CODE_DUPLICATE] = e->code[CODE_REDUNDANT] = false;
	}
}

static Interval *
usecs_interval(int64 usecs)
{
	Interval   *iv = palloc0(sizeof(Interval));

	iv->day = usecs / USECS_PER_DAY;
	iv->time = usecs % USECS_PER_DAY;
	return iv;
}

/* Drop advice, whose plans the what-if check looks at. */
static bool
to_drop(const IdxEntry *e)
{
	return e->extension == NULL &&
		(e->code[CODE_UNUSED] || e->code[CODE_DUPLICATE] || e->code[CODE_REDUNDANT]);
}

/*
 * The what-if check behind the confidence: the pg_stat_statements
 * statements on the tables of the indexes about to be called droppable
 * are planned once; those whose plan scans such an index are planned again
 * without it, to see whether they fall back on the kept twin, and at what
 * cost.  Statements on other tables are parsed, never planned.
 */
typedef struct WordCount
{
	char		word[NAMEDATALEN];	/* hash key */
	int			count;
} WordCount;

static const char *
word_key(const char *word)
{
	static char key[NAMEDATALEN];

	memset(key, 0, sizeof(key));
	strlcpy(key, word, sizeof(key));
	return key;
}

/*
 * The words of the statements that could not be planned (a dropped table,
 * a temporary one, a syntax pg_stat_statements mangled), lower-cased, each
 * with how many such statements contain it: whether one of them may name a
 * table is then one lookup.  NULL when all planned.
 */
static HTAB *
unplanned_words(DboptWorkload *w)
{
	HASHCTL		ctl;
	HTAB	   *h = NULL;

	for (int i = 0; i < w->nstmts; i++)
	{
		const char *c = w->stmts[i].query;
		HTAB	   *seen;

		if (w->stmts[i].status != DBOPT_STMT_ERROR || c == NULL)
			continue;
		if (h == NULL)
		{
			ctl.keysize = NAMEDATALEN;
			ctl.entrysize = sizeof(WordCount);
			ctl.hcxt = CurrentMemoryContext;
			h = hash_create("dbopt unplanned words", 256, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
		}
		seen = hash_create("dbopt statement words", 64, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
		while (*c)
		{
			char		word[NAMEDATALEN];
			int			len = 0;
			bool		found;

			CHECK_FOR_INTERRUPTS();
			if (!(isalnum((unsigned char) *c) || *c == '_' || IS_HIGHBIT_SET(*c)))
			{
				c++;
				continue;
			}
			while (isalnum((unsigned char) *c) || *c == '_' || IS_HIGHBIT_SET(*c))
			{
				if (len < NAMEDATALEN - 1)
					word[len++] = pg_ascii_tolower((unsigned char) *c);
				c++;
			}
			word[len] = '\0';
			(void) hash_search(seen, word_key(word), HASH_ENTER, &found);
			if (!found)
			{
				WordCount  *wc = hash_search(h, word_key(word), HASH_ENTER, &found);

				wc->count = found ? wc->count + 1 : 1;
			}
		}
		hash_destroy(seen);
	}
	return h;
}

static void
whatif(IdxEntry *arr, int n)
{
	List	   *rels = NIL;
	DboptWorkload *w;
	HTAB	   *unplanned;
	MemoryContext itemcxt;

	for (int i = 0; i < n; i++)
	{
		ListCell   *lc;

		if (!to_drop(&arr[i]))
			continue;
		rels = lappend_oid(rels, arr[i].indrelid);
		/* a statement reaches a partition's index through its parents too */
		if (get_rel_relispartition(arr[i].indrelid))
			foreach(lc, get_partition_ancestors(arr[i].indrelid))
				rels = lappend_oid(rels, lfirst_oid(lc));
	}
	if (rels == NIL)
		return;
	w = dbopt_workload_load_for(1, rels);
	unplanned = unplanned_words(w);
	itemcxt = AllocSetContextCreate(CurrentMemoryContext, "dbopt what-if item", ALLOCSET_DEFAULT_SIZES);
	for (int i = 0; i < n; i++)
	{
		IdxEntry   *e = &arr[i];
		DboptWhatif wi;
		WordCount  *wc;
		char	   *lower;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		if (!to_drop(e))
			continue;
		/* lists and plans made for one index are of no use to the next */
		old = MemoryContextSwitchTo(itemcxt);
		dbopt_whatif_index(w, e->indexrelid, e->twin_oid, &wi);
		MemoryContextSwitchTo(old);
		MemoryContextReset(itemcxt);
		e->wi_done = true;
		e->wi_available = wi.available;
		e->wi_statements = wi.nstatements;
		e->wi_using = wi.nusing;
		e->wi_keeper = wi.nkeeper;
		e->wi_worse = wi.nworse;
		e->wi_failed = wi.nfailed;
		e->wi_max_ratio = wi.max_ratio;
		lower = pstrdup(e->tablename);
		for (char *c = lower; *c; c++)
			*c = pg_ascii_tolower((unsigned char) *c);
		wc = unplanned ? hash_search(unplanned, word_key(lower), HASH_FIND, NULL) : NULL;
		e->wi_unplanned = wc ? wc->count : 0;
		pfree(lower);
	}
	MemoryContextDelete(itemcxt);
}

/*
 * Confidence in the unused, duplicate and redundant verdicts: 'high'
 * unless a reason below lowers it, with every reason said.
 */
static void
grade(IdxEntry *arr, int n, const StandbyInfo *sb)
{
	StringInfoData why;

	for (int i = 0; i < n; i++)
	{
		IdxEntry   *e = &arr[i];
		bool		unused = e->code[CODE_UNUSED];
		int			level = 3;

#define REASON(lvl, ...) \
	do { level = Min(level, (lvl)); if (why.len > 0) appendStringInfoString(&why, "; "); \
		 appendStringInfo(&why, __VA_ARGS__); } while (0)

		CHECK_FOR_INTERRUPTS();
		if (!to_drop(e))
			continue;
		initStringInfo(&why);
		if (unused)
		{
			if (e->ev.idle < 30 * USECS_PER_DAY)
				REASON(2, "observed %s without a scan, less than a month, so a monthly job may not have run", human_age(e->ev.idle));
			else
				REASON(3, "observed %s without a scan", human_age(e->ev.idle));
			if (!e->ev.history && !e->ev.birth_known)
				REASON(2, "no dbopt snapshot covers it and its creation time is unknown, so it may be newer than the statistics it is judged on");
			else if (!e->ev.history)
				REASON(3, "no dbopt snapshot covers it, so the evidence starts at the last statistics reset or its creation");
			else if (e->ev.resets > 0)
				REASON(3, "%d reset(s) or crash(es) cut observation windows short; only those minutes are missing", e->ev.resets);
			if (sb->registered > sb->read)
				REASON(1, "a registered standby could not be read (%s), and its scans are unknown", sb->problem ? sb->problem : "see dbopt.standby_index_usage()");
			else if (sb->unregistered > 0)
				REASON(2, "%d standby(s) stream from this server without being registered with dbopt.add_standby(), so their scans are not counted", sb->unregistered);
			else if (sb->read > 0 && sb->latest_epoch > sb->now - e->ev.idle)
				REASON(2, "no scan on the %d registered standby(s) either, but their statistics cover only the last %s",
					   sb->read, human_age(sb->now - sb->latest_epoch));
			else if (sb->read > 0)
				REASON(3, "no scan on the %d registered standby(s) either", sb->read);
			else
				REASON(3, "no standby streams from this server");
		}
		if (!e->wi_done || !e->wi_available)
			REASON(2, "no plan was checked, since pg_stat_statements is not available");
		else if (e->wi_failed > 0)
			REASON(1, "%d statement(s) that plan with it could not be planned without it: see dbopt.simulate_drop_index()",
				   e->wi_failed);
		else if (e->wi_using == 0)
			REASON(3, "none of the %d statements on its table in pg_stat_statements plans with it", e->wi_statements);
		else if (unused)
			REASON(1, "%d statement(s) in pg_stat_statements plan with it although no scan was counted (they may have run before a reset): see dbopt.simulate_drop_index()", e->wi_using);
		else if (e->wi_worse > 0)
			REASON(1, "without it %d of the %d statements that plan with it cost over 10%% more (up to %+.0f%%): see dbopt.simulate_drop_index()",
				   e->wi_worse, e->wi_using, (e->wi_max_ratio - 1) * 100);
		else if (e->wi_keeper < e->wi_using)
			REASON(2, "without it %d of the %d statements that plan with it use another index than %s, at no more than %+.0f%% cost",
				   e->wi_using - e->wi_keeper, e->wi_using, e->twin, (e->wi_max_ratio - 1) * 100);
		else
			REASON(3, "the %d statement(s) that plan with it plan with %s instead, at no more than %+.0f%% cost",
				   e->wi_using, e->twin, (e->wi_max_ratio - 1) * 100);
		if (e->wi_done && e->wi_available && e->wi_unplanned > 0)
			REASON(2, "%d statement(s) in pg_stat_statements that may name its table could not be planned, so whether they use it is unknown",
				   e->wi_unplanned);
		e->confidence = level == 3 ? "high" : level == 2 ? "medium" : "low";
		e->conf_reasons = why.data;
#undef REASON
	}
}

static void
apply_suppressions(IdxEntry *arr, int n, const DboptSuppressionSet *supp,
				   bool include_suppressed)
{
	for (int i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		for (int c = 0; c < NUM_CODES; c++)
		{
			const DboptSuppression *s;

			if (!arr[i].code[c])
				continue;
			s = dbopt_suppression_match(supp, code_names[c], arr[i].qualname);
			if (s == NULL)
				continue;
			if (include_suppressed)
				arr[i].note[c] = dbopt_suppression_note(s);
			else
				arr[i].code[c] = false;
		}
	}
}

/* "3 days", "5 hours", "12 minutes": precise enough for a recommendation. */
static char *
human_age(int64 usecs)
{
	if (usecs >= USECS_PER_DAY)
		return psprintf("%lld days", (long long) (usecs / USECS_PER_DAY));
	if (usecs >= USECS_PER_HOUR)
		return psprintf("%lld hours", (long long) (usecs / USECS_PER_HOUR));
	return psprintf("%lld minutes", (long long) (usecs / USECS_PER_MINUTE));
}

static char *
pretty_bytes(int64 b)
{
	return text_to_cstring(DatumGetTextPP(DirectFunctionCall1(pg_size_pretty,
															  Int64GetDatum(b))));
}

/* Recommendation text and fix_sql for one index; NULLs when nothing to do. */
static void
advise(const IdxEntry *e, char **rec, char **fix)
{
	StringInfoData buf;
	bool		drop = false,
				reindex = false;
	bool		partitioned = (e->relkind == RELKIND_PARTITIONED_INDEX);
	bool		drop_blocked = false;

	initStringInfo(&buf);
#define SENTENCE(...) \
	do { if (buf.len > 0) appendStringInfoChar(&buf, ' '); \
		 appendStringInfo(&buf, __VA_ARGS__); } while (0)
#define NOTE(c) \
	do { if (e->note[c]) appendStringInfo(&buf, " %s", e->note[c]); } while (0)

	if (e->code[CODE_UNUSED])
	{
		if (!e->ev.history)
			SENTENCE("Not scanned since statistics started %s ago; drop it unless a rare job (month-end, a replica) needs it.",
					 human_age(e->ev.idle));
		else
			SENTENCE("Not scanned in the %s that dbopt's snapshots and the live counters observed it; drop it unless a rare job (month-end, a replica) needs it.",
					 human_age(e->ev.idle));
		if (standby_problem)
			SENTENCE("Scans on standbys may be missing: %s.", standby_problem);
		NOTE(CODE_UNUSED);
		drop = true;
	}
	if (e->ev.scans == 0 && e->standby_scans > 0)
		SENTENCE("Scanned only on standbys (%lld scans there); keep it.", (long long) e->standby_scans);
	if (e->idle_long && !e->code[CODE_DUPLICATE] && !e->code[CODE_REDUNDANT])
		SENTENCE("No scan in the %s observed since its last one, but dbopt's snapshots saw %lld scan(s) before, so it is not called unused until those snapshots are purged.",
				 human_age(e->ev.idle), (long long) e->ev.scans);
	if (e->scans == 0 && e->serves_fk && !e->code[CODE_DUPLICATE] && !e->code[CODE_REDUNDANT])
		SENTENCE("Not scanned, but it is the only index serving foreign key %s; keep it.",
				 quote_identifier(e->serves_fk));
	if (e->code[CODE_UNUSED_RECENT])
	{
		SENTENCE("No scans yet, but statistics are only %s old; judge again after min_stats_age.",
				 human_age(e->ev.idle));
		NOTE(CODE_UNUSED_RECENT);
	}
	if (e->code[CODE_DUPLICATE])
	{
		if (OidIsValid(e->twin_parent))
			SENTENCE("Same definition as %s, which is kept: it belongs to partitioned index %s; drop this one.",
					 e->twin, dbopt_qualified_relname(e->twin_parent));
		else
			SENTENCE("Same definition as %s, which is kept; drop this one.", e->twin);
		NOTE(CODE_DUPLICATE);
		if (e->backs_constraint)
			drop_blocked = true;
		drop = true;
	}
	if (e->code[CODE_REDUNDANT])
	{
		if (OidIsValid(e->twin_parent))
			SENTENCE("Its keys lead %s (part of partitioned index %s), which serves the same lookups; drop this one.",
					 e->twin, dbopt_qualified_relname(e->twin_parent));
		else
			SENTENCE("Its keys lead %s, which serves the same lookups; drop this one.",
					 e->twin);
		NOTE(CODE_REDUNDANT);
		drop = true;
	}
	if (e->code[CODE_INVALID])
	{
		if (dbopt_is_reindex_leftover(e->indexname))
		{
			SENTENCE("Invalid leftover of an interrupted REINDEX CONCURRENTLY; drop it.");
			drop = true;
		}
		else if (partitioned)
			SENTENCE("Invalid: some partitions lack an attached index; create them and ALTER INDEX %s ATTACH PARTITION each one.",
					 e->qualname);
		else if (e->is_unique && e->dup_keys != 0)
		{
			/* A rebuild would fail on the duplicates and leave a _ccnew behind. */
			if (e->dup_keys > 0)
				SENTENCE("Invalid, and %lld key(s) are duplicated, so a rebuild would fail: resolve the duplicates first (dbopt.check_data_integrity() lists them), then REINDEX INDEX CONCURRENTLY %s.",
						 (long long) e->dup_keys, e->qualname);
			else
				SENTENCE("Invalid; whether its keys are duplicated could not be checked, and a rebuild fails if they are: see dbopt.check_data_integrity() first.");
		}
		else
		{
			SENTENCE("Invalid (an interrupted CREATE INDEX CONCURRENTLY?): the planner ignores it but writes still maintain it; rebuild it.");
			reindex = true;
		}
		NOTE(CODE_INVALID);
	}
	if (e->code[CODE_BLOATED])
	{
		SENTENCE("About %s of its %s is bloat (statistical estimate); rebuild it.",
				 pretty_bytes(e->bloat), pretty_bytes(e->size));
		NOTE(CODE_BLOATED);
		reindex = true;
	}

	if (e->confidence)
		SENTENCE("Confidence %s: %s.", e->confidence, e->conf_reasons);

	*fix = NULL;
	if (drop && drop_blocked)
		appendStringInfoString(&buf, " It backs a constraint: drop the constraint instead, after checking that no foreign key needs it.");
	else if (drop && partitioned)
	{
		*fix = psprintf("DROP INDEX %s;", e->qualname);
		appendStringInfoString(&buf, " DROP INDEX CONCURRENTLY does not work on a partitioned index: this DROP locks the table and all its partitions.");
	}
	else if (drop)
		*fix = psprintf("DROP INDEX CONCURRENTLY %s;", e->qualname);
	else if (reindex)
		*fix = psprintf("REINDEX INDEX CONCURRENTLY %s;", e->qualname);
	*rec = buf.len > 0 ? buf.data : NULL;
#undef SENTENCE
#undef NOTE
}

static int
output_qsort_cmp(const void *pa, const void *pb)
{
	const IdxEntry *a = pa;
	const IdxEntry *b = pb;
	int			c;

	if ((c = strcmp(a->schemaname, b->schemaname)) != 0)
		return c;
	if ((c = strcmp(a->tablename, b->tablename)) != 0)
		return c;
	return strcmp(a->indexname, b->indexname);
}

static Datum
name_datum(const char *s)
{
	Name		n = (Name) palloc0(NAMEDATALEN);

	namestrcpy(n, s);
	return NameGetDatum(n);
}

static Datum
int64_or_null(int64 v, bool *isnull)
{
	*isnull = (v < 0);
	return Int64GetDatum(v);
}

/* 0.11 added the evidence columns; older installs declare the first 18. */
#define IDX_USAGE_NCOLS 23
#define IDX_USAGE_NCOLS_0_10 18

/* min_stats_age, neither NULL nor negative. */
static Interval *
min_age_arg(FunctionCallInfo fcinfo)
{
	Interval   *min_age;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("min_stats_age must not be null"),
				 errdetail("It is how old statistics must be before a never-scanned index is called unused."),
				 errhint("Pass an interval such as '7 days', or omit it for the default.")));
	min_age = dbopt_interval_or_text_arg(fcinfo, 1, "min_stats_age");
	if (min_age->month < 0 || min_age->day < 0 || min_age->time < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_stats_age must not be negative"),
				 errdetail("A negative age would call indexes unused on a freshly reset server."),
				 errhint("Pass an interval such as '7 days'.")));
	return min_age;
}

/* min_stats_age in microseconds, in calendar terms, as the caller wrote it: '1 month' back from now. */
static int64
min_age_usecs(const Interval *min_age, TimestampTz now)
{
	/* Beyond the calendar's range, now minus min_stats_age would overflow. */
	if ((int64) min_age->month / 12 + (int64) min_age->day / 365 +
		min_age->time / (365 * USECS_PER_DAY) > 10000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_stats_age is out of range"),
				 errdetail("It must be under 10,000 years."),
				 errhint("Pass an interval such as '7 days'.")));
	return now - DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
														 TimestampTzGetDatum(now),
														 IntervalPGetDatum(min_age)));
}

/* Scans on the registered standbys, into each entry, and what sb says of them. */
static void
add_standby_scans(IdxEntry *arr, int n, StandbyInfo *sb, TimestampTz now)
{
	List	   *problems;
	HTAB	   *scans;

	memset(sb, 0, sizeof(*sb));
	scans = dbopt_standby_scans(&sb->registered, &sb->unregistered, &problems, &sb->latest_epoch);
	standby_problem = problems ? linitial(problems) : NULL;
	sb->problem = (char *) standby_problem;
	sb->read = Max(sb->registered - (list_length(problems) - sb->unregistered), 0);
	sb->now = now;
	for (int i = 0; scans && i < n; i++)
	{
		DboptStandbyScan *s = hash_search(scans, &arr[i].indexrelid, HASH_FIND, NULL);

		arr[i].standby_scans = s ? s->scans : 0;
	}
}

/* One index's row. */
static void
emit_index_row(ReturnSetInfo *rsinfo, IdxEntry *e, const EvidenceCtx *cx)
{
	Datum		values[IDX_USAGE_NCOLS];
	bool		nulls[IDX_USAGE_NCOLS];
	Datum		codes[NUM_CODES];
	int			ncodes = 0;
	char	   *rec,
			   *fix;

	memset(nulls, 0, sizeof(nulls));
	for (int c = 0; c < NUM_CODES; c++)
		if (e->code[c])
			codes[ncodes++] = CStringGetTextDatum(code_names[c]);
	advise(e, &rec, &fix);
	if (e->extension)
	{
		/* Shown on request, never as something to drop. */
		rec = psprintf("Belongs to extension %s (its table is a member): the extension creates and drops it; dbopt gives no advice on it.%s%s",
					   e->extension, rec ? "  For information: " : "", rec ? rec : "");
		fix = NULL;
	}

	values[0] = name_datum(e->schemaname);
	values[1] = name_datum(e->tablename);
	values[2] = name_datum(e->indexname);
	values[3] = ObjectIdGetDatum(e->indexrelid);
	values[4] = int64_or_null(e->size, &nulls[4]);
	values[5] = int64_or_null(e->table_size, &nulls[5]);
	values[6] = Int64GetDatum(e->scans);
	values[7] = Int64GetDatum(e->tup_read);
	values[8] = Int64GetDatum(e->tup_fetched);
	values[9] = BoolGetDatum(e->is_unique);
	values[10] = BoolGetDatum(e->is_primary);
	values[11] = BoolGetDatum(e->backs_constraint);
	values[12] = BoolGetDatum(e->is_valid);
	values[13] = TimestampTzGetDatum(cx->epoch);
	values[14] = int64_or_null(e->bloat, &nulls[14]);
	values[15] = PointerGetDatum(construct_array(codes, ncodes, TEXTOID, -1, false,
												 TYPALIGN_INT));
	values[16] = rec ? CStringGetTextDatum(rec) : (Datum) 0;
	nulls[16] = (rec == NULL);
	values[17] = fix ? CStringGetTextDatum(fix) : (Datum) 0;
	nulls[17] = (fix == NULL);
	values[18] = CStringGetTextDatum(cx->source);
	values[19] = Int64GetDatum(e->ev.scans);
	values[20] = e->ev.idle >= 0 ? IntervalPGetDatum(usecs_interval(e->ev.idle)) : (Datum) 0;
	nulls[20] = (e->ev.idle < 0);
	values[21] = int64_or_null(e->standby_scans, &nulls[21]);
	values[22] = e->confidence ? CStringGetTextDatum(e->confidence) : (Datum) 0;
	nulls[22] = (e->confidence == NULL);

	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

PG_FUNCTION_INFO_V1(dbopt_analyze_index_usage);

Datum
dbopt_analyze_index_usage(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			nspfilter = InvalidOid;
	Interval   *min_age = min_age_arg(fcinfo);
	bool		include_suppressed;
	bool		include_ext;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	int64		min_usecs;
	EvidenceCtx cx;
	StandbyInfo sb;
	DboptSuppressionSet *supp;
	IdxEntry   *arr;
	int			n,
				nfks;
	FkRef	   *fks;
	MemoryContext rowcxt;

	if (!PG_ARGISNULL(0))
		nspfilter = dbopt_schema_filter(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	include_suppressed = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
	/* Absent before 0.10's SQL: the library may be newer than the install. */
	include_ext = PG_NARGS() > 3 && !PG_ARGISNULL(3) && PG_GETARG_BOOL(3);

	dbopt_init_materialized_srf(fcinfo);
	if (rsinfo->setDesc->natts != IDX_USAGE_NCOLS &&
		rsinfo->setDesc->natts != IDX_USAGE_NCOLS_0_10)
		elog(ERROR, "analyze_index_usage declares %d columns, expected %d",
			 rsinfo->setDesc->natts, IDX_USAGE_NCOLS);
	min_usecs = min_age_usecs(min_age, now);
	cx.now = now;
	dbopt_stats_epoch(&cx.epoch, &cx.source);
	cx.obs = dbopt_observations_load(&cx.latest);

	supp = dbopt_suppressions_load(CurrentMemoryContext);
	arr = collect_indexes(nspfilter, include_ext, &cx, &n, &fks, &nfks);
	add_standby_scans(arr, n, &sb, now);
	classify(arr, n, min_usecs, fks, nfks);
	whatif(arr, n);
	grade(arr, n, &sb);
	apply_suppressions(arr, n, supp, include_suppressed);
	qsort(arr, n, sizeof(IdxEntry), output_qsort_cmp);
	/* Before any row is emitted: the count runs in a subtransaction. */
	for (int i = 0; i < n; i++)
		if (arr[i].code[CODE_INVALID] && arr[i].is_unique &&
			arr[i].relkind == RELKIND_INDEX && !dbopt_is_reindex_leftover(arr[i].indexname))
			arr[i].dup_keys = dbopt_unique_duplicate_keys(arr[i].indexrelid);

	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "dbopt index row",
								   ALLOCSET_DEFAULT_SIZES);
	for (int i = 0; i < n; i++)
	{
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(rowcxt);
		emit_index_row(rsinfo, &arr[i], &cx);
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);
	}
	return (Datum) 0;
}
