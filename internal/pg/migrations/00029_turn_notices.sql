-- +goose Up
-- "Your turn is next" (issue 14, package exam): the bookings whose candidate
-- has been told, so that each booking is told once, whichever attempt's
-- start made it next and however many start at once. Written in the
-- transaction that opens the attempt before it, with the notification.
CREATE TABLE turn_notices (
    booking_id bigint PRIMARY KEY REFERENCES bookings (id),
    told_at    timestamptz NOT NULL DEFAULT now()
);
