/*-------------------------------------------------------------------------
 *
 * audit.c
 *	  The audit trigger, the append-only guard of dbopt.audit_log,
 *	  enable_audit(), disable_audit() and purge_audit_log().
 *
 * The row trigger writes its audit row straight into the heap and the
 * indexes of dbopt.audit_log, with the JSON built here from the tuple: no
 * SPI, no parse, no plan, no catalog scan per row, which is what makes it
 * cheaper than a PL/pgSQL trigger doing INSERT ... to_jsonb(NEW).  An
 * UPDATE logs only the columns it changed, and one that changed nothing is
 * not logged.  The log is append-only: a guard trigger refuses UPDATE,
 * DELETE and TRUNCATE unless purge_audit_log() is the one deleting.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "catalog/pg_index.h"
#include "catalog/pg_trigger.h"
#include "commands/event_trigger.h"
#include "utils/fmgroids.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "nodes/execnodes.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/bitmapset.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/inet.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "dbopt/compat.h"
#include "dbopt/dbopt.h"
#include "dbopt/isolate.h"
#include "dbopt/util.h"

#define AUDIT_ROW_TRIGGER "dbopt_audit_row"
#define AUDIT_TRUNCATE_TRIGGER "dbopt_audit_truncate"

/* audit_log's columns, in table order */
enum
{
	AL_ID, AL_LOGGED_AT, AL_TXID, AL_RELATION_NAME, AL_RELATION, AL_OPERATION,
	AL_ROW_KEY, AL_OLD_DATA, AL_NEW_DATA, AL_CHANGED_COLUMNS, AL_DB_USER,
	AL_APPLICATION_NAME, AL_CLIENT_ADDR, AL_TENANT, AL_NCOLS
};

/* Set only while purge_audit_log() deletes: the guard lets that through. */
static bool purge_in_progress = false;

/* Set while enable_audit()/disable_audit() run their DDL: they log it themselves. */
static bool audit_ddl_by_dbopt = false;

/* ---------- JSON from datums ---------- */

/* One column's value as a JsonbValue: numbers, booleans and JSON as such, the rest as text. */
static void
datum_to_jsonb_value(Datum d, Oid type, JsonbValue *jv)
{
	Oid			base = getBaseType(type);

	switch (base)
	{
		case BOOLOID:
			jv->type = jbvBool;
			jv->val.boolean = DatumGetBool(d);
			return;
		case INT2OID:
			jv->type = jbvNumeric;
			jv->val.numeric = int64_to_numeric(DatumGetInt16(d));
			return;
		case INT4OID:
			jv->type = jbvNumeric;
			jv->val.numeric = int64_to_numeric(DatumGetInt32(d));
			return;
		case INT8OID:
			jv->type = jbvNumeric;
			jv->val.numeric = int64_to_numeric(DatumGetInt64(d));
			return;
		case NUMERICOID:
			if (!numeric_is_nan(DatumGetNumeric(d)) && !numeric_is_inf(DatumGetNumeric(d)))
			{
				jv->type = jbvNumeric;
				jv->val.numeric = DatumGetNumeric(d);
				return;
			}
			break;
		case DATEOID:
		case TIMEOID:
		case TIMETZOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			{
				/* ISO 8601, as to_jsonb() writes them */
				char		buf[MAXDATELEN + 1];

				JsonEncodeDateTime(buf, d, base, NULL);
				jv->type = jbvString;
				jv->val.string.val = pstrdup(buf);
				jv->val.string.len = strlen(buf);
				return;
			}
		case JSONBOID:
			{
				Jsonb	   *jb = DatumGetJsonbP(d);

				jv->type = jbvBinary;
				jv->val.binary.data = &jb->root;
				jv->val.binary.len = VARSIZE(jb) - VARHDRSZ;
				return;
			}
		default:
			break;
	}
	{
		Oid			out;
		bool		varlena;
		char	   *s;

		getTypeOutputInfo(type, &out, &varlena);
		s = OidOutputFunctionCall(out, d);
		jv->type = jbvString;
		jv->val.string.val = s;
		jv->val.string.len = strlen(s);
	}
}

/* The columns of tup picked by want[] (all when NULL), as one jsonb object. */
static Datum
tuple_to_jsonb(TupleDesc desc, Datum *values, bool *nulls, const bool *want)
{
	JsonbParseState *state = NULL;
	JsonbValue *res;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		JsonbValue	k,
					v;

		if (att->attisdropped || (want && !want[i]))
			continue;
		k.type = jbvString;
		k.val.string.val = NameStr(att->attname);
		k.val.string.len = strlen(NameStr(att->attname));
		pushJsonbValue(&state, WJB_KEY, &k);
		if (nulls[i])
			v.type = jbvNull;
		else
			datum_to_jsonb_value(values[i], att->atttypid, &v);
		pushJsonbValue(&state, v.type == jbvBinary ? WJB_VALUE : WJB_VALUE, &v);
	}
	res = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbPGetDatum(JsonbValueToJsonb(res));
}

