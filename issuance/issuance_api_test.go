package issuance_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"examd/internal/audit"
	"examd/internal/server/servertest"
)

// TestSameDayIssuance: a combined-exam candidate who passes subjects 2, 3
// and 4 is ready in the transaction of the last signature, and the desk
// takes them through its three steps, in order only, to a licence.
func TestSameDayIssuance(t *testing.T) {
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
	for i, at := range attempts {
		h.Sign(t, at, "examiner")
		if i < len(attempts)-1 {
			h.Sign(t, at, "candidate")
		}
	}
	if it := h.InQueue(t, c); it != nil {
		t.Fatalf("ready before the last signature: %v", it)
	}
	if r := h.Step(c, "accept"); r.Status != http.StatusConflict || r.Code() != "not_ready" {
		t.Fatalf("accept before ready: %d %s", r.Status, r.Raw)
	}
	h.Sign(t, attempts[2], "candidate")
	it := h.InQueue(t, c)
	if it == nil || it["ticket"] != "A001" || it["step"] != "ready" || it["priority_lane"] != false || it["licence_class"] != "C1" {
		t.Fatalf("queue item %v, want ticket A001 at step ready", it)
	}
	// Ready in the transaction of the last signature: the same instant.
	var same bool
	if err := a.DB.Get(&same, `
		SELECT i.ready_at = s.signed_at FROM issuances i, attempt_signatures s
		WHERE i.candidate_id = $1 AND s.attempt_id = $2 AND s.signer = 'candidate'`, c.ID, attempts[2]); err != nil || !same {
		t.Fatalf("ready_at is not the last signature's time (%v)", err)
	}
	ready := feed.Next()
	notice, _ := ready["notice"].([]any)
	if ready["type"] != "ready" || ready["ticket"] != "A001" || ready["name"] == "" || strings.Contains(fmt.Sprint(ready), c.IDNo) || len(notice) < 4 {
		t.Fatalf("ready event %v", ready)
	}

	// IS-STEPS: every wrong order is refused and changes nothing.
	for _, tt := range []struct {
		step   string
		status int
		code   string
	}{
		{"print", 409, "invalid_step"}, {"review_fee", 409, "invalid_step"}, {"sign", 422, "invalid_field"},
		{"accept", 200, ""}, {"accept", 409, "invalid_step"}, {"print", 409, "invalid_step"},
		{"review_fee", 200, ""}, {"review_fee", 409, "invalid_step"}, {"accept", 409, "invalid_step"},
	} {
		r := h.Step(c, tt.step)
		if r.Status != tt.status || tt.code != "" && r.Code() != tt.code {
			t.Fatalf("%s: %d %s, want %d %s", tt.step, r.Status, r.Raw, tt.status, tt.code)
		}
		if tt.step == "review_fee" && r.Status == 200 && r.Body["fee_yuan"] != 10.0 {
			t.Fatalf("review_fee: %s, want the 10 yuan fee", r.Raw)
		}
	}
	a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/issuance/%d/call", c.ID), h.Issuer, nil)
	r := h.Step(c, "print")
	l, _ := r.Body["licence"].(map[string]any)
	if r.Status != 200 || l["licence_number"] != c.IDNo || !regexp.MustCompile(`^[0-9]{12}$`).MatchString(fmt.Sprint(l["file_number"])) {
		t.Fatalf("print: %d %s", r.Status, r.Raw)
	}
	today := a.Day(0)
	if l["valid_from"] != today.Format(time.DateOnly) || l["valid_until"] != today.AddDate(6, 0, 0).Format(time.DateOnly) ||
		l["probation_until"] != today.AddDate(1, 0, 0).Format(time.DateOnly) {
		t.Fatalf("validity %v, want 6 years from today with 12 months' probation", l)
	}
	if r := h.Step(c, "print"); r.Status != 409 || r.Code() != "invalid_step" {
		t.Fatalf("second print: %d %s", r.Status, r.Raw)
	}
	// The record of decisions: one audit row per step, by the issuer, and an intact chain.
	var actions []string
	if err := a.DB.Select(&actions, `
		SELECT action || ':' || actor_kind FROM audit_log WHERE subject = $1 ORDER BY id`, fmt.Sprintf("candidate:%d", c.ID)); err != nil {
		t.Fatal(err)
	}
	if want := "[issuance.ready:system issuance.accept:user issuance.review_fee:user issuance.print:user]"; fmt.Sprint(actions) != want {
		t.Fatalf("audit %v, want %s", actions, want)
	}
	for subject, want := range map[string]string{
		fmt.Sprintf("attempt:%d", attempts[0]): "[attempt.opened:device attempt.finished:device attempt.confirmed:user]",
		fmt.Sprintf("attempt:%d", attempts[2]): "[attempt.opened:device attempt.finished:device attempt.confirmed:user]",
		fmt.Sprintf("user:%d", c.ID):           "[user.created:user]",
	} {
		var got []string
		if err := a.DB.Select(&got, `SELECT action || ':' || actor_kind FROM audit_log WHERE subject = $1 ORDER BY id`, subject); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != want {
			t.Errorf("audit of %s: %v, want %s", subject, got, want)
		}
	}
	var staffCreated int
	if err := a.DB.Get(&staffCreated, `SELECT count(*) FROM audit_log a JOIN users u ON a.subject = 'user:' || u.id
		WHERE a.action = 'user.created' AND u.role = 'issuer'`); err != nil || staffCreated != 1 {
		t.Errorf("the issuer's account: %d audit rows (%v), want 1", staffCreated, err)
	}
	if rep, err := audit.Verify(context.Background(), a.DB, 0); err != nil || !rep.Intact() {
		t.Fatalf("audit verify: %+v %v", rep, err)
	}
	j := a.Must(http.StatusOK, "GET", "/api/v1/me/journey", c.Token, nil)
	var states []string
	for _, s := range j.Body["subjects"].([]any) {
		states = append(states, s.(map[string]any)["state"].(string))
	}
	desk, _ := j.Body["issuance"].(map[string]any)
	if next := j.Body["next"].(map[string]any); next["code"] != "licence_issued" || fmt.Sprint(states) != "[passed passed passed passed]" ||
		desk["step"] != "issued" || desk["ticket"] != "A001" || len(j.Body["notice"].([]any)) == 0 {
		t.Fatalf("journey after print: %s", j.Raw)
	}
	var who struct {
		Accepted, Reviewed, Issued string
	}
	if err := a.DB.Get(&who, `SELECT accepted_desk AS accepted, reviewed_desk AS reviewed, issued_desk AS issued FROM issuances WHERE candidate_id = $1`, c.ID); err != nil ||
		who.Accepted != "3号窗口" || who.Reviewed != "3号窗口" || who.Issued != "3号窗口" {
		t.Fatalf("desks recorded %+v (%v)", who, err)
	}
	var types []string
	for range 4 {
		m := feed.Next()
		types = append(types, fmt.Sprint(m["type"], ":", m["step"], ":", m["desk"]))
	}
	if want := "[step:accepted:3号窗口 step:reviewed:3号窗口 call:reviewed:3号窗口 issued:issued:3号窗口]"; fmt.Sprint(types) != want {
		t.Fatalf("live events %v, want %s", types, want)
	}

	// A second candidate: the next ticket and another file number.
	c2 := h.Ready(t)
	for _, s := range []string{"accept", "review_fee"} {
		if r := h.Step(c2, s); r.Status != 200 {
			t.Fatalf("%s: %d %s", s, r.Status, r.Raw)
		}
	}
	l2 := h.Step(c2, "print").Body["licence"].(map[string]any)
	if l2["file_number"] == l["file_number"] || h.InQueue(t, c2)["ticket"] != "A002" {
		t.Fatalf("second licence %v, first %v", l2, l)
	}

	// PL-ORDER: a priority-lane candidate gets a P ticket and heads the queue.
	lane, b2, b3, b4 := h.Combined(t)
	a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/candidates/%d/priority", lane.ID), h.Sched,
		map[string]any{"reason": "disability", "needs": []string{}, "note": ""})
	for _, at := range []int64{h.Pass(t, b2, 2), h.Pass(t, b3, 3), h.Pass(t, b4, 4)} {
		h.Sign(t, at, "examiner", "candidate")
	}
	if q := h.Queue(t); len(q) != 3 || q[0]["candidate_id"] != float64(lane.ID) || q[0]["ticket"] != "P001" || q[0]["priority_lane"] != true {
		t.Fatalf("queue with a priority-lane candidate: %v", q)
	}
}

