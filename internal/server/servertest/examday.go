package servertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"examd/internal/testkit"
)

// ExamDay is a venue with a slot running all of today, a judging device
// there, and a way to book candidates onto it (written straight into the
// database: today's booking window closed yesterday, BK-WINDOW).
type ExamDay struct {
	A      *App
	Sched  string // a scheduler's token
	Venue  int64
	Slot   int64
	Device string // the device's key
}

// NewExamDay sets up today's exam of subject at a new venue.
func NewExamDay(t testing.TB, a *App, subject int) *ExamDay {
	t.Helper()
	d := &ExamDay{A: a, Sched: a.Staff("scheduler")}
	d.Venue = a.NewVenue(d.Sched, false)
	d.Slot = d.TodaySlot(t, subject)
	if subject == 4 {
		d.Device = d.NewTerminal(t, d.Venue)
	} else {
		d.Device = d.NewDevice(t, d.Venue)
	}
	return d
}

// TodaySlot opens a C1 slot of subject at d's venue, all of today.
func (d *ExamDay) TodaySlot(t testing.TB, subject int) int64 {
	t.Helper()
	start := d.A.Day(0)
	return d.A.Must(http.StatusCreated, "POST", "/api/v1/slots", d.Sched, map[string]any{
		"venue_id": d.Venue, "subject": subject, "licence_class": "C1", "capacity": 50, "priority_reserved": 0,
		"starts_at": start.Format(time.RFC3339), "ends_at": start.Add(24*time.Hour - time.Second).Format(time.RFC3339),
		"adapted_vehicle": false,
	}).ID()
}

// NewDevice registers a C1 exam car of subjects 2 and 3 at venue and
// returns its key.
func (d *ExamDay) NewDevice(t testing.TB, venue int64) string {
	t.Helper()
	r := d.A.Must(http.StatusCreated, "POST", "/api/v1/devices", d.A.Admin, map[string]any{
		"venue_id": venue, "name": "考试车 3号", "vehicle_plate": "京A1234学", "subjects": []int{2, 3}, "licence_classes": []string{"C1"}, "adapted_vehicle": false,
	})
	return r.Body["key"].(string)
}

// NewTerminal registers a C1 theory terminal (subject 4) at venue and
// returns its key.
func (d *ExamDay) NewTerminal(t testing.TB, venue int64) string {
	t.Helper()
	r := d.A.Must(http.StatusCreated, "POST", "/api/v1/devices", d.A.Admin, map[string]any{
		"venue_id": venue, "name": "理论考试终端 1号", "subjects": []int{4}, "licence_classes": []string{"C1"},
	})
	return r.Body["key"].(string)
}

// Book puts a new candidate on slot and returns the candidate and the
// booking's id.
func (d *ExamDay) Book(t testing.TB, slot int64, subject int) (Candidate, int64) {
	t.Helper()
	c := d.A.NewCandidate(d.Sched, nil)
	return c, d.BookAs(t, c, slot)
}

// BookAs puts candidate c on slot and returns the booking's id.
func (d *ExamDay) BookAs(t testing.TB, c Candidate, slot int64) int64 {
	t.Helper()
	var id int64
	err := d.A.DB.Get(&id, `
		WITH b AS (INSERT INTO bookings (candidate_id, slot_id, subject, exam_day, lane, booked_by)
		           SELECT $1, id, subject, (starts_at AT TIME ZONE 'Asia/Shanghai')::date, 'regular', $1 FROM slots WHERE id = $2
		           RETURNING id, slot_id)
		, s AS (UPDATE slots SET booked = booked + 1 WHERE id = (SELECT slot_id FROM b))
		SELECT id FROM b`, c.ID, slot)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// Post sends a device event (with the device's key) and returns the answer.
func (d *ExamDay) Post(key string, booking int64, typ string, fields map[string]any) testkit.Response {
	d.A.T.Helper()
	body := map[string]any{"event_id": testkit.UUID(), "booking_id": booking, "type": typ, "at": time.Now().Format(time.RFC3339Nano)}
	for k, v := range fields {
		body[k] = v
	}
	return d.A.Do("POST", "/api/v1/exam/events", "", body, "Authorization", "Device "+key)
}

// AttemptOf is the attempt in a device event's answer.
func AttemptOf(r testkit.Response) map[string]any {
	a, _ := r.Body["attempt"].(map[string]any)
	return a
}

// Hall is a venue's exam day for subjects 2, 3 and 4, with an examiner to
// sign the score sheets and an issuing desk.
type Hall struct {
	*ExamDay
	Slot3, Slot4 int64
	// Judge is the car Pass and Fail examine on, and Terminal the theory
	// terminal: exams a test leaves running on Device do not hold them up
	// (ED-ATTEMPT: one attempt at a time per device).
	Judge, Terminal string
	Examiner        string // the examiner's token
	Issuer          string // the issuer's token, at 3号窗口
}

// NewHall sets up today's hall at a new venue.
func NewHall(t testing.TB, a *App) *Hall {
	t.Helper()
	return HallOf(t, NewExamDay(t, a, 2))
}

// HallOf adds subjects 3 and 4, an examiner and an issuer to d.
func HallOf(t testing.TB, d *ExamDay) *Hall {
	t.Helper()
	a := d.A
	h := &Hall{ExamDay: d}
	h.Slot3 = h.TodaySlot(t, 3)
	h.Slot4 = h.TodaySlot(t, 4)
	h.Judge, h.Terminal = h.NewDevice(t, h.Venue), h.NewTerminal(t, h.Venue)
	name := fmt.Sprintf("examiner%d", Next())
	a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin, map[string]any{"username": name, "password": "examiner-pw", "role": "examiner", "venue_id": h.Venue})
	h.Examiner = a.Login(name, "examiner-pw")
	name = fmt.Sprintf("issuer%d", Next())
	a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin, map[string]any{"username": name, "password": "issuer-pw", "role": "issuer", "desk": "3号窗口"})
	h.Issuer = a.Login(name, "issuer-pw")
	return h
}

