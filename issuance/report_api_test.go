package issuance_test

import (
	"bytes"
	"encoding/json"
	"examd/internal/server/servertest"
	"examd/internal/testkit"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// deskStaff creates a staff member with role at desk and returns their id
// and token.
func deskStaff(a *servertest.App, role, desk string) (int64, string) {
	a.T.Helper()
	name := fmt.Sprintf("%s%d", role, servertest.Next())
	body := map[string]any{"username": name, "password": "staff-secret", "role": role}
	if desk != "" {
		body["desk"] = desk
	}
	id := a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin, body).ID()
	return id, a.Login(name, "staff-secret")
}

// booked registers a candidate who books slot through the API.
func booked(a *servertest.App, sched string, slot int64) (servertest.Candidate, int64) {
	a.T.Helper()
	c := a.NewCandidate(sched, nil)
	r := a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{slot}})
	return c, int64(r.Body["bookings"].([]any)[0].(map[string]any)["id"].(float64))
}

// cancelledBy registers a candidate who books slot, and has the staff
// member with token cancel the booking (BK-CANCEL: staff give a reason).
func cancelledBy(a *servertest.App, sched, token string, slot int64) (servertest.Candidate, int64) {
	a.T.Helper()
	c, b := booked(a, sched, slot)
	a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%d?reason=%s", b, url.QueryEscape("考场设备检修")), token, nil)
	return c, b
}

func rate(a *servertest.App, token string, body map[string]any) testkit.Response {
	a.T.Helper()
	return a.Do("POST", "/api/v1/feedback", token, body)
}

// dailyReport is GET /reports/daily as JSON.
type dailyReport struct {
	Date  string `json:"date"`
	Exams []struct {
		Subject      int    `json:"subject"`
		LicenceClass string `json:"licence_class"`
		Booked       int    `json:"booked"`
		Candidates   int    `json:"candidates"`
		Sat          int    `json:"sat"`
		Retakes      int    `json:"retakes"`
		Passed       int    `json:"passed"`
		Failed       int    `json:"failed"`
		NoShows      int    `json:"no_shows"`
	} `json:"exams"`
	PriorityLaneServed int `json:"priority_lane_served"`
	LicencesIssued     int `json:"licences_issued"`
	Minutes            struct {
		P50 *float64 `json:"p50"`
		P90 *float64 `json:"p90"`
		Max *float64 `json:"max"`
	} `json:"ready_to_issued_minutes"`
	BecameReady   int      `json:"became_ready"`
	IssuedSameDay int      `json:"issued_same_day"`
	SameDayRate   *float64 `json:"same_day_issuance_rate"`
}

func getDailyReport(a *servertest.App, token, date string) dailyReport {
	a.T.Helper()
	r := a.Must(http.StatusOK, "GET", "/api/v1/reports/daily?date="+date, token, nil)
	var d dailyReport
	if err := json.Unmarshal(r.Raw, &d); err != nil {
		a.T.Fatalf("daily report %s: %v", r.Raw, err)
	}
	return d
}

