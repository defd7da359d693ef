package web

import (
	"testing"

	"examd/exam"
	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
	"examd/issuance"
	"examd/scheduling"
)

// pageRefusals are the refusals of the domain that a page can show: a page
// answers a rule exactly as the API does, in the domain's words.
var pageRefusals = []*refusal.Error{
	scheduling.ErrSlotFull, scheduling.ErrAlreadyBooked, scheduling.ErrAlreadyPassed,
	scheduling.ErrAttemptsExhausted, scheduling.ErrCooldown, scheduling.ErrWaitingPeriod,
	scheduling.ErrPermitExpired, scheduling.ErrSubject1Missing, scheduling.ErrRoadTestsMissing,
	scheduling.ErrClassMismatch, scheduling.ErrBookingClosed, scheduling.ErrCombinedInvalid,
	scheduling.ErrNotAccessible, scheduling.ErrCancelClosed, scheduling.ErrNotConfirmed,
	scheduling.ErrDuplicateCandidate, scheduling.ErrRequestDecided, scheduling.ErrMoveMismatch, scheduling.ErrSlotOverlap,
	scheduling.ErrSlotNotFull, scheduling.ErrWaitlistJoined, scheduling.ErrNotAnOffer,
	exam.ErrNotSignable, exam.ErrSlotNotStarted,
	issuance.ErrNotReady, issuance.ErrInvalidStep, issuance.ErrChecklistIncomplete, issuance.ErrAlreadyRated, issuance.ErrNotRateable,
	auth.ErrDuplicateUser, auth.ErrTooManyAttempts,
}

// TestRefusalTexts: every refusal a page can show has its text under the
// one key rule (refusalKey) in both languages, and the Chinese text is the
// domain's message, word for word.
func TestRefusalTexts(t *testing.T) {
	cats, err := loadCatalogues(files)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range pageRefusals {
		key := refusalKey(r.Code)
		for _, lang := range languages {
			if cats[lang][key] == "" {
				t.Errorf("%s: no text for %s", lang, key)
			}
		}
		if got := cats[langZh][key]; got != r.Message {
			t.Errorf("%s: zh-CN says %q, the domain says %q", key, got, r.Message)
		}
	}
	// The edge's: a page answers 503 with these while the database or the
	// live feeds are down.
	for _, code := range []string{refusal.InvalidField, refusal.ErrNotFound.Code, api.ErrUnavailable.Code, "feed_unavailable"} {
		for _, lang := range languages {
			if key := refusalKey(code); cats[lang][key] == "" {
				t.Errorf("%s: no text for %s", lang, key)
			}
		}
	}
	if got, want := cats[langZh][refusalKey(api.ErrUnavailable.Code)], api.ErrUnavailable.Message; got != want {
		t.Errorf("refusal.unavailable: zh-CN says %q, the API says %q", got, want)
	}
}

// TestRowRefusalOf: a refusal keeps its code, reads its key by the one rule
// and answers with the API's status; examd's own failure is no refusal.
func TestRowRefusalOf(t *testing.T) {
	for _, tc := range []struct {
		err    error
		key    string
		status int
	}{
		{scheduling.ErrSlotFull, "refusal.slot_full", 409},
		{refusal.Invalid("slot_ids", "x"), "refusal.invalid", 422},
		{refusal.ErrNotFound, "refusal.not_found", 404},
	} {
		r, ok := rowRefusalOf(tc.err, "slot-1")
		if !ok || r.Key != tc.key || r.Status != tc.status || r.Row != "slot-1" {
			t.Errorf("%v: got %+v, want key %s status %d", tc.err, r, tc.key, tc.status)
		}
	}
	if _, ok := rowRefusalOf(errFake("db down"), "slot-1"); ok {
		t.Error("a failure of examd became a refusal")
	}
}

type errFake string

func (e errFake) Error() string { return string(e) }