/* ---------- writing the audit row ---------- */

/*
 * dbopt.audit_log and its sequence, looked up once per backend and
 * forgotten when either's relcache entry is invalidated (dropped with the
 * extension, renamed, reindexed).
 */
static Oid	log_relid = InvalidOid;
static Oid	log_seqid = InvalidOid;
static int	log_indexes_plain = -1;	/* see indexes_plain() */

static void
forget_log_relid(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == log_relid || relid == log_seqid)
	{
		log_relid = log_seqid = InvalidOid;
		log_indexes_plain = -1;
	}
}

static Oid
audit_log_relid(void)
{
	static bool registered = false;

	if (!OidIsValid(log_relid))
	{
		Oid			nsp = get_namespace_oid("dbopt", false);

		if (!registered)
		{
			CacheRegisterRelcacheCallback(forget_log_relid, (Datum) 0);
			registered = true;
		}
		log_relid = get_relname_relid("audit_log", nsp);
		log_seqid = get_relname_relid("audit_log_id_seq", nsp);
	}
	return log_relid;
}

/*
 * Whether every index of the log is ready, on plain columns, without a
 * predicate or exclusion: then the fast path below builds index entries
 * itself.  Anything else (a partial or expression index a DBA added, an
 * index that CREATE INDEX CONCURRENTLY is building) goes through the
 * executor, which knows those cases.  Cached until the log's relcache
 * entry is invalidated, as any index change does.
 */
static bool
indexes_plain(Relation rel)
{
	List	   *indexes;
	ListCell   *lc;

	if (log_indexes_plain >= 0)
		return log_indexes_plain == 1;
	indexes = RelationGetIndexList(rel);
	log_indexes_plain = 1;
	foreach(lc, indexes)
	{
		Relation	idx = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index form = idx->rd_index;

		if (!form->indisready || !form->indislive || form->indisexclusion ||
			!heap_attisnull(idx->rd_indextuple, Anum_pg_index_indexprs, NULL) ||
			!heap_attisnull(idx->rd_indextuple, Anum_pg_index_indpred, NULL))
			log_indexes_plain = 0;
		index_close(idx, AccessShareLock);
	}
	list_free(indexes);
	return log_indexes_plain == 1;
}

/* The executor's way: predicates, expressions, readiness, exclusion. */
static void
insert_index_entries_executor(Relation rel, HeapTuple tup)
{
	EState	   *estate = CreateExecutorState();
	ResultRelInfo *rri = makeNode(ResultRelInfo);
	TupleTableSlot *slot;

	InitResultRelInfo(rri, rel, 1, NULL, 0);
	ExecOpenIndices(rri, false);
	slot = ExecInitExtraTupleSlot(estate, RelationGetDescr(rel), &TTSOpsHeapTuple);
	ExecStoreHeapTuple(tup, slot, false);
	(void) dbopt_exec_insert_index_tuples(rri, slot, estate);
	ExecCloseIndices(rri);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
}

/*
 * Insert one row into dbopt.audit_log and its indexes directly, as COPY
 * does.  No privilege is checked: the trigger is the log's only writer,
 * and the audited session needs no right on the log.
 */
static void
write_audit_row(Datum *values, bool *nulls)
{
	Oid			relid = audit_log_relid();
	Relation	rel;
	HeapTuple	tup;
	List	   *indexes;
	ListCell   *lc;

	if (!OidIsValid(relid) || !OidIsValid(log_seqid))
		elog(ERROR, "dbopt.audit_log does not exist");
	rel = table_open(relid, RowExclusiveLock);
	values[AL_ID] = Int64GetDatum(nextval_internal(log_seqid, false));
	nulls[AL_ID] = false;
	tup = heap_form_tuple(RelationGetDescr(rel), values, nulls);
	simple_heap_insert(rel, tup);
	if (!indexes_plain(rel))
	{
		insert_index_entries_executor(rel, tup);
		table_close(rel, RowExclusiveLock);
		heap_freetuple(tup);
		return;
	}
	indexes = RelationGetIndexList(rel);
	foreach(lc, indexes)
	{
		Relation	idx = index_open(lfirst_oid(lc), RowExclusiveLock);
		IndexInfo  *ii = BuildIndexInfo(idx);
		Datum		iv[INDEX_MAX_KEYS];
		bool		in[INDEX_MAX_KEYS];

		for (int k = 0; k < ii->ii_NumIndexAttrs; k++)
		{
			AttrNumber	a = ii->ii_IndexAttrNumbers[k];

			iv[k] = values[a - 1];
			in[k] = nulls[a - 1];
		}
		index_insert(idx, iv, in, &tup->t_self, rel,
					 idx->rd_index->indisunique ? UNIQUE_CHECK_YES : UNIQUE_CHECK_NO,
					 false, ii);
		index_close(idx, RowExclusiveLock);
	}
	list_free(indexes);
	table_close(rel, RowExclusiveLock);
	heap_freetuple(tup);
}

