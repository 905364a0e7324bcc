-- Masking, encryption, the sensitive-column registry and masked views; tenant
-- isolation with row-level security.
CREATE SCHEMA "sec ""s"";";
SET search_path = "sec ""s"";", public;

-- Masks, exactly.
SELECT v, dbopt.mask_email(v) FROM (VALUES ('john.doe@example.com'), ('a@b.co'), ('@example.com'), ('no-at-sign'),
                                           ('zoë.ünicode@exämple.org'), (NULL)) t(v);
SELECT v, dbopt.mask_phone(v) FROM (VALUES ('+1 (555) 123-4567'), ('0612345678'), ('123'), ('ext. 12345'), ('')) t(v);
SELECT dbopt.mask_text('Alice Smith', 1, 1) AS a, dbopt.mask_text('Zoë', 1, 0) AS b, dbopt.mask_text('ab', 2, 1) AS c,
       dbopt.mask_text('4111111111111111', 0, 4) AS d, dbopt.mask_text('x', 0, 0) AS e;
-- A negative count is an error, never a NULL that looks masked.
SELECT dbopt.mask_text('x', -1, 0);
-- Everyone may mask.
SELECT has_function_privilege('public', 'dbopt.mask_email(text)', 'EXECUTE') AS public_may_mask;

-- Encryption round-trips, and a wrong key is an error, not garbage.
SELECT dbopt.decrypt_value(dbopt.encrypt_value('4111-1111-1111-1111', 'k1'), 'k1') AS round_trip;
SELECT dbopt.encrypt_value('x', 'k1') <> dbopt.encrypt_value('x', 'k1') AS salted;
SELECT dbopt.decrypt_value(dbopt.encrypt_value('x', 'k1'), 'wrong');

-- The registry and the masked view.
CREATE TABLE "client;s" (id int PRIMARY KEY, organization_id int, full_name text, email text, phone text,
                         iban text, notes text, card bytea);
INSERT INTO "client;s" VALUES (1, 1, 'Alice Smith', 'alice@example.com', '+44 20 7946 0958', 'GB82WEST12345698765432',
                               'likes tea', dbopt.encrypt_value('4111', 'k')),
                              (2, 2, 'Bob Jones', 'bob@example.org', NULL, NULL, NULL, NULL);
SELECT dbopt.mark_sensitive('"client;s"', 'full_name', 'name');
SELECT dbopt.mark_sensitive('"client;s"', 'email', 'email');
SELECT dbopt.mark_sensitive('"client;s"', 'phone', 'phone');
SELECT dbopt.mark_sensitive('"client;s"', 'iban', 'address');
SELECT dbopt.mark_sensitive('"client;s"', 'iban', 'financial');   -- again: the kind changes
SELECT dbopt.mark_sensitive('"client;s"', 'notes', 'free_text');
SELECT dbopt.mark_sensitive('"client;s"', 'card', 'financial');
SELECT relation, column_name, kind, marked_by = current_user AS by_me FROM dbopt.sensitive_columns ORDER BY column_name;
SELECT dbopt.mark_sensitive('"client;s"', 'email', 'password');
SELECT dbopt.mark_sensitive('"client;s"', 'no such', 'email');
SELECT dbopt.create_masked_view('"client;s"', '"masked; clients"');
SELECT id, organization_id, full_name, email, phone, iban, notes, card IS NOT NULL AS card_kept_encrypted
  FROM "masked; clients" ORDER BY id;
SELECT dbopt.create_masked_view('"client;s"', '"masked; clients"');
SELECT dbopt.create_masked_view('"client;s"', 'a.b.c');
SELECT dbopt.create_masked_view('"client;s"', 'masked; clients');

-- Tenant isolation: a non-superuser owner and a reader, both held to it.
CREATE ROLE regress_tenant_owner;
CREATE ROLE regress_tenant_app;
GRANT USAGE ON SCHEMA "sec ""s"";" TO regress_tenant_owner, regress_tenant_app;
ALTER TABLE "client;s" OWNER TO regress_tenant_owner;
GRANT SELECT, INSERT ON "client;s" TO regress_tenant_app;
SELECT dbopt.enable_tenant_isolation('"client;s"', 'organization_id', dry_run => true);
SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = '"client;s"'::regclass;
SELECT dbopt.enable_tenant_isolation('"client;s"', 'organization_id');
SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = '"client;s"'::regclass;
SET ROLE regress_tenant_app;
SELECT count(*) AS without_setting FROM "client;s";
SET app.current_organization_id = '2';
SELECT id, full_name FROM "client;s";
INSERT INTO "client;s" (id, organization_id) VALUES (3, 1);
INSERT INTO "client;s" (id, organization_id) VALUES (3, 2);
RESET app.current_organization_id;
SELECT count(*) AS after_reset FROM "client;s";
SET ROLE regress_tenant_owner;
SELECT count(*) AS owner_without_setting FROM "client;s";
RESET ROLE;
SELECT dbopt.enable_tenant_isolation('"client;s"', 'no such');
SELECT dbopt.enable_tenant_isolation('"client;s"', 'organization_id', 'nodot');
SELECT dbopt.disable_tenant_isolation('"client;s"', dry_run => true);
SELECT dbopt.disable_tenant_isolation('"client;s"');
SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = '"client;s"'::regclass;
SET ROLE regress_tenant_app;
SELECT count(*) AS all_rows_again FROM "client;s";
RESET ROLE;
SELECT operation, action FROM dbopt.maintenance_log
 WHERE operation IN ('mark_sensitive', 'create_masked_view', 'enable_tenant_isolation', 'disable_tenant_isolation')
 ORDER BY logged_at;

DROP SCHEMA "sec ""s"";" CASCADE;
DROP ROLE regress_tenant_owner, regress_tenant_app;
-- The registry keeps rows of dropped tables (their OID shows); reports skip them.
SELECT count(*) AS rows_of_dropped_tables FROM dbopt.sensitive_columns s
 WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = s.relation);
DELETE FROM dbopt.sensitive_columns;
DELETE FROM dbopt.maintenance_log
 WHERE operation IN ('mark_sensitive', 'create_masked_view', 'enable_tenant_isolation', 'disable_tenant_isolation');
