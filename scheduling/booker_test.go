package scheduling_test

import (
	"errors"
	"strings"
	"testing"

	"examd/internal/refusal"
	"examd/scheduling"
)

// TestBookRequestValidate: the rules both front doors book by.
func TestBookRequestValidate(t *testing.T) {
	ok := scheduling.BookRequest{CandidateID: 7, SlotIDs: []int64{1}, By: 7}
	for _, tc := range []struct {
		name  string
		edit  func(r *scheduling.BookRequest)
		field string // "" when valid
	}{
		{"OK", func(r *scheduling.BookRequest) {}, ""},
		{"Combined", func(r *scheduling.BookRequest) { r.SlotIDs = []int64{1, 2} }, ""},
		{"NoSlot", func(r *scheduling.BookRequest) { r.SlotIDs = nil }, "slot_ids"},
		{"Package", func(r *scheduling.BookRequest) { r.SlotIDs = []int64{1, 2, 3} }, ""},
		{"FourSlots", func(r *scheduling.BookRequest) { r.SlotIDs = []int64{1, 2, 3, 4} }, "slot_ids"},
		{"SlotZero", func(r *scheduling.BookRequest) { r.SlotIDs = []int64{1, 0} }, "slot_ids"},
		{"NoCandidate", func(r *scheduling.BookRequest) { r.CandidateID = 0 }, "candidate_id"},
		{"Key", func(r *scheduling.BookRequest) { r.IdempotencyKey = "web-abc_DEF 1:2" }, ""},
		{"KeyLongest", func(r *scheduling.BookRequest) { r.IdempotencyKey = strings.Repeat("k", 200) }, ""},
		{"KeyTooLong", func(r *scheduling.BookRequest) { r.IdempotencyKey = strings.Repeat("k", 201) }, "Idempotency-Key"},
		{"KeyNotASCII", func(r *scheduling.BookRequest) { r.IdempotencyKey = "钥匙" }, "Idempotency-Key"},
		{"KeyControl", func(r *scheduling.BookRequest) { r.IdempotencyKey = "a\tb" }, "Idempotency-Key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ok
			tc.edit(&r)
			err := r.Validate()
			switch {
			case tc.field == "" && err != nil:
				t.Errorf("got %v, want valid", err)
			case tc.field != "" && !errors.Is(err, refusal.Invalid(tc.field, "")):
				t.Errorf("got %v, want a field error on %s", err, tc.field)
			}
		})
	}
}

// TestCancelRequestValidate: BK-CANCEL's reason, for both front doors.
func TestCancelRequestValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		r     scheduling.CancelRequest
		valid bool
	}{
		{"Candidate", scheduling.CancelRequest{BookingID: 1, Owner: 7, By: 7}, true},
		{"StaffWithReason", scheduling.CancelRequest{BookingID: 1, By: 2, Reason: "考场停电"}, true},
		{"StaffWithoutReason", scheduling.CancelRequest{BookingID: 1, By: 2}, false},
		{"ReasonTooLong", scheduling.CancelRequest{BookingID: 1, By: 2, Reason: strings.Repeat("x", 501)}, false},
		{"ReasonNUL", scheduling.CancelRequest{BookingID: 1, Owner: 7, By: 7, Reason: "a\x00"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.r.Validate(); (err == nil) != tc.valid {
				t.Errorf("got %v, want valid %v", err, tc.valid)
			}
		})
	}
}