/* The first column of the table named in dbopt.tenant_columns, or 0. */
static AttrNumber
tenant_column(TupleDesc desc)
{
	/* the setting's list, parsed again only when the setting changes */
	static char *parsed_from = NULL;
	static List *names = NIL;
	ListCell   *lc;
	const char *setting = dbopt_tenant_columns ? dbopt_tenant_columns : "";

	if (parsed_from == NULL || strcmp(parsed_from, setting) != 0)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
		char	   *copy = pstrdup(setting);

		list_free(names);
		names = NIL;
		if (!SplitIdentifierString(copy, ',', &names))
			names = NIL;
		if (parsed_from)
			pfree(parsed_from);
		parsed_from = pstrdup(setting);
		MemoryContextSwitchTo(old);
	}
	foreach(lc, names)
		for (int i = 0; i < desc->natts; i++)
			if (!TupleDescAttr(desc, i)->attisdropped &&
				strcmp(NameStr(TupleDescAttr(desc, i)->attname), lfirst(lc)) == 0)
				return i + 1;
	return 0;
}


/* The columns every audit row has: when, which transaction, what, who, from where. */
static void
fill_session_columns(Datum *values, bool *nulls, Oid relid, const char *relname, const char *op)
{
	values[AL_LOGGED_AT] = TimestampTzGetDatum(GetCurrentTimestamp());
	values[AL_TXID] = Int64GetDatum((int64) U64FromFullTransactionId(GetTopFullTransactionId()));
	values[AL_RELATION_NAME] = CStringGetTextDatum(relname);
	values[AL_RELATION] = ObjectIdGetDatum(relid);
	values[AL_OPERATION] = CStringGetTextDatum(op);
	values[AL_DB_USER] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	if (application_name && application_name[0])
	{
		values[AL_APPLICATION_NAME] = CStringGetTextDatum(application_name);
		nulls[AL_APPLICATION_NAME] = false;
	}
	values[AL_CLIENT_ADDR] = dbopt_call_nullable(inet_client_addr, 0, (Datum) 0, &nulls[AL_CLIENT_ADDR]);
	nulls[AL_LOGGED_AT] = nulls[AL_TXID] = nulls[AL_RELATION_NAME] = nulls[AL_RELATION] =
		nulls[AL_OPERATION] = nulls[AL_DB_USER] = false;
}

/* Columns left out of the log: the trigger's arguments. */
static inline bool *
excluded_columns(TriggerData *td, TupleDesc desc)
{
	bool	   *excluded = palloc0(sizeof(bool) * desc->natts);

	for (int a = 0; a < td->tg_trigger->tgnargs; a++)
		for (int i = 0; i < desc->natts; i++)
			if (strcmp(NameStr(TupleDescAttr(desc, i)->attname), td->tg_trigger->tgargs[a]) == 0)
				excluded[i] = true;
	return excluded;
}

/* A row's columns, deformed into fresh arrays. */
static inline void
deform_row(HeapTuple tup, TupleDesc desc, Datum **values, bool **nulls)
{
	*values = palloc(sizeof(Datum) * desc->natts);
	*nulls = palloc(sizeof(bool) * desc->natts);
	heap_deform_tuple(tup, desc, *values, *nulls);
}

/*
 * UPDATE: old_data, new_data and changed_columns hold the columns whose
 * stored value changed, leaving out the excluded ones.  False when none
 * did: nothing to log.
 */
static inline bool
fill_update_columns(TupleDesc desc, const bool *excluded, Datum *ov, bool *on,
					Datum *nv, bool *nn, Datum *values, bool *nulls)
{
	bool	   *changed = palloc0(sizeof(bool) * desc->natts);
	Datum	   *names = palloc(sizeof(Datum) * desc->natts);
	int			n = 0;

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || excluded[i])
			continue;
		if (on[i] != nn[i] ||
			(!on[i] && !datumIsEqual(ov[i], nv[i], att->attbyval, att->attlen)))
		{
			changed[i] = true;
			names[n++] = CStringGetTextDatum(NameStr(att->attname));
		}
	}
	if (n == 0)
		return false;
	values[AL_OLD_DATA] = tuple_to_jsonb(desc, ov, on, changed);
	values[AL_NEW_DATA] = tuple_to_jsonb(desc, nv, nn, changed);
	values[AL_CHANGED_COLUMNS] = PointerGetDatum(construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT));
	nulls[AL_OLD_DATA] = nulls[AL_NEW_DATA] = nulls[AL_CHANGED_COLUMNS] = false;
	return true;
}

/* INSERT or DELETE: the row's data column (column is AL_OLD_DATA or AL_NEW_DATA), all but the excluded columns. */
static inline void
fill_row_column(TupleDesc desc, const bool *excluded, Datum *rv, bool *rn,
				int column, Datum *values, bool *nulls)
{
	bool	   *want = palloc(sizeof(bool) * desc->natts);

	for (int i = 0; i < desc->natts; i++)
		want[i] = !excluded[i];
	values[column] = tuple_to_jsonb(desc, rv, rn, want);
	nulls[column] = false;
}

