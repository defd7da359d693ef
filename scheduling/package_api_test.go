package scheduling_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"examd/internal/server/servertest"
)

// grantPackage grants c the all-subjects day (BK-PACKAGE).
func grantPackage(a *servertest.App, token string, c servertest.Candidate) {
	a.T.Helper()
	a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/candidates/%d/package", c.ID), token,
		map[string]any{"reason": "military_service", "note": "入伍通知书"})
}

// packageDay publishes a subject 2, 3 and 4 slot of the day d days ahead,
// back to back from 08:00, with seats seats each.
func packageDay(a *servertest.App, token string, venue int64, d, seats int) (s2, s3, s4 int64) {
	a.T.Helper()
	over := map[string]any{"capacity": seats}
	return a.NewSlot(token, venue, 2, d, 8, over), a.NewSlot(token, venue, 3, d, 10, over), a.NewSlot(token, venue, 4, d, 12, over)
}

// booked returns the slots' booked seats.
func booked(a *servertest.App, slots ...int64) []int {
	a.T.Helper()
	var n []int
	for _, s := range slots {
		var b int
		if err := a.DB.Get(&b, `SELECT booked FROM slots WHERE id = $1`, s); err != nil {
			a.T.Fatal(err)
		}
		n = append(n, b)
	}
	return n
}

