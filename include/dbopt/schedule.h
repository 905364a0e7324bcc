/*-------------------------------------------------------------------------
 *
 * schedule.h
 *	  Job schedules: an interval or a five-field cron expression.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DBOPT_SCHEDULE_H
#define DBOPT_SCHEDULE_H

#include "postgres.h"

#include "datatype/timestamp.h"

typedef struct DboptSchedule
{
	bool		is_cron;
	Interval	every;			/* interval schedules */
	uint64		minutes;		/* cron: one bit per allowed value */
	uint64		hours;
	uint64		mdays;
	uint64		months;
	uint64		wdays;			/* 0 = Sunday */
	bool		mday_star;
	bool		wday_star;
} DboptSchedule;

/* Parse a schedule, or raise an error that says what is wrong with it. */
extern void dbopt_parse_schedule(const char *text, DboptSchedule *s);

/* The first time after "after" that the schedule fires, in dbopt.timezone. */
extern TimestampTz dbopt_schedule_next(const DboptSchedule *s, TimestampTz after);

#endif							/* DBOPT_SCHEDULE_H */
