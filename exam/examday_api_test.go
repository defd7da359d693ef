package exam_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"examd/internal/server/servertest"
	"examd/internal/testkit"
)

func TestDeviceEventsScoreAnAttempt(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	d := servertest.NewExamDay(t, a, 2)
	c, booking := d.Book(t, d.Slot, 2)

	r := d.Post(d.Device, booking, "exam_started", nil)
	if r.Status != 201 || servertest.AttemptOf(r)["attempt_no"] != 1.0 || servertest.AttemptOf(r)["score"] != 100.0 || r.Body["seq"] != 1.0 {
		t.Fatalf("exam_started: %d %s", r.Status, r.Raw)
	}
	steps := []struct {
		typ    string
		fields map[string]any
		score  float64
		status string
	}{
		{"item_started", map[string]any{"item": "reverse_parking"}, 100, "in_progress"},
		{"deduction", map[string]any{"rule": "RP.STOP"}, 95, "in_progress"},
		{"deduction", map[string]any{"rule": "RP.STOP"}, 90, "in_progress"},                 // "each": deducts again
		{"deduction", map[string]any{"rule": "GEN.HANDBRAKE_CORRECTED"}, 80, "in_progress"}, // general rule
		{"deduction", map[string]any{"rule": "GEN.HANDBRAKE_CORRECTED"}, 80, "in_progress"}, // once only: recorded, deducts nothing
		{"instruction", map[string]any{"text": "请倒车入库"}, 80, "in_progress"},
		{"item_finished", map[string]any{"item": "reverse_parking"}, 80, "in_progress"},
		{"exam_finished", nil, 80, "passed"}, // C1 subject 2 passes at 80 (SC-PASS)
	}
	for i, s := range steps {
		r := d.Post(d.Device, booking, s.typ, s.fields)
		at := servertest.AttemptOf(r)
		if r.Status != 201 || at["score"] != s.score || at["status"] != s.status || r.Body["seq"] != float64(i+2) {
			t.Fatalf("step %d %s: got %d %s, want score %v %s seq %d", i, s.typ, r.Status, r.Raw, s.score, s.status, i+2)
		}
	}
	if n := len(servertest.AttemptOf(r)["deductions"].([]any)); n != 0 {
		t.Fatalf("the first answer had %d deductions", n)
	}
	var status string
	if err := a.DB.Get(&status, `SELECT status FROM bookings WHERE id = $1`, booking); err != nil || status != "passed" {
		t.Fatalf("booking: %s (%v), want passed", status, err)
	}
	// The score sheet, for staff and for the candidate.
	ids := a.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/bookings/%d/attempts", booking), c.Token, nil)
	sheets := ids.Body["attempts"].([]any)
	sheet := sheets[0].(map[string]any)
	if len(sheets) != 1 || sheet["booking_count"] != 1.0 || sheet["booking_cap"] != 5.0 || len(sheet["events"].([]any)) != 9 ||
		len(sheet["deductions"].([]any)) != 4 || sheet["rule_version"] != 1.0 {
		t.Fatalf("score sheet: %s", ids.Raw)
	}
	other := a.NewCandidate(d.Sched, nil)
	if r := a.Do("GET", fmt.Sprintf("/api/v1/attempts/%v", sheet["id"]), other.Token, nil); r.Status != 404 {
		t.Fatalf("another candidate's score sheet: %d", r.Status)
	}

	// ED-SIGN: the examiner of the venue, then the candidate on the examiner's tablet.
	examiner := a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin, map[string]any{"username": "kaoshiyuan", "password": "examiner-pw", "role": "examiner", "venue_id": d.Venue})
	_ = examiner
	tok := a.Login("kaoshiyuan", "examiner-pw")
	path := fmt.Sprintf("/api/v1/attempts/%v/signatures", sheet["id"])
	a.Must(http.StatusOK, "POST", path, tok, map[string]any{"signer": "examiner"})
	signed := a.Must(http.StatusOK, "POST", path, tok, map[string]any{"signer": "candidate"})
	if signed.Body["final"] != true || len(signed.Body["signatures"].([]any)) != 2 {
		t.Fatalf("after both signatures: %s", signed.Raw)
	}
	if r := a.Do("POST", path, other.Token, map[string]any{"signer": "candidate"}); r.Status != 404 {
		t.Fatalf("another candidate signing: %d", r.Status)
	}
}

