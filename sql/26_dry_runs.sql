-- Dry run = real run (issue #19): for each function with a dry run, the
-- dry run on a state and the real run on the same state give the same
-- objects, actions, counts and order ('would X' read as 'X').  A dry
-- run's detail may add what it cannot know (a lock); the real detail must
-- then be where the dry one starts.
CREATE SCHEMA "dr ""s"";";
SET search_path = "dr ""s"";", public;
SET client_min_messages = warning;

-- ---------- validate_constraints ----------
-- "pa;rent" has a CHECK NOT VALID that a row of its inheritance child
-- breaks: VALIDATE recurses into the child, so the plan must count there.
CREATE TABLE "pa;rent" (id int PRIMARY KEY, v int);
CREATE TABLE "ch ""1""" () INHERITS ("pa;rent");
INSERT INTO "pa;rent" VALUES (1, 5);
INSERT INTO "ch ""1""" VALUES (2, -1);
ALTER TABLE "pa;rent" ADD CONSTRAINT "v > 0; chk" CHECK (v > 0) NOT VALID;
-- A clean CHECK, an FK with an orphan row, a clean FK.
CREATE TABLE "ref ""d""" (id int PRIMARY KEY);
INSERT INTO "ref ""d""" VALUES (1);
CREATE TABLE "or;phans" (id int PRIMARY KEY, r int, q int);
INSERT INTO "or;phans" VALUES (1, 1, 1), (2, 99, 1);
ALTER TABLE "or;phans" ADD CONSTRAINT "fk ""r""" FOREIGN KEY (r) REFERENCES "ref ""d""" NOT VALID,
                      ADD CONSTRAINT "fk q" FOREIGN KEY (q) REFERENCES "ref ""d""" NOT VALID,
                      ADD CONSTRAINT "q ok" CHECK (q > 0) NOT VALID;
CREATE TEMP TABLE vtargets AS
SELECT row_number() OVER (ORDER BY c.relname) AS n, c.oid::regclass AS t
  FROM pg_class c WHERE c.relnamespace = '"dr ""s"";"'::regnamespace AND c.relkind = 'r';
CREATE TEMP TABLE vdry AS
SELECT row_number() OVER (ORDER BY t.n, v.o) AS ord, v.constraint_name, v.table_name::text, v.action, v.detail
  FROM vtargets t, LATERAL dbopt.validate_constraints(t.t, dry_run => true) WITH ORDINALITY v(constraint_name, table_name, action, detail, o);
CREATE TEMP TABLE vreal AS
SELECT row_number() OVER (ORDER BY t.n, v.o) AS ord, v.constraint_name, v.table_name::text, v.action, v.detail
  FROM vtargets t, LATERAL dbopt.validate_constraints(t.t) WITH ORDINALITY v(constraint_name, table_name, action, detail, o);
SELECT count(*) AS differences
  FROM vdry d FULL JOIN vreal r USING (ord)
 WHERE d.ord IS NULL OR r.ord IS NULL
    OR (d.constraint_name, d.table_name) IS DISTINCT FROM (r.constraint_name, r.table_name)
    OR replace(d.action, 'would validate', 'validated') <> r.action
    OR NOT starts_with(d.detail, r.detail);
SELECT d.ord, d.constraint_name, d.table_name, d.action AS dry, r.action AS real, r.detail
  FROM vdry d FULL JOIN vreal r USING (ord) ORDER BY 1;
SELECT DISTINCT substr(detail, length('no violating rows; ') + 1) AS dry_caveat FROM vdry WHERE action = 'would validate';
-- What the real run said is what the catalog now says.
SELECT conrelid::regclass AS table_name, conname, convalidated FROM pg_constraint
 WHERE connamespace = '"dr ""s"";"'::regnamespace AND contype IN ('c', 'f') ORDER BY conrelid::regclass::text, conname;

-- ---------- refresh_materialized_views ----------
-- "a; nodata" is not populated and not listed: "b ""reads a""" cannot be
-- refreshed, and the plan knows it.  "c" has a unique index (concurrently),
-- "d" none (plain), "e" reads "c".
CREATE TABLE base (id int PRIMARY KEY, g int);
INSERT INTO base SELECT i, i % 3 FROM generate_series(1, 30) i;
CREATE MATERIALIZED VIEW "a; nodata" AS SELECT g, count(*) AS n FROM base GROUP BY g WITH NO DATA;
CREATE MATERIALIZED VIEW "b ""reads a""" AS SELECT g FROM "a; nodata" WITH NO DATA;
CREATE MATERIALIZED VIEW c AS SELECT id, g FROM base;
CREATE UNIQUE INDEX ON c (id);
CREATE MATERIALIZED VIEW d AS SELECT g, sum(id) AS s FROM base GROUP BY g;
CREATE MATERIALIZED VIEW "e;" AS SELECT g, count(*) AS n FROM c GROUP BY g;
CREATE TEMP TABLE mdry AS
SELECT row_number() OVER () AS ord, matview::text, method, status, detail
  FROM dbopt.refresh_materialized_views(ARRAY['"b ""reads a"""', 'c', 'd', '"e;"']::regclass[], dry_run => true);
CREATE TEMP TABLE mreal AS
SELECT row_number() OVER () AS ord, matview::text, method, status, detail
  FROM dbopt.refresh_materialized_views(ARRAY['"b ""reads a"""', 'c', 'd', '"e;"']::regclass[]);
SELECT count(*) AS differences
  FROM mdry d FULL JOIN mreal r USING (ord)
 WHERE d.ord IS NULL OR r.ord IS NULL
    OR (d.matview, d.method) IS DISTINCT FROM (r.matview, r.method)
    OR replace(d.status, 'dry_run', 'ok') <> r.status
    OR NOT starts_with(coalesce(d.detail, ''), coalesce(r.detail, ''));
SELECT d.ord, d.matview, d.method, d.status AS dry, r.status AS real, r.detail
  FROM mdry d FULL JOIN mreal r USING (ord) ORDER BY 1;
SELECT relname, relispopulated FROM pg_class
 WHERE relnamespace = '"dr ""s"";"'::regnamespace AND relkind = 'm' ORDER BY relname;

-- ---------- enable_audit / disable_audit ----------
-- A text that says it enabled or disabled must come with the AUDIT ON/OFF
-- row of a change, and one that says nothing changed with none.
CREATE TABLE "au 1;" (id int PRIMARY KEY, x text);	-- not audited: enable
CREATE TABLE "au ""2""" (id int PRIMARY KEY, x text);	-- audited alike: unchanged
CREATE TABLE "au 3" (id int PRIMARY KEY, x text);	-- audited leaving out x: replaced
CREATE TABLE "au 4" (id int PRIMARY KEY, x text);	-- not audited: nothing to disable
CREATE TABLE "au 5" (id int PRIMARY KEY, x text);	-- audited: disable
SELECT dbopt.enable_audit('"au ""2"""', ARRAY['x']) IS NOT NULL AS set_up,
       dbopt.enable_audit('"au 3"', ARRAY['x']) IS NOT NULL,
       dbopt.enable_audit('"au 5"') IS NOT NULL;
CREATE TEMP TABLE acalls (n int, fn text, t regclass, excl text[]);
INSERT INTO acalls VALUES (1, 'enable', '"au 1;"', NULL), (2, 'enable', '"au ""2"""', ARRAY['x']),
                          (3, 'enable', '"au 3"', NULL), (4, 'disable', '"au 4"', NULL),
                          (5, 'disable', '"au 5"', NULL);
CREATE TEMP TABLE adry AS
SELECT n, CASE fn WHEN 'enable' THEN dbopt.enable_audit(t, excl, true) ELSE dbopt.disable_audit(t, true) END AS said
  FROM acalls ORDER BY n;
CREATE TEMP TABLE areal (n int, said text, changes bigint);
DO $$
DECLARE
    c record;
    said text;
    before bigint;
BEGIN
    FOR c IN SELECT * FROM acalls ORDER BY n LOOP
        SELECT count(*) INTO before FROM dbopt.audit_log WHERE relation = c.t AND operation IN ('AUDIT ON', 'AUDIT OFF');
        said := CASE c.fn WHEN 'enable' THEN dbopt.enable_audit(c.t, c.excl) ELSE dbopt.disable_audit(c.t) END;
        INSERT INTO areal SELECT c.n, said, count(*) - before
          FROM dbopt.audit_log WHERE relation = c.t AND operation IN ('AUDIT ON', 'AUDIT OFF');
    END LOOP;
END $$;
SELECT count(*) AS differences
  FROM adry d FULL JOIN areal r USING (n)
 WHERE d.n IS NULL OR r.n IS NULL
    OR replace(replace(d.said, 'would enable', 'enabled'), 'would disable', 'disabled') <> r.said
    OR (r.said ~ '^(enabled|disabled) ') <> (r.changes = 1);
SELECT n, d.said AS dry, r.said AS real, r.changes FROM adry d JOIN areal r USING (n) ORDER BY n;

-- ---------- enable_tenant_isolation / disable_tenant_isolation ----------
-- The steps in parentheses are checked against what the catalog shows
-- changed: row security, forcing, and dbopt's policy (a new OID: replaced).
CREATE TABLE "te 1;" (id int, org int);				-- nothing yet: enable
CREATE TABLE "te ""2""" (id int, org int);			-- RLS on and forced by hand, no policy: disable does nothing
ALTER TABLE "te ""2""" ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE TABLE "te 3" (id int, org int);				-- isolated and another policy: disable keeps RLS
CREATE TABLE "te 4" (id int, org int);				-- isolated: enable again replaces the policy
CREATE TABLE "te 5" (id int, org int);				-- isolated: disable turns it all off
SELECT dbopt.enable_tenant_isolation('"te 3"', 'org', 'app.org') IS NOT NULL AS set_up,
       dbopt.enable_tenant_isolation('"te 4"', 'org', 'app.org') IS NOT NULL,
       dbopt.enable_tenant_isolation('"te 5"', 'org', 'app.org') IS NOT NULL;
CREATE POLICY "other; p" ON "te 3" USING (id > 0);
CREATE TEMP TABLE tcalls (n int, fn text, t regclass);
INSERT INTO tcalls VALUES (1, 'enable', '"te 1;"'), (2, 'disable', '"te ""2"""'), (3, 'disable', '"te 3"'),
                          (4, 'enable', '"te 4"'), (5, 'disable', '"te 5"');
CREATE FUNCTION pg_temp.tstate(t regclass) RETURNS TABLE (rls boolean, force boolean, pol oid)
LANGUAGE sql AS $$
    SELECT c.relrowsecurity, c.relforcerowsecurity,
           (SELECT p.oid FROM pg_policy p WHERE p.polrelid = t AND p.polname = 'dbopt_tenant_isolation')
      FROM pg_class c WHERE c.oid = t
$$;
CREATE TEMP TABLE tdry AS
SELECT n, CASE fn WHEN 'enable' THEN dbopt.enable_tenant_isolation(t, 'org', 'app.org', true)
                  ELSE dbopt.disable_tenant_isolation(t, true) END AS said
  FROM tcalls ORDER BY n;
CREATE TEMP TABLE treal (n int, said text, changed text);
DO $$
DECLARE
    c record;
    b record;
    a record;
    said text;
BEGIN
    FOR c IN SELECT * FROM tcalls ORDER BY n LOOP
        SELECT * INTO b FROM pg_temp.tstate(c.t);
        said := CASE c.fn WHEN 'enable' THEN dbopt.enable_tenant_isolation(c.t, 'org', 'app.org')
                          ELSE dbopt.disable_tenant_isolation(c.t) END;
        SELECT * INTO a FROM pg_temp.tstate(c.t);
        INSERT INTO treal VALUES (c.n, said, concat_ws(', ',
            CASE WHEN NOT b.rls AND a.rls THEN 'enable row-level security' END,
            CASE WHEN NOT b.force AND a.force THEN 'force row-level security' END,
            CASE WHEN b.pol IS NULL AND a.pol IS NOT NULL THEN 'create policy dbopt_tenant_isolation'
                 WHEN b.pol <> a.pol THEN 'replace policy dbopt_tenant_isolation'
                 WHEN b.pol IS NOT NULL AND a.pol IS NULL THEN 'drop policy dbopt_tenant_isolation' END,
            CASE WHEN b.force AND NOT a.force THEN 'no force row-level security' END,
            CASE WHEN b.rls AND NOT a.rls THEN 'disable row-level security' END));
    END LOOP;
END $$;
SELECT count(*) AS differences
  FROM tdry d FULL JOIN treal r USING (n)
 WHERE d.n IS NULL OR r.n IS NULL
    OR replace(replace(d.said, 'would force', 'forced'), 'would remove', 'removed') <> r.said
    OR coalesce(substring(r.said from '\(([^()]*)\)$'), '') <> r.changed;
SELECT n, r.said AS real, r.changed FROM tdry d JOIN treal r USING (n) ORDER BY n;

-- ---------- purge_audit_log / purge_snapshots ----------
-- Rows 1 to 30 days old; both runs in one transaction, so now() is the same.
INSERT INTO dbopt.audit_log (logged_at, txid, relation_name, relation, operation, db_user)
SELECT now() - make_interval(days => i), 0, 'dr', 0, 'INSERT', 'regress' FROM generate_series(1, 30) i;
INSERT INTO dbopt.snapshots (taken_at, pgss_available, server)
SELECT now() - make_interval(days => i), false, '{}' FROM generate_series(1, 30) i;
BEGIN;
SELECT dbopt.purge_audit_log('20 days 1 hour', dry_run => true) AS audit_dry,
       dbopt.purge_snapshots('10 days 1 hour', dry_run => true) AS snapshots_dry;
SELECT dbopt.purge_audit_log('20 days 1 hour') AS audit_real,
       dbopt.purge_snapshots('10 days 1 hour') AS snapshots_real;
COMMIT;
SELECT count(*) AS audit_left FROM dbopt.audit_log WHERE relation_name = 'dr';
SELECT count(*) AS snapshots_left FROM dbopt.snapshots WHERE taken_at < now() - interval '1 hour';

RESET client_min_messages;
DELETE FROM dbopt.maintenance_log WHERE operation IN ('validate_constraints', 'refresh_materialized_views', 'enable_audit', 'disable_audit', 'enable_tenant_isolation', 'disable_tenant_isolation', 'purge_audit_log', 'purge_snapshots');
DROP SCHEMA "dr ""s"";" CASCADE;
