-- examd's own booking transaction for one slot, statement for statement, as
-- scheduling/booking_store.go (Store.book) and internal/audit (Record) issue
-- it: lock the candidate with class and grant, read their history, read the
-- slot, insert the booking, record it in the audit log, take the seat by a
-- conditional update (last), commit. Keep it in step with that code. The
-- audit row gets whatever the schema does to an inserted row (a chaining
-- trigger, or none). Each transaction books a fresh candidate, as in
-- minimal_booking.sql.
\set cand :cmin + ((:n * :clients + :client_id) % :pool)
\set n :n + 1
\set slot random(:smin, :smax)
BEGIN;
SELECT lc.code, lc.subject2_wait_days, lc.subject3_wait_days, lc.subject3_wait_days_licensed, c.permit_issued_on, c.permit_expires_on, c.subject1_passed_on, c.holds_car_licence, g.reason, g.needs FROM candidates c JOIN licence_classes lc ON lc.code = c.licence_class LEFT JOIN priority_grants g ON g.candidate_id = c.id AND g.revoked_at IS NULL WHERE c.id = :cand FOR UPDATE OF c;
SELECT subject, status, exam_day FROM bookings WHERE candidate_id = :cand AND status <> 'cancelled';
SELECT s.id, s.venue_id, s.subject, s.licence_class, s.starts_at, s.ends_at, s.capacity, s.priority_reserved, s.reserve_release_at, s.booking_opens_at, s.booking_closes_at, s.adapted_vehicle, s.booked, v.step_free FROM slots s JOIN venues v ON v.id = s.venue_id WHERE s.id = ANY(ARRAY[:slot]::bigint[]) ORDER BY s.starts_at;
WITH n AS (SELECT nextval('bookings_id_seq') AS id, s.slot_id, s.subject, s.exam_day, s.ord FROM unnest(ARRAY[:slot]::bigint[], ARRAY[3]::smallint[], ARRAY[current_date + 5]::date[]) WITH ORDINALITY AS s (slot_id, subject, exam_day, ord)) INSERT INTO bookings (id, candidate_id, slot_id, subject, exam_day, lane, booked_by, pair_id) SELECT n.id, :cand, n.slot_id, n.subject, n.exam_day, 'regular', :cand, (SELECT m.id FROM n m WHERE m.ord <> n.ord) FROM n ORDER BY n.ord RETURNING id, slot_id, pair_id, created_at;
INSERT INTO audit_log (actor_kind, actor_id, action, subject, before, after) VALUES ('user', :cand, 'booking.created', 'booking:' || currval('bookings_id_seq'), NULL, ('{"id":' || currval('bookings_id_seq') || ',"candidate_id":' || :cand || ',"slot_id":' || :slot || ',"subject":3,"status":"confirmed","lane":"regular","starts_at":"2026-12-12T08:00:00+08:00","ends_at":"2026-12-12T09:00:00+08:00","venue_id":1,"created_at":"2026-12-07T08:00:00.123456+08:00"}')::jsonb);
WITH locked AS (SELECT id FROM slots WHERE id = ANY(ARRAY[:slot]::bigint[]) ORDER BY id FOR NO KEY UPDATE) UPDATE slots SET booked = booked + 1 FROM locked WHERE slots.id = locked.id AND booked < capacity - CASE WHEN false OR now() >= reserve_release_at THEN 0 ELSE priority_reserved END RETURNING slots.id;
COMMIT;
