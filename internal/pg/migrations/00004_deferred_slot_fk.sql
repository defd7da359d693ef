-- +goose Up
-- A booking's check that its slot exists waits for the commit. Checked at
-- once, it share-locked the slot row before the booking transaction took
-- the seat with its conditional update, so the slot row carried a multixact
-- of share lockers and updaters, which PostgreSQL 15 refused under load
-- ("new multixact has more than one updating member"). At commit the
-- transaction already holds the row by its update.
ALTER TABLE bookings ALTER CONSTRAINT bookings_slot_id_fkey DEFERRABLE INITIALLY DEFERRED;
