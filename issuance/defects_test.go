package issuance_test

import (
	"examd/internal/server/servertest"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Regression tests of the rule defects of issue 10, §6: each failed before
// its fix.

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
	today := a.Day(0).Format(time.DateOnly)
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
