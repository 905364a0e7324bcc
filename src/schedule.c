/*-------------------------------------------------------------------------
 *
 * schedule.c
 *	  Job schedules: an interval ('30 seconds', '1 hour') or a five-field
 *	  cron expression ('*\/15 * * * *'), parsed once and asked for the next
 *	  time it fires after a given instant, in dbopt.timezone.
 *
 * Cron fields follow Vixie cron: minute 0-59, hour 0-23, day of month
 * 1-31, month 1-12 or JAN-DEC, day of week 0-7 or SUN-SAT (0 and 7 are
 * Sunday); each a list of '*', 'n', 'a-b', with an optional '/step'.
 * When both day fields are restricted, a day matches if either does.
 * Matching walks local wall-clock time, so '30 2 * * *' means 02:30 on the
 * clock; a time skipped by a DST change fires at the first valid instant
 * after it, and a repeated hour fires once.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/xact.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "dbopt/dbopt.h"
#include "dbopt/schedule.h"
#include "dbopt/util.h"

#define MINUTE_USECS ((int64) 60 * USECS_PER_SEC)

typedef struct FieldSpec
{
	const char *name;
	int			lo;
	int			hi;
	const char *const *names;	/* names for lo, lo+1, ..., or NULL */
} FieldSpec;

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
"JUL", "AUG", "SEP", "OCT", "NOV", "DEC", NULL};
static const char *const day_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", NULL};

static const FieldSpec fields[5] = {
	{"minute", 0, 59, NULL},
	{"hour", 0, 23, NULL},
	{"day of month", 1, 31, NULL},
	{"month", 1, 12, month_names},
	{"day of week", 0, 7, day_names},
};

static void
bad_schedule(const char *text, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid schedule \"%s\"", text),
			 errdetail("%s", detail),
			 errhint("Use an interval such as '30 seconds' or '1 hour', or five cron fields such as '*/15 * * * *' (minute hour day-of-month month day-of-week).")));
}

/* A number or a name at *p; advances *p. */
static bool
read_value(const char **p, const FieldSpec *f, int *v)
{
	const char *s = *p;

	if (isdigit((unsigned char) *s))
	{
		long		n = 0;

		while (isdigit((unsigned char) *s))
		{
			n = n * 10 + (*s - '0');
			if (n > 1000)
				return false;
			s++;
		}
		*v = (int) n;
		*p = s;
		return true;
	}
	if (f->names && isalpha((unsigned char) s[0]) && isalpha((unsigned char) s[1]) &&
		isalpha((unsigned char) s[2]))
	{
		int			i;

		for (i = 0; f->names[i]; i++)
			if (pg_strncasecmp(s, f->names[i], 3) == 0)
			{
				*v = f->lo + i;
				*p = s + 3;
				return true;
			}
	}
	return false;
}

/* One cron field into bits[lo..hi]; false with *why set on a bad field. */
static bool
parse_field(const char *text, const FieldSpec *f, bool *bits, bool *star, char **why)
{
	const char *p = text;

	*star = (strcmp(text, "*") == 0);
	memset(bits, 0, sizeof(bool) * 64);
	for (;;)
	{
		int			a,
					b,
					step = 1,
					v;

		if (*p == '*')
		{
			a = f->lo;
			b = f->hi;
			p++;
		}
		else
		{
			if (!read_value(&p, f, &a))
			{
				*why = psprintf("The %s field \"%s\" has something that is not a number%s.",
								f->name, text, f->names ? " or a name" : "");
				return false;
			}
			b = a;
			if (*p == '-')
			{
				p++;
				if (!read_value(&p, f, &b))
				{
					*why = psprintf("The %s field \"%s\" has a range without an end.", f->name, text);
					return false;
				}
			}
		}
		if (*p == '/')
		{
			p++;
			if (!read_value(&p, &fields[0], &step) || step < 1)
			{
				*why = psprintf("The %s field \"%s\" has a step that is not a positive number.", f->name, text);
				return false;
			}
			if (a == b)			/* "5/15" means from 5 to the end */
				b = f->hi;
		}
		if (a < f->lo || b > f->hi || a > b)
		{
			*why = psprintf("The %s field \"%s\" is out of range: it takes %d to %d%s.",
							f->name, text, f->lo, f->hi, a > b ? ", low to high" : "");
			return false;
		}
		for (v = a; v <= b; v += step)
			bits[v] = true;
		if (*p == '\0')
			return true;
		if (*p != ',')
		{
			*why = psprintf("The %s field \"%s\" has an unexpected \"%c\".", f->name, text, *p);
			return false;
		}
		p++;
	}
}

