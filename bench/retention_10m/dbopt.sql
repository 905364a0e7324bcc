\ir ../retention/dbopt.sql
