-- One statement: what a DBA runs by hand.
DELETE FROM ret WHERE at < now() - interval '500000 minutes';
