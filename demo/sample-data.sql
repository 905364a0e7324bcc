-- =====================================================================
-- dbopt demo: sample multi-tenant SaaS database (PostgreSQL 15)
--
-- Creates schema "app" and fills it with deterministic data. There are no
-- external files. Timestamps are relative to now(), so the demo always
-- looks current. Some problems are planted on purpose for dbopt to find.
-- Each one is marked with a "-- deliberate problem:" comment.
--
-- Run with:  psql -v ON_ERROR_STOP=1 -f demo/sample-data.sql
-- =====================================================================

\set QUIET on
SET client_min_messages = warning;

-- Fixed seed, so every run makes the same rows (only now() changes).
SELECT setseed(0.42) AS seed \gset

-- Start from a clean schema so the script can be run again.
DROP SCHEMA IF EXISTS app CASCADE;
CREATE SCHEMA app;

-- ---------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------

CREATE TABLE app.organizations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text        NOT NULL,
    plan        text        NOT NULL CHECK (plan IN ('free', 'starter', 'business', 'enterprise')),
    created_at  timestamptz NOT NULL
);

CREATE TABLE app.users (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id  bigint      NOT NULL REFERENCES app.organizations (id),
    email            text        NOT NULL,
    full_name        text        NOT NULL,
    created_at       timestamptz NOT NULL,
    last_login_at    timestamptz,
    CONSTRAINT users_organization_id_email_key UNIQUE (organization_id, email)
);

CREATE TABLE app.clients (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id  bigint NOT NULL REFERENCES app.organizations (id),
    name             text   NOT NULL,
    email            text   NOT NULL,
    phone            text,
    country          text   NOT NULL
);

CREATE TABLE app.documents (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id  bigint      NOT NULL REFERENCES app.organizations (id),
    client_id        bigint      NOT NULL REFERENCES app.clients (id),
    -- deliberate problem: unindexed foreign key. documents.user_id
    -- references app.users(id), but no index on documents has user_id
    -- as its first column.
    user_id          bigint      NOT NULL REFERENCES app.users (id),
    title            text        NOT NULL,
    body             text        NOT NULL,
    created_at       timestamptz NOT NULL
);

-- deliberate problem: invoices.organization_id starts with NO foreign key.
-- The key is added later as NOT VALID, after orphan rows are inserted
-- (see below).
CREATE TABLE app.invoices (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id  bigint        NOT NULL,
    client_id        bigint        NOT NULL REFERENCES app.clients (id),
    amount           numeric(12,2) NOT NULL,
    status           text          NOT NULL CHECK (status IN ('draft', 'sent', 'paid', 'void')),
    issued_at        timestamptz   NOT NULL,
    paid_at          timestamptz
);

-- Events: range-partitioned by month on created_at.
CREATE SEQUENCE app.events_id_seq AS bigint;

CREATE TABLE app.events (
    id               bigint      NOT NULL DEFAULT nextval('app.events_id_seq'),
    organization_id  bigint      NOT NULL,
    user_id          bigint,
    kind             text        NOT NULL,
    payload          jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at       timestamptz NOT NULL,
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);

ALTER SEQUENCE app.events_id_seq OWNED BY app.events.id;

-- One partition per month: from 36 months before the current month up to
-- 3 months after it (40 partitions). The bounds come from now().
DO $$
DECLARE
    first_month timestamptz := date_trunc('month', now()) - interval '36 months';
    m           timestamptz;
BEGIN
    FOR i IN 0..39 LOOP
        m := first_month + make_interval(months => i);
        EXECUTE format(
            'CREATE TABLE app.%I PARTITION OF app.events FOR VALUES FROM (%L) TO (%L)',
            'events_p' || to_char(m, 'YYYYMM'), m, m + interval '1 month');
    END LOOP;
END
$$;

CREATE TABLE app.events_default PARTITION OF app.events DEFAULT;

