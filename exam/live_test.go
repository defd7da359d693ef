package exam_test

import (
	"examd/internal/server/servertest"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestLiveFeed(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	d := servertest.NewExamDay(t, a, 2)
	a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin, map[string]any{"username": "jiankong", "password": "examiner-pw", "role": "examiner", "venue_id": d.Venue})
	examiner := a.Login("jiankong", "examiner-pw")
	c, booking := d.Book(t, d.Slot, 2)

	scr, _, err := servertest.Watch(t, a, examiner, d.Venue, "")
	if err != nil {
		t.Fatal(err)
	}
	if hello := scr.Next(); hello["type"] != "hello" || hello["seq"] != 0.0 {
		t.Fatalf("hello: %v", hello)
	}
	d.Post(d.Device, booking, "exam_started", nil)
	d.Post(d.Device, booking, "deduction", map[string]any{"rule": "RP.STOP"})
	start, ded := scr.Next(), scr.Next()
	if start["type"] != "exam_started" || start["seq"] != 1.0 || ded["seq"] != 2.0 {
		t.Fatalf("events: %v %v", start, ded)
	}
	cand := ded["candidate"].(map[string]any)
	if ded["rule"] != "RP.STOP" || ded["points"] != 5.0 || ded["score"] != 95.0 || ded["rule_text"] == "" ||
		cand["id_number"] != c.IDNo[:3]+"***********"+c.IDNo[14:] || strings.Count(cand["name"].(string), "*") == 0 {
		t.Fatalf("deduction on the screen: %v", ded)
	}

	// A dropped screen resumes with since and sees what it missed, once.
	scr.Conn.Close()
	d.Post(d.Device, booking, "instruction", map[string]any{"text": "请倒车入库"})
	d.Post(d.Device, booking, "deduction", map[string]any{"rule": "RP.STOP"})
	again, _, err := servertest.Watch(t, a, examiner, d.Venue, "2")
	if err != nil {
		t.Fatal(err)
	}
	if hello := again.Next(); hello["type"] != "hello" || hello["seq"] != 4.0 {
		t.Fatalf("hello after a drop: %v", hello)
	}
	if m := again.Next(); m["seq"] != 3.0 || m["text"] != "请倒车入库" {
		t.Fatalf("replay: %v", m)
	}
	if m := again.Next(); m["seq"] != 4.0 {
		t.Fatalf("replay: %v", m)
	}
	d.Post(d.Device, booking, "exam_finished", nil)
	if m := again.Next(); m["seq"] != 5.0 || m["status"] != "failed" && m["status"] != "passed" {
		t.Fatalf("live after replay: %v", m)
	}

	// Only the venue's examiners, schedulers and admins watch.
	a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin, map[string]any{"username": "other-exam", "password": "examiner-pw", "role": "examiner", "venue_id": a.NewVenue(d.Sched, false)})
	for name, tok := range map[string]string{"OtherVenue": a.Login("other-exam", "examiner-pw"), "Candidate": c.Token, "NoToken": ""} {
		if _, res, err := servertest.Watch(t, a, tok, d.Venue, ""); err == nil || res == nil || res.StatusCode < 400 {
			t.Errorf("%s: the feed opened (%v)", name, err)
		}
	}
	if _, _, err := servertest.Watch(t, a, d.Sched, d.Venue, ""); err != nil {
		t.Errorf("scheduler: %v", err)
	}
}

// TestLiveFeedAcrossReplicas: an event accepted by one examd reaches a
// screen connected to another on the same database.
func TestLiveFeedAcrossReplicas(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	b := servertest.StartReplica(t, a)
	d := servertest.NewExamDay(t, a, 2)
	_, booking := d.Book(t, d.Slot, 2)
	scr, _, err := servertest.Watch(t, b, b.Login("admin", servertest.AdminPassword), d.Venue, "0")
	if err != nil {
		t.Fatal(err)
	}
	scr.Next() // hello
	for i := 1; i <= 5; i++ {
		typ := "instruction"
		if i == 1 {
			typ = "exam_started"
		}
		d.Post(d.Device, booking, typ, map[string]any{"text": "请起步"})
		if m := scr.Next(); m["seq"] != float64(i) {
			t.Fatalf("event %d on the other replica: %v", i, m)
		}
	}
}

// TestEndOfDayCloses: the bookings of a past day that nobody closed end as
// no-shows when examd next looks (at start, then every minute).
func TestEndOfDayCloses(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	d := servertest.NewExamDay(t, a, 2)
	c := a.NewCandidate(d.Sched, nil)
	var booking int64
	err := a.DB.Get(&booking, `
		WITH s AS (INSERT INTO slots (venue_id, subject, licence_class, starts_at, ends_at, capacity, reserve_release_at, booking_opens_at, booking_closes_at, booked)
		           VALUES ($1, 2, 'C1', now() - interval '2 days', now() - interval '2 days' + interval '1 hour', 5, now() - interval '3 days', now() - interval '9 days', now() - interval '3 days', 1)
		           RETURNING id, starts_at)
		INSERT INTO bookings (candidate_id, slot_id, subject, exam_day, lane, booked_by)
		SELECT $2, s.id, 2, (s.starts_at AT TIME ZONE 'Asia/Shanghai')::date, 'regular', $2 FROM s
		RETURNING id`, d.Venue, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	servertest.StartReplica(t, a) // its first round closes the day
	deadline := time.Now().Add(10 * time.Second)
	for {
		var status string
		if err := a.DB.Get(&status, `SELECT status FROM bookings WHERE id = $1`, booking); err != nil {
			t.Fatal(err)
		}
		if status == "no_show" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("booking of two days ago: %s, want no_show", status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
