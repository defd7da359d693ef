-- +goose Up
-- ED-SIGN: a result is never edited once the attempt has ended; a correction
-- is a new record. The database refuses the edit whoever tries it.
-- +goose StatementBegin
CREATE FUNCTION refuse_edit_of_ended_attempt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.status <> 'in_progress' THEN
        RAISE EXCEPTION 'attempt % has ended: its result is never edited; record a correction', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER attempts_final BEFORE UPDATE OR DELETE ON attempts
    FOR EACH ROW EXECUTE FUNCTION refuse_edit_of_ended_attempt();

-- +goose StatementBegin
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END $$;
-- +goose StatementEnd
CREATE TRIGGER attempt_events_append_only BEFORE UPDATE OR DELETE ON attempt_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER attempt_signatures_append_only BEFORE UPDATE OR DELETE ON attempt_signatures
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
