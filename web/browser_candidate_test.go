package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"examd/internal/server/servertest"
	"examd/scheduling"
)

// longDateZh is a day as the candidate's pages show it: with its weekday.
func longDateZh(d time.Time) string {
	weekday := []string{"星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"}[d.Weekday()]
	return fmt.Sprintf("%d年%d月%d日 %s", d.Year(), int(d.Month()), d.Day(), weekday)
}

// TestBrowserCandidateOffers: a candidate who has not passed subjects 2 and
// 3 is offered subjects 2 and 3 on the journey and the slot page, and sees
// subject 4 with the reason in words and no booking action; dates show the
// weekday; once booked, the journey's next step names the day, time, venue
// and arrival time; cancelling asks for confirmation with the deadline,
// backing out keeps the booking, confirming cancels it.
func TestBrowserCandidateOffers(t *testing.T) {
	a := servertest.Start(t)
	sched, venue, s2, s3 := bookingDay(t, a)
	s4 := a.NewSlot(sched, venue, 4, 6, 9, nil)
	c := a.NewCandidate(sched, nil)
	tb := openTab(a, t, 1280, 900)
	tb.logIn(c.IDNo, "candidate-pw", "candidate_journey")

	const roadTests = "预约安全文明驾驶常识考试须先通过科目一、科目二和科目三"
	if got := tb.text("#subject-4 .reason"); got != roadTests {
		t.Errorf("journey's subject 4 says %q, want road_tests_missing's message", got)
	}
	for subject, offered := range map[int]bool{2: true, 3: true, 4: false} {
		n := eval[int](tb, fmt.Sprintf(`document.querySelectorAll('#subject-%d a.book').length`, subject))
		if (n == 1) != offered {
			t.Errorf("journey: subject %d has %d booking links, offered %v", subject, n, offered)
		}
	}
	if n := eval[int](tb, `document.querySelectorAll('.next a[href="/candidate/slots"]').length`); n != 1 {
		t.Errorf("the next step offers %d booking links, want 1", n)
	}
	tb.checkPage()
	tb.checkAxe()

	tb.click("#subject-2 a.book", `body[data-page="candidate_slots"]`)
	tb.open("/candidate/slots", "candidate_slots")
	row4 := fmt.Sprintf("#slot-%d", s4)
	if got := tb.text(row4 + " .reason"); !strings.Contains(got, roadTests) {
		t.Errorf("slot page's subject 4 row says %q", got)
	}
	if n := eval[int](tb, `document.querySelectorAll('`+row4+` button').length`); n != 0 {
		t.Errorf("subject 4 row offers %d buttons", n)
	}
	if got := tb.text(fmt.Sprintf("#when-slot-%d", s2)); !strings.Contains(got, longDateZh(a.Day(5))) {
		t.Errorf("slot date %q lacks the weekday date %q", got, longDateZh(a.Day(5)))
	}
	if got := tb.text(fmt.Sprintf("#when-slot-%d", s4)); !strings.Contains(got, longDateZh(a.Day(6))) {
		t.Errorf("slot date %q lacks the weekday date %q", got, longDateZh(a.Day(6)))
	}
	tb.checkPage()
	tb.checkAxe()

	pair := fmt.Sprintf("#pair-%d-%d", s2, s3)
	tb.click(pair+" button", `body[data-page="candidate_slip"]`)
	tb.open("/candidate", "candidate_journey")
	want := longDateZh(a.Day(5)) + " 08:00 到第一考场（长安街1号）参加科目二、科目三考试，请于 07:30 前到达"
	if got := tb.text("#next-exam"); !strings.Contains(got, want) {
		t.Errorf("next step %q, want %q", got, want)
	}
	// Subjects 2 and 3 are booked: no more offers, and no reason shown for them.
	if n := eval[int](tb, `document.querySelectorAll('#subject-2 a.book, #subject-3 a.book, #subject-2 .reason, #subject-3 .reason').length`); n != 0 {
		t.Errorf("booked subjects show %d offers or reasons", n)
	}
	tb.checkAxe()

	t.Run("CancelConfirmation", func(t *testing.T) {
		var b2 int64
		if err := a.DB.Get(&b2, `SELECT id FROM bookings WHERE candidate_id = $1 AND slot_id = $2`, c.ID, s2); err != nil {
			t.Fatal(err)
		}
		status := func() string {
			var s string
			if err := a.DB.Get(&s, `SELECT status FROM bookings WHERE id = $1`, b2); err != nil {
				t.Fatal(err)
			}
			return s
		}
		cancelLink := fmt.Sprintf(`#booking-%d a[href$="/cancel"]`, b2)
		tb.open("/candidate/bookings", "candidate_bookings")
		tb.click(cancelLink, `body[data-page="candidate_cancel"]`)
		deadline := scheduling.CancelDeadline(a.Day(5))
		if got, want := tb.text("#cancel-deadline"), longDateZh(deadline)+" 00:00 前"; !strings.Contains(got, want) {
			t.Errorf("deadline %q, want %q", got, want)
		}
		tb.checkPage()
		tb.checkAxe()
		tb.click("#cancel-keep", `body[data-page="candidate_slip"]`)
		if s := status(); s != scheduling.StatusConfirmed {
			t.Errorf("backing out left the booking %s", s)
		}
		tb.open("/candidate/bookings", "candidate_bookings")
		tb.click(cancelLink, `body[data-page="candidate_cancel"]`)
		tb.click("#cancel-confirm", `body[data-page="candidate_bookings"]`)
		if s := status(); s != scheduling.StatusCancelled {
			t.Errorf("confirming left the booking %s", s)
		}
	})
}

