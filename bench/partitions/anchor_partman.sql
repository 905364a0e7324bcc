-- pg_partman 4.7: run_maintenance() for the one parent, retention '500 days'.
SELECT partman.run_maintenance('public.bench_pm', p_analyze := false, p_jobmon := false);