-- ---------------------------------------------------------------------
-- Data
-- ---------------------------------------------------------------------
-- Each organization (id 1..200) has 40 users and 50 clients. Because the
-- ids are given out in order, org o owns users o, o+200, ..., o+7800 and
-- clients o, o+200, ..., o+9800. The child rows below use these formulas,
-- so they always point to a user/client of the same organization.
-- The volatile values are computed in MATERIALIZED CTEs, so each random()
-- is evaluated exactly once per row.

-- 200 organizations
INSERT INTO app.organizations (name, plan, created_at)
SELECT (ARRAY['Acme','Globex','Initech','Umbrella','Stark','Wayne','Hooli','Vandelay',
              'Soylent','Tyrell','Cyberdyne','Wonka','Aperture','Massive','Pied Piper',
              'Blue Sun','Oscorp','Gringotts','Monarch','Nakatomi'])[1 + (g - 1) % 20]
       || ' ' ||
       (ARRAY['Labs','Systems','Holdings','Consulting','Logistics','Media','Health',
              'Finance','Studios','Analytics'])[1 + ((g - 1) / 20) % 10],
       CASE WHEN r < 0.35 THEN 'free'
            WHEN r < 0.70 THEN 'starter'
            WHEN r < 0.92 THEN 'business'
            ELSE 'enterprise' END,
       now() - interval '48 months' + (g * interval '1 day')   -- all orgs predate the other rows
FROM (SELECT g, random() AS r FROM generate_series(1, 200) AS g OFFSET 0) s
ORDER BY g;

-- 8,000 users (40 per organization)
WITH u AS MATERIALIZED (
    SELECT g,
           ((g - 1) % 200) + 1 AS org,
           (ARRAY['Alice','Bob','Carol','David','Emma','Farid','Grace','Hiro','Ines','Jonas',
                  'Kira','Liam','Maya','Noah','Olga','Pablo','Quinn','Rosa','Sven','Tara'])
               [1 + floor(random() * 20)::int] AS first_name,
           (ARRAY['Smith','Garcia','Müller','Rossi','Dubois','Kowalski','Nakamura','Silva',
                  'Novak','Jensen','Okafor','Larsen','Moreau','Fischer','Costa'])
               [1 + floor(random() * 15)::int] AS last_name,
           random() AS r_created,
           random() AS r_login
    FROM generate_series(1, 8000) AS g
)
INSERT INTO app.users (organization_id, email, full_name, created_at, last_login_at)
SELECT org,
       lower(first_name) || '.' || lower(translate(last_name, 'ü', 'u')) || g || '@org' || org || '.example.com',
       first_name || ' ' || last_name,
       now() - interval '36 months' + r_created * interval '30 months',
       CASE WHEN r_login < 0.15 THEN NULL                      -- never logged in
            ELSE now() - (r_login * r_login) * interval '180 days' END
FROM u
ORDER BY g;

-- 10,000 clients (50 per organization)
WITH c AS MATERIALIZED (
    SELECT g,
           ((g - 1) % 200) + 1 AS org,
           (ARRAY['Northwind','Contoso','Fabrikam','Litware','Adventure Works','Tailspin',
                  'Woodgrove','Proseware','Lucerne','Margie''s Travel','Alpine Ski','Coho Winery',
                  'Fourth Coffee','Wide World','Trey Research'])[1 + floor(random() * 15)::int] AS base,
           (ARRAY['US','GB','DE','FR','NL','ES','IT','PL','SE','CA','AU','JP','BR','IN'])
               [1 + floor(random() * 14)::int] AS country,
           random() AS r_phone
    FROM generate_series(1, 10000) AS g
)
INSERT INTO app.clients (organization_id, name, email, phone, country)
SELECT org,
       base || ' #' || g,
       'billing.' || g || '@' || lower(regexp_replace(base, '[^A-Za-z]', '', 'g')) || '.example.net',
       CASE WHEN r_phone < 0.1 THEN NULL
            ELSE '+1-555-' || lpad((floor(r_phone * 10000000))::int::text, 7, '0') END,
       country