// TestNotReady: a missing signature, or a failed subject 2, keeps the
// candidate out of the queue; the one-time notice comes with a booking.
func TestNotReady(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)

	unsigned, b2, b3, b4 := h.Combined(t)
	at := []int64{h.Pass(t, b2, 2), h.Pass(t, b3, 3), h.Pass(t, b4, 4)}
	h.Sign(t, at[0], "examiner", "candidate")
	h.Sign(t, at[1], "examiner", "candidate")
	h.Sign(t, at[2], "examiner") // the candidate has not signed subject 4
	if it := h.InQueue(t, unsigned); it != nil {
		t.Fatalf("an unsigned sheet, yet in the queue: %v", it)
	}

	failed, b2, b3, b4 := h.Combined(t)
	h.Fail(t, b2)
	var attempts []int64
	if err := a.DB.Select(&attempts, `SELECT id FROM attempts WHERE booking_id = $1`, b2); err != nil {
		t.Fatal(err)
	}
	attempts = append(attempts, h.Pass(t, b3, 3), h.Pass(t, b4, 4))
	for _, id := range attempts {
		h.Sign(t, id, "examiner", "candidate")
	}
	if it := h.InQueue(t, failed); it != nil {
		t.Fatalf("failed subject 2, yet in the queue: %v", it)
	}
	if r := h.Step(failed, "accept"); r.Status != 409 || r.Code() != "not_ready" {
		t.Fatalf("accept: %d %s", r.Status, r.Raw)
	}
	j := a.Must(http.StatusOK, "GET", "/api/v1/me/journey", failed.Token, nil)
	s2 := j.Body["subjects"].([]any)[1].(map[string]any)
	if next := j.Body["next"].(map[string]any); next["code"] != "book_subject2" || s2["state"] != "failed" ||
		s2["cooldown_until"] != a.Day(10).Format(time.DateOnly) || s2["bookings_used"] != 1.0 || j.Body["issuance"] != nil {
		t.Fatalf("journey after a failed subject 2: %s", j.Raw)
	}
	if r := a.Do("GET", "/api/v1/me/journey", h.Issuer, nil); r.Status != http.StatusForbidden {
		t.Fatalf("journey of an issuer: %d", r.Status)
	}

	// IS-NOTICE: a booking's confirmation lists what to bring.
	c := a.NewCandidate(h.Sched, nil)
	slot := a.NewSlot(h.Sched, h.Venue, 2, 9, 9, nil)
	r := a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{slot}})
	var n int
	if err := a.DB.Get(&n, `SELECT count(*) FROM audit_log WHERE action = 'booking.created' AND subject = $1 AND actor_id = $2`,
		fmt.Sprintf("booking:%v", r.Body["bookings"].([]any)[0].(map[string]any)["id"]), c.ID); err != nil || n != 1 {
		t.Fatalf("audit rows of the booking: %d (%v), want 1", n, err)
	}
	id := int64(r.Body["bookings"].([]any)[0].(map[string]any)["id"].(float64))
	a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%d", id), c.Token, nil)
	if err := a.DB.Get(&n, `SELECT count(*) FROM audit_log WHERE action = 'booking.cancelled' AND subject = $1`, fmt.Sprintf("booking:%d", id)); err != nil || n != 1 {
		t.Fatalf("audit rows of the cancellation: %d (%v), want 1", n, err)
	}
	var codes []string
	for _, it := range r.Body["notice"].([]any) {
		item := it.(map[string]any)
		codes = append(codes, item["code"].(string))
		if strings.Contains(fmt.Sprint(item), "{fee}") {
			t.Errorf("notice item without its fee: %v", item)
		}
	}
	if fmt.Sprint(codes) != "[id_card permit photos fee sign]" {
		t.Fatalf("notice for C1: %v", codes)
	}
	// A repeat of a request (its Idempotency-Key) answers the same notice.
	first := a.Do("POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{slot}}, "Idempotency-Key", "notice-repeat")
	again := a.Do("POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{slot}}, "Idempotency-Key", "notice-repeat")
	if first.Status != http.StatusCreated || again.Status != http.StatusOK ||
		fmt.Sprint(again.Body["notice"]) != fmt.Sprint(r.Body["notice"]) {
		t.Fatalf("booking then its repeat: %d, %d %v; want 201, 200 and the notice", first.Status, again.Status, again.Body["notice"])
	}
}
