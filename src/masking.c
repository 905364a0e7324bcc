/*-------------------------------------------------------------------------
 *
 * masking.c
 *	  Sensitive columns: mark_sensitive(), create_masked_view(), and
 *	  encrypt_value()/decrypt_value() over pgcrypto.
 *
 * The masking functions themselves are plain SQL (pure, for everyone);
 * here are the parts that change things and so check ownership, and the
 * pgcrypto calls, which find pgcrypto wherever CREATE EXTENSION put it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

#include "dbopt/isolate.h"
#include "dbopt/util.h"

static const char *const kinds[] = {
	"email", "phone", "name", "address", "national_id", "financial", "free_text"
};

static bool
known_kind(const char *kind)
{
	for (int i = 0; i < lengthof(kinds); i++)
		if (strcmp(kinds[i], kind) == 0)
			return true;
	return false;
}

PG_FUNCTION_INFO_V1(dbopt_mark_sensitive);

Datum
dbopt_mark_sensitive(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *column = NameStr(*PG_GETARG_NAME(1));
	char	   *kind = text_to_cstring(PG_GETARG_TEXT_PP(2));
	Oid			types[4] = {REGCLASSOID, NAMEOID, TEXTOID, NAMEOID};
	Datum		values[4];

	dbopt_require_own_table(relid, "mark_sensitive()");
	dbopt_require_column(relid, column, "The column is named exactly, without quotes.", NULL);
	if (!known_kind(kind))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown kind of sensitive data \"%s\"", kind),
				 errdetail("The kind decides how create_masked_view() masks the column."),
				 errhint("Use one of email, phone, name, address, national_id, financial, free_text.")));
	values[0] = ObjectIdGetDatum(relid);
	values[1] = PG_GETARG_DATUM(1);
	values[2] = CStringGetTextDatum(kind);
	values[3] = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(GetUserId(), false)));
	dbopt_write_elevated("INSERT INTO dbopt.sensitive_columns (relation, column_name, kind, marked_by)"
				   " VALUES ($1, $2, $3, $4)"
				   " ON CONFLICT (relation, column_name) DO UPDATE"
				   "   SET kind = excluded.kind, marked_at = excluded.marked_at, marked_by = excluded.marked_by"
				   " RETURNING relation",
				   4, types, values, NULL, NULL);
	dbopt_log_action("mark_sensitive", dbopt_qualified_relname(relid), "marked", 1, -1,
					 psprintf("column %s as %s", quote_identifier(column), kind));
	PG_RETURN_VOID();
}

/* The SELECT-list expression that shows a column of a kind, masked. */
static char *
masked_expr(const char *col, Oid type, const char *kind)
{
	const char *c = quote_identifier(col);

	if (kind == NULL || type == BYTEAOID)
		return (char *) c;		/* not sensitive, or stored encrypted already */
	if (strcmp(kind, "email") == 0)
		return psprintf("dbopt.mask_email(%s::text)", c);
	if (strcmp(kind, "phone") == 0)
		return psprintf("dbopt.mask_phone(%s::text)", c);
	if (strcmp(kind, "name") == 0)
		return psprintf("dbopt.mask_text(%s::text, 1, 0)", c);
	if (strcmp(kind, "national_id") == 0 || strcmp(kind, "financial") == 0)
		return psprintf("dbopt.mask_text(%s::text, 0, 4)", c);
	if (strcmp(kind, "address") == 0)
		return psprintf("dbopt.mask_text(%s::text, 0, 0)", c);
	return psprintf("CASE WHEN %s IS NULL THEN NULL ELSE '[redacted]' END", c);
}

PG_FUNCTION_INFO_V1(dbopt_create_masked_view);

