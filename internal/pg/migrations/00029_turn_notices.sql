-- +goose Up
-- "Your turn is next" (issue 14, package exam): the bookings whose candidate
-- has been told, so that each booking is told once, whichever attempt's
-- start made it next and however many start at once. Written in the
-- transaction that opens the attempt before it, with the notification.
-- No foreign key to bookings: its share lock on the booking told would wait
-- for that booking's own start, which waits for the venue's queue lock held
-- by the telling transaction (exam.turnLock), a deadlock.
CREATE TABLE turn_notices (
    booking_id bigint PRIMARY KEY,
    told_at    timestamptz NOT NULL DEFAULT now()
);
