package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"examd/internal/server/servertest"
	"examd/internal/testkit"
)

// TestSimulatedExamDay seeds a demo day through the API of a real examd,
// plays it at high speed, and checks through the API that the bookings
// were examined and scored.
func TestSimulatedExamDay(t *testing.T) {
	t.Parallel()
	// The demo day runs from a few minutes from now to midnight in
	// Shanghai, and needs a quarter of an hour of it (sim.Seed refuses): it
	// runs on a clock of its own, at 09:00 on a fixed date, whenever the
	// test runs. The clock runs, as the devices' pauses do.
	clock := testkit.RunningClock(time.Date(2030, 6, 3, 9, 0, 0, 0, testkit.Shanghai))
	a := servertest.StartAt(t, clock)
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	var out bytes.Buffer
	args := []string{"-url", a.URL, "-seed", "-admin-password", servertest.AdminPassword, "-speed", "5000", "-seed-random", "7"}
	start := time.Now()
	err := simulate(ctx, clock.Now, args, func(string) string { return "" }, &out)
	if err != nil || ctx.Err() != nil {
		t.Fatalf("simulate: %v (context: %v)\n%s", err, ctx.Err(), out.Bytes())
	}
	t.Logf("the day took %s", time.Since(start).Round(time.Millisecond))
	if !bytes.Contains(out.Bytes(), []byte("/api/v1/live?venue_id=")) {
		t.Errorf("simulate does not say how to watch:\n%s", out.Bytes())
	}

	venues := a.Must(http.StatusOK, "GET", "/api/v1/venues", a.Admin, nil).Body["venues"].([]any)
	if len(venues) != 1 {
		t.Fatalf("got %d venues, want the demo's one", len(venues))
	}
	venue := int64(venues[0].(map[string]any)["id"].(float64))
	today := a.Day(0).Format(time.DateOnly)
	slots := a.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/slots?venue_id=%d&from=%s&to=%s", venue, today, today), a.Admin, nil).Body["slots"].([]any)
	if len(slots) != 4 {
		t.Fatalf("got %d slots today, want 4", len(slots))
	}
	results := map[string]int{}
	subjects := map[float64]int{}
	types := map[string]int{}
	for _, s := range slots {
		slot := s.(map[string]any)
		roster := a.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/slots/%v/roster", slot["id"]), a.Admin, nil).Body["candidates"].([]any)
		for i, e := range roster {
			entry := e.(map[string]any)
			if i > 0 && entry["lane"] == "priority" {
				t.Errorf("slot %v: priority lane at place %d of the roster", slot["id"], i+1)
			}
			sheets := a.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/bookings/%v/attempts", entry["booking_id"]), a.Admin, nil).Body["attempts"].([]any)
			if len(sheets) == 0 || len(sheets) > 2 {
				t.Errorf("booking %v (%s): %d attempts, want 1 or 2", entry["booking_id"], entry["status"], len(sheets))
				continue
			}
			for _, sh := range sheets {
				sheet := sh.(map[string]any)
				events := sheet["events"].([]any)
				for _, e := range events {
					types[e.(map[string]any)["type"].(string)]++
				}
				status := sheet["status"].(string)
				if status == "in_progress" || len(events) == 0 {
					t.Errorf("attempt %v: %s with %d events", sheet["id"], status, len(events))
					continue
				}
				if slot["subject"] != 4.0 && (events[0].(map[string]any)["type"] != "exam_started" || len(events) < 10) {
					t.Errorf("attempt %v of subject %v: %d events, first %v", sheet["id"], slot["subject"], len(events), events[0])
				}
				if sheet["score"].(float64) >= sheet["pass_mark"].(float64) != (status == "passed") {
					t.Errorf("attempt %v: score %v against %v, %s", sheet["id"], sheet["score"], sheet["pass_mark"], status)
				}
			}
			results[entry["status"].(string)]++
			subjects[slot["subject"].(float64)]++
		}
	}
	t.Logf("bookings by status: %v, by subject: %v, events: %v", results, subjects, types)
	for _, typ := range []string{"exam_started", "item_started", "instruction", "deduction", "item_finished", "exam_finished", "theory_result"} {
		if types[typ] == 0 {
			t.Errorf("no %s event all day", typ)
		}
	}
	// 13 candidates, two of whom sat clean road tests before subject 4.
	if results["passed"] == 0 || subjects[2] != 9 || subjects[3] != 6 || subjects[4] != 2 {
		t.Errorf("bookings by status %v, by subject %v", results, subjects)
	}
}
