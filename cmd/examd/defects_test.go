package main

import (
	"examd/internal/server/servertest"
	"examd/internal/testkit"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Regression tests of the rule defects of issue 10, §6: each failed before
// its fix.

// inShanghai reports whether v is an RFC 3339 instant written at +08:00.
func inShanghai(v any) bool {
	s, _ := v.(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	return err == nil && strings.HasSuffix(s, "+08:00") && !t.IsZero()
}

// TestCorrectionToFailLeavesQueue (IS-READY): a correction that fails a
// subject of a ready candidate takes them out of the issuance queue in its
// transaction, announces it on the issuance feed, and the desk refuses them.
func TestCorrectionToFailLeavesQueue(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	live, _, err := websocket.DefaultDialer.Dial(strings.Replace(a.URL, "http://", "ws://", 1)+"/api/v1/live/issuance?access_token="+h.Issuer, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	feed := servertest.ScreenOf(t, live)
	if m := feed.Next(); m["type"] != "hello" {
		t.Fatalf("first message %v, want hello", m)
	}

	c, b2, b3, b4 := h.Combined(t)
	attempts := []int64{h.Pass(t, b2, 2), h.Pass(t, b3, 3), h.Pass(t, b4, 4)}
	for _, at := range attempts {
		h.Sign(t, at, "examiner", "candidate")
	}
	if it := h.InQueue(t, c); it == nil || it["ticket"] != "A001" {
		t.Fatalf("queue item %v, want A001", it)
	}
	if m := feed.Next(); m["type"] != "ready" {
		t.Fatalf("feed: %v, want ready", m)
	}
	h.A.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/issuance/%d/call", c.ID), h.Issuer, nil)
	if m := feed.Next(); m["type"] != "call" {
		t.Fatalf("feed: %v, want call", m)
	}

	a.Must(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/attempts/%d/corrections", attempts[1]), h.Examiner,
		map[string]any{"score": 70, "reason": "复核录像：直角转弯压线"})
	var status string
	if err := a.DB.Get(&status, `SELECT status FROM bookings WHERE id = $1`, b3); err != nil || status != "failed" {
		t.Fatalf("subject 3 booking after the correction: %q (%v)", status, err)
	}
	if it := h.InQueue(t, c); it != nil {
		t.Fatalf("still in the queue after a corrected fail: %v", it)
	}
	if m := feed.Next(); m["type"] != "withdrawn" || m["ticket"] != "A001" || m["candidate_id"] != float64(c.ID) {
		t.Fatalf("feed: %v, want withdrawn A001", m)
	}
	for _, step := range []string{"accept", "review_fee", "print"} {
		if r := h.Step(c, step); r.Status != http.StatusConflict || r.Code() != "not_ready" {
			t.Fatalf("%s after a corrected fail: %d %s, want 409 not_ready", step, r.Status, r.Raw)
		}
	}
	if r := a.Do("POST", fmt.Sprintf("/api/v1/issuance/%d/call", c.ID), h.Issuer, nil); r.Status != http.StatusConflict || r.Code() != "not_ready" {
		t.Fatalf("call after a corrected fail: %d %s, want 409 not_ready", r.Status, r.Raw)
	}
	var withdrawn int
	if err := a.DB.Get(&withdrawn, `SELECT count(*) FROM audit_log WHERE action = 'issuance.withdrawn' AND subject = $1
		AND before ->> 'ticket' = 'A001'`, fmt.Sprintf("candidate:%d", c.ID)); err != nil || withdrawn != 1 {
		t.Fatalf("audit of the withdrawal: %d (%v)", withdrawn, err)
	}
}

// TestDeskRechecksReadiness (IS-READY): each desk step checks readiness in
// its own transaction, whatever made the candidate unready since.
func TestDeskRechecksReadiness(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	c, b2, b3, b4 := h.Combined(t)
	attempts := []int64{h.Pass(t, b2, 2), h.Pass(t, b3, 3), h.Pass(t, b4, 4)}
	for _, at := range attempts {
		h.Sign(t, at, "examiner", "candidate")
	}
	if r := h.Step(c, "accept"); r.Status != http.StatusOK {
		t.Fatalf("accept: %d %s", r.Status, r.Raw)
	}
	// A corrected fail written behind the desk's back (no withdrawal).
	if _, err := a.DB.Exec(`
		INSERT INTO attempt_corrections (attempt_id, score, status, reason, corrected_by)
		VALUES ($1, 60, 'failed', '复核', (SELECT min(id) FROM users))`, attempts[2]); err != nil {
		t.Fatal(err)
	}
	if r := h.Step(c, "review_fee"); r.Status != http.StatusConflict || r.Code() != "not_ready" {
		t.Fatalf("review_fee with an unsigned corrected fail: %d %s, want 409 not_ready", r.Status, r.Raw)
	}
	var step string
	if err := a.DB.Get(&step, `SELECT step FROM issuances WHERE candidate_id = $1`, c.ID); err != nil || step != "accepted" {
		t.Fatalf("step after the refusal: %q (%v), want accepted", step, err)
	}
}

// TestCorrectionCountsWhenSigned (ED-SIGN, IS-READY): a corrected pass is a
// new result: the candidate is ready only once examiner and candidate have
// both signed it.
func TestCorrectionCountsWhenSigned(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	c, b2, b3, b4 := h.Combined(t)
	for _, at := range []int64{h.Pass(t, b2, 2), h.Pass(t, b4, 4)} {
		h.Sign(t, at, "examiner", "candidate")
	}
	for i := 0; i < 2; i++ { // attempt 1 and the retake (BK-RETAKE)
		h.Post(h.Device, b3, "exam_started", nil)
		if r := h.Post(h.Device, b3, "deduction", map[string]any{"rule": "GEN.SEATBELT"}); servertest.AttemptOf(r)["status"] != "failed" {
			t.Fatalf("fail: %d %s", r.Status, r.Raw)
		}
	}
	var failed []int64
	if err := a.DB.Select(&failed, `SELECT id FROM attempts WHERE booking_id = $1 ORDER BY attempt_no`, b3); err != nil || len(failed) != 2 {
		t.Fatalf("attempts of subject 3: %v (%v)", failed, err)
	}
	for _, at := range failed {
		h.Sign(t, at, "examiner", "candidate")
	}
	sh := a.Must(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/attempts/%d/corrections", failed[1]), h.Examiner,
		map[string]any{"score": 90, "reason": "设备误判：未压线，复核录像"})
	corr := sh.Body["corrections"].([]any)[0].(map[string]any)
	if sigs, _ := corr["signatures"].([]any); len(sigs) != 0 || corr["final"] != false {
		t.Fatalf("a fresh correction: %v", corr)
	}
	if it := h.InQueue(t, c); it != nil {
		t.Fatalf("ready on an unsigned correction: %v", it)
	}
	h.Sign(t, failed[1], "examiner")
	if it := h.InQueue(t, c); it != nil {
		t.Fatalf("ready on a correction signed by the examiner alone: %v", it)
	}
	// The candidate signs on their own phone this time.
	sh = a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/attempts/%d/signatures", failed[1]), c.Token, map[string]any{"signer": "candidate"})
	corr = sh.Body["corrections"].([]any)[0].(map[string]any)
	if sigs, _ := corr["signatures"].([]any); len(sigs) != 2 || corr["final"] != true {
		t.Fatalf("the correction after both signatures: %v", corr)
	}
	if it := h.InQueue(t, c); it == nil || it["ticket"] != "A001" {
		t.Fatalf("queue item %v after the correction was signed, want A001", it)
	}
	// The original sheet's signatures are as they were.
	var n int
	if err := a.DB.Get(&n, `SELECT count(*) FROM attempt_signatures WHERE attempt_id = $1`, failed[1]); err != nil || n != 2 {
		t.Fatalf("signatures of the original: %d (%v)", n, err)
	}
}

// TestTicketPast999: the 999th and 1000th tickets of a day are A999 and
// A1000, never a repeat of A100.
func TestTicketPast999(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	today := day(0).Format(time.DateOnly)
	// Tickets 1 to 998 were handed out today; A100 is among them.
	early := a.NewCandidate(h.Sched, nil)
	if _, err := a.DB.Exec(`INSERT INTO issuance_tickets (day, prefix, last) VALUES ($1, 'A', 998)`, today); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DB.Exec(`INSERT INTO issuances (candidate_id, day, ticket, priority_lane, ready_at)
		VALUES ($1, $2, 'A100', false, now())`, early.ID, today); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"A999", "A1000"} {
		c := h.Ready(t)
		if it := h.InQueue(t, c); it["ticket"] != want {
			t.Fatalf("ticket %v, want %s", it["ticket"], want)
		}
	}
}

// TestRosterFollowsTheGrant (PL-ORDER): the exam order follows the priority
// grant in force, not the lane stored when the candidate booked.
func TestRosterFollowsTheGrant(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, true)
	slot := a.NewSlot(sched, venue, 2, 5, 9, nil)
	grant := func(c candidate) {
		a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/candidates/%d/priority", c.ID), sched,
			map[string]any{"reason": "elderly", "needs": []string{}, "note": ""})
	}
	early, late := a.NewCandidate(sched, nil), a.NewCandidate(sched, nil)
	grant(early)
	var bookings []int64
	for _, c := range []candidate{early, a.NewCandidate(sched, nil), late} {
		r := a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{slot}})
		bookings = append(bookings, int64(r.Body["bookings"].([]any)[0].(map[string]any)["id"].(float64)))
	}
	roster := func() (ids []int64, lanes []string) {
		r := a.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/slots/%d/roster", slot), sched, nil)
		for _, e := range r.Body["candidates"].([]any) {
			e := e.(map[string]any)
			ids = append(ids, int64(e["candidate_id"].(float64)))
			lanes = append(lanes, e["lane"].(string))
		}
		return ids, lanes
	}
	lane := func(booking int64) any {
		return a.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/bookings/%d", booking), sched, nil).Body["lane"]
	}

	grant(late) // after booking
	ids, lanes := roster()
	if ids[0] != early.ID || ids[1] != late.ID || fmt.Sprint(lanes) != "[priority priority regular]" {
		t.Fatalf("roster after a late grant: %v %v, want %d then %d on the lane", ids, lanes, early.ID, late.ID)
	}
	if l := lane(bookings[2]); l != "priority" {
		t.Fatalf("booking after a late grant: lane %v", l)
	}

	a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/candidates/%d/priority", early.ID), sched, nil)
	ids, lanes = roster()
	if ids[0] != late.ID || ids[1] != early.ID || fmt.Sprint(lanes) != "[priority regular regular]" {
		t.Fatalf("roster after a revoke: %v %v, want %d first and %d, no longer on the lane, by booking time", ids, lanes, late.ID, early.ID)
	}
	if l := lane(bookings[0]); l != "regular" {
		t.Fatalf("booking after a revoke: lane %v", l)
	}
}