/* row_key: the primary key's columns, and tenant, from the row as it is (or was). */
static inline void
fill_key_columns(Relation rel, TupleDesc desc, Datum *kv, bool *kn, Datum *values, bool *nulls)
{
	Bitmapset  *pk = RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_PRIMARY_KEY);
	AttrNumber	tenant;

	if (!bms_is_empty(pk))
	{
		bool	   *want = palloc0(sizeof(bool) * desc->natts);
		int			m = -1;

		while ((m = bms_next_member(pk, m)) >= 0)
		{
			AttrNumber	a = m + FirstLowInvalidHeapAttributeNumber;

			if (a > 0)
				want[a - 1] = true;
		}
		values[AL_ROW_KEY] = tuple_to_jsonb(desc, kv, kn, want);
		nulls[AL_ROW_KEY] = false;
	}
	tenant = tenant_column(desc);
	if (tenant > 0 && !kn[tenant - 1])
	{
		Oid			out;
		bool		varlena;

		getTypeOutputInfo(TupleDescAttr(desc, tenant - 1)->atttypid, &out, &varlena);
		values[AL_TENANT] = CStringGetTextDatum(OidOutputFunctionCall(out, kv[tenant - 1]));
		nulls[AL_TENANT] = false;
	}
}

PG_FUNCTION_INFO_V1(dbopt_audit_trigger);

Datum
dbopt_audit_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	Datum		values[AL_NCOLS];
	bool		nulls[AL_NCOLS];
	const char *op;
	bool	   *excluded;
	HeapTuple	oldtup = NULL,
				newtup = NULL;
	Datum	   *ov = NULL,
			   *nv = NULL;
	bool	   *on = NULL,
			   *nn = NULL;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("dbopt.audit_trigger must be fired as an AFTER trigger"),
				 errdetail("It writes the audit row of a change that has happened."),
				 errhint("Use dbopt.enable_audit() to install it.")));
	rel = td->tg_relation;
	desc = RelationGetDescr(rel);
	memset(nulls, true, sizeof(nulls));
	excluded = excluded_columns(td, desc);

	if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		op = "TRUNCATE";
	else if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		op = "INSERT";
		newtup = td->tg_trigtuple;
	}
	else if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
	{
		op = "DELETE";
		oldtup = td->tg_trigtuple;
	}
	else
	{
		op = "UPDATE";
		oldtup = td->tg_trigtuple;
		newtup = td->tg_newtuple;
	}
	if (oldtup)
		deform_row(oldtup, desc, &ov, &on);
	if (newtup)
		deform_row(newtup, desc, &nv, &nn);

	if (oldtup && newtup)
	{
		if (!fill_update_columns(desc, excluded, ov, on, nv, nn, values, nulls))
			return PointerGetDatum(NULL);	/* nothing changed: nothing to log */
	}
	else if (oldtup)
		fill_row_column(desc, excluded, ov, on, AL_OLD_DATA, values, nulls);
	else if (newtup)
		fill_row_column(desc, excluded, nv, nn, AL_NEW_DATA, values, nulls);
	if (oldtup || newtup)
		fill_key_columns(rel, desc, newtup ? nv : ov, newtup ? nn : on, values, nulls);

	fill_session_columns(values, nulls, RelationGetRelid(rel),
						 quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
													RelationGetRelationName(rel)), op);
	write_audit_row(values, nulls);
	return PointerGetDatum(NULL);
}

/* ---------- audit that cannot be switched off unseen ---------- */

/* OID of dbopt.audit_trigger(), or InvalidOid. */
static Oid
audit_trigger_fn(void)
{
	return LookupFuncName(list_make2(makeString("dbopt"), makeString("audit_trigger")), 0, NULL, true);
}

/*
 * The tgenabled of relid's audit trigger, row-level or statement-level
 * ('\0' if none).  Found by its function, not its name: a rename does not
 * hide it.
 */
static char
audit_state(Oid relid, bool row)
{
	Relation	rel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	char		state = '\0';
	Oid			fn = audit_trigger_fn();

	ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, TriggerRelidNameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_trigger t = (Form_pg_trigger) GETSTRUCT(tup);

		if (t->tgfoid == fn && (TRIGGER_FOR_ROW(t->tgtype) != 0) == row)
			state = t->tgenabled;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return state;
}

