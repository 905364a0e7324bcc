SET client_min_messages = warning;
SELECT count(*) FILTER (WHERE status = 'ok') FROM dbopt.refresh_materialized_views();
