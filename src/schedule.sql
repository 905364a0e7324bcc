-- src/schedule.sql: schedule parsing (cron and interval) (the SQL of src/schedule.c)

-- Job schedules: an interval or a five-field cron expression.
CREATE FUNCTION dbopt.schedule_next_run(schedule text, after timestamp with time zone DEFAULT now())
RETURNS timestamp with time zone
AS 'MODULE_PATHNAME', 'dbopt_schedule_next_run'
LANGUAGE C STABLE;
COMMENT ON FUNCTION dbopt.schedule_next_run(text,timestamp with time zone) IS
    'When a schedule (an interval such as ''1 hour'', or cron fields such as ''*/15 * * * *'' or @daily) next fires after a time, in dbopt.timezone; an invalid schedule is an error saying why';
REVOKE ALL ON FUNCTION dbopt.schedule_next_run(text,timestamp with time zone) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.schedule_next_run(text,timestamp with time zone) TO pg_monitor;

CREATE FUNCTION dbopt.schedule_interval(schedule text)
RETURNS interval
AS 'MODULE_PATHNAME', 'dbopt_schedule_interval'
LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION dbopt.schedule_interval(text) IS
    'The time between two runs of a schedule: the interval itself, or for cron fields the gap between the next two firings';
REVOKE ALL ON FUNCTION dbopt.schedule_interval(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.schedule_interval(text) TO pg_monitor;