Datum
dbopt_create_masked_view(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *view_name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	List	   *names;
	char	   *schema;
	char	   *view;
	char	   *table;
	StringInfoData sql;
	Relation	rel;
	TupleDesc	desc;
	Oid			types[1] = {REGCLASSOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	int			nest;
	int			masked = 0;

	dbopt_require_own_table(relid, "create_masked_view()");
	/* Longer than any schema-qualified name, quoted: refused rather than truncated. */
	if (strlen(view_name) > 4 * NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("view name \"%.40s...\" is too long", view_name),
				 errdetail("A name has at most %d bytes, and a schema-qualified one two such names.", NAMEDATALEN - 1),
				 errhint("Pass a shorter name.")));
	if (!SplitIdentifierString(pstrdup(view_name), '.', &names) || list_length(names) < 1 ||
		list_length(names) > 2 || strlen((char *) llast(names)) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid view name \"%s\"", view_name),
				 errdetail("A view name is a name, or a schema and a name, written as in SQL."),
				 errhint("Quote names that need it, for example '\"Masked\".\"clients view\"'.")));
	schema = list_length(names) == 2 ? (char *) linitial(names) : get_namespace_name(get_rel_namespace(relid));
	view = quote_qualified_identifier(schema, (char *) llast(names));
	table = dbopt_qualified_relname(relid);

	SPI_connect();
	if (SPI_execute_with_args("SELECT column_name::text, kind FROM dbopt.sensitive_columns WHERE relation = $1",
							  1, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read dbopt.sensitive_columns");
	rel = relation_open(relid, AccessShareLock);
	desc = RelationGetDescr(rel);
	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE VIEW %s AS SELECT ", view);
	for (int i = 0, out = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		const char *kind = NULL;

		if (att->attisdropped)
			continue;
		for (uint64 r = 0; r < SPI_processed; r++)
			if (strcmp(SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1), NameStr(att->attname)) == 0)
				kind = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2);
		if (kind && att->atttypid != BYTEAOID)
			masked++;
		appendStringInfo(&sql, "%s%s AS %s", out++ ? ", " : "",
						 masked_expr(NameStr(att->attname), att->atttypid, kind),
						 quote_identifier(NameStr(att->attname)));
	}
	relation_close(rel, AccessShareLock);
	appendStringInfo(&sql, " FROM %s", table);

	/* The caller owns the view, so only the grants they give reach the data. */
	nest = dbopt_push_lock_timeout();
	if (SPI_execute(sql.data, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not create %s", view);
	AtEOXact_GUC(true, nest);
	SPI_finish();
	dbopt_log_action("create_masked_view", table, "created", masked, -1, psprintf("view %s", view));
	PG_RETURN_TEXT_P(cstring_to_text(view));
}

/* Call a pgcrypto function found in pgcrypto's schema, whatever it is. */
static Datum
call_pgcrypto(const char *fn, Oid argtype1, Datum a1, Datum a2)
{
	Oid			nsp = dbopt_extension_schema("pgcrypto");
	Oid			argtypes[2] = {argtype1, TEXTOID};
	Oid			fnoid;

	if (!OidIsValid(nsp))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pgcrypto is not installed in this database"),
				 errdetail("encrypt_value() and decrypt_value() use its pgp_sym_encrypt() and pgp_sym_decrypt()."),
				 errhint("CREATE EXTENSION pgcrypto;")));
	fnoid = LookupFuncName(list_make2(makeString(get_namespace_name(nsp)), makeString((char *) fn)),
						   2, argtypes, false);
	return OidFunctionCall2(fnoid, a1, a2);
}

PG_FUNCTION_INFO_V1(dbopt_encrypt_value);

Datum
dbopt_encrypt_value(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(call_pgcrypto("pgp_sym_encrypt", TEXTOID, PG_GETARG_DATUM(0), PG_GETARG_DATUM(1)));
}

PG_FUNCTION_INFO_V1(dbopt_decrypt_value);

Datum
dbopt_decrypt_value(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(call_pgcrypto("pgp_sym_decrypt", BYTEAOID, PG_GETARG_DATUM(0), PG_GETARG_DATUM(1)));
}

PG_FUNCTION_INFO_V1(dbopt_mask_text);

/*
 * mask_text(value, keep_first, keep_last): counts are characters, not
 * bytes.  A negative count is an error rather than NULL, so that a typo
 * never looks like a masked value.
 */
Datum
dbopt_mask_text(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	int32		first = PG_GETARG_INT32(1);
	int32		last = PG_GETARG_INT32(2);
	const char *s = VARDATA_ANY(value);
	int			bytes = VARSIZE_ANY_EXHDR(value);
	int			nchars = pg_mbstrlen_with_len(s, bytes);
	StringInfoData buf;
	int			i;
	int			pos = 0;

	if (first < 0 || last < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("keep_first and keep_last must not be negative"),
				 errdetail("They count the characters left visible at each end."),
				 errhint("Pass 0 to mask that end entirely.")));
	initStringInfo(&buf);
	for (i = 0; i < nchars; i++)
	{
		int			len = pg_mblen(s + pos);
		bool		keep = nchars > (int64) first + last && (i < first || i >= nchars - last);

		if (keep)
			appendBinaryStringInfo(&buf, s + pos, len);
		else
			appendStringInfoChar(&buf, '*');
		pos += len;
	}
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}
