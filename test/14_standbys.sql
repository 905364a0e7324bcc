-- pgTAP: the standby registry: add_standby() and remove_standby(), the
-- registered_standbys view pg_monitor reads (the conninfo stays hidden),
-- and standby_index_usage() reporting a problem row rather than failing.
-- No real standby is needed (t/013_standby.pl has one).
BEGIN;
CREATE EXTENSION IF NOT EXISTS dbopt CASCADE;
SELECT plan(17);

SELECT function_returns('dbopt', 'add_standby', ARRAY['text', 'text'], 'void');
SELECT function_returns('dbopt', 'remove_standby', ARRAY['text'], 'void');
SELECT function_returns('dbopt', 'standby_index_usage', ARRAY[]::text[], 'setof record');
SELECT columns_are('dbopt', 'registered_standbys', ARRAY['name', 'added_at', 'added_by']);
SELECT ok(NOT has_function_privilege('pg_monitor', 'dbopt.add_standby(text,text)', 'EXECUTE')
      AND NOT has_function_privilege('pg_monitor', 'dbopt.remove_standby(text)', 'EXECUTE')
      AND NOT has_function_privilege('public', 'dbopt.add_standby(text,text)', 'EXECUTE'),
          'registering is granted to nobody');
SELECT ok(has_table_privilege('pg_monitor', 'dbopt.registered_standbys', 'SELECT')
      AND NOT has_table_privilege('pg_monitor', 'dbopt.standbys', 'SELECT')
      AND has_function_privilege('pg_monitor', 'dbopt.standby_index_usage()', 'EXECUTE'),
          'pg_monitor reads the names, not the connection strings');

SELECT lives_ok($$ SELECT dbopt.add_standby('tap_s1', 'host=/nonexistent dbname=x') $$, 'a standby is registered');
SELECT results_eq($$ SELECT name, added_by FROM dbopt.registered_standbys $$,
                  $$ VALUES ('tap_s1', current_user::name) $$, 'registered_standbys lists it');
SELECT throws_ok($$ SELECT dbopt.add_standby('tap_s1', 'host=/elsewhere') $$, '42710', NULL,
                 'a name registered already is refused');
SELECT throws_ok($$ SELECT dbopt.add_standby(NULL, 'host=x') $$, '22004', NULL, 'a NULL name is refused');
SELECT throws_ok($$ SELECT dbopt.add_standby(' ', 'host=x') $$, '22023', 'standby name must not be empty',
                 'so is a blank one');
SELECT throws_ok(format('SELECT dbopt.add_standby(%L, %L)', repeat('x', 64), 'host=x'), '42622', NULL,
                 'and one longer than application_name can be');
SELECT throws_ok($$ SELECT dbopt.add_standby('tap_s2', '') $$, '22023', NULL,
                 'an empty conninfo (this server) is refused');

-- Without dblink, and then with a standby that cannot be reached: a row
-- with a problem, never an error.
SELECT results_eq($$ SELECT standby, problem LIKE '%CREATE EXTENSION dblink%' FROM dbopt.standby_index_usage() $$,
                  $$ VALUES ('tap_s1', true) $$, 'without dblink the problem says what to install');
CREATE EXTENSION dblink;
SELECT results_eq($$ SELECT standby, problem LIKE 'could not establish connection%' FROM dbopt.standby_index_usage() $$,
                  $$ VALUES ('tap_s1', true) $$, 'an unreachable standby is a problem row');

SELECT lives_ok($$ SELECT dbopt.remove_standby('tap_s1') $$, 'remove_standby removes it');
SELECT throws_ok($$ SELECT dbopt.remove_standby('tap_s1') $$, '42704', NULL,
                 'removing it again says it is not registered');

SELECT * FROM finish();
ROLLBACK;
