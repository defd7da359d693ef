package web

import (
	"testing"
	"time"

	"examd/scheduling"
)

// TestPlanningCatalogue: both languages hold the keys the planning pages
// build.
func TestPlanningCatalogue(t *testing.T) {
	cats, err := loadCatalogues(files)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"plan.invalid.form"}
	for _, f := range invalidFields {
		keys = append(keys, "plan.invalid."+f)
	}
	for _, s := range []string{"not_open", "open", "closed", "over"} {
		keys = append(keys, "plan.slot_status."+s)
	}
	for _, d := range []string{"venue_created", "slot_created", "candidate_created", "lane_granted", "lane_revoked", "request_granted", "request_declined", "week_published"} {
		keys = append(keys, flashKey(d))
	}
	for _, lang := range languages {
		for _, k := range keys {
			if cats[lang][k] == "" {
				t.Errorf("%s: no text for %s", lang, k)
			}
		}
	}
}

// TestSlotStatus: a slot is not open, open, closed to booking, then over.
func TestSlotStatus(t *testing.T) {
	start := time.Date(2026, 6, 1, 8, 0, 0, 0, scheduling.Shanghai)
	s := scheduling.Slot{StartsAt: start, EndsAt: start.Add(2 * time.Hour),
		BookingOpensAt: start.AddDate(0, 0, -10), BookingClosesAt: start.Add(-8 * time.Hour)}
	for _, tc := range []struct {
		now  time.Time
		want string
	}{
		{start.AddDate(0, 0, -11), "not_open"}, {start.AddDate(0, 0, -10), "open"},
		{start.Add(-8 * time.Hour), "closed"}, {start.Add(time.Hour), "closed"}, {start.Add(2 * time.Hour), "over"},
	} {
		if got := slotStatus(s, tc.now); got != tc.want {
			t.Errorf("at %s: %s, want %s", tc.now, got, tc.want)
		}
	}
}
