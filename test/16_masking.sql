-- pgTAP: masking and encryption: the three masks' exact output, the only
-- functions PUBLIC may run; the encryption round trip; the sensitive
-- column registry and the masked view built from it.
BEGIN;
CREATE EXTENSION IF NOT EXISTS dbopt CASCADE;
SELECT plan(18);

SELECT function_returns('dbopt', 'mask_email', ARRAY['text'], 'text');
SELECT function_returns('dbopt', 'mask_text', ARRAY['text', 'integer', 'integer'], 'text');
SELECT function_returns('dbopt', 'encrypt_value', ARRAY['text', 'text'], 'bytea');
SELECT function_returns('dbopt', 'create_masked_view', ARRAY['regclass', 'text'], 'text');
SELECT ok(has_function_privilege('public', 'dbopt.mask_email(text)', 'EXECUTE')
      AND has_function_privilege('public', 'dbopt.mask_phone(text)', 'EXECUTE')
      AND has_function_privilege('public', 'dbopt.mask_text(text,integer,integer)', 'EXECUTE')
      AND (SELECT bool_and(provolatile = 'i') FROM pg_proc
            WHERE pronamespace = 'dbopt'::regnamespace AND proname LIKE 'mask\_%'),
          'PUBLIC runs the masks, which are immutable');
SELECT ok(NOT has_function_privilege('public', 'dbopt.encrypt_value(text,text)', 'EXECUTE')
      AND NOT has_function_privilege('public', 'dbopt.decrypt_value(bytea,text)', 'EXECUTE')
      AND NOT has_function_privilege('public', 'dbopt.mark_sensitive(regclass,name,text)', 'EXECUTE'),
          'but not encryption nor the registry');

SELECT is(dbopt.mask_email('john.doe@example.com'), 'j***@example.com', 'mask_email keeps one character and the domain');
SELECT is(dbopt.mask_phone('+1 (555) 123-4567'), '+* (***) ***-4567', 'mask_phone keeps the last four digits and the format');
SELECT is(dbopt.mask_text('Alice Smith', 1, 1), 'A*********h', 'mask_text keeps the ends asked for');
SELECT is(dbopt.mask_text('abc', 2, 2), '***', 'a text no longer than both ends is all stars');
SELECT throws_ok($$ SELECT dbopt.mask_text('abc', -1, 1) $$, '22023', NULL, 'a negative count is refused');

SELECT is(dbopt.decrypt_value(dbopt.encrypt_value('4111 1111', 'k1'), 'k1'), '4111 1111', 'encryption round trip');
SELECT isnt(dbopt.encrypt_value('x', 'k1'), dbopt.encrypt_value('x', 'k1'), 'each encryption is salted');
SELECT throws_ok($$ SELECT dbopt.decrypt_value(dbopt.encrypt_value('x', 'k1'), 'k2') $$, '39000', NULL,
                 'a wrong key is an error');

CREATE TABLE tap_mask (id int, email text, phone text, card text, note text);
INSERT INTO tap_mask VALUES (1, 'ann@example.org', '555-0100', '4111111111111111', 'private');
SELECT lives_ok($$ SELECT dbopt.mark_sensitive('tap_mask', 'email', 'email'), dbopt.mark_sensitive('tap_mask', 'phone', 'phone'),
                          dbopt.mark_sensitive('tap_mask', 'card', 'financial'), dbopt.mark_sensitive('tap_mask', 'note', 'free_text') $$,
                'columns are registered as sensitive');
SELECT throws_ok($$ SELECT dbopt.mark_sensitive('tap_mask', 'email', 'shoe_size') $$, NULL, NULL,
                 'an unknown kind is refused');
SELECT lives_ok($$ SELECT dbopt.create_masked_view('tap_mask', '"tap mask; v"') $$, 'a masked view is created');
SELECT results_eq($$ SELECT id, email, phone, card, note FROM "tap mask; v" $$,
                  $$ VALUES (1, 'a***@example.org', '***-0100', '************1111', '[redacted]') $$,
                  'the view masks each column by its kind');

SELECT * FROM finish();
ROLLBACK;
