\ir ../retention/anchor.sql