FROM c
ORDER BY g;

-- 30,000 documents (busier organizations have more)
WITH d AS MATERIALIZED (
    SELECT g,
           1 + floor(200 * power(random(), 1.6))::bigint AS org,
           floor(random() * 50)::bigint  AS client_slot,
           floor(random() * 40)::bigint  AS user_slot,
           (ARRAY['Proposal','Contract','Statement of Work','Meeting notes','Quote',
                  'Onboarding checklist','Renewal','Support summary'])[1 + floor(random() * 8)::int] AS kind,
           (ARRAY['Draft prepared for review.',
                  'Signed by both parties.',
                  'Follow-up scheduled next week.',
                  'Pricing updated after call.',
                  'Awaiting client feedback.',
                  'Archived after project close.'])[1 + floor(random() * 6)::int] AS body,
           random() AS r_created
    FROM generate_series(1, 30000) AS g
)
INSERT INTO app.documents (organization_id, client_id, user_id, title, body, created_at)
SELECT org,
       org + 200 * client_slot,
       org + 200 * user_slot,
       kind || ' ' || to_char(g, 'FM00000'),
       body,
       now() - r_created * interval '36 months'
FROM d
ORDER BY g;

-- 50,000 invoices
WITH i AS MATERIALIZED (
    SELECT g,
           1 + floor(200 * power(random(), 1.6))::bigint AS org,
           floor(random() * 50)::bigint AS client_slot,
           round((50 + power(random(), 2) * 9950)::numeric, 2) AS amount,
           random() AS r_status,
           random() AS r_issued,
           random() AS r_paid
    FROM generate_series(1, 50000) AS g
)
INSERT INTO app.invoices (organization_id, client_id, amount, status, issued_at, paid_at)
SELECT org,
       org + 200 * client_slot,
       amount,
       status,
       issued_at,
       CASE WHEN status = 'paid'
            THEN least(now(), issued_at + r_paid * interval '45 days') END
FROM (SELECT i.*,
             now() - r_issued * interval '36 months' AS issued_at,
             CASE WHEN r_status < 0.70 THEN 'paid'
                  WHEN r_status < 0.85 THEN 'sent'
                  WHEN r_status < 0.95 THEN 'draft'
                  ELSE 'void' END AS status
      FROM i) x
ORDER BY g;

-- deliberate problem: orphan rows. These 37 invoices point to
-- organizations that do not exist (ids 900001..900037). They are inserted
-- while invoices.organization_id has no foreign key.
INSERT INTO app.invoices (organization_id, client_id, amount, status, issued_at, paid_at)
SELECT 900000 + g,
       1 + (g * 97) % 10000,
       round((100 + random() * 900)::numeric, 2),
       'sent',
       now() - (g * interval '9 days'),
       NULL
FROM generate_series(1, 37) AS g
ORDER BY g;

-- deliberate problem: foreign key added as NOT VALID after the orphans
-- exist. PostgreSQL does not check the existing rows, so the 37 orphans
-- stay, and the constraint has convalidated = false.
ALTER TABLE app.invoices
    ADD CONSTRAINT invoices_organization_id_fkey
    FOREIGN KEY (organization_id) REFERENCES app.organizations (id) NOT VALID;

-- ~60,000 events spread over the past 36 months (never in the future).
WITH e AS MATERIALIZED (
    SELECT g,
           1 + floor(200 * power(random(), 1.6))::bigint AS org,
           floor(random() * 40)::bigint AS user_slot,
           (ARRAY['login','logout','document.created','document.viewed','invoice.created',
                  'invoice.sent','invoice.paid','client.created','export.csv','settings.changed'])
               [1 + floor(random() * 10)::int] AS kind,
           random() AS r_created,
           random() AS r_ms
    FROM generate_series(1, 60000) AS g
)
INSERT INTO app.events (organization_id, user_id, kind, payload, created_at)
SELECT org,
       org + 200 * user_slot,
       kind,
       jsonb_build_object('source', CASE WHEN g % 3 = 0 THEN 'api' ELSE 'web' END,
                          'duration_ms', floor(r_ms * 900)::int + 20),
       now() - r_created * (now() - (date_trunc('month', now()) - interval '36 months'))
