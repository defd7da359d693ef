package exam_test

import (
	"fmt"
	"net/http"
	"testing"

	"examd/internal/pg/pgtest"
	"examd/internal/server/servertest"
)

// TestCombinedFailRelease: with BK-COMBINED-FAIL set to release, the subject
// 3 half of a combined booking is cancelled, its seat freed and its venue
// told, when the subject 2 half ends failed (the retake failed too) or as a
// no-show; the feed also announces the open retake (BK-RETAKE).
func TestCombinedFailRelease(t *testing.T) {
	t.Parallel()
	db, url := pgtest.NewDB(t)
	a := servertest.StartOn(t, db, url, "EXAMD_COMBINED_ON_SUBJECT2_FAIL", "release")
	d := servertest.NewHall(t, a)
	pair := func() (subject2, subject3 int64) {
		_, b2, b3, _ := d.Combined(t)
		return b2, b3
	}
	failing2, failing3 := pair()
	absent2, absent3 := pair()

	for attempt := 1; attempt <= 2; attempt++ {
		d.Post(d.Device, failing2, "exam_started", nil)
		r := d.Post(d.Device, failing2, "deduction", map[string]any{"rule": "RP.BODY_OUT"})
		if at := servertest.AttemptOf(r); r.Status != http.StatusCreated || at["status"] != "failed" {
			t.Fatalf("attempt %d: %d %s", attempt, r.Status, r.Raw)
		}
	}
	a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/slots/%d/close", d.Slot), d.Sched, nil)

	for _, b := range []struct {
		id   int64
		want string
	}{{failing2, "failed"}, {failing3, "cancelled"}, {absent2, "no_show"}, {absent3, "cancelled"}} {
		var status string
		if err := a.DB.Get(&status, `SELECT status FROM bookings WHERE id = $1`, b.id); err != nil || status != b.want {
			t.Errorf("booking %d: %s (%v), want %s", b.id, status, err, b.want)
		}
	}
	var booked int
	if err := a.DB.Get(&booked, `SELECT booked FROM slots WHERE id = $1`, d.Slot3); err != nil || booked != 0 {
		t.Errorf("subject 3 slot: %d seats booked (%v), want 0", booked, err)
	}
	var types []string
	if err := a.DB.Select(&types, `
		SELECT body ->> 'type' || ':' || (body ->> 'booking_id') FROM feed_events
		WHERE topic = $1 AND body ->> 'type' IN ('retake_open', 'released') ORDER BY seq`,
		fmt.Sprintf("venue:%d", d.Venue)); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint([]string{
		fmt.Sprintf("retake_open:%d", failing2), fmt.Sprintf("released:%d", failing3), fmt.Sprintf("released:%d", absent3),
	})
	if fmt.Sprint(types) != want {
		t.Errorf("feed events %v, want %s", types, want)
	}
}
