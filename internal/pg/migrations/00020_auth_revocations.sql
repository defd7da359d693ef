-- +goose Up
-- Revocations announced on the NOTIFY channel examd_auth, by triggers, in
-- the transaction that revokes: each replica keeps a short-lived cache of
-- the sessions it has looked up (auth.Store), and drops an entry when told
-- (package auth, cache.go). The payload is 's' and the hex SHA-256 of a
-- session's token when a live session is deleted or changed (logout), or
-- 'u' and a user's id when what a session resolves to changes (role, venue,
-- desk), the password changes or the user is deleted. Deleting sessions
-- already expired (as a login does) announces nothing: the cache knows
-- their expiry. NOTIFY takes a database-wide lock at commit, which these
-- rare transactions can afford.
-- +goose StatementBegin
CREATE FUNCTION auth_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'sessions' THEN
        PERFORM pg_notify('examd_auth', 's' || encode(OLD.token_hash, 'hex'));
    ELSE
        PERFORM pg_notify('examd_auth', 'u' || OLD.id);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER sessions_revoked AFTER DELETE OR UPDATE ON sessions
    FOR EACH ROW WHEN (OLD.expires_at > now()) EXECUTE FUNCTION auth_revoked();
CREATE TRIGGER users_changed AFTER UPDATE OF role, venue_id, desk, password_hash ON users
    FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role OR OLD.venue_id IS DISTINCT FROM NEW.venue_id
        OR OLD.desk IS DISTINCT FROM NEW.desk OR OLD.password_hash IS DISTINCT FROM NEW.password_hash)
    EXECUTE FUNCTION auth_revoked();
CREATE TRIGGER users_deleted AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION auth_revoked();

