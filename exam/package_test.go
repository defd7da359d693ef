package exam_test

import (
	"fmt"
	"net/http"
	"testing"

	"examd/internal/server/servertest"
)

// TestPackageRoadTestFailed: the subject 4 booking of an all-subjects day
// (BK-PACKAGE) is released, its seat freed and its venue told, in the
// transaction that records subject 2 or 3 ending failed (a no-show at the
// close included), whatever BK-COMBINED-FAIL says, even when the subject 4
// slot was closed first; with both road tests passed it stays and is sat.
func TestPackageRoadTestFailed(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t) // BK-COMBINED-FAIL: keep
	d := servertest.NewHall(t, a)
	_, fail2, keep3, drop4a := d.Package(t)
	_, pass2, fail3, drop4b := d.Package(t)
	_, absent2, absent3, drop4c := d.Package(t)
	_, ok2, ok3, ok4 := d.Package(t)
	seats := func() int {
		var n int
		if err := a.DB.Get(&n, `SELECT booked FROM slots WHERE id = $1`, d.Slot4); err != nil {
			t.Fatal(err)
		}
		return n
	}
	status := func(id int64) string {
		var s string
		if err := a.DB.Get(&s, `SELECT status FROM bookings WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if n := seats(); n != 4 {
		t.Fatalf("subject 4 seats booked: %d, want 4", n)
	}

	d.Fail(t, fail2)
	if got := status(drop4a); got != "cancelled" {
		t.Fatalf("subject 4 after subject 2 failed: %s, want cancelled", got)
	}
	if got := status(keep3); got != "confirmed" {
		t.Fatalf("subject 3 after subject 2 failed: %s, want confirmed (BK-COMBINED-FAIL keep)", got)
	}
	if n := seats(); n != 3 {
		t.Fatalf("subject 4 seats booked after the release: %d, want 3", n)
	}
	d.Pass(t, pass2, 2)
	for i := 0; i < 2; i++ { // the exam and its retake (BK-RETAKE)
		d.Post(d.Judge, fail3, "exam_started", nil)
		if r := d.Post(d.Judge, fail3, "deduction", map[string]any{"rule": "S3.HANDS_OFF"}); servertest.AttemptOf(r)["status"] != "failed" {
			t.Fatalf("subject 3 attempt %d: %d %s", i+1, r.Status, r.Raw)
		}
	}
	if got := status(drop4b); got != "cancelled" {
		t.Fatalf("subject 4 after subject 3 failed: %s, want cancelled", got)
	}
	d.Pass(t, ok2, 2)
	d.Pass(t, ok3, 3)
	d.Pass(t, ok4, 4)
	if got := status(ok4); got != "passed" {
		t.Fatalf("subject 4 with both road tests passed: %s, want passed", got)
	}

	// Closing the subject 4 slot first leaves the subject 4 booking whose
	// road tests are not decided yet as it is, not a no-show.
	a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/slots/%d/close", d.Slot4), d.Sched, nil)
	if got := status(drop4c); got != "confirmed" {
		t.Fatalf("subject 4 awaiting its road tests after its slot's close: %s, want confirmed", got)
	}
	// The no-show of subject 2, ended by the close, releases subject 4 too.
	a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/slots/%d/close", d.Slot), d.Sched, nil)
	if got := status(absent2); got != "no_show" {
		t.Fatalf("absent subject 2: %s", got)
	}
	if got := status(drop4c); got != "cancelled" {
		t.Fatalf("subject 4 after a subject 2 no-show: %s, want cancelled", got)
	}
	if got := status(absent3); got != "confirmed" {
		t.Fatalf("absent subject 3 before its slot's close: %s", got)
	}
	if n := seats(); n != 1 {
		t.Fatalf("subject 4 seats booked at the end: %d, want 1 (the one sat)", n)
	}
	var reasons []string
	if err := a.DB.Select(&reasons, `SELECT cancel_reason FROM bookings WHERE id = ANY(ARRAY[$1, $2, $3]::bigint[]) ORDER BY id`, drop4a, drop4b, drop4c); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(reasons) != "[BK-PACKAGE: subject 2 failed BK-PACKAGE: subject 3 failed BK-PACKAGE: subject 2 failed]" {
		t.Errorf("reasons: %v", reasons)
	}
	var released int
	if err := a.DB.Get(&released, `
		SELECT count(*) FROM feed_events WHERE topic = $1 AND body ->> 'type' = 'released'`,
		fmt.Sprintf("venue:%d", d.Venue)); err != nil {
		t.Fatal(err)
	}
	if released != 3 {
		t.Errorf("released events: %d, want 3", released)
	}
	// Each candidate is told why their subject 4 went.
	var told int
	if err := a.DB.Get(&told, `
		SELECT count(*) FROM notifications n JOIN bookings b ON b.candidate_id = n.candidate_id
		WHERE b.id = ANY(ARRAY[$1, $2, $3]::bigint[]) AND n.kind = 'booking.cancelled'
		  AND n.text_zh ~ '^\d{4}-\d{2}-\d{2}（星期.）\d\d:\d\d 的科目四预约已由考场取消：同日科目[二三]未通过'`,
		drop4a, drop4b, drop4c); err != nil {
		t.Fatal(err)
	}
	if told != 3 {
		t.Errorf("candidates told of their released subject 4: %d, want 3", told)
	}
}