void
dbopt_parse_schedule(const char *text, DboptSchedule *s)
{
	char	   *copy = pstrdup(text);
	char	   *tok[6];
	int			n = 0;
	char	   *p = copy;
	const char *cron = NULL;

	memset(s, 0, sizeof(*s));
	while (*p && isspace((unsigned char) *p))
		p++;
	if (*p == '@')
	{
		if (pg_strcasecmp(p, "@hourly") == 0)
			cron = "0 * * * *";
		else if (pg_strcasecmp(p, "@daily") == 0 || pg_strcasecmp(p, "@midnight") == 0)
			cron = "0 0 * * *";
		else if (pg_strcasecmp(p, "@weekly") == 0)
			cron = "0 0 * * 0";
		else if (pg_strcasecmp(p, "@monthly") == 0)
			cron = "0 0 1 * *";
		else if (pg_strcasecmp(p, "@yearly") == 0 || pg_strcasecmp(p, "@annually") == 0)
			cron = "0 0 1 1 *";
		else
			bad_schedule(text, "Known shorthands are @hourly, @daily, @weekly, @monthly and @yearly.");
		copy = pstrdup(cron);
		p = copy;
	}

	/*
	 * Five fields, the first three of digits and * / , - only (the last two
	 * may also hold names), make a cron expression; "1 day 2 hours 30" does
	 * not, and is read as an interval.
	 */
	{
		char	   *save = NULL;
		char	   *t;
		bool		cronlike;
		int			i;

		for (t = strtok_r(p, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
		{
			if (n < 6)
				tok[n] = t;
			n++;
		}
		cronlike = (n == 5);
		for (i = 0; cronlike && i < 5; i++)
			if (strspn(tok[i], i < 3 ? "0123456789*/,-" :
					   "0123456789*/,-ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != strlen(tok[i]))
				cronlike = false;
		if (cronlike)
		{
			char	   *why = NULL;
			int			v;

			s->is_cron = true;
			for (i = 0; i < 5; i++)
			{
				bool		all[64];
				bool		star;

				if (!parse_field(tok[i], &fields[i], all, &star, &why))
					bad_schedule(text, why);
				for (v = fields[i].lo; v <= fields[i].hi; v++)
				{
					if (!all[v])
						continue;
					if (i == 0)
						s->minutes |= UINT64CONST(1) << v;
					else if (i == 1)
						s->hours |= UINT64CONST(1) << v;
					else if (i == 2)
						s->mdays |= UINT64CONST(1) << v;
					else if (i == 3)
						s->months |= UINT64CONST(1) << v;
					else
						s->wdays |= UINT64CONST(1) << (v % 7);
				}
				if (i == 2)
					s->mday_star = star;
				if (i == 4)
					s->wday_star = star;
			}
			return;
		}
		if (strpbrk(text, "*/,") != NULL)
			bad_schedule(text, psprintf("A cron expression has five fields (minute hour day-of-month month day-of-week); this has %d.", n));
	}

	/* An interval. */
	{
		Interval	iv;
		Interval	min;
		char	   *problem;

		if (!dbopt_interval_in_safe(text, &iv, &problem))
			bad_schedule(text, "It is neither an interval nor five cron fields.");
		memset(&min, 0, sizeof(min));
		min.time = USECS_PER_SEC;
		if (DatumGetInt32(DirectFunctionCall2(interval_cmp, IntervalPGetDatum(&iv),
											  IntervalPGetDatum(&min))) < 0)
			bad_schedule(text, "An interval schedule must be at least 1 second.");
		s->every = iv;
	}
}

/* The zone schedules are read in: dbopt.timezone, or the session's. */
static pg_tz *
schedule_zone(void)
{
	pg_tz	   *tz;

	if (dbopt_timezone == NULL || dbopt_timezone[0] == '\0')
		return session_timezone;
	tz = pg_tzset(dbopt_timezone);
	if (tz == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid dbopt.timezone \"%s\"", dbopt_timezone),
				 errdetail("Schedules are evaluated in this time zone."),
				 errhint("Use a name from pg_timezone_names, or an empty string for the server's TimeZone.")));
	return tz;
}

static bool
day_matches(const DboptSchedule *s, int mday, int wday)
{
	bool		m = (s->mdays >> mday) & 1;
	bool		w = (s->wdays >> wday) & 1;

	if (s->mday_star || s->wday_star)
		return m && w;
	return m || w;
}

TimestampTz
dbopt_schedule_next(const DboptSchedule *s, TimestampTz after)
{
	pg_tz	   *tz;
	struct pg_tm tm;
	fsec_t		fsec;
	int			tzoff;
	int64		local;
	int64		limit;

	if (!s->is_cron)
		return DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
													   TimestampTzGetDatum(after),
													   IntervalPGetDatum(&s->every)));
	tz = schedule_zone();
	if (timestamp2tm(after, &tzoff, &tm, &fsec, NULL, tz) != 0)
		elog(ERROR, "timestamp out of range");
	/* Local wall-clock microseconds, truncated to the minute, then the next minute. */
	tm.tm_sec = 0;
	fsec = 0;
	if (tm2timestamp(&tm, 0, NULL, &local) != 0)
		elog(ERROR, "timestamp out of range");
	local += MINUTE_USECS;
	limit = local + (int64) 5 * 366 * USECS_PER_DAY;

	while (local < limit)
	{
		struct pg_tm lt;
		fsec_t		lf;
		int			wday;

		CHECK_FOR_INTERRUPTS();
		if (timestamp2tm(local, NULL, &lt, &lf, NULL, NULL) != 0)
			break;
		if (!((s->months >> lt.tm_mon) & 1))
		{
			/* First day of the next month, 00:00. */
			lt.tm_mday = 1;
			lt.tm_hour = lt.tm_min = lt.tm_sec = 0;
			if (++lt.tm_mon > 12)
			{
				lt.tm_mon = 1;
				lt.tm_year++;
			}
			tm2timestamp(&lt, 0, NULL, &local);
			continue;
		}
		wday = j2day(date2j(lt.tm_year, lt.tm_mon, lt.tm_mday));
		if (!day_matches(s, lt.tm_mday, wday))
		{
			local += USECS_PER_DAY - ((int64) lt.tm_hour * 60 + lt.tm_min) * MINUTE_USECS;
			continue;
		}
		if (!((s->hours >> lt.tm_hour) & 1))
		{
			local += (int64) (60 - lt.tm_min) * MINUTE_USECS;
			continue;
		}
		if (!((s->minutes >> lt.tm_min) & 1))
		{
			local += MINUTE_USECS;
			continue;
		}
		/* A match on the clock: the instant it names in the zone. */
		{
			TimestampTz result;

			tzoff = DetermineTimeZoneOffset(&lt, tz);
			if (tm2timestamp(&lt, 0, &tzoff, &result) != 0)
				break;
			if (result > after)
				return result;
			local += MINUTE_USECS;	/* a repeated hour: that time has passed */
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("schedule never fires"),
			 errdetail("No time in the next five years matches all five fields."),
			 errhint("Check the day-of-month and month fields, e.g. '0 0 30 2 *' names February 30.")));
	return 0;					/* keep compiler quiet */
}