// TestBrowserRating: after a licence is issued the journey offers "评价服务";
// the rating page asks for a score (1 to 5, radio buttons in a fieldset),
// refuses none, records 5 with a comment through the API's function, the
// satisfaction report counts it, and the journey thanks instead of offering
// it again; the rating page then says it was rated. A declined
// priority-lane request shows declined on the journey.
func TestBrowserRating(t *testing.T) {
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	c := h.Ready(t)
	h.Issue(t, c)
	issuance := h.IssuanceOf(t, c)
	tb := openTab(a, t, 1280, 900)
	tb.logIn(c.IDNo, "candidate-pw", "candidate_journey")

	service := fmt.Sprintf("#service-issuance-%d", issuance)
	tb.checkAxe()
	tb.click(service+" a.rate", `body[data-page="candidate_feedback"]`)
	if n := eval[int](tb, `document.querySelectorAll('fieldset legend + .check input[type="radio"][name="score"], fieldset input[type="radio"][name="score"]').length`); n != 5 {
		t.Errorf("the page offers %d score radios, want 5", n)
	}
	tb.checkPage()
	tb.checkAxe()
	tb.click(`main form button[type="submit"]`, "#err-score")
	tb.checkAxe()
	const comment = "窗口工作人员很耐心"
	tb.do("rate 5",
		chromedp.Click(chromedp.CSS("#score-5")),
		chromedp.SendKeys(chromedp.CSS("#comment"), comment),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
		chromedp.WaitReady(chromedp.CSS(`body[data-page="candidate_journey"] `+service+` .thanks`)),
	)
	if n := eval[int](tb, `document.querySelectorAll('a.rate').length`); n != 0 {
		t.Errorf("the journey still offers %d ratings", n)
	}
	tb.checkAxe()
	month := a.Now().In(scheduling.Shanghai).Format("2006-01")
	r := a.Must(200, "GET", "/api/v1/reports/satisfaction?month="+month, a.Admin, nil)
	if r.Body["count"] != float64(1) || r.Body["mean"] != float64(5) || !strings.Contains(string(r.Raw), comment) {
		t.Errorf("satisfaction report: %s", r.Raw)
	}
	tb.open(fmt.Sprintf("/candidate/feedback?issuance_id=%d", issuance), "candidate_feedback")
	if code := eval[string](tb, `document.getElementById('err-feedback').dataset.code`); code != "already_rated" {
		t.Errorf("rating again: %q, want already_rated", code)
	}
	if n := eval[int](tb, `document.querySelectorAll('main form').length`); n != 0 {
		t.Errorf("a rated service still has its form")
	}
	tb.checkAxe()

	t.Run("LaneDeclined", func(t *testing.T) {
		var req int64
		if err := a.DB.Get(&req, `INSERT INTO priority_requests (candidate_id, reason) VALUES ($1, 'elderly') RETURNING id`, c.ID); err != nil {
			t.Fatal(err)
		}
		tb.open("/candidate", "candidate_journey")
		if got := eval[string](tb, `document.getElementById('lane').dataset.status`); got != "pending" {
			t.Errorf("lane %q, want pending", got)
		}
		if _, err := a.DB.Exec(`UPDATE priority_requests SET status = 'declined', decided_at = now(),
			decided_by = (SELECT id FROM users WHERE role = 'admin' ORDER BY id LIMIT 1) WHERE id = $1`, req); err != nil {
			t.Fatal(err)
		}
		tb.open("/candidate", "candidate_journey")
		if got := eval[string](tb, `document.getElementById('lane').dataset.status`); got != "declined" {
			t.Errorf("lane %q, want declined", got)
		}
		if got := tb.text("#lane"); !strings.Contains(got, "未获批准") {
			t.Errorf("lane says %q", got)
		}
		tb.checkAxe()
	})
}
