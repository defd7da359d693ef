-- +goose Up
-- The database refuses what the exam rules never allow, whoever tries it:
-- an attempt on a booking that is not confirmed (BK-RETAKE: attempts are
-- sat on a confirmed booking; it ends when they decide it), and a signature
-- on an attempt still in progress (ED-SIGN: a finished result is signed).
-- +goose StatementBegin
CREATE FUNCTION attempt_on_confirmed_booking() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM bookings WHERE id = NEW.booking_id AND status = 'confirmed') THEN
        RAISE EXCEPTION 'booking % is not confirmed: no attempt can be opened on it', NEW.booking_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER attempts_on_confirmed_booking BEFORE INSERT ON attempts
    FOR EACH ROW EXECUTE FUNCTION attempt_on_confirmed_booking();

-- +goose StatementBegin
CREATE FUNCTION signature_on_ended_attempt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM attempts WHERE id = NEW.attempt_id AND status <> 'in_progress') THEN
        RAISE EXCEPTION 'attempt % has not ended: only a finished result is signed', NEW.attempt_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER attempt_signatures_on_ended_attempt BEFORE INSERT ON attempt_signatures
    FOR EACH ROW EXECUTE FUNCTION signature_on_ended_attempt();