// TestPackageGrant: staff grant and revoke the package, with a reason and
// a note (required for other), seen on the candidate's record, by the
// candidate, and in the audit log.
func TestPackageGrant(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	c := a.NewCandidate(sched, nil)
	path := fmt.Sprintf("/api/v1/candidates/%d/package", c.ID)

	if r := a.Do("POST", path, sched, map[string]any{"reason": "holiday"}); r.Status != 422 || r.Field() != "reason" {
		t.Fatalf("unknown reason: got %d %s", r.Status, r.Raw)
	}
	if r := a.Do("POST", path, sched, map[string]any{"reason": "other", "note": "  "}); r.Status != 422 || r.Field() != "note" {
		t.Fatalf("other without a note: got %d %s", r.Status, r.Raw)
	}
	if r := a.Do("POST", "/api/v1/candidates/999999/package", sched, map[string]any{"reason": "school_term"}); r.Status != 404 {
		t.Fatalf("unknown candidate: got %d %s", r.Status, r.Raw)
	}
	if r := a.Must(http.StatusOK, "GET", "/api/v1/me/package", c.Token, nil); r.Body["package"] != nil {
		t.Fatalf("before the grant: %s", r.Raw)
	}
	a.Must(http.StatusOK, "POST", path, sched, map[string]any{"reason": "permit_expiring"})
	r := a.Must(http.StatusOK, "POST", path, sched, map[string]any{"reason": "other", "note": "返校在即"})
	if p := r.Body["package"].(map[string]any); p["reason"] != "other" || p["note"] != "返校在即" {
		t.Fatalf("grant: %s", r.Raw)
	}
	r = a.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/candidates/%d", c.ID), sched, nil)
	if p, _ := r.Body["package"].(map[string]any); p == nil || p["reason"] != "other" {
		t.Fatalf("candidate's record: %s", r.Raw)
	}
	r = a.Must(http.StatusOK, "GET", "/api/v1/me/package", c.Token, nil)
	if p, _ := r.Body["package"].(map[string]any); p == nil || p["reason"] != "other" || p["note"] != "返校在即" {
		t.Fatalf("me/package: %s", r.Raw)
	}
	var active, all int
	if err := a.DB.Get(&active, `SELECT count(*) FROM package_grants WHERE candidate_id = $1 AND revoked_at IS NULL`, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := a.DB.Get(&all, `SELECT count(*) FROM package_grants WHERE candidate_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	if active != 1 || all != 2 {
		t.Fatalf("grants: %d in force of %d, want 1 of 2 (a new grant replaces the one in force)", active, all)
	}
	a.Must(http.StatusOK, "DELETE", path, sched, nil)
	if r := a.Must(http.StatusOK, "GET", "/api/v1/me/package", c.Token, nil); r.Body["package"] != nil {
		t.Fatalf("after revoking: %s", r.Raw)
	}
	var actions []string
	if err := a.DB.Select(&actions, `SELECT action FROM audit_log WHERE subject = $1 AND action LIKE 'package.%' ORDER BY id`,
		fmt.Sprintf("candidate:%d", c.ID)); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(actions) != "[package.granted package.granted package.revoked]" {
		t.Fatalf("audit: %v", actions)
	}
	// Each decision is a note to the candidate (§4), a revoke of nothing none.
	a.Must(http.StatusOK, "DELETE", path, sched, nil)
	var notes []string
	if err := a.DB.Select(&notes, `SELECT text_zh FROM notifications WHERE candidate_id = $1 AND kind = 'package.decided' ORDER BY id`, c.ID); err != nil {
		t.Fatal(err)
	}
	if len(notes) != 3 || !strings.Contains(notes[0], "学习驾驶证明即将到期") || !strings.Contains(notes[1], "（其他）") || !strings.Contains(notes[2], "已取消") {
		t.Fatalf("notes: %q", notes)
	}
}

// TestPackageBooking: with the package, one request books subject 2, 3 and
// 4 of one day, all or none, linked as a pair.
func TestPackageBooking(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	s2, s3, s4 := packageDay(a, sched, venue, 5, 10)
	s4early := a.NewSlot(sched, venue, 4, 5, 11, nil) // overlaps subject 3 by an hour
	s4other := a.NewSlot(sched, venue, 4, 6, 12, nil)
	c := a.NewCandidate(sched, nil)

	r := a.Do("POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{s2, s3, s4}})
	if r.Status != 409 || r.Code() != "package_required" {
		t.Fatalf("without a package: got %d %s, want 409 package_required", r.Status, r.Raw)
	}
	grantPackage(a, sched, c)
	for name, slots := range map[string][]int64{"Overlap": {s2, s3, s4early}, "OtherDay": {s2, s3, s4other}, "Same": {s2, s3, s3}, "NoRoad": {s2, s4, s4other}} {
		r := a.Do("POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": slots})
		if r.Status != 409 || r.Code() != "package_invalid" {
			t.Fatalf("%s: got %d %s, want 409 package_invalid", name, r.Status, r.Raw)
		}
	}
	if got := booked(a, s2, s3, s4); fmt.Sprint(got) != "[0 0 0]" {
		t.Fatalf("seats after refusals: %v", got)
	}

	// In any order, with a key: booked as 2, 3, 4; the key replays.
	body := map[string]any{"slot_ids": []int64{s4, s2, s3}}
	r = a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, body, "Idempotency-Key", "pkg-1")
	bs := r.Body["bookings"].([]any)
	if len(bs) != 3 {
		t.Fatalf("package: %s", r.Raw)
	}
	b2, b3, b4 := bs[0].(map[string]any), bs[1].(map[string]any), bs[2].(map[string]any)
	if b2["subject"] != 2.0 || b3["subject"] != 3.0 || b4["subject"] != 4.0 ||
		b2["pair_id"] != b3["id"] || b3["pair_id"] != b2["id"] || b4["pair_id"] != b2["id"] {
		t.Fatalf("package not linked: %s", r.Raw)
	}
	again := a.Must(http.StatusOK, "POST", "/api/v1/bookings", c.Token, body, "Idempotency-Key", "pkg-1")
	if len(again.Body["bookings"].([]any)) != 3 {
		t.Fatalf("replay: %s", again.Raw)
	}
	if got := booked(a, s2, s3, s4); fmt.Sprint(got) != "[1 1 1]" {
		t.Fatalf("seats after booking: %v", got)
	}

	// Cancelling any one with its pair cancels all three.
	r = a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%v?with_pair=true", b3["id"]), c.Token, nil)
	if n := len(r.Body["bookings"].([]any)); n != 3 {
		t.Fatalf("with_pair cancelled %d bookings, want 3: %s", n, r.Raw)
	}
	if got := booked(a, s2, s3, s4); fmt.Sprint(got) != "[0 0 0]" {
		t.Fatalf("seats after cancelling: %v", got)
	}

	// All or none: a full subject 4 slot refuses the package and books nothing.
	full := a.NewSlot(sched, venue, 4, 5, 14, map[string]any{"capacity": 1})
	other := a.NewCandidate(sched, nil)
	grantPackage(a, sched, other)
	a.Must(http.StatusCreated, "POST", "/api/v1/bookings", sched, map[string]any{"candidate_id": other.ID, "slot_ids": []int64{s2, s3, full}})
	r = a.Do("POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{s2, s3, full}})
	if r.Status != 409 || r.Code() != "slot_full" {
		t.Fatalf("package with a full subject 4: got %d %s, want 409 slot_full", r.Status, r.Raw)
	}
	if got := booked(a, s2, s3, full); fmt.Sprint(got) != "[1 1 1]" {
		t.Fatalf("seats after the refused package: %v, want the other candidate's only", got)
	}
	var mine int
	if err := a.DB.Get(&mine, `SELECT count(*) FROM bookings WHERE candidate_id = $1 AND status = 'confirmed'`, c.ID); err != nil {
		t.Fatal(err)
	}
	if mine != 0 {
		t.Fatalf("%d bookings left by the refused package", mine)
	}

	// A revoked package books no more.
	a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/candidates/%d/package", c.ID), sched, nil)
	r = a.Do("POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{s2, s3, s4}})
	if r.Status != 409 || r.Code() != "package_required" {
		t.Fatalf("after revoking: got %d %s, want 409 package_required", r.Status, r.Raw)
	}
	// Subject 4 alone still needs the road tests passed.
	if r := a.Do("POST", "/api/v1/bookings", other.Token, map[string]any{"slot_ids": []int64{s4other}}); r.Status != 409 || r.Code() != "road_tests_missing" {
		t.Fatalf("subject 4 alone: got %d %s", r.Status, r.Raw)
	}
}

// TestPackageRace races package bookings for the last seats of each
// subject against single bookings: never a partial package.
func TestPackageRace(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	s2, s3, s4 := a.NewSlot(sched, venue, 2, 5, 8, map[string]any{"capacity": 8}),
		a.NewSlot(sched, venue, 3, 5, 10, map[string]any{"capacity": 6}),
		a.NewSlot(sched, venue, 4, 5, 12, map[string]any{"capacity": 5})
	cs := candidates(a, sched, 30)
	for _, c := range cs {
		grantPackage(a, sched, c)
	}

	res := fire(a, cs, func(i int) []int64 {
		switch i % 3 {
		case 0:
			return []int64{s3} // a single road test competing for the same seats
		case 1:
			return []int64{s2, s3, s4}
		}
		return []int64{s4, s3, s2}
	})
	for i, r := range res {
		if r.Status != http.StatusCreated && !(r.Status == 409 && r.Code() == "slot_full") {
			t.Fatalf("candidate %d: got %d %s", i, r.Status, r.Raw)
		}
	}
	var partial int
	if err := a.DB.Get(&partial, `
		SELECT count(*) FROM bookings b
		WHERE b.status = 'confirmed' AND b.subject IN (2, 4)
		  AND (SELECT count(*) FROM bookings o WHERE o.candidate_id = b.candidate_id AND o.status = 'confirmed') <> 3`); err != nil {
		t.Fatal(err)
	}
	if partial != 0 {
		t.Fatalf("%d bookings of partial packages", partial)
	}
	var n4 int
	if err := a.DB.Get(&n4, `SELECT count(*) FROM bookings WHERE slot_id = $1 AND status = 'confirmed'`, s4); err != nil {
		t.Fatal(err)
	}
	if got := booked(a, s2, s3, s4); got[0] != n4 || got[2] != n4 || got[1] > 6 || n4 == 0 {
		t.Fatalf("seats: %v with %d packages", got, n4)
	}
}