func TestRetakeAndRefusals(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	d := servertest.NewExamDay(t, a, 2)
	_, booking := d.Book(t, d.Slot, 2)

	if r := d.Post(d.Device, booking, "deduction", map[string]any{"rule": "RP.STOP"}); r.Status != 409 || r.Code() != "no_attempt" {
		t.Fatalf("deduction before the start: %d %s", r.Status, r.Raw)
	}
	d.Post(d.Device, booking, "exam_started", nil)
	if r := d.Post(d.Device, booking, "exam_started", nil); r.Status != 409 || r.Code() != "attempt_in_progress" {
		t.Fatalf("second start: %d %s", r.Status, r.Raw)
	}
	for _, rule := range []string{"S3.HANDS_OFF", "NO.SUCH_RULE"} {
		if r := d.Post(d.Device, booking, "deduction", map[string]any{"rule": rule}); r.Status != 422 || r.Code() != "unknown_rule" {
			t.Fatalf("rule %s: %d %s", rule, r.Status, r.Raw)
		}
	}
	// SC-END: a fail-outright rule ends the attempt at once.
	r := d.Post(d.Device, booking, "deduction", map[string]any{"rule": "RP.BODY_OUT"})
	if at := servertest.AttemptOf(r); r.Status != 201 || at["status"] != "failed" || at["score"] != 0.0 {
		t.Fatalf("fail outright: %d %s", r.Status, r.Raw)
	}
	seq := r.Body["seq"]
	if r := d.Post(d.Device, booking, "deduction", map[string]any{"rule": "RP.STOP"}); r.Status != 409 || r.Code() != "attempt_finished" {
		t.Fatalf("after the end: %d %s", r.Status, r.Raw)
	}
	if r := d.Post(d.Device, booking, "exam_finished", nil); r.Status != 200 || r.Body["seq"] != seq {
		t.Fatalf("late exam_finished: %d %s, want 200 with seq %v", r.Status, r.Raw, seq)
	}
	// BK-RETAKE: the same-day retake, then no third.
	r = d.Post(d.Device, booking, "exam_started", nil)
	if servertest.AttemptOf(r)["attempt_no"] != 2.0 {
		t.Fatalf("retake: %s", r.Raw)
	}
	for _, rule := range []string{"RP.STOP", "RP.STOP", "RP.STOP", "RP.STOP", "RP.STOP"} { // 75 < 80: SC-END
		r = d.Post(d.Device, booking, "deduction", map[string]any{"rule": rule})
	}
	if at := servertest.AttemptOf(r); at["status"] != "failed" || at["score"] != 75.0 {
		t.Fatalf("below the pass mark: %s", r.Raw)
	}
	if r := d.Post(d.Device, booking, "exam_started", nil); r.Status != 409 || r.Code() != "retake_exhausted" {
		t.Fatalf("third start: %d %s", r.Status, r.Raw)
	}
	var status string
	if err := a.DB.Get(&status, `SELECT status FROM bookings WHERE id = $1`, booking); err != nil || status != "failed" {
		t.Fatalf("booking: %s (%v), want failed", status, err)
	}

	// A retried event is answered as before and changes nothing.
	_, b2 := d.Book(t, d.Slot, 2)
	body := map[string]any{"event_id": testkit.UUID(), "booking_id": b2, "type": "exam_started", "at": time.Now().Format(time.RFC3339)}
	first := a.Must(http.StatusCreated, "POST", "/api/v1/exam/events", "", body, "Authorization", "Device "+d.Device)
	again := a.Must(http.StatusOK, "POST", "/api/v1/exam/events", "", body, "Authorization", "Device "+d.Device)
	if string(first.Raw) != string(again.Raw) {
		t.Fatalf("retry answered differently:\n%s\n%s", first.Raw, again.Raw)
	}

	// The venue, the day and the booking's state are checked.
	elsewhere := d.NewDevice(t, a.NewVenue(d.Sched, false))
	if r := d.Post(elsewhere, b2, "item_started", map[string]any{"item": "hill_start"}); r.Status != 409 || r.Code() != "wrong_venue" {
		t.Fatalf("device of another venue: %d %s", r.Status, r.Raw)
	}
	future := a.NewSlot(d.Sched, d.Venue, 2, 5, 9, nil)
	_, later := d.Book(t, future, 2)
	if r := d.Post(d.Device, later, "exam_started", nil); r.Status != 409 || r.Code() != "not_today" {
		t.Fatalf("tomorrow's booking: %d %s", r.Status, r.Raw)
	}
	_, b3 := d.Book(t, d.Slot, 2)
	a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%d?reason=%s", b3, url.QueryEscape("考生申请")), d.Sched, nil)
	if r := d.Post(d.Device, b3, "exam_started", nil); r.Status != 409 || r.Code() != "not_confirmed" {
		t.Fatalf("cancelled booking: %d %s", r.Status, r.Raw)
	}
	for name, f := range map[string]map[string]any{
		"type":     {"type": "explode"},
		"item":     {"type": "item_started", "item": "moon_landing"},
		"event_id": {"event_id": "not-a-uuid"},
		"at":       {"at": "yesterday"},
	} {
		body := map[string]any{"event_id": testkit.UUID(), "booking_id": b2, "type": "item_started", "item": "hill_start", "at": time.Now().Format(time.RFC3339)}
		for k, v := range f {
			body[k] = v
		}
		if r := a.Do("POST", "/api/v1/exam/events", "", body, "Authorization", "Device "+d.Device); r.Status != 422 || r.Field() != name {
			t.Fatalf("bad %s: %d %s", name, r.Status, r.Raw)
		}
	}
	if r := a.Do("POST", "/api/v1/exam/events", "", map[string]any{}, "Authorization", "Device nope"); r.Status != 401 {
		t.Fatalf("bad device key: %d", r.Status)
	}
}