// TestInstantsInShanghai: the README promises instants in Asia/Shanghai.
func TestInstantsInShanghai(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	r := a.Must(http.StatusOK, "POST", "/api/v1/login", "", map[string]any{"username": "admin", "password": adminPassword})
	if !inShanghai(r.Body["expires_at"]) {
		t.Errorf("login expires_at %v, want +08:00", r.Body["expires_at"])
	}

	h := servertest.NewHall(t, a)
	c := h.Ready(t)
	roster := a.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/slots/%d/roster", h.Slot), h.Sched, nil)
	entry := roster.Body["candidates"].([]any)[0].(map[string]any)
	if !inShanghai(entry["booked_at"]) {
		t.Errorf("roster booked_at %v, want +08:00", entry["booked_at"])
	}
	for _, step := range []string{"accept", "review_fee"} {
		a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/issuance/%d/steps", c.ID), h.Issuer, map[string]any{"step": step})
	}
	printed := a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/issuance/%d/steps", c.ID), h.Issuer, map[string]any{"step": "print"})
	if l := printed.Body["licence"].(map[string]any); !inShanghai(l["issued_at"]) {
		t.Errorf("print issued_at %v, want +08:00", l["issued_at"])
	}
	it := h.InQueue(t, c)
	if !inShanghai(it["issued_at"]) || !inShanghai(it["ready_at"]) {
		t.Errorf("queue issued_at %v ready_at %v, want +08:00", it["issued_at"], it["ready_at"])
	}
	j := a.Must(http.StatusOK, "GET", "/api/v1/me/journey", c.Token, nil)
	desk := j.Body["issuance"].(map[string]any)
	if !inShanghai(desk["ready_at"]) || !inShanghai(desk["licence"].(map[string]any)["issued_at"]) {
		t.Errorf("journey issuance %v, want instants at +08:00", desk)
	}
}

