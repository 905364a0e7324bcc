TRUNCATE t_plain, t_dbopt, t_plpgsql, audit_plpgsql;
SELECT dbopt.purge_audit_log('1 microsecond');
VACUUM ANALYZE t_plain, t_dbopt, t_plpgsql, audit_plpgsql, dbopt.audit_log;