FROM e
ORDER BY g;

-- deliberate problem: 40 reminders scheduled five months ahead, past the
-- last partition (3 months ahead), landed in the default partition.  They
-- block creating that month's partition until they are moved.
INSERT INTO app.events (organization_id, user_id, kind, payload, created_at)
SELECT 1 + g % 50, 1 + g % 50, 'reminder.scheduled', '{"source": "api"}',
       date_trunc('month', now()) + interval '5 months' + g * interval '12 hours'
FROM generate_series(1, 40) AS g;

-- ---------------------------------------------------------------------
-- Indexes
-- ---------------------------------------------------------------------

CREATE INDEX idx_users_last_login     ON app.users (last_login_at);
CREATE INDEX idx_clients_organization ON app.clients (organization_id);
-- deliberate problem: no index on app.clients(email), but the workload
-- looks clients up by email, so every lookup does a sequential scan.

CREATE INDEX idx_documents_org_created ON app.documents (organization_id, created_at);
CREATE INDEX idx_documents_client      ON app.documents (client_id);
-- deliberate problem: unused index. The workload never filters or sorts
-- documents by title.
CREATE INDEX idx_documents_title ON app.documents (title);

CREATE INDEX idx_invoices_org_issued ON app.invoices (organization_id, issued_at);
CREATE INDEX idx_invoices_client     ON app.invoices (client_id);
-- deliberate problem: duplicate index. Same column and definition as
-- idx_invoices_client.
CREATE INDEX idx_invoices_client_dup ON app.invoices (client_id);

-- On the partitioned parent, so every partition gets this index.
CREATE INDEX idx_events_org_created ON app.events (organization_id, created_at);

-- ---------------------------------------------------------------------
-- Materialized views
-- ---------------------------------------------------------------------

CREATE MATERIALIZED VIEW app.mv_monthly_revenue AS
SELECT organization_id,
       date_trunc('month', issued_at) AS month,
       sum(amount)::numeric(14,2)     AS total,
       count(*)                       AS invoice_count
FROM app.invoices
WHERE status <> 'void'
GROUP BY organization_id, date_trunc('month', issued_at)
WITH DATA;

-- The unique index allows REFRESH MATERIALIZED VIEW CONCURRENTLY.
CREATE UNIQUE INDEX mv_monthly_revenue_org_month_key
    ON app.mv_monthly_revenue (organization_id, month);

-- Built on mv_monthly_revenue, so it depends on the first view.
CREATE MATERIALIZED VIEW app.mv_org_revenue_summary AS
SELECT organization_id,
       count(*)   AS months_active,
       sum(total) AS lifetime_total
FROM app.mv_monthly_revenue
GROUP BY organization_id
WITH DATA;

-- deliberate problem: stale materialized views. 500 invoices are added
-- after both views were populated, and the views are not refreshed. These
-- rows have valid organizations, because the NOT VALID foreign key still
-- checks new rows.
WITH n AS MATERIALIZED (
    SELECT g,
           1 + floor(200 * power(random(), 1.6))::bigint AS org,
           floor(random() * 50)::bigint AS client_slot,
           round((50 + power(random(), 2) * 9950)::numeric, 2) AS amount,
           random() AS r_status,
           random() AS r_issued
    FROM generate_series(1, 500) AS g
)
INSERT INTO app.invoices (organization_id, client_id, amount, status, issued_at, paid_at)
SELECT org,
       org + 200 * client_slot,
       amount,
       CASE WHEN r_status < 0.5 THEN 'sent' ELSE 'paid' END,
       now() - r_issued * interval '10 days',
       CASE WHEN r_status >= 0.5 THEN now() END
FROM n
ORDER BY g;

-- ---------------------------------------------------------------------
-- Integrity problems
-- ---------------------------------------------------------------------

