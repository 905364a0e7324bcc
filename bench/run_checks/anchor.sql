-- The same reports, as run_checks() calls them, without the history.
SELECT count(*) FROM dbopt.status() WHERE severity <> 'ok';
SELECT count(*) FROM dbopt.analyze_index_usage(), unnest(findings);
SELECT count(*) FROM dbopt.find_unindexed_foreign_keys() WHERE severity <> 'ok';
SELECT count(*) FROM dbopt.check_data_integrity(deep => false) WHERE severity <> 'ok';
SELECT count(*) FROM dbopt.health_check(notify => false) WHERE severity <> 'ok';
SELECT count(*) FROM dbopt.validate_security_configuration() WHERE severity <> 'ok';
SELECT count(*) FROM dbopt.analyze_partition_distribution(), unnest(flags) f WHERE f NOT IN ('not_counted', 'empty');