/* Whether relid's trigger named name runs dbopt.audit_trigger(). */
static bool
is_audit_trigger(Oid relid, const char *name)
{
	Relation	rel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;
	Oid			fn = audit_trigger_fn();

	ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, TriggerRelidNameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_trigger t = (Form_pg_trigger) GETSTRUCT(tup);

		if (t->tgfoid == fn && strcmp(NameStr(t->tgname), name) == 0)
			found = true;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/* The table a ddl_command_start saw touching an audit trigger, for its ddl_command_end. */
static Oid	watched_relid = InvalidOid;

static const char *
state_word(char s)
{
	switch (s)
	{
		case TRIGGER_FIRES_ALWAYS:
			return "always";
		case TRIGGER_FIRES_ON_ORIGIN:
			return "origin only (skipped when session_replication_role = replica)";
		case TRIGGER_FIRES_ON_REPLICA:
			return "replica only (skipped in ordinary sessions)";
		case TRIGGER_DISABLED:
			return "disabled";
		default:
			return "dropped";
	}
}

/* One "key": "text value" pair of a JSON object being built. */
static void
push_text_pair(JsonbParseState **state, const char *key, const char *value)
{
	JsonbValue	k,
				v;

	k.type = v.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	v.val.string.val = (char *) value;
	v.val.string.len = strlen(value);
	(void) pushJsonbValue(state, WJB_KEY, &k);
	(void) pushJsonbValue(state, WJB_VALUE, &v);
}

/*
 * Write an audit row saying that relid's audit triggers changed, and to
 * what.  op NULL: 'AUDIT CHANGED' when both still fire always, else
 * 'AUDIT OFF'.
 */
static void
log_audit_change(Oid relid, const char *relname, const char *command, const char *op)
{
	Datum		values[AL_NCOLS];
	bool		nulls[AL_NCOLS];
	char		row = audit_state(relid, true);
	char		trunc = audit_state(relid, false);
	JsonbParseState *state = NULL;

	memset(nulls, true, sizeof(nulls));
	(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	push_text_pair(&state, "command", command);
	push_text_pair(&state, AUDIT_ROW_TRIGGER, state_word(row));
	push_text_pair(&state, AUDIT_TRUNCATE_TRIGGER, state_word(trunc));
	values[AL_NEW_DATA] = JsonbPGetDatum(JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL)));
	nulls[AL_NEW_DATA] = false;
	if (op == NULL)
		op = row == TRIGGER_FIRES_ALWAYS && trunc == TRIGGER_FIRES_ALWAYS ? "AUDIT CHANGED" : "AUDIT OFF";
	fill_session_columns(values, nulls, relid, relname, op);
	write_audit_row(values, nulls);
}

/* Whether an ALTER TABLE touches trigger firing (ENABLE/DISABLE [REPLICA|ALWAYS] TRIGGER ...). */
static bool
alters_triggers(AlterTableStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		switch (cmd->subtype)
		{
			case AT_EnableTrig:
			case AT_EnableAlwaysTrig:
			case AT_EnableReplicaTrig:
			case AT_EnableTrigAll:
			case AT_EnableTrigUser:
			case AT_DisableTrig:
			case AT_DisableTrigAll:
			case AT_DisableTrigUser:
				return true;
			default:
				break;
		}
	}
	return false;
}

PG_FUNCTION_INFO_V1(dbopt_audit_ddl_watch);

/*
 * Event trigger (ddl_command_end, ALTER TABLE and DROP TRIGGER): when a
 * command changes or drops a table's audit triggers, the log says so, in
 * the same transaction, whoever ran it.  enable_audit() and disable_audit()
 * are recorded the same way.
 */
Datum
dbopt_audit_ddl_watch(PG_FUNCTION_ARGS)
{
	EventTriggerData *ev;
	Node	   *stmt;
	bool		at_start;
	Oid			relid = InvalidOid;
	const char *trigname = NULL;
	const char *command = NULL;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("dbopt.audit_ddl_watch must be fired as an event trigger"),
				 errdetail("It records changes to the audit triggers."),
				 errhint("It is installed by CREATE EXTENSION; do not call it.")));
	ev = (EventTriggerData *) fcinfo->context;
	if (audit_ddl_by_dbopt || !OidIsValid(audit_log_relid()))
		PG_RETURN_VOID();
	stmt = ev->parsetree;
	at_start = strcmp(ev->event, "ddl_command_start") == 0;

	/* Which table, and which trigger by name when the command names one. */
	if (IsA(stmt, AlterTableStmt) && alters_triggers((AlterTableStmt *) stmt))
	{
		relid = RangeVarGetRelid(((AlterTableStmt *) stmt)->relation, NoLock, true);
		command = "ALTER TABLE";
	}
	else if (IsA(stmt, DropStmt) && ((DropStmt *) stmt)->removeType == OBJECT_TRIGGER &&
			 list_length(((DropStmt *) stmt)->objects) == 1)
	{
		List	   *names = linitial(((DropStmt *) stmt)->objects);

		trigname = strVal(llast(names));
		relid = RangeVarGetRelid(makeRangeVarFromNameList(list_truncate(list_copy(names), list_length(names) - 1)),
								 NoLock, true);
		command = "DROP TRIGGER";
	}
	else if (IsA(stmt, RenameStmt) && ((RenameStmt *) stmt)->renameType == OBJECT_TRIGGER)
	{
		RenameStmt *r = (RenameStmt *) stmt;

		trigname = at_start ? r->subname : r->newname;
		relid = RangeVarGetRelid(r->relation, NoLock, true);
		command = "ALTER TRIGGER";
	}
	else if (IsA(stmt, CreateTrigStmt) && ((CreateTrigStmt *) stmt)->replace)
	{
		trigname = ((CreateTrigStmt *) stmt)->trigname;
		relid = RangeVarGetRelid(((CreateTrigStmt *) stmt)->relation, NoLock, true);
		command = "CREATE OR REPLACE TRIGGER";
	}
	if (!OidIsValid(relid))
		PG_RETURN_VOID();

	/*
	 * Before the command: remember whether it touches an audit trigger (a
	 * dropped, replaced or renamed one cannot be recognised afterwards).
	 * After: log the table's audit triggers as they now are.
	 */
	if (at_start)
	{
		watched_relid = InvalidOid;
		if (trigname == NULL ? audit_state(relid, true) != '\0' || audit_state(relid, false) != '\0'
			: is_audit_trigger(relid, trigname))
			watched_relid = relid;
		PG_RETURN_VOID();
	}
	if (watched_relid == relid ||
		(trigname == NULL && (audit_state(relid, true) != '\0' || audit_state(relid, false) != '\0')) ||
		(trigname != NULL && is_audit_trigger(relid, trigname)))
		log_audit_change(relid, dbopt_qualified_relname(relid), command, NULL);
	watched_relid = InvalidOid;
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(dbopt_audit_log_guard);

