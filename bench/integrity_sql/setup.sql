-- Same data as bench/integrity.
\ir ../integrity/setup.sql
