package web

import (
	"errors"

	"examd/scheduling"
)

// refusals names the catalogue key of each rule refusal. Codes that have two
// messages (already_booked, subject1_missing) get one key per message, so
// that the page says exactly what the API says; the Chinese texts are the
// domain's own (a test compares them with scheduling's messages).
var refusals = []struct {
	err *scheduling.RuleError
	key string
}{
	{scheduling.ErrSlotFull, "refusal.slot_full"},
	{scheduling.ErrAlreadyBooked, "refusal.already_booked"},
	{scheduling.ErrAlreadyPassed, "refusal.already_passed"},
	{scheduling.ErrAttemptsExhausted, "refusal.attempts_exhausted"},
	{scheduling.ErrCooldown, "refusal.cooldown"},
	{scheduling.ErrWaitingPeriod, "refusal.waiting_period"},
	{scheduling.ErrPermitExpired, "refusal.permit_expired"},
	{scheduling.ErrSubject1Missing, "refusal.subject1_missing"},
	{scheduling.ErrRoadTestsMissing, "refusal.road_tests_missing"},
	{scheduling.ErrClassMismatch, "refusal.class_mismatch"},
	{scheduling.ErrBookingClosed, "refusal.booking_closed"},
	{scheduling.ErrCombinedInvalid, "refusal.combined_invalid"},
	{scheduling.ErrNotAccessible, "refusal.not_accessible"},
	{scheduling.ErrCancelClosed, "refusal.cancel_closed"},
	{scheduling.ErrNotConfirmed, "refusal.not_confirmed"},
	{scheduling.ErrIdempotencyReused, "refusal.invalid"},
}

// refusal is a booking or cancellation the rules refused, shown next to the
// control that asked for it.
type refusal struct {
	// Row is the key of the row whose button was pressed ("slot-12",
	// "pair-12-13", "booking-7").
	Row string
	// Code is the API's code (slot_full, cooldown …), Key its message.
	Code, Key string
	// Placed reports that a row of the page carries the message; otherwise
	// the page shows it above the list.
	Placed bool
}

// refusalOf returns the refusal that err stands for, and false for an error
// that is not the candidate's to read (a failure of examd).
func refusalOf(err error, row string) (*refusal, bool) {
	for _, r := range refusals {
		if errors.Is(err, r.err) {
			return &refusal{Row: row, Code: r.err.Code, Key: r.key}, true
		}
	}
	var re *scheduling.RuleError
	var fe *scheduling.FieldError
	switch {
	case errors.As(err, &re):
		return &refusal{Row: row, Code: re.Code, Key: "refusal.invalid"}, true
	case errors.As(err, &fe):
		// An unknown or malformed slot id: a stale or tampered form.
		return &refusal{Row: row, Code: "invalid_field", Key: "refusal.invalid"}, true
	case errors.Is(err, scheduling.ErrNotFound):
		return &refusal{Row: row, Code: "not_found", Key: "refusal.not_found"}, true
	}
	return nil, false
}
