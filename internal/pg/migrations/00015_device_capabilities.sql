-- +goose Up
-- ED-ATTEMPT, PL-ACCESS: a device serves given subjects as well as licence
-- classes: a car subject 2, subject 3 or both, a theory terminal subject 4
-- (never mixed with 2 or 3). Stored sorted, so that the four allowed sets
-- are the check.
ALTER TABLE devices ADD COLUMN subjects smallint[];

-- Existing devices get what they served: the subjects of their attempts'
-- bookings (when a device ran both theory and road attempts, which examd used
-- to allow, the kind it ran more of, road on a tie), and the licence classes
-- of those attempts' slots besides their own.
WITH served AS (
    SELECT a.device_id,
           count(*) FILTER (WHERE b.subject = 4) AS theory,
           count(*) FILTER (WHERE b.subject IN (2, 3)) AS road,
           array_agg(DISTINCT b.subject ORDER BY b.subject) FILTER (WHERE b.subject IN (2, 3)) AS road_subjects,
           array_agg(DISTINCT s.licence_class ORDER BY s.licence_class) AS classes
    FROM attempts a
    JOIN bookings b ON b.id = a.booking_id
    JOIN slots s ON s.id = b.slot_id
    GROUP BY a.device_id
)
UPDATE devices d
SET subjects = CASE WHEN sv.theory > sv.road THEN '{4}'::smallint[] ELSE sv.road_subjects END,
    licence_classes = (SELECT array_agg(DISTINCT c ORDER BY c) FROM unnest(d.licence_classes || sv.classes) c)
FROM served sv
WHERE sv.device_id = d.id;

-- A device that never ran an attempt is taken for a car of subjects 2 and 3;
-- without a licence class, it serves the classes of its venue's road slots.
UPDATE devices SET subjects = '{2,3}' WHERE subjects IS NULL;
UPDATE devices d
SET licence_classes = coalesce((SELECT array_agg(DISTINCT s.licence_class ORDER BY s.licence_class)
                                FROM slots s WHERE s.venue_id = d.venue_id AND s.subject = ANY (d.subjects)), '{}')
WHERE d.licence_classes = '{}';

ALTER TABLE devices
    ALTER COLUMN subjects SET NOT NULL,
    ADD CONSTRAINT devices_subjects_check CHECK (subjects IN ('{2}', '{3}', '{4}', '{2,3}'));

-- ED-ATTEMPT: one attempt in progress per device. examd used to allow a
-- second; such devices must have their attempts ended (exam_finished, or
-- the slot's close the day after) by the release before this one.
-- +goose StatementBegin
DO $$
DECLARE
    busy text;
BEGIN
    SELECT string_agg(device_id::text, ', ' ORDER BY device_id) INTO busy
    FROM (SELECT device_id FROM attempts WHERE status = 'in_progress' GROUP BY device_id HAVING count(*) > 1) x;
    IF busy IS NOT NULL THEN
        RAISE EXCEPTION 'devices % have more than one attempt in progress: end them before migrating', busy;
    END IF;
END $$;
-- +goose StatementEnd
CREATE UNIQUE INDEX attempts_device_in_progress ON attempts (device_id) WHERE status = 'in_progress';