func TestTheoryNoShowsAndDevices(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	d := servertest.NewExamDay(t, a, 4)
	_, pass := d.Book(t, d.Slot, 4)
	_, fail := d.Book(t, d.Slot, 4)
	_, absent := d.Book(t, d.Slot, 4)
	if r := d.Post(d.Device, pass, "exam_started", nil); r.Status != 422 || r.Field() != "type" {
		t.Fatalf("exam_started for subject 4: %d %s", r.Status, r.Raw)
	}
	if r := d.Post(d.Device, pass, "theory_result", map[string]any{"score": 92}); servertest.AttemptOf(r)["status"] != "passed" {
		t.Fatalf("theory 92: %s", r.Raw)
	}
	if r := d.Post(d.Device, fail, "theory_result", map[string]any{"score": 89}); servertest.AttemptOf(r)["status"] != "failed" {
		t.Fatalf("theory 89: %s", r.Raw)
	}
	if r := d.Post(d.Device, fail, "theory_result", map[string]any{"score": 101}); r.Status != 422 || r.Field() != "score" {
		t.Fatalf("theory 101: %d %s", r.Status, r.Raw)
	}
	// BK-NOSHOW and a declined retake, when the slot closes.
	closed := a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/slots/%d/close", d.Slot), d.Sched, nil)
	got := map[float64]string{}
	for _, b := range closed.Body["bookings"].([]any) {
		m := b.(map[string]any)
		got[m["id"].(float64)] = m["status"].(string)
	}
	if len(got) != 2 || got[float64(absent)] != "no_show" || got[float64(fail)] != "failed" {
		t.Fatalf("close: %s", closed.Raw)
	}

	// Rules for anyone logged in, and for devices.
	rules := a.Must(http.StatusOK, "GET", "/api/v1/rules?subject=2", "", nil, "Authorization", "Device "+d.Device)
	codes := map[string]bool{}
	for _, r := range rules.Body["rules"].([]any) {
		codes[r.(map[string]any)["code"].(string)] = true
	}
	if !codes["GEN.SEATBELT"] || !codes["RP.STOP"] || codes["S3.SIGNAL"] {
		t.Fatalf("subject 2 rules: %s", rules.Raw)
	}
	a.Must(http.StatusOK, "GET", "/api/v1/rules?subject=3", a.Admin, nil)
	// A retired device's key stops working.
	var id int64
	if err := a.DB.Get(&id, `SELECT max(id) FROM devices`); err != nil {
		t.Fatal(err)
	}
	a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/devices/%d", id), a.Admin, nil)
	if r := a.Do("GET", "/api/v1/rules", "", nil, "Authorization", "Device "+d.Device); r.Status != 401 {
		t.Fatalf("retired device: %d", r.Status)
	}
	var actions []string
	if err := a.DB.Select(&actions, `SELECT action FROM audit_log WHERE subject = $1 ORDER BY id`, fmt.Sprintf("device:%d", id)); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(actions) != "[device.key_issued device.retired]" {
		t.Fatalf("audit of the device: %v", actions)
	}
}

