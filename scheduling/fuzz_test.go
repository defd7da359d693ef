package scheduling_test

import (
	"strings"
	"testing"
	"time"

	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
	"examd/scheduling"
)

// FuzzValidIDNumber: a number the validator takes has 17 digits, a birth
// date from 1900 up to today, and its one check character: any other check
// character makes it invalid (GB 11643's MOD 11-2), and normalising it
// changes nothing. No input panics.
func FuzzValidIDNumber(f *testing.F) {
	today := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		if !scheduling.ValidIDNumber(s, today) {
			return
		}
		birth, ok := scheduling.BirthDate(s)
		if len(s) != 18 || !ok || birth.Year() < 1900 || birth.After(today) {
			t.Fatalf("%q taken: length %d, birth %v (%v)", s, len(s), birth, ok)
		}
		if strings.Trim(s[:17], "0123456789") != "" {
			t.Fatalf("%q taken with a non-digit in its first 17", s)
		}
		if n := scheduling.NormalizeIDNumber(s); n != s && n != strings.ToUpper(s) {
			t.Fatalf("%q normalises to %q", s, n)
		}
		for _, c := range "0123456789Xx" {
			other := s[:17] + string(c)
			if !strings.EqualFold(other, s) && scheduling.ValidIDNumber(other, today) {
				t.Fatalf("%q and %q are both taken: one check character only", s, other)
			}
		}
	})
}

// FuzzDecodeBookRequest: whatever the body, the booking request decoder
// either refuses it with a refusal the API answers with a 4xx (never a 500),
// or gives a request that passes validation: one, two (BK-COMBINED) or three
// (BK-PACKAGE) positive slot ids,
// a positive candidate, and a candidate's own id for a candidate.
func FuzzDecodeBookRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte, asCandidate bool, key string) {
		caller := auth.Principal{UserID: 42, Role: auth.RoleScheduler}
		if asCandidate {
			caller.Role = auth.RoleCandidate
		}
		r, err := scheduling.DecodeBookRequest(body, caller, key)
		if err != nil {
			ref, ok := refusal.As(err)
			if !ok {
				t.Fatalf("%q: %v is not a refusal (a 500)", body, err)
			}
			if s := api.Status(ref.Code); s < 400 || s > 499 {
				t.Fatalf("%q: %s answers %d", body, ref.Code, s)
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("%q: accepted %+v fails validation: %v", body, r, err)
		}
		if len(r.SlotIDs) < 1 || len(r.SlotIDs) > 3 || r.CandidateID <= 0 || r.By != 42 || r.IdempotencyKey != key {
			t.Fatalf("%q: accepted %+v", body, r)
		}
		if asCandidate && r.CandidateID != 42 {
			t.Fatalf("%q: a candidate booked for candidate %d", body, r.CandidateID)
		}
	})
}
