-- Every session write (a configuration change or a deletion) notifies
-- `toolrouter_sessions:<schema>` when its transaction commits, so each replica drops the
-- sessions it keeps in memory at once (src/changes.rs). Deployments in other schemas of the
-- same database do not hear each other. The payload is the session id; listeners only count.
CREATE FUNCTION toolrouter_session_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('toolrouter_sessions:' || current_schema(), NEW.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER sessions_changed AFTER UPDATE ON sessions
    FOR EACH ROW EXECUTE FUNCTION toolrouter_session_changed();