-- deliberate problem: a NOT VALID CHECK added after bad rows went in.
-- Three clients have a country that is not a two-letter code.
UPDATE app.clients SET country = 'Germany' WHERE id IN (17, 4242);
UPDATE app.clients SET country = 'uk' WHERE id = 999;
ALTER TABLE app.clients
    ADD CONSTRAINT clients_country_iso CHECK (country ~ '^[A-Z]{2}$') NOT VALID;

-- deliberate problem: a NOT VALID CHECK that no row breaks; it only
-- needs VALIDATE CONSTRAINT.
ALTER TABLE app.invoices
    ADD CONSTRAINT invoices_amount_positive CHECK (amount > 0) NOT VALID;

-- deliberate problem: an int4 serial at 92% of its limit.
CREATE TABLE app.support_tickets (
    id       serial PRIMARY KEY,
    subject  text NOT NULL
);
ALTER SEQUENCE app.support_tickets_id_seq RESTART WITH 1975684957;
INSERT INTO app.support_tickets (subject) VALUES ('Cannot export invoices'), ('SSO login loop');

-- deliberate problem: a unique index that failed to build concurrently,
-- because two clients share an e-mail address.  The index stays, invalid.
UPDATE app.clients SET email = 'billing@example.com' WHERE id IN (11, 12);
\set ON_ERROR_STOP off
\echo 'the next statement fails on purpose (duplicate e-mail addresses):'
CREATE UNIQUE INDEX CONCURRENTLY idx_clients_email_unique ON app.clients (email);
\set ON_ERROR_STOP on

-- deliberate problem: an API request log that nobody trims.  Policy says
-- 90 days; it holds 18 months (~150,000 rows, one every ~5 minutes).
CREATE TABLE app.api_request_log (
    id              bigserial PRIMARY KEY,
    organization_id bigint NOT NULL,
    method          text NOT NULL,
    path            text NOT NULL,
    status          smallint NOT NULL,
    duration_ms     integer NOT NULL,
    requested_at    timestamptz NOT NULL
);
INSERT INTO app.api_request_log (organization_id, method, path, status, duration_ms, requested_at)
SELECT 1 + floor(200 * power(random(), 1.6))::bigint,
       (ARRAY['GET', 'GET', 'GET', 'POST', 'PATCH'])[1 + floor(random() * 5)::int],
       (ARRAY['/v1/invoices', '/v1/clients', '/v1/documents', '/v1/events', '/v1/export'])[1 + floor(random() * 5)::int],
       (ARRAY[200, 200, 200, 200, 201, 204, 400, 404, 500])[1 + floor(random() * 9)::int],
       5 + floor(power(random(), 3) * 2000)::int,
       now() - g * interval '5 minutes 15 seconds'
FROM generate_series(1, 150000) AS g;
CREATE INDEX idx_api_request_log_requested_at ON app.api_request_log (requested_at);

-- ---------------------------------------------------------------------
-- Only the app tables are analyzed, so a non-superuser owner gets no
-- "only superuser can analyze" warnings. ANALYZE on app.events also
-- analyzes all of its partitions.
ANALYZE app.organizations, app.users, app.clients, app.documents, app.invoices,
        app.events, app.api_request_log, app.mv_monthly_revenue, app.mv_org_revenue_summary;

-- Deliberate problem for health_check(): a queue table that autovacuum may
-- not touch, with four rows in five already processed and deleted
-- (dead_tuple_ratio, autovacuum_stale, and table_bloat once analyzed).
CREATE TABLE app.job_queue (id bigserial PRIMARY KEY, payload text NOT NULL, done boolean NOT NULL DEFAULT false)
  WITH (autovacuum_enabled = off);
INSERT INTO app.job_queue (payload, done) SELECT repeat('x', 200), true FROM generate_series(1, 50000);
DELETE FROM app.job_queue WHERE id % 5 <> 0;

\set QUIET off
\echo 'dbopt demo data loaded into schema app'