// TestSubject1BeforePermit: the permit follows subject 1, so subject 1's
// date may not be after the permit's issue.
func TestSubject1BeforePermit(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	issued := day(-60)
	for _, tt := range []struct {
		name string
		s1   time.Time
		ok   bool
	}{{"DayBefore", issued.AddDate(0, 0, -1), true}, {"SameDay", issued, true}, {"DayAfter", issued.AddDate(0, 0, 1), false}} {
		t.Run(tt.name, func(t *testing.T) {
			n := int(servertest.Next())
			r := a.Do("POST", "/api/v1/candidates", sched, map[string]any{
				"id_number": testkit.IDNumber(n), "name": "考生", "phone": "13800138000", "licence_class": "C1",
				"permit_issued_on": issued.Format(time.DateOnly), "permit_expires_on": issued.AddDate(3, 0, 0).Format(time.DateOnly),
				"subject1_passed_on": tt.s1.Format(time.DateOnly), "password": "candidate-pw",
			})
			if tt.ok && r.Status != http.StatusCreated || !tt.ok && (r.Status != 422 || r.Code() != "invalid_field" || r.Field() != "subject1_passed_on") {
				t.Fatalf("subject 1 on %s, permit on %s: %d %s", tt.s1.Format(time.DateOnly), issued.Format(time.DateOnly), r.Status, r.Raw)
			}
		})
	}
}

