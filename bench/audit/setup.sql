-- Three identical tables: one without a trigger, one with dbopt's C audit
-- trigger, one with the PL/pgSQL trigger DBAs write (INSERT ... to_jsonb(NEW),
-- to_jsonb(OLD)) into a log table of the same shape and index.
CREATE TABLE t_plain (id int PRIMARY KEY, organization_id int, amount numeric, note text, at timestamptz);
CREATE TABLE t_dbopt (LIKE t_plain INCLUDING ALL);
CREATE TABLE t_plpgsql (LIKE t_plain INCLUDING ALL);
SELECT dbopt.enable_audit('t_dbopt');
CREATE TABLE audit_plpgsql (LIKE dbopt.audit_log);
CREATE INDEX ON audit_plpgsql (relation, logged_at);
CREATE SEQUENCE audit_plpgsql_id;
CREATE FUNCTION audit_plpgsql_fn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit_plpgsql (id, logged_at, txid, relation_name, relation, operation, row_key,
                             old_data, new_data, db_user, application_name, client_addr)
  VALUES (nextval('audit_plpgsql_id'), clock_timestamp(), txid_current(),
          quote_ident(TG_TABLE_SCHEMA) || '.' || quote_ident(TG_TABLE_NAME), TG_RELID, TG_OP,
          jsonb_build_object('id', coalesce(NEW.id, OLD.id)),
          CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
          CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END,
          current_user, current_setting('application_name'), inet_client_addr());
  RETURN NULL;
END $$;
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON t_plpgsql
  FOR EACH ROW EXECUTE FUNCTION audit_plpgsql_fn();