// TestFinalResultsAreNeverEdited: the database itself refuses to edit an
// ended attempt or its events (ED-SIGN).
func TestFinalResultsAreNeverEdited(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	d := servertest.NewExamDay(t, a, 2)
	_, booking := d.Book(t, d.Slot, 2)
	d.Post(d.Device, booking, "exam_started", nil)
	d.Post(d.Device, booking, "exam_finished", nil)
	for _, stmt := range []string{
		`UPDATE attempts SET score = 60, status = 'failed' WHERE booking_id = $1`,
		`DELETE FROM attempts WHERE booking_id = $1`,
		`UPDATE attempt_events SET points = 0 WHERE attempt_id IN (SELECT id FROM attempts WHERE booking_id = $1)`,
		`DELETE FROM attempt_events WHERE attempt_id IN (SELECT id FROM attempts WHERE booking_id = $1)`,
	} {
		if _, err := a.DB.Exec(stmt, booking); err == nil {
			t.Errorf("%s: allowed", stmt)
		}
	}
	var score int
	if err := a.DB.Get(&score, `SELECT score FROM attempts WHERE booking_id = $1`, booking); err != nil || score != 100 {
		t.Fatalf("score %d (%v), want 100", score, err)
	}
}

// TestDatabaseGuardsExamRows: the database refuses an attempt on a booking
// that is not confirmed and a signature on an attempt in progress, whoever
// writes them.
func TestDatabaseGuardsExamRows(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	d := servertest.NewExamDay(t, a, 2)
	_, booking := d.Book(t, d.Slot, 2)
	d.Post(d.Device, booking, "exam_started", nil)
	if _, err := a.DB.Exec(`
		INSERT INTO attempt_signatures (attempt_id, signer, signed_by)
		SELECT id, 'examiner', (SELECT min(id) FROM users) FROM attempts WHERE booking_id = $1`, booking); err == nil {
		t.Error("a signature on an attempt in progress was stored")
	}
	_, absent := d.Book(t, d.Slot, 2)
	if _, err := a.DB.Exec(`UPDATE bookings SET status = 'no_show' WHERE id = $1`, absent); err != nil {
		t.Fatalf("no-show: %v", err)
	}
	if _, err := a.DB.Exec(`
		INSERT INTO attempts (booking_id, attempt_no, device_id, rule_version, pass_mark)
		SELECT $1, 1, device_id, rule_version, pass_mark FROM attempts WHERE booking_id = $2`, absent, booking); err == nil {
		t.Error("an attempt on a no-show booking was stored")
	}
	var n int
	if err := a.DB.Get(&n, `SELECT (SELECT count(*) FROM attempt_signatures) + (SELECT count(*) FROM attempts WHERE booking_id = $1)`, absent); err != nil || n != 0 {
		t.Fatalf("%d rows stored (%v), want none", n, err)
	}
}