// TestJourneyAfterPermitSpent (BK-CAP): once the 5th booking of a road test
// has failed, the subjects passed on the permit are void.
func TestJourneyAfterPermitSpent(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	d := servertest.NewExamDay(t, a, 3)
	c, first := d.Book(t, d.Slot, 3)
	passed := d.TodaySlot(t, 2)
	var sub2 int64
	if err := a.DB.Get(&sub2, `
		INSERT INTO bookings (candidate_id, slot_id, subject, exam_day, lane, booked_by, status)
		SELECT $1, id, subject, (starts_at AT TIME ZONE 'Asia/Shanghai')::date, 'regular', $1, 'passed' FROM slots WHERE id = $2
		RETURNING id`, c.ID, passed); err != nil {
		t.Fatal(err)
	}
	// Five failed bookings of subject 3 on the permit: the first today, four more before.
	if _, err := a.DB.Exec(`UPDATE bookings SET status = 'failed' WHERE id = $1`, first); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 4; i++ {
		if _, err := a.DB.Exec(`
			INSERT INTO bookings (candidate_id, slot_id, subject, exam_day, lane, booked_by, status)
			VALUES ($1, $2, 3, $3, 'regular', $1, 'failed')`, c.ID, d.Slot, day(-11*i).Format(time.DateOnly)); err != nil {
			t.Fatal(err)
		}
	}
	j := a.Must(http.StatusOK, "GET", "/api/v1/me/journey", c.Token, nil)
	var states []string
	for _, s := range j.Body["subjects"].([]any) {
		states = append(states, s.(map[string]any)["state"].(string))
	}
	next := j.Body["next"].(map[string]any)
	if fmt.Sprint(states) != "[void void failed not_yet]" || j.Body["permit_spent"] != true || next["code"] != "permit_spent" {
		t.Fatalf("journey of a spent permit: %v, next %v, spent %v", states, next["code"], j.Body["permit_spent"])
	}
}

// TestSlotCreationAgreesOnBookingOpen: the creation answer and a read right
// after agree that a slot published with the default window is open.
func TestSlotCreationAgreesOnBookingOpen(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	for i := 0; i < 30; i++ {
		start := day(10).Add(time.Duration(8+i%10) * time.Hour)
		r := a.Must(http.StatusCreated, "POST", "/api/v1/slots", sched, map[string]any{
			"venue_id": venue, "subject": 3, "licence_class": "C1",
			"starts_at": start.Format(time.RFC3339), "ends_at": start.Add(time.Hour).Format(time.RFC3339),
			"capacity": 5,
		})
		got := a.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/slots/%d", r.ID()), sched, nil)
		if r.Body["booking_open"] != true || got.Body["booking_open"] != true || r.Body["booking_opens_at"] != got.Body["booking_opens_at"] {
			t.Fatalf("slot %d: created open=%v opens %v, read open=%v opens %v", r.ID(),
				r.Body["booking_open"], r.Body["booking_opens_at"], got.Body["booking_open"], got.Body["booking_opens_at"])
		}
	}
}
