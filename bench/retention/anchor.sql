-- One statement: what a DBA runs by hand, with the policy's cutoff.
DELETE FROM ret WHERE at < now() - (SELECT keep FROM dbopt.retention_policies WHERE relation = 'ret'::regclass);
