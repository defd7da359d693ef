package scheduling_test

import (
	"net/http"
	"testing"
	"time"

	"examd/internal/server/servertest"
)

// TestCreateWeekAPI: POST /slots/week publishes every day × session ×
// subject at once, refuses a week overlapping published slots whole with
// 409 slot_overlap, and answers a body with several bad fields with the
// first of them.
func TestCreateWeekAPI(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	body := func(over map[string]any) map[string]any {
		b := map[string]any{
			"venue_id": venue, "days": []string{a.Day(3).Format(time.DateOnly), a.Day(4).Format(time.DateOnly)},
			"sessions": []map[string]string{{"start": "08:00", "end": "10:00"}, {"start": "10:00", "end": "12:00"}},
			"subjects": []int{2, 3}, "licence_class": "C1", "capacity": 10, "priority_reserved": 1,
		}
		for k, v := range over {
			b[k] = v
		}
		return b
	}
	r := a.Must(http.StatusCreated, "POST", "/api/v1/slots/week", sched, body(nil))
	slots := r.Body["slots"].([]any)
	if len(slots) != 8 {
		t.Fatalf("%d slots, want 8", len(slots))
	}
	first := slots[0].(map[string]any)
	if got, want := first["starts_at"], a.Day(3).Add(8*time.Hour).Format(time.RFC3339); got != want {
		t.Errorf("first starts %v, want %v", got, want)
	}
	if first["subject"] != 2.0 || first["priority_reserved"] != 1.0 || first["seats_left"] != 10.0 || first["allocation"] != "instant" {
		t.Errorf("first slot %v", first)
	}

	r = a.Do("POST", "/api/v1/slots/week", sched, body(map[string]any{
		"days": []string{a.Day(5).Format(time.DateOnly), a.Day(4).Format(time.DateOnly)}, "subjects": []int{3},
		"sessions": []map[string]string{{"start": "11:00", "end": "13:00"}}}))
	if r.Status != http.StatusConflict || r.Code() != "slot_overlap" {
		t.Errorf("overlap: got %d %s, want 409 slot_overlap", r.Status, r.Raw)
	}
	var n int
	if err := a.DB.Get(&n, `SELECT count(*) FROM slots WHERE venue_id = $1`, venue); err != nil || n != 8 {
		t.Errorf("%d slots stored (%v), want the first week's 8", n, err)
	}

	for _, tc := range []struct {
		over  map[string]any
		field string
	}{
		{map[string]any{"days": []string{}}, "days"},
		{map[string]any{"days": []string{"tomorrow"}}, "days"},
		{map[string]any{"sessions": []map[string]string{{"start": "9", "end": "10:00"}}}, "sessions"},
		{map[string]any{"subjects": []int{}}, "subjects"},
		{map[string]any{"venue_id": 999999}, "venue_id"},
		// Several bad fields: the first, in the order of the body's fields.
		{map[string]any{"days": []string{}, "subjects": []int{5}, "capacity": 0}, "days"},
		{map[string]any{"capacity": 0, "priority_reserved": -1}, "capacity"},
		{map[string]any{"allocation": "lottery"}, "allocation"},
		{map[string]any{"allocation": ""}, "allocation"},
	} {
		if r := a.Do("POST", "/api/v1/slots/week", sched, body(tc.over)); r.Status != 422 || r.Field() != tc.field {
			t.Errorf("%v: got %d %s, want 422 field %s", tc.over, r.Status, r.Raw, tc.field)
		}
	}

	// RA-*: every slot of a ranked week collects applications.
	r = a.Must(http.StatusCreated, "POST", "/api/v1/slots/week", sched, body(map[string]any{
		"days": []string{a.Day(9).Format(time.DateOnly)}, "allocation": "ranked"}))
	for _, sl := range r.Body["slots"].([]any) {
		if got := sl.(map[string]any)["allocation"]; got != "ranked" {
			t.Errorf("slot of a ranked week: allocation %v", got)
		}
	}
	if err := a.DB.Get(&n, `SELECT count(*) FROM slots WHERE venue_id = $1 AND allocation = 'ranked'`, venue); err != nil || n != 4 {
		t.Errorf("%d ranked slots stored (%v), want 4", n, err)
	}
}