// Combined books a new candidate on the combined subject 2 + 3 exam and on
// subject 4, today (by SQL: today's booking window has closed).
func (h *Hall) Combined(t testing.TB) (c Candidate, b2, b3, b4 int64) {
	t.Helper()
	c, b2 = h.Book(t, h.Slot, 2)
	insert := func(slot int64, subject int, pair any) (id int64) {
		err := h.A.DB.Get(&id, `
			WITH b AS (INSERT INTO bookings (candidate_id, slot_id, subject, exam_day, lane, booked_by, pair_id)
			           SELECT $1, id, $3, (starts_at AT TIME ZONE 'Asia/Shanghai')::date, 'regular', $1, $4 FROM slots WHERE id = $2
			           RETURNING id, slot_id)
			, s AS (UPDATE slots SET booked = booked + 1 WHERE id = (SELECT slot_id FROM b))
			SELECT id FROM b`, c.ID, slot, subject, pair)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	b3 = insert(h.Slot3, 3, b2)
	if _, err := h.A.DB.Exec(`UPDATE bookings SET pair_id = $2 WHERE id = $1`, b2, b3); err != nil {
		t.Fatal(err)
	}
	b4 = insert(h.Slot4, 4, nil)
	return c, b2, b3, b4
}

// Package books a new candidate on today's all-subjects day (BK-PACKAGE):
// Combined, with the subject 4 booking pointing at the subject 2 one.
func (h *Hall) Package(t testing.TB) (c Candidate, b2, b3, b4 int64) {
	t.Helper()
	c, b2, b3, b4 = h.Combined(t)
	if _, err := h.A.DB.Exec(`UPDATE bookings SET pair_id = $2 WHERE id = $1`, b4, b2); err != nil {
		t.Fatal(err)
	}
	return c, b2, b3, b4
}

// Pass runs a clean exam on the booking and returns its attempt.
func (h *Hall) Pass(t testing.TB, booking int64, subject int) int64 {
	t.Helper()
	var r testkit.Response
	if subject == 4 {
		r = h.Post(h.Terminal, booking, "theory_result", map[string]any{"score": 95})
	} else {
		h.Post(h.Judge, booking, "exam_started", nil)
		r = h.Post(h.Judge, booking, "exam_finished", nil)
	}
	if at := AttemptOf(r); r.Status != http.StatusCreated || at["status"] != "passed" {
		t.Fatalf("subject %d: %d %s", subject, r.Status, r.Raw)
	}
	return int64(AttemptOf(r)["id"].(float64))
}

// Fail fails the booking's exam and its retake.
func (h *Hall) Fail(t testing.TB, booking int64) {
	t.Helper()
	for i := 0; i < 2; i++ {
		h.Post(h.Judge, booking, "exam_started", nil)
		if r := h.Post(h.Judge, booking, "deduction", map[string]any{"rule": "RP.BODY_OUT"}); AttemptOf(r)["status"] != "failed" {
			t.Fatalf("fail: %d %s", r.Status, r.Raw)
		}
	}
}

// Sign signs an attempt as each of signers ("examiner", "candidate"), on
// the examiner's tablet.
func (h *Hall) Sign(t testing.TB, attempt int64, signers ...string) {
	t.Helper()
	for _, s := range signers {
		h.A.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/attempts/%d/signatures", attempt), h.Examiner, map[string]any{"signer": s})
	}
}

// Queue is the issuing desk's queue of today.
func (h *Hall) Queue(t testing.TB) []map[string]any {
	t.Helper()
	r := h.A.Must(http.StatusOK, "GET", "/api/v1/issuance/queue?date="+h.A.Day(0).Format(time.DateOnly), h.Issuer, nil)
	var items []map[string]any
	for _, it := range r.Body["items"].([]any) {
		items = append(items, it.(map[string]any))
	}
	return items
}

// InQueue is c's row in today's queue, nil when c is not in it.
func (h *Hall) InQueue(t testing.TB, c Candidate) map[string]any {
	t.Helper()
	for _, it := range h.Queue(t) {
		if it["candidate_id"] == float64(c.ID) {
			return it
		}
	}
	return nil
}

// Ready takes a new candidate through subjects 2, 3 and 4, every sheet
// signed, into the issuance queue.
func (h *Hall) Ready(t testing.TB) Candidate {
	t.Helper()
	c, b2, b3, b4 := h.Combined(t)
	for _, at := range []int64{h.Pass(t, b2, 2), h.Pass(t, b3, 3), h.Pass(t, b4, 4)} {
		h.Sign(t, at, "examiner", "candidate")
	}
	if h.InQueue(t, c) == nil {
		t.Fatalf("candidate %d is not in the queue", c.ID)
	}
	return c
}

// Step asks the desk for one issuing step for c, with what the step
// records (StepBody).
func (h *Hall) Step(c Candidate, step string) testkit.Response {
	return h.A.Do("POST", fmt.Sprintf("/api/v1/issuance/%d/steps", c.ID), h.Issuer, StepBody(step))
}

// StepBody is a complete body of POST /issuance/{id}/steps for step: the
// whole checklist of accept, a payment of review_fee (cash, receipt
// R-0001).
func StepBody(step string) map[string]any {
	switch step {
	case "accept":
		return map[string]any{"step": step, "checklist": []string{"id_card", "photo", "medical"}}
	case "review_fee":
		return map[string]any{"step": step, "payment_method": "cash", "receipt_number": "R-0001"}
	}
	return map[string]any{"step": step}
}

// Issue takes a ready candidate through the desk's three steps to a licence.
func (h *Hall) Issue(t testing.TB, c Candidate) {
	t.Helper()
	for _, s := range []string{"accept", "review_fee", "print"} {
		if r := h.Step(c, s); r.Status != http.StatusOK {
			t.Fatalf("%s for candidate %d: %d %s", s, c.ID, r.Status, r.Raw)
		}
	}
}

// IssuanceOf is the id of the candidate's issuance: the API shows the
// candidate their ticket, not the row's id.
func (h *Hall) IssuanceOf(t testing.TB, c Candidate) int64 {
	t.Helper()
	var id int64
	if err := h.A.DB.Get(&id, `SELECT id FROM issuances WHERE candidate_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	return id
}

// Screen is an examiner's live screen: a websocket on a venue's feed.
type Screen struct {
	t    testing.TB
	Conn *websocket.Conn
}

// Watch opens the venue's live feed with token, from since when not empty.
func Watch(t testing.TB, a *App, token string, venue int64, since string) (*Screen, *http.Response, error) {
	t.Helper()
	u := strings.Replace(a.URL, "http://", "ws://", 1) + fmt.Sprintf("/api/v1/live?venue_id=%d&access_token=%s", venue, token)
	if since != "" {
		u += "&since=" + since
	}
	conn, res, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		return nil, res, err
	}
	t.Cleanup(func() { conn.Close() })
	return &Screen{t: t, Conn: conn}, res, nil
}

// Next reads one message within 2 s.
func (s *Screen) Next() map[string]any {
	s.t.Helper()
	_ = s.Conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, raw, err := s.Conn.ReadMessage()
	if err != nil {
		s.t.Fatalf("screen: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		s.t.Fatalf("screen: %s: %v", raw, err)
	}
	return m
}

// ScreenOf reads a feed the test opened itself (another door, headers of
// its own).
func ScreenOf(t testing.TB, conn *websocket.Conn) *Screen { return &Screen{t: t, Conn: conn} }