/* BEFORE UPDATE, DELETE or TRUNCATE on dbopt.audit_log. */
Datum
dbopt_audit_log_guard(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("dbopt.audit_log_guard must be fired as a trigger"),
				 errdetail("It keeps dbopt.audit_log append-only."),
				 errhint("It is installed on dbopt.audit_log by CREATE EXTENSION; do not call it.")));
	if (!purge_in_progress)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("dbopt.audit_log is append-only"),
				 errdetail("%s of audit rows is refused; rows are removed only by dbopt.purge_audit_log().",
						   TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? "UPDATE" :
						   TRIGGER_FIRED_BY_DELETE(td->tg_event) ? "DELETE" : "TRUNCATE"),
				 errhint("The extension owner can call SELECT dbopt.purge_audit_log('1 year').")));
	return TRIGGER_FIRED_FOR_ROW(td->tg_event) ? PointerGetDatum(td->tg_trigtuple) : PointerGetDatum(NULL);
}

/* ---------- enable, disable, purge ---------- */

static void
require_own_table(Oid relid, const char *what)
{
	if (relid == audit_log_relid())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dbopt.audit_log cannot be audited"),
				 errdetail("Auditing the audit log would log its own rows without end."),
				 errhint("It is append-only already.")));
	dbopt_require_own_table(relid, what);
}

/* Are dbopt's audit triggers on the table?  (Both come and go together.) */
static bool
audit_installed(Oid relid)
{
	bool		isnull;
	int64		n;

	SPI_connect();
	n = dbopt_spi_int8(psprintf("SELECT count(*) FROM pg_catalog.pg_trigger WHERE tgrelid = %u AND tgname IN ('" AUDIT_ROW_TRIGGER "', '" AUDIT_TRUNCATE_TRIGGER "')",
								relid), &isnull);
	SPI_finish();
	return n > 0;
}

/* enable_audit()'s and disable_audit()'s DDL, which they log as one row each. */
static void
run_audit_ddl(const char *sql)
{
	audit_ddl_by_dbopt = true;
	PG_TRY();
	{
		/* No "does not exist, skipping" notices from the IF EXISTS drops. */
		int			nest = NewGUCNestLevel();

		dbopt_set_local_guc("client_min_messages", "warning");
		dbopt_run_ddl(sql);
		AtEOXact_GUC(true, nest);
	}
	PG_FINALLY();
	{
		audit_ddl_by_dbopt = false;
	}
	PG_END_TRY();
}

/*
 * The columns the row audit trigger on relid leaves out, as the
 * comma-separated literals enable_audit() writes; NULL when it has none.
 */
static char *
audit_row_args(Oid relid)
{
	Relation	rel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	char	   *result = NULL;
	Oid			fn = audit_trigger_fn();

	ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, TriggerRelidNameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_trigger t = (Form_pg_trigger) GETSTRUCT(tup);
		StringInfoData buf;
		bool		isnull;
		bytea	   *ba;
		char	   *p;

		if (t->tgfoid != fn || !TRIGGER_FOR_ROW(t->tgtype))
			continue;
		initStringInfo(&buf);
		ba = DatumGetByteaPP(heap_getattr(tup, Anum_pg_trigger_tgargs, RelationGetDescr(rel), &isnull));
		p = isnull ? NULL : VARDATA_ANY(ba);
		for (int i = 0; p && i < t->tgnargs; i++)
		{
			appendStringInfo(&buf, "%s%s", i ? ", " : "", quote_literal_cstr(p));
			p += strlen(p) + 1;
		}
		result = buf.data;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return result;
}

