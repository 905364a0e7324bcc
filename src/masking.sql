-- src/masking.sql: masking, encryption and the sensitive-column registry (the SQL of src/masking.c)

-- Registry of sensitive columns (config, dumped by pg_dump).
CREATE TABLE dbopt.sensitive_columns (
    relation    regclass NOT NULL,
    column_name name NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('email', 'phone', 'name', 'address', 'national_id', 'financial', 'free_text')),
    marked_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    marked_by   name NOT NULL,
    PRIMARY KEY (relation, column_name)
);
COMMENT ON TABLE dbopt.sensitive_columns IS 'Columns holding personal or sensitive data, by kind: written by dbopt.mark_sensitive()';
SELECT pg_catalog.pg_extension_config_dump('dbopt.sensitive_columns', '');
REVOKE ALL ON dbopt.sensitive_columns FROM PUBLIC;
GRANT SELECT ON dbopt.sensitive_columns TO pg_monitor;

-- Masking: a negative count is an error, and a short number shows no digit.
CREATE FUNCTION dbopt.mask_text(value text, keep_first integer, keep_last integer)
RETURNS text
AS 'MODULE_PATHNAME', 'dbopt_mask_text'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION dbopt.mask_text(text,integer,integer) IS
    'The text with every character but the first keep_first and the last keep_last replaced by *; all * when it is no longer than those; an error for negative counts';
REVOKE ALL ON FUNCTION dbopt.mask_text(text,integer,integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.mask_text(text,integer,integer) TO PUBLIC;

CREATE FUNCTION dbopt.mask_email(value text)
RETURNS text
LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT CASE WHEN pg_catalog.strpos(value, '@') > 1
                THEN pg_catalog.left(value, 1) || '***' || pg_catalog.substr(value, pg_catalog.strpos(value, '@'))
                ELSE dbopt.mask_text(value, 0, 0) END $$;
COMMENT ON FUNCTION dbopt.mask_email(text) IS
    'An e-mail address with its local part reduced to its first character and ***, the domain kept (j***@example.com); not an address: all *';
REVOKE ALL ON FUNCTION dbopt.mask_email(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.mask_email(text) TO PUBLIC;

CREATE FUNCTION dbopt.mask_phone(value text)
RETURNS text
LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
AS $$
    -- every digit but the last four becomes *, every digit when there are four or fewer;
    -- spaces, signs and brackets stay
    SELECT pg_catalog.string_agg(CASE WHEN c OPERATOR(pg_catalog.~) '[0-9]'
                                       AND (n OPERATOR(pg_catalog.<=) (d OPERATOR(pg_catalog.-) 4)
                                            OR d OPERATOR(pg_catalog.<=) 4)
                                      THEN '*' ELSE c END, '' ORDER BY i)
      FROM (SELECT c, i, pg_catalog.count(*) FILTER (WHERE c OPERATOR(pg_catalog.~) '[0-9]') OVER (ORDER BY i) AS n,
                   pg_catalog.count(*) FILTER (WHERE c OPERATOR(pg_catalog.~) '[0-9]') OVER () AS d
              FROM pg_catalog.regexp_split_to_table(value, '') WITH ORDINALITY t(c, i)) s $$;
COMMENT ON FUNCTION dbopt.mask_phone(text) IS
    'A phone number with every digit but the last four replaced by *, every digit when it has four or fewer, its formatting kept (+** (***) ***-4567)';
REVOKE ALL ON FUNCTION dbopt.mask_phone(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.mask_phone(text) TO PUBLIC;

CREATE FUNCTION dbopt.encrypt_value(plaintext text, key text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'dbopt_encrypt_value'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION dbopt.encrypt_value(text,text) IS
    'pgcrypto pgp_sym_encrypt(plaintext, key), wherever pgcrypto is installed';
REVOKE ALL ON FUNCTION dbopt.encrypt_value(text,text) FROM PUBLIC;

CREATE FUNCTION dbopt.decrypt_value(ciphertext bytea, key text)
RETURNS text
AS 'MODULE_PATHNAME', 'dbopt_decrypt_value'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION dbopt.decrypt_value(bytea,text) IS
    'pgcrypto pgp_sym_decrypt(ciphertext, key): the inverse of dbopt.encrypt_value()';
REVOKE ALL ON FUNCTION dbopt.decrypt_value(bytea,text) FROM PUBLIC;

CREATE FUNCTION dbopt.mark_sensitive(relation regclass, column_name name, kind text)
RETURNS void
AS 'MODULE_PATHNAME', 'dbopt_mark_sensitive'
LANGUAGE C VOLATILE STRICT
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.mark_sensitive(regclass,name,text) IS
    'Record a column of a table the caller owns as sensitive (email, phone, name, address, national_id, financial, free_text); again to change the kind';
REVOKE ALL ON FUNCTION dbopt.mark_sensitive(regclass,name,text) FROM PUBLIC;

CREATE FUNCTION dbopt.create_masked_view(relation regclass, view_name text)
RETURNS text
AS 'MODULE_PATHNAME', 'dbopt_create_masked_view'
LANGUAGE C VOLATILE STRICT
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.create_masked_view(regclass,text) IS
    'Create a view (owned by the caller) of every column of a table the caller owns, its registered sensitive columns masked by kind; returns the view''s name';
REVOKE ALL ON FUNCTION dbopt.create_masked_view(regclass,text) FROM PUBLIC;
