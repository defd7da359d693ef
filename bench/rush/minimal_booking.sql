-- The minimal booking transaction, the floor of bench/rush: take a seat by a
-- conditional update, insert the booking. pgbench runs it on examd's own
-- tables. Each transaction books a candidate no transaction booked before
-- (client c's n-th transaction books candidate cmin + (n*clients + c) mod
-- pool), so that the one-active-booking index never refuses it.
\set cand :cmin + ((:n * :clients + :client_id) % :pool)
\set n :n + 1
\set slot random(:smin, :smax)
BEGIN;
UPDATE slots SET booked = booked + 1 WHERE id = :slot AND booked < capacity;
INSERT INTO bookings (candidate_id, slot_id, subject, exam_day, lane, booked_by) VALUES (:cand, :slot, 3, current_date + 5, 'regular', :cand);
COMMIT;