func orNull(p *float64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

// TestDailyReport: a day of exams and licences, counted. Subject 2 has four
// passes, a candidate who fails twice (a retake), a no-show, a booking
// cancelled and one cancelled after a failed first attempt; three licences are printed today, one of them for a candidate
// ready since yesterday, and one candidate ready today is still waiting.
func TestDailyReport(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	today, yesterday := a.Day(0), a.Day(-1)
	lane := func(booking int64) {
		if _, err := a.DB.Exec(`UPDATE bookings SET lane = 'priority' WHERE id = $1`, booking); err != nil {
			t.Fatal(err)
		}
	}

	// onLane is h.ready for a candidate granted the priority lane
	// (PL-GRANT): served first at the desk, and at the exam too when
	// atExam.
	onLane := func(atExam bool) servertest.Candidate {
		c, b2, b3, b4 := h.Combined(t)
		a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/candidates/%d/priority", c.ID), h.Sched, map[string]any{"reason": "elderly"})
		if atExam {
			lane(b2)
		}
		for _, at := range []int64{h.Pass(t, b2, 2), h.Pass(t, b3, 3), h.Pass(t, b4, 4)} {
			h.Sign(t, at, "examiner", "candidate")
		}
		if it := h.InQueue(t, c); it == nil || it["priority_lane"] != true {
			t.Fatalf("priority candidate in the queue: %v", it)
		}
		return c
	}

	c1 := h.Ready(t)
	c2 := onLane(true)
	c3 := onLane(false)
	h.Ready(t) // ready, still waiting at the end of the report
	_, failed := h.Book(t, h.Slot, 2)
	lane(failed) // served by the lane: they sat
	h.Fail(t, failed)
	_, absent := h.Book(t, h.Slot, 2)
	lane(absent) // not served: they never came
	staffCancel := func(booking int64) {
		a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%d?reason=%s", booking, url.QueryEscape("考生身体不适")), h.Sched, nil)
	}
	_, cancelled := h.Book(t, h.Slot, 2)
	staffCancel(cancelled) // counts nowhere
	// Taken ill after a failed first attempt: the attempt was sat, the
	// booking is cancelled before the retake.
	_, ill := h.Book(t, h.Slot, 2)
	h.Post(h.Device, ill, "exam_started", nil)
	if r := h.Post(h.Device, ill, "deduction", map[string]any{"rule": "RP.BODY_OUT"}); servertest.AttemptOf(r)["status"] != "failed" {
		t.Fatalf("first attempt: %d %s", r.Status, r.Raw)
	}
	staffCancel(ill)
	// A C2 slot of today whose only booking is cancelled: no row.
	c2slot := a.Must(http.StatusCreated, "POST", "/api/v1/slots", h.Sched, map[string]any{
		"venue_id": h.Venue, "subject": 2, "licence_class": "C2", "capacity": 5, "priority_reserved": 0,
		"starts_at": today.Format(time.RFC3339), "ends_at": today.Add(24*time.Hour - time.Second).Format(time.RFC3339),
		"adapted_vehicle": false,
	}).ID()
	_, other := h.Book(t, c2slot, 2)
	staffCancel(other)
	closed := a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/slots/%d/close", h.Slot), h.Sched, nil)
	if s := fmt.Sprint(closed.Body["bookings"]); !strings.Contains(s, "no_show") {
		t.Fatalf("close: %s", closed.Raw)
	}
	for _, c := range []servertest.Candidate{c1, c2, c3} {
		h.Issue(t, c)
	}
	// Deterministic minutes from ready to issued: 30, 90 and, for c3, ready
	// yesterday at 17:00 and issued today at 10:00, 1020.
	at := func(d time.Time, hh, mm int) time.Time {
		return d.Add(time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute)
	}
	for _, s := range []struct {
		c             servertest.Candidate
		day           time.Time
		ready, issued time.Time
	}{
		{c1, today, at(today, 9, 30), at(today, 10, 0)},
		{c2, today, at(today, 9, 0), at(today, 10, 30)},
		{c3, yesterday, at(yesterday, 17, 0), at(today, 10, 0)},
	} {
		if _, err := a.DB.Exec(`UPDATE issuances SET day = $2, ready_at = $3, issued_at = $4 WHERE candidate_id = $1`,
			s.c.ID, s.day.Format(time.DateOnly), s.ready, s.issued); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("Today", func(t *testing.T) {
		got := getDailyReport(a, h.Issuer, today.Format(time.DateOnly))
		var exams []string
		for _, e := range got.Exams {
			exams = append(exams, fmt.Sprintf("%d %s booked=%d candidates=%d sat=%d retakes=%d passed=%d failed=%d no_shows=%d",
				e.Subject, e.LicenceClass, e.Booked, e.Candidates, e.Sat, e.Retakes, e.Passed, e.Failed, e.NoShows))
		}
		want := []string{
			"2 C1 booked=6 candidates=6 sat=7 retakes=1 passed=4 failed=1 no_shows=1",
			"3 C1 booked=4 candidates=4 sat=4 retakes=0 passed=4 failed=0 no_shows=0",
			"4 C1 booked=4 candidates=4 sat=4 retakes=0 passed=4 failed=0 no_shows=0",
		}
		if got.Date != today.Format(time.DateOnly) || strings.Join(exams, "\n") != strings.Join(want, "\n") {
			t.Fatalf("exams of %s:\n%s\nwant:\n%s", got.Date, strings.Join(exams, "\n"), strings.Join(want, "\n"))
		}
		// c2 (a booking sat and a licence: once), c3 (a licence) and the
		// failed candidate (a booking sat); not the no-show.
		if got.PriorityLaneServed != 3 {
			t.Errorf("priority_lane_served: got %d, want 3", got.PriorityLaneServed)
		}
		// percentile_cont over 30, 90, 1020: p90 = 90 + 0.8 × 930.
		if m := got.Minutes; got.LicencesIssued != 3 || orNull(m.P50) != "90" || orNull(m.P90) != "834" || orNull(m.Max) != "1020" {
			t.Errorf("licences %d, minutes p50 %s p90 %s max %s; want 3, 90, 834, 1020",
				got.LicencesIssued, orNull(m.P50), orNull(m.P90), orNull(m.Max))
		}
		// Ready today: c1, c2 and the one waiting; issued today: c1 and c2.
		if got.BecameReady != 3 || got.IssuedSameDay != 2 || orNull(got.SameDayRate) != "0.6667" {
			t.Errorf("same day: %d of %d, rate %s; want 2 of 3, 0.6667", got.IssuedSameDay, got.BecameReady, orNull(got.SameDayRate))
		}
		if d := getDailyReport(a, h.Sched, ""); d.Date != today.Format(time.DateOnly) || d.LicencesIssued != 3 {
			t.Errorf("without a date: %+v, want today's report", d)
		}
	})

	t.Run("Yesterday", func(t *testing.T) {
		// c3 became ready yesterday and was not issued that day.
		got := getDailyReport(a, a.Admin, yesterday.Format(time.DateOnly))
		m := got.Minutes
		if len(got.Exams) != 0 || got.LicencesIssued != 0 || got.PriorityLaneServed != 0 || m.P50 != nil || m.P90 != nil || m.Max != nil ||
			got.BecameReady != 1 || got.IssuedSameDay != 0 || orNull(got.SameDayRate) != "0" {
			t.Fatalf("yesterday: %+v", got)
		}
	})

	t.Run("QuietDay", func(t *testing.T) {
		r := a.Must(http.StatusOK, "GET", "/api/v1/reports/daily?date="+a.Day(-30).Format(time.DateOnly), h.Issuer, nil)
		want := `{"date":"` + a.Day(-30).Format(time.DateOnly) + `","exams":[],"priority_lane_served":0,"licences_issued":0,` +
			`"ready_to_issued_minutes":{"p50":null,"p90":null,"max":null},"became_ready":0,"issued_same_day":0,"same_day_issuance_rate":null}`
		if got := strings.TrimSpace(string(r.Raw)); got != want {
			t.Fatalf("quiet day:\n%s\nwant\n%s", got, want)
		}
	})

	t.Run("Refusals", func(t *testing.T) {
		for _, q := range []string{"2026-02-30", "yesterday", "1899-12-31"} {
			if r := a.Do("GET", "/api/v1/reports/daily?date="+q, h.Issuer, nil); r.Status != 422 || r.Code() != "invalid_field" || r.Field() != "date" {
				t.Errorf("date %s: %d %s", q, r.Status, r.Raw)
			}
		}
		for name, token := range map[string]string{"examiner": h.Examiner, "candidate": c1.Token} {
			if r := a.Do("GET", "/api/v1/reports/daily", token, nil); r.Status != http.StatusForbidden {
				t.Errorf("%s: %d, want 403", name, r.Status)
			}
		}
		if r := a.Do("GET", "/api/v1/reports/daily", "", nil); r.Status != http.StatusUnauthorized {
			t.Errorf("no token: %d, want 401", r.Status)
		}
	})
}

// TestFeedback: a candidate rates a licence issued, or a booking staff
// cancelled, once (SA-RATE), and nothing else.
func TestFeedback(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	issued := h.Ready(t)
	h.Issue(t, issued)
	waiting := h.Ready(t)
	slot := a.NewSlot(h.Sched, h.Venue, 2, 9, 9, nil)
	deskID, desk := deskStaff(a, "scheduler", "1号窗口")

	t.Run("Issuance", func(t *testing.T) {
		id := h.IssuanceOf(t, issued)
		var issuer int64
		if err := a.DB.Get(&issuer, `SELECT issued_by FROM issuances WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		r := rate(a, issued.Token, map[string]any{"issuance_id": id, "score": 4, "comment": "  办得很快，就是等叫号久了点  "})
		if r.Status != http.StatusCreated || r.Body["issuance_id"] != float64(id) || r.Body["booking_id"] != nil ||
			r.Body["staff_id"] != float64(issuer) || r.Body["desk"] != "3号窗口" || r.Body["score"] != 4.0 ||
			r.Body["comment"] != "办得很快，就是等叫号久了点" || r.Body["candidate_id"] != float64(issued.ID) || r.ID() == 0 {
			t.Fatalf("rate the licence: %d %s", r.Status, r.Raw)
		}
		if r := rate(a, issued.Token, map[string]any{"issuance_id": id, "score": 1}); r.Status != http.StatusConflict || r.Code() != "already_rated" {
			t.Fatalf("rate again: %d %s", r.Status, r.Raw)
		}
		if r := rate(a, waiting.Token, map[string]any{"issuance_id": id, "score": 1}); r.Status != http.StatusNotFound || r.Code() != "not_found" {
			t.Fatalf("another candidate's licence: %d %s", r.Status, r.Raw)
		}
		if r := rate(a, waiting.Token, map[string]any{"issuance_id": h.IssuanceOf(t, waiting), "score": 5}); r.Status != http.StatusConflict || r.Code() != "not_rateable" {
			t.Fatalf("a licence not yet issued: %d %s", r.Status, r.Raw)
		}
		if r := rate(a, waiting.Token, map[string]any{"issuance_id": id + 1000, "score": 5}); r.Status != http.StatusNotFound {
			t.Fatalf("no such issuance: %d %s", r.Status, r.Raw)
		}
	})

	t.Run("Booking", func(t *testing.T) {
		c, b := cancelledBy(a, h.Sched, desk, slot)
		r := rate(a, c.Token, map[string]any{"booking_id": b, "score": 3})
		if r.Status != http.StatusCreated || r.Body["booking_id"] != float64(b) || r.Body["issuance_id"] != nil ||
			r.Body["staff_id"] != float64(deskID) || r.Body["desk"] != "1号窗口" || r.Body["comment"] != nil {
			t.Fatalf("rate a staff cancellation: %d %s", r.Status, r.Raw)
		}
		if r := rate(a, c.Token, map[string]any{"booking_id": b, "score": 5}); r.Status != http.StatusConflict || r.Code() != "already_rated" {
			t.Fatalf("rate again: %d %s", r.Status, r.Raw)
		}
		if r := rate(a, waiting.Token, map[string]any{"booking_id": b, "score": 5}); r.Status != http.StatusNotFound {
			t.Fatalf("another candidate's booking: %d %s", r.Status, r.Raw)
		}
		own, ob := booked(a, h.Sched, slot)
		if r := rate(a, own.Token, map[string]any{"booking_id": ob, "score": 5}); r.Status != http.StatusConflict || r.Code() != "not_rateable" {
			t.Fatalf("a booking still confirmed: %d %s", r.Status, r.Raw)
		}
		a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%d", ob), own.Token, nil)
		if r := rate(a, own.Token, map[string]any{"booking_id": ob, "score": 5}); r.Status != http.StatusConflict || r.Code() != "not_rateable" {
			t.Fatalf("a booking the candidate cancelled: %d %s", r.Status, r.Raw)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		id := h.IssuanceOf(t, waiting)
		for _, tt := range []struct {
			name  string
			body  any
			field string
		}{
			{"ScoreZero", map[string]any{"issuance_id": id, "score": 0}, "score"},
			{"ScoreSix", map[string]any{"issuance_id": id, "score": 6}, "score"},
			{"ScoreHalf", map[string]any{"issuance_id": id, "score": 4.5}, "score"},
			{"NoScore", map[string]any{"issuance_id": id}, "score"},
			{"Both", map[string]any{"issuance_id": id, "booking_id": 1, "score": 5}, "issuance_id"},
			{"Neither", map[string]any{"score": 5}, "issuance_id"},
			{"ZeroID", map[string]any{"booking_id": 0, "score": 5}, "booking_id"},
			{"LongComment", map[string]any{"issuance_id": id, "score": 5, "comment": strings.Repeat("好", 501)}, "comment"},
			{"NULComment", `{"issuance_id": 1, "score": 5, "comment": "a\u0000b"}`, "comment"},
			{"Unknown", map[string]any{"issuance_id": id, "score": 5, "stars": 5}, "stars"},
		} {
			if r := a.Do("POST", "/api/v1/feedback", waiting.Token, tt.body); r.Status != 422 || r.Code() != "invalid_field" || r.Field() != tt.field {
				t.Errorf("%s: %d %s, want 422 naming %s", tt.name, r.Status, r.Raw, tt.field)
			}
		}
		if r := rate(a, h.Issuer, map[string]any{"issuance_id": id, "score": 5}); r.Status != http.StatusForbidden {
			t.Errorf("an issuer rating: %d, want 403", r.Status)
		}
	})

	// Eight tries at once: the unique constraint lets exactly one through.
	t.Run("Race", func(t *testing.T) {
		c, b := cancelledBy(a, h.Sched, desk, slot)
		body, _ := json.Marshal(map[string]any{"booking_id": b, "score": 5})
		type answer struct {
			status int
			code   string
			err    error
		}
		answers := make(chan answer, 8)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				req, _ := http.NewRequest("POST", a.URL+"/api/v1/feedback", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+c.Token)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					answers <- answer{err: err}
					return
				}
				defer res.Body.Close()
				var env struct{ Error struct{ Code string } }
				_ = json.NewDecoder(res.Body).Decode(&env)
				answers <- answer{status: res.StatusCode, code: env.Error.Code}
			})
		}
		wg.Wait()
		close(answers)
		counts := map[string]int{}
		for ans := range answers {
			if ans.err != nil {
				t.Fatal(ans.err)
			}
			counts[fmt.Sprint(ans.status, " ", ans.code)]++
		}
		var stored int
		if err := a.DB.Get(&stored, `SELECT count(*) FROM feedback WHERE booking_id = $1`, b); err != nil {
			t.Fatal(err)
		}
		if counts["201 "] != 1 || counts["409 already_rated"] != 7 || stored != 1 {
			t.Fatalf("answers %v, %d stored; want one 201, seven 409 already_rated, one stored", counts, stored)
		}
	})
}

// satisfaction is GET /reports/satisfaction as JSON.
type satisfaction struct {
	Month string   `json:"month"`
	Count int      `json:"count"`
	Mean  *float64 `json:"mean"`
	Desks []struct {
		Desk   string  `json:"desk"`
		Count  int     `json:"count"`
		Mean   float64 `json:"mean"`
		Share5 float64 `json:"share_5"`
	} `json:"desks"`
	Staff []struct {
		StaffID  int64   `json:"staff_id"`
		Username string  `json:"username"`
		Desk     *string `json:"desk"`
		Count    int     `json:"count"`
		Mean     float64 `json:"mean"`
		Share5   float64 `json:"share_5"`
	} `json:"staff"`
	TopDesk *struct {
		Desk  string `json:"desk"`
		Count int    `json:"count"`
	} `json:"top_desk"`
	TopStaff *struct {
		StaffID int64 `json:"staff_id"`
	} `json:"top_staff"`
	Comments []struct {
		Score   int     `json:"score"`
		Comment string  `json:"comment"`
		Desk    *string `json:"desk"`
		StaffID int64   `json:"staff_id"`
	} `json:"comments"`
}

func getSatisfaction(a *servertest.App, month string) satisfaction {
	a.T.Helper()
	r := a.Must(http.StatusOK, "GET", "/api/v1/reports/satisfaction?month="+month, a.Admin, nil)
	var s satisfaction
	if err := json.Unmarshal(r.Raw, &s); err != nil {
		a.T.Fatalf("satisfaction %s: %v", r.Raw, err)
	}
	return s
}

// TestSatisfactionReport: a month's ratings per desk and staff member, the
// top desk and staff member (at least 3 ratings; the higher mean, then more
// ratings, then the higher share of 5s) and the comments, worst first.
func TestSatisfactionReport(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	slot := a.NewSlot(h.Sched, h.Venue, 2, 9, 9, nil)
	id1, desk1 := deskStaff(a, "scheduler", "1号窗口")
	id2, desk2 := deskStaff(a, "scheduler", "2号窗口")
	var adminID int64
	if err := a.DB.Get(&adminID, `SELECT id FROM users WHERE username = 'admin'`); err != nil {
		t.Fatal(err)
	}
	rate := func(staff string, score int, comment string) int64 {
		t.Helper()
		c, b := cancelledBy(a, h.Sched, staff, slot)
		body := map[string]any{"booking_id": b, "score": score}
		if comment != "" {
			body["comment"] = comment
		}
		return a.Must(http.StatusCreated, "POST", "/api/v1/feedback", c.Token, body).ID()
	}

	// 3号窗口, the issuer: one 5, too few ratings to rank.
	c := h.Ready(t)
	h.Issue(t, c)
	a.Must(http.StatusCreated, "POST", "/api/v1/feedback", c.Token, map[string]any{"issuance_id": h.IssuanceOf(t, c), "score": 5, "comment": "很快"})
	var issuerID int64
	if err := a.DB.Get(&issuerID, `SELECT issued_by FROM issuances WHERE candidate_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	// 1号窗口: 5, 4, 4. 2号窗口: 5, 5, 3: the same mean and count, more 5s.
	rate(desk1, 5, "")
	rate(desk1, 4, "还可以")
	rate(desk1, 4, "")
	rate(desk2, 3, "改期没有提前通知")
	rate(desk2, 5, "")
	rate(desk2, 5, "")
	// The admin has no desk: their rating counts for them alone.
	rate(a.Admin, 2, "电话一直占线")
	// Last month's rating counts in last month only.
	last := rate(desk1, 1, "上个月的事")
	now := time.Now().In(testkit.Shanghai)
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, testkit.Shanghai)
	if _, err := a.DB.Exec(`UPDATE feedback SET created_at = $2 WHERE id = $1`, last, month.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}

	t.Run("ThisMonth", func(t *testing.T) {
		s := getSatisfaction(a, month.Format("2006-01"))
		if s.Month != month.Format("2006-01") || s.Count != 8 || orNull(s.Mean) != "4.13" { // 33 / 8
			t.Fatalf("month %s: %d ratings, mean %s; want 8, 4.13", s.Month, s.Count, orNull(s.Mean))
		}
		var desks []string
		for _, d := range s.Desks {
			desks = append(desks, fmt.Sprintf("%s %d %v %v", d.Desk, d.Count, d.Mean, d.Share5))
		}
		if want := "[3号窗口 1 5 1 2号窗口 3 4.33 0.6667 1号窗口 3 4.33 0.3333]"; fmt.Sprint(desks) != want {
			t.Errorf("desks %v, want %s", desks, want)
		}
		var staff []string
		for _, p := range s.Staff {
			staff = append(staff, fmt.Sprintf("%d %d %v %v", p.StaffID, p.Count, p.Mean, p.Share5))
		}
		want := fmt.Sprint([]string{
			fmt.Sprintf("%d 1 5 1", issuerID), fmt.Sprintf("%d 3 4.33 0.6667", id2),
			fmt.Sprintf("%d 3 4.33 0.3333", id1), fmt.Sprintf("%d 1 2 0", adminID),
		})
		if fmt.Sprint(staff) != want {
			t.Errorf("staff %v, want %s", staff, want)
		}
		if s.TopDesk == nil || s.TopDesk.Desk != "2号窗口" || s.TopDesk.Count != 3 {
			t.Errorf("top desk %+v, want 2号窗口", s.TopDesk)
		}
		if s.TopStaff == nil || s.TopStaff.StaffID != id2 {
			t.Errorf("top staff %+v, want %d", s.TopStaff, id2)
		}
		var comments []string
		for _, c := range s.Comments {
			desk := "-"
			if c.Desk != nil {
				desk = *c.Desk
			}
			comments = append(comments, fmt.Sprintf("%d %s %s", c.Score, c.Comment, desk))
		}
		if want := "[2 电话一直占线 - 3 改期没有提前通知 2号窗口 4 还可以 1号窗口 5 很快 3号窗口]"; fmt.Sprint(comments) != want {
			t.Errorf("comments %v, want %s", comments, want)
		}
		if r := a.Must(http.StatusOK, "GET", "/api/v1/reports/satisfaction", a.Admin, nil); r.Body["month"] != month.Format("2006-01") {
			t.Errorf("without a month: %s", r.Raw)
		}
	})

	t.Run("LastMonth", func(t *testing.T) {
		s := getSatisfaction(a, month.AddDate(0, -1, 0).Format("2006-01"))
		if s.Count != 1 || len(s.Desks) != 1 || s.Desks[0].Desk != "1号窗口" || s.TopDesk != nil || s.TopStaff != nil ||
			len(s.Comments) != 1 || s.Comments[0].Comment != "上个月的事" {
			t.Fatalf("last month: %+v", s)
		}
	})

	t.Run("Empty", func(t *testing.T) {
		r := a.Must(http.StatusOK, "GET", "/api/v1/reports/satisfaction?month=2001-01", a.Admin, nil)
		want := `{"month":"2001-01","count":0,"mean":null,"desks":[],"staff":[],"top_desk":null,"top_staff":null,"comments":[]}`
		if got := strings.TrimSpace(string(r.Raw)); got != want {
			t.Fatalf("empty month:\n%s\nwant\n%s", got, want)
		}
	})

	t.Run("Refusals", func(t *testing.T) {
		for _, q := range []string{"2026-13", "11/2026", "2026-11-01", "1899-12"} {
			if r := a.Do("GET", "/api/v1/reports/satisfaction?month="+url.QueryEscape(q), a.Admin, nil); r.Status != 422 || r.Field() != "month" {
				t.Errorf("month %s: %d %s", q, r.Status, r.Raw)
			}
		}
		for name, token := range map[string]string{"scheduler": h.Sched, "issuer": h.Issuer} {
			if r := a.Do("GET", "/api/v1/reports/satisfaction", token, nil); r.Status != http.StatusForbidden {
				t.Errorf("%s: %d, want 403", name, r.Status)
			}
		}
	})
}