PG_FUNCTION_INFO_V1(dbopt_schedule_next_run);

/* schedule_next_run(schedule text, after timestamptz): when a schedule next fires. */
Datum
dbopt_schedule_next_run(PG_FUNCTION_ARGS)
{
	DboptSchedule s;
	TimestampTz after = PG_ARGISNULL(1) ? GetCurrentTransactionStartTimestamp() : PG_GETARG_TIMESTAMPTZ(1);

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	if (TIMESTAMP_NOT_FINITE(after))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("after must be a finite time"),
				 errdetail("A schedule fires at times after a given moment; infinity has none."),
				 errhint("Pass a time such as now(), or leave the argument out.")));
	dbopt_parse_schedule(text_to_cstring(PG_GETARG_TEXT_PP(0)), &s);
	PG_RETURN_TIMESTAMPTZ(dbopt_schedule_next(&s, after));
}

PG_FUNCTION_INFO_V1(dbopt_schedule_interval);

/* schedule_interval(schedule): the interval, or the gap between a cron schedule's next two firings. */
Datum
dbopt_schedule_interval(PG_FUNCTION_ARGS)
{
	DboptSchedule s;
	TimestampTz first;

	dbopt_parse_schedule(text_to_cstring(PG_GETARG_TEXT_PP(0)), &s);
	if (!s.is_cron)
	{
		Interval   *iv = palloc(sizeof(Interval));

		*iv = s.every;
		PG_RETURN_INTERVAL_P(iv);
	}
	first = dbopt_schedule_next(&s, GetCurrentTransactionStartTimestamp());
	return DirectFunctionCall2(timestamp_mi,
							   TimestampTzGetDatum(dbopt_schedule_next(&s, first)),
							   TimestampTzGetDatum(first));
}