// TestCorrections: a correction is a new record with a reason; the original
// result stays, the booking follows the corrected one (ED-SIGN).
func TestCorrections(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	d := servertest.NewExamDay(t, a, 2)
	_, booking := d.Book(t, d.Slot, 2)
	d.Post(d.Device, booking, "exam_started", nil)
	r := d.Post(d.Device, booking, "deduction", map[string]any{"rule": "RP.BODY_OUT"})
	id := servertest.AttemptOf(r)["id"]
	a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin, map[string]any{"username": "jiaozheng", "password": "examiner-pw", "role": "examiner", "venue_id": d.Venue})
	examiner := a.Login("jiaozheng", "examiner-pw")
	path := fmt.Sprintf("/api/v1/attempts/%v/corrections", id)

	if r := a.Do("POST", path, examiner, map[string]any{"score": 85}); r.Status != 422 || r.Field() != "reason" {
		t.Fatalf("without a reason: %d %s", r.Status, r.Raw)
	}
	a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin, map[string]any{"username": "elsewhere", "password": "examiner-pw", "role": "examiner", "venue_id": a.NewVenue(d.Sched, false)})
	if r := a.Do("POST", path, a.Login("elsewhere", "examiner-pw"), map[string]any{"score": 85, "reason": "x"}); r.Status != 404 {
		t.Fatalf("examiner of another venue: %d", r.Status)
	}
	sh := a.Must(http.StatusCreated, "POST", path, examiner, map[string]any{"score": 85, "reason": "设备误判：车身未出线，复核录像"})
	res := sh.Body["result"].(map[string]any)
	if sh.Body["score"] != 0.0 || sh.Body["status"] != "failed" || res["score"] != 85.0 || res["status"] != "passed" || res["corrected"] != true ||
		len(sh.Body["corrections"].([]any)) != 1 {
		t.Fatalf("after the correction: %s", sh.Raw)
	}
	status := func() string {
		var s string
		if err := a.DB.Get(&s, `SELECT status FROM bookings WHERE id = $1`, booking); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := status(); s != "passed" {
		t.Fatalf("booking after a corrected pass: %s", s)
	}
	a.Must(http.StatusCreated, "POST", path, a.Admin, map[string]any{"score": 70, "reason": "复核后维持不合格"})
	if s := status(); s != "failed" {
		t.Fatalf("booking after a corrected fail: %s", s)
	}
	var corrected []string
	if err := a.DB.Select(&corrected, `SELECT after ->> 'status' FROM audit_log WHERE action = 'attempt.corrected' AND subject = $1 ORDER BY id`,
		fmt.Sprintf("attempt:%v", id)); err != nil || fmt.Sprint(corrected) != "[passed failed]" {
		t.Fatalf("audit of the corrections: %v (%v)", corrected, err)
	}
}

// TestReviewedExamEdges covers what a review of the exam day found.
func TestReviewedExamEdges(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	d := servertest.NewExamDay(t, a, 2)
	_, booking := d.Book(t, d.Slot, 2)

	// A late event from the car of attempt 1 does not touch the retake on another car.
	d.Post(d.Device, booking, "exam_started", nil)
	d.Post(d.Device, booking, "deduction", map[string]any{"rule": "RP.BODY_OUT"})
	car2 := d.NewDevice(t, d.Venue)
	retake := d.Post(car2, booking, "exam_started", nil)
	if servertest.AttemptOf(retake)["attempt_no"] != 2.0 {
		t.Fatalf("retake: %s", retake.Raw)
	}
	if r := d.Post(d.Device, booking, "exam_finished", nil); r.Status != 200 || servertest.AttemptOf(r)["attempt_no"] != 1.0 {
		t.Fatalf("late exam_finished of car 1: %d %s", r.Status, r.Raw)
	}
	if r := d.Post(d.Device, booking, "deduction", map[string]any{"rule": "RP.STOP"}); r.Status != 409 || r.Code() != "attempt_finished" {
		t.Fatalf("late deduction of car 1: %d %s", r.Status, r.Raw)
	}
	var status string
	if err := a.DB.Get(&status, `SELECT status FROM attempts WHERE booking_id = $1 AND attempt_no = 2`, booking); err != nil || status != "in_progress" {
		t.Fatalf("the retake: %s (%v), want in_progress", status, err)
	}

	// An event id used again for another event is refused, not answered with the first.
	car3 := d.NewDevice(t, d.Venue) // car2 is busy with the retake (ED-ATTEMPT)
	_, other := d.Book(t, d.Slot, 2)
	body := map[string]any{"event_id": testkit.UUID(), "booking_id": other, "type": "exam_started", "at": time.Now().Format(time.RFC3339)}
	a.Must(http.StatusCreated, "POST", "/api/v1/exam/events", "", body, "Authorization", "Device "+car3)
	_, third := d.Book(t, d.Slot, 2)
	body["booking_id"] = third
	if r := a.Do("POST", "/api/v1/exam/events", "", body, "Authorization", "Device "+car3); r.Status != 422 || r.Field() != "event_id" {
		t.Fatalf("event id reused for another booking: %d %s", r.Status, r.Raw)
	}

	// A slot that has not started cannot be closed: nobody has missed it.
	future := a.NewSlot(d.Sched, d.Venue, 2, 5, 9, nil)
	if r := a.Do("POST", fmt.Sprintf("/api/v1/slots/%d/close", future), d.Sched, nil); r.Status != 409 {
		t.Fatalf("closing next week's slot: %d %s", r.Status, r.Raw)
	}
}
