-- pgTAP: report_html(): one self-contained, well-formed page over a
-- snapshot window, with its sections and charts, nothing fetched from
-- elsewhere, the database's texts escaped; bad windows refused.
-- (t/007_report_html.pl renders it in a browser.)
BEGIN;
CREATE EXTENSION IF NOT EXISTS dbopt CASCADE;
SELECT plan(16);

SELECT function_returns('dbopt', 'report_html', ARRAY['bigint', 'bigint', 'boolean'], 'text');
SELECT ok(has_function_privilege('pg_monitor', 'dbopt.report_html(bigint,bigint,boolean)', 'EXECUTE')
      AND NOT has_function_privilege('public', 'dbopt.report_html(bigint,bigint,boolean)', 'EXECUTE'),
          'pg_monitor may run report_html, PUBLIC may not');

CREATE TABLE "http://example.com/<b>" (id int PRIMARY KEY, v text);
INSERT INTO "http://example.com/<b>" SELECT g, md5(g::text) FROM generate_series(1, 500) g;
SELECT dbopt.take_snapshot() AS s1 \gset
\o /dev/null
SELECT format('SELECT v FROM "http://example.com/<b>" WHERE id = %s', g) FROM generate_series(1, 20) g \gexec
SELECT dbopt.take_snapshot() AS s2 \gset
SELECT format('SELECT v FROM "http://example.com/<b>" WHERE id = %s', g) FROM generate_series(1, 20) g \gexec
SELECT dbopt.take_snapshot() AS s3 \gset
\o
CREATE TEMP TABLE page AS SELECT dbopt.report_html(:s1, :s3) AS html;

SELECT ok((SELECT html LIKE E'<!DOCTYPE html>\n<html lang="en">%' FROM page), 'an HTML document');
SELECT ok((SELECT rtrim(html, E'\n') LIKE '%</body></html>' FROM page), 'and a complete one');
SELECT ok((SELECT xml_is_well_formed_document(html) FROM page), 'well-formed XML');
SELECT ok((SELECT html !~* 'https?://' FROM page), 'no http:// or https:// anywhere');
SELECT ok((SELECT html !~* '<script|<link|url\(|@import|<img' FROM page),
          'no scripts, linked styles, fonts or images');
SELECT ok((SELECT (SELECT count(*) FROM regexp_matches(html, '<svg ', 'g'))::int FROM page) >= 4,
          'inline SVG charts: three for the server, one per top statement');
SELECT is((SELECT array_agg(m[1] ORDER BY ord)
             FROM page, regexp_matches(html, '<h2>([^<]*)</h2>', 'g') WITH ORDINALITY AS r(m, ord)),
          ARRAY['Summary', 'Charts', 'Top statements by total time', 'Regressions', 'Tables: scans and I/O',
                'Indexes: scans and I/O', 'WAL', 'Findings new and resolved in the window', 'Health now'],
          'the sections, in order');
SELECT ok((SELECT strpos(html, '&quot;http&#58;//example.com/&lt;b&gt;&quot;') > 0 FROM page),
          'a table name from the database is escaped, colon included');
SELECT ok((SELECT html !~ '<td><code>[^<]*dbopt\.take_snapshot' FROM page)
          AND (SELECT dbopt.report_html(:s1, :s3, true) ~ '<td><code>SELECT dbopt\.take_snapshot'),
          'dbopt''s own statements are left out unless include_dbopt');

SELECT throws_ok(format('SELECT dbopt.report_html(%s, %s)', :s3, :s1), '22023', NULL,
                 'a reversed window is refused');
SELECT throws_ok(format('SELECT dbopt.report_html(%s, %s)', :s1, :s1), '22023', NULL,
                 'so is an empty one');
SELECT throws_ok(format('SELECT dbopt.report_html(%s, 9223372036854775807)', :s1), '42704', NULL,
                 'an unknown snapshot is refused');
SELECT throws_ok('SELECT dbopt.report_html(-1, 0)', '42704', NULL,
                 'so are ids that can never exist');
SELECT is(dbopt.report_html(NULL, :s3), NULL, 'a NULL end gives NULL (strict)');

SELECT * FROM finish();
ROLLBACK;