/*
 * What enable_audit() or disable_audit() will do to relid, from its audit
 * triggers as they are: the one plan both the dry and the real run follow.
 * enable: args are the wanted exclusions ("" for none).
 */
typedef enum AuditStep
{
	AUDIT_NOTHING,				/* already as wanted */
	AUDIT_CREATE,				/* no audit triggers yet */
	AUDIT_REPLACE,				/* triggers there, but not as wanted */
	AUDIT_DROP
} AuditStep;

static AuditStep
plan_audit(Oid relid, bool enable, const char *args, char **why)
{
	char		row = audit_state(relid, true);
	char		trunc = audit_state(relid, false);
	char	   *have = audit_row_args(relid);
	StringInfoData w;

	*why = NULL;
	if (!enable)
		return row != '\0' || trunc != '\0' || audit_installed(relid) ? AUDIT_DROP : AUDIT_NOTHING;
	if (row == '\0' && trunc == '\0' && !audit_installed(relid))
		return AUDIT_CREATE;
	initStringInfo(&w);
	if (row != TRIGGER_FIRES_ALWAYS)
		appendStringInfo(&w, "%srow trigger %s", w.len ? ", " : "", state_word(row));
	if (trunc != TRIGGER_FIRES_ALWAYS)
		appendStringInfo(&w, "%struncate trigger %s", w.len ? ", " : "", state_word(trunc));
	if (have && strcmp(have, args) != 0)
		appendStringInfo(&w, "%sleft out %s", w.len ? ", " : "", have[0] ? have : "no columns");
	if (w.len == 0)
		return AUDIT_NOTHING;
	*why = w.data;
	return AUDIT_REPLACE;
}

PG_FUNCTION_INFO_V1(dbopt_enable_audit);

Datum
dbopt_enable_audit(PG_FUNCTION_ARGS)
{
	Oid			relid;
	ArrayType  *exclude = PG_ARGISNULL(1) ? NULL : PG_GETARG_ARRAYTYPE_P(1);
	bool		dry_run = dbopt_steering_bool(fcinfo, 2, "dry_run");
	char	   *table;
	StringInfoData args,
				sql;
	Datum	   *cols = NULL;
	bool	   *colnulls = NULL;
	int			ncols = 0;
	char	   *result;
	char	   *why;
	AuditStep	step;
	const char *leaving;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("relation must not be NULL"),
				 errdetail("enable_audit() installs the audit triggers on one table."),
				 errhint("Name the table, for example dbopt.enable_audit('app.invoices').")));
	relid = PG_GETARG_OID(0);
	require_own_table(relid, "enable_audit()");
	table = dbopt_qualified_relname(relid);
	initStringInfo(&args);
	if (exclude)
		deconstruct_array(exclude, TEXTOID, -1, false, TYPALIGN_INT, &cols, &colnulls, &ncols);
	for (int i = 0; i < ncols; i++)
	{
		char	   *col;

		if (colnulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("exclude_columns must not contain NULL"),
					 errdetail("Each element names one column to leave out of the audit rows."),
					 errhint("Remove the NULL, or pass NULL instead of the array to log every column.")));
		col = TextDatumGetCString(cols[i]);

		dbopt_require_column(relid, col, "exclude_columns names columns to leave out of the audit rows.", NULL);
		appendStringInfo(&args, "%s%s", i ? ", " : "", quote_literal_cstr(col));
	}
	leaving = ncols ? psprintf(", leaving out %s", args.data) : "";
	step = plan_audit(relid, true, args.data, &why);
	if (step == AUDIT_NOTHING)
		result = psprintf("audit already on %s%s", table, leaving);
	else
		result = psprintf("%s audit on %s%s%s%s%s", dry_run ? "would enable" : "enabled", table, leaving,
						  why ? " (replacing triggers: " : "", why ? why : "", why ? ")" : "");
	if (!dry_run && step != AUDIT_NOTHING)
	{
		initStringInfo(&sql);
		/* Either trigger may be missing (dropped by hand): IF EXISTS, each. */
		appendStringInfo(&sql, "DROP TRIGGER IF EXISTS " AUDIT_ROW_TRIGGER " ON %s;"
						 " DROP TRIGGER IF EXISTS " AUDIT_TRUNCATE_TRIGGER " ON %s;", table, table);
		appendStringInfo(&sql,
						 " CREATE TRIGGER " AUDIT_ROW_TRIGGER " AFTER INSERT OR UPDATE OR DELETE ON %s"
						 "   FOR EACH ROW EXECUTE FUNCTION dbopt.audit_trigger(%s);"
						 " CREATE TRIGGER " AUDIT_TRUNCATE_TRIGGER " AFTER TRUNCATE ON %s"
						 "   FOR EACH STATEMENT EXECUTE FUNCTION dbopt.audit_trigger();"
		/* Fired in replica mode too: session_replication_role cannot bypass them. */
						 " ALTER TABLE %s ENABLE ALWAYS TRIGGER " AUDIT_ROW_TRIGGER ","
						 "   ENABLE ALWAYS TRIGGER " AUDIT_TRUNCATE_TRIGGER,
						 table, args.data, table, table);
		run_audit_ddl(sql.data);
		log_audit_change(relid, table, "enable_audit", "AUDIT ON");
	}
	dbopt_log_action("enable_audit", table,
					 step == AUDIT_NOTHING ? "unchanged" : dry_run ? "would enable" : "enabled",
					 step == AUDIT_NOTHING ? 0 : 2, -1,
					 ncols ? psprintf("excluding %s", args.data) : "all columns");
	PG_RETURN_TEXT_P(cstring_to_text(result));
}

