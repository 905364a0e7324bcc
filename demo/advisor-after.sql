-- dbopt demo: the index advisor, part 2.  The statements the created index
-- was for: mean time in the first workload run against the run after it.
\echo
\echo '== the suggested index at work: mean time of its statements, before and after =='
WITH s AS (SELECT snap_id FROM dbopt.snapshots ORDER BY snap_id),
     w AS (SELECT (SELECT min(snap_id) FROM s) AS b0, (SELECT min(snap_id) FROM s) + 2 AS b1,
                  (SELECT max(snap_id) FROM s) - 1 AS a0, (SELECT max(snap_id) FROM s) AS a1)
SELECT left(regexp_replace(b.query, '\s+', ' ', 'g'), 70) AS statement,
       b.mean_ms AS mean_ms_before, a.mean_ms AS mean_ms_after,
       round((b.mean_ms / nullif(a.mean_ms, 0))::numeric, 1) AS times_faster
  FROM w, public.demo_advice d,
       LATERAL dbopt.compare_snapshots(w.b0, w.b1) b
       JOIN LATERAL dbopt.compare_snapshots(w.a0, w.a1) a ON a.queryid = b.queryid
 WHERE b.queryid = ANY (d.queryids);
DROP TABLE public.demo_advice;
