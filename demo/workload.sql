-- =====================================================================
-- dbopt demo: short application workload (a few seconds)
--
-- Runs typical SaaS queries against schema "app" so that
-- pg_stat_statements and pg_stat_user_tables/indexes have statistics.
-- All statements go through EXECUTE ... USING, so pg_stat_statements
-- sees parameterized queries ($1, $2, ...).
--
-- Note: these statements run inside DO blocks, so they are "nested"
-- statements. pg_stat_statements records them only when
-- pg_stat_statements.track = 'all'. The script tries to set this for its
-- own session. If it is not allowed (not a superuser and no
-- GRANT SET ON PARAMETER), set it in postgresql.conf instead.
--
-- On purpose, no query here filters or sorts app.documents by title, so
-- idx_documents_title stays unused.
--
-- Run with:  psql -v ON_ERROR_STOP=1 -f demo/workload.sql
-- =====================================================================

\set QUIET on
SET client_min_messages = warning;

DO $$
BEGIN
    PERFORM set_config('pg_stat_statements.track', 'all', false);
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'could not set pg_stat_statements.track = all; nested statements may not be recorded';
END
$$;

SELECT setseed(0.42) AS seed \gset

\echo 'workload: invoice lookups by client_id'
DO $$
DECLARE
    n bigint;
    s numeric;
BEGIN
    FOR i IN 1..2000 LOOP
        EXECUTE 'SELECT count(*), coalesce(sum(amount), 0) FROM app.invoices WHERE client_id = $1'
            INTO n, s
            USING (1 + floor(random() * 10000))::bigint;
    END LOOP;
END
$$;

\echo 'workload: client lookups by email (no index -> sequential scan)'
DO $$
DECLARE
    emails text[];
    rec    record;
BEGIN
    SELECT array_agg(email ORDER BY id) INTO emails FROM app.clients;
    FOR i IN 1..300 LOOP
        EXECUTE 'SELECT id, organization_id, name, country FROM app.clients WHERE email = $1'
            INTO rec
            USING emails[1 + floor(random() * array_length(emails, 1))::int];
    END LOOP;
END
$$;

\echo 'workload: recent events by organization and time range'
DO $$
DECLARE
    n        bigint;
    from_ts  timestamptz;
BEGIN
    FOR i IN 1..1000 LOOP
        from_ts := now() - (1 + floor(random() * 90)) * interval '1 day';
        EXECUTE 'SELECT count(*) FROM app.events
                 WHERE organization_id = $1 AND created_at >= $2 AND created_at < $3'
            INTO n
            USING (1 + floor(random() * 200))::bigint, from_ts, from_ts + interval '30 days';
    END LOOP;
END
$$;

\echo 'workload: activity report per organization (last 6 months)'
DO $$
BEGIN
    FOR i IN 1..200 LOOP
        EXECUTE
            'SELECT kind, count(*) AS n FROM app.events
             WHERE organization_id = $1 AND created_at >= $2
             GROUP BY kind ORDER BY n DESC'
            USING (1 + floor(random() * 200))::bigint, now() - interval '6 months';
    END LOOP;
END
$$;

\echo 'workload: event history (random month in the past 36 months)'
DO $$
DECLARE
    n        bigint;
    month_ts timestamptz;
BEGIN
    FOR i IN 1..400 LOOP
        month_ts := date_trunc('month', now()) - floor(random() * 37) * interval '1 month';
        EXECUTE 'SELECT count(*) FROM app.events
                 WHERE organization_id = $1 AND created_at >= $2 AND created_at < $3'
            INTO n
            USING (1 + floor(random() * 200))::bigint, month_ts, month_ts + interval '1 month';
    END LOOP;
END
$$;

\echo 'workload: event detail by id'
DO $$
BEGIN
    FOR i IN 1..200 LOOP
        EXECUTE 'SELECT id, organization_id, kind, payload, created_at FROM app.events WHERE id = $1'
            USING (1 + floor(random() * 60000))::bigint;
    END LOOP;
END
$$;

\echo 'workload: new events (current month)'
DO $$
DECLARE
    org bigint;
BEGIN
    FOR i IN 1..500 LOOP
        org := (1 + floor(random() * 200))::bigint;
        EXECUTE 'INSERT INTO app.events (organization_id, user_id, kind, payload, created_at)
                 VALUES ($1, $2, $3, $4, now())'
            USING org,
                  org + 200 * floor(random() * 40)::bigint,
                  (ARRAY['login', 'document.viewed', 'invoice.sent', 'export.csv'])[1 + floor(random() * 4)::int],
                  jsonb_build_object('source', 'web', 'duration_ms', 20 + floor(random() * 500)::int);
    END LOOP;
END
$$;

\echo 'workload: invoice status updates'
DO $$
BEGIN
    FOR i IN 1..300 LOOP
        EXECUTE 'UPDATE app.invoices SET status = ''paid'', paid_at = now()
                 WHERE id = $1 AND status = ''sent'''
            USING (1 + floor(random() * 50000))::bigint;
    END LOOP;
    FOR i IN 1..100 LOOP
        EXECUTE 'UPDATE app.invoices SET status = ''sent''
                 WHERE id = $1 AND status = ''draft'''
            USING (1 + floor(random() * 50000))::bigint;
    END LOOP;
END
$$;

\echo 'workload: documents by organization'
DO $$
BEGIN
    FOR i IN 1..1000 LOOP
        EXECUTE
            'SELECT id, client_id, title, created_at FROM app.documents
             WHERE organization_id = $1
             ORDER BY created_at DESC LIMIT 20'
            USING (1 + floor(random() * 200))::bigint;
    END LOOP;
END
$$;

\echo 'workload: users of an organization'
DO $$
BEGIN
    FOR i IN 1..300 LOOP
        EXECUTE
            'SELECT id, email, full_name, last_login_at FROM app.users
             WHERE organization_id = $1 ORDER BY email'
            USING (1 + floor(random() * 200))::bigint;
    END LOOP;
END
$$;

\echo 'workload: client pages (clients, their documents and invoices)'
DO $$
DECLARE
    org bigint;
BEGIN
    FOR i IN 1..300 LOOP
        org := (1 + floor(random() * 200))::bigint;
        EXECUTE 'SELECT id, name, email, country FROM app.clients WHERE organization_id = $1 ORDER BY name'
            USING org;
        EXECUTE 'SELECT id, title, created_at FROM app.documents WHERE client_id = $1 ORDER BY created_at DESC'
            USING org + 200 * floor(random() * 50)::bigint;
        EXECUTE 'SELECT id, title, body, created_at FROM app.documents WHERE id = $1'
            USING (1 + floor(random() * 30000))::bigint;
        EXECUTE 'SELECT status, count(*), sum(amount) FROM app.invoices
                 WHERE organization_id = $1 AND issued_at >= $2 GROUP BY status'
            USING org, now() - interval '90 days';
    END LOOP;
END
$$;

\echo 'workload: revenue dashboard (materialized view) and active users'
DO $$
BEGIN
    FOR i IN 1..200 LOOP
        EXECUTE 'SELECT month, total, invoice_count FROM app.mv_monthly_revenue
                 WHERE organization_id = $1 ORDER BY month DESC LIMIT 12'
            USING (1 + floor(random() * 200))::bigint;
    END LOOP;
    FOR i IN 1..50 LOOP
        EXECUTE 'SELECT count(*) FROM app.users WHERE last_login_at >= $1'
            USING now() - (1 + floor(random() * 6)) * interval '1 hour';
    END LOOP;
END
$$;

\set QUIET off
\echo 'dbopt demo workload finished'
