\ir ../retention/reset.sql