PG_FUNCTION_INFO_V1(dbopt_disable_audit);

Datum
dbopt_disable_audit(PG_FUNCTION_ARGS)
{
	Oid			relid;
	bool		dry_run = dbopt_steering_bool(fcinfo, 1, "dry_run");
	char	   *table;
	char	   *why;
	AuditStep	step;

	dbopt_require_arg(fcinfo, 0, "relation");
	relid = PG_GETARG_OID(0);
	require_own_table(relid, "disable_audit()");
	table = dbopt_qualified_relname(relid);
	step = plan_audit(relid, false, NULL, &why);
	if (!dry_run && step == AUDIT_DROP)
	{
		run_audit_ddl(psprintf("DROP TRIGGER IF EXISTS " AUDIT_ROW_TRIGGER " ON %s;"
							   " DROP TRIGGER IF EXISTS " AUDIT_TRUNCATE_TRIGGER " ON %s", table, table));
		log_audit_change(relid, table, "disable_audit", "AUDIT OFF");
	}
	dbopt_log_action("disable_audit", table,
					 step == AUDIT_NOTHING ? "unchanged" : dry_run ? "would disable" : "disabled",
					 step == AUDIT_NOTHING ? 0 : 2, -1, "rows already in dbopt.audit_log stay");
	if (step == AUDIT_NOTHING)
		PG_RETURN_TEXT_P(cstring_to_text(psprintf("audit is not on %s", table)));
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("%s audit on %s", dry_run ? "would disable" : "disabled", table)));
}

/* The rows purge_audit_log() takes, in its dry run and its real one alike. */
#define PURGE_AUDIT_ROWS "logged_at < pg_catalog.now() - $1"

PG_FUNCTION_INFO_V1(dbopt_purge_audit_log);

Datum
dbopt_purge_audit_log(PG_FUNCTION_ARGS)
{
	Datum		older_than;
	bool		dry_run = dbopt_steering_bool(fcinfo, 1, "dry_run");
	Interval	zero;
	Oid			types[1] = {INTERVALOID};
	Datum		values[1];
	int64		n = 0;
	bool		isnull;

	dbopt_require_arg(fcinfo, 0, "older_than");
	older_than = IntervalPGetDatum(dbopt_interval_or_text_arg(fcinfo, 0, "older_than"));
	values[0] = older_than;
	if (GetUserId() != dbopt_extension_owner() && !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only the owner of the dbopt extension may purge the audit log"),
				 errdetail("The audit log is append-only for everyone else."),
				 errhint("Ask the extension owner to run dbopt.purge_audit_log().")));
	memset(&zero, 0, sizeof(zero));
	if (DatumGetInt32(DirectFunctionCall2(interval_cmp, older_than, IntervalPGetDatum(&zero))) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("older_than must be positive"),
				 errdetail("Audit rows logged before now() minus older_than are deleted."),
				 errhint("For example dbopt.purge_audit_log('1 year').")));
	SPI_connect();
	if (dry_run)
	{
		/* Same rows, same snapshot rule (read_only false) as the DELETE below. */
		if (SPI_execute_with_args("SELECT count(*) FROM dbopt.audit_log WHERE " PURGE_AUDIT_ROWS,
								  1, types, values, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not count audit rows");
		n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	else
	{
		/* rows locked by someone else: give up after dbopt.lock_timeout, do not wait */
		int			nest = dbopt_push_lock_timeout();

		purge_in_progress = true;
		PG_TRY();
		{
			if (SPI_execute_with_args("DELETE FROM dbopt.audit_log WHERE " PURGE_AUDIT_ROWS,
									  1, types, values, NULL, false, 0) != SPI_OK_DELETE)
				elog(ERROR, "could not purge audit rows");
			n = (int64) SPI_processed;
		}
		PG_FINALLY();
		{
			purge_in_progress = false;
		}
		PG_END_TRY();
		AtEOXact_GUC(true, nest);
	}
	SPI_finish();
	dbopt_log_action("purge_audit_log", "dbopt.audit_log", dry_run ? "would delete" : "deleted", n, -1,
					 psprintf("audit rows older than %s%s",
							  DatumGetCString(DirectFunctionCall1(interval_out, older_than)),
							  dry_run ? "; the real run stops if a row stays locked past dbopt.lock_timeout" : ""));
	PG_RETURN_INT64(n);
}
