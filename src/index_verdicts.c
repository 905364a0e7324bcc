/*-------------------------------------------------------------------------
 *
 * index_verdicts.c
 *	  The verdicts of dbopt.analyze_index_usage() on the indexes
 *	  index_usage.c collected: duplicate and redundant detection, unused,
 *	  invalid and bloated, the what-if check and the confidence it grades,
 *	  suppressions, and the recommendation and fix_sql of each index.
 *
 * Duplicate and redundant detection sorts one signature per index once:
 * O(n log n) in the number of indexes.  Advice is only ever DROP INDEX or
 * REINDEX INDEX, CONCURRENTLY wherever that works, on quoted names.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/nbtree.h"
#include "catalog/partition.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "dbopt/checks.h"
#include "dbopt/findings.h"
#include "dbopt/index_usage_internal.h"
#include "dbopt/index_whatif.h"
#include "dbopt/integrity.h"
#include "dbopt/util.h"
#include "dbopt/workload.h"

/* Indexes smaller than this are never called bloated: the estimate is noise there. */
#define BLOAT_MIN_BYTES		(1024 * 1024)

const char *const dbopt_iu_code_names[NUM_CODES] = {
	"unused", "unused_recent_stats", "duplicate", "redundant", "invalid", "bloated"
};

/* ---------- small helpers ---------- */

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

/* ---------- foreign keys an index serves ---------- */

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

/* ---------- the verdicts ---------- */

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

void
dbopt_iu_classify(IdxEntry *arr, int n, int64 min_age, FkRef *fks, int nfks)
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
			if (!dbopt_iu_oid_in(building, nbuilding, e->indrelid))
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

void
dbopt_iu_whatif(IdxEntry *arr, int n)
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
void
dbopt_iu_grade(IdxEntry *arr, int n, const StandbyInfo *sb)
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

void
dbopt_iu_apply_suppressions(IdxEntry *arr, int n, const DboptSuppressionSet *supp,
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
			s = dbopt_suppression_match(supp, dbopt_iu_code_names[c], arr[i].qualname);
			if (s == NULL)
				continue;
			if (include_suppressed)
				arr[i].note[c] = dbopt_suppression_note(s);
			else
				arr[i].code[c] = false;
		}
	}
}

/*
 * Recommendation text and fix_sql for one index; NULLs when nothing to do.
 * standby_problem: the first standby that could not be read, or walsender
 * not registered; NULL if none.
 */
void
dbopt_iu_advise(const IdxEntry *e, const char *standby_problem, char **rec, char **fix)
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
