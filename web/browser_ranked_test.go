package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"examd/internal/server/servertest"
)

// TestBrowserRankedSlots: a candidate finds a ranked slot offered as 申请,
// reads the ranking rules, applies with two preferences in order and sees
// the application 待分配 with its withdrawal (confirmed by a tick); the
// scheduler opens the slot's ranked list, allocates with 立即分配, and the
// list shows rank 1, the masked ID number and the reason; the candidate
// then sees it 已分配 with the rank.
func TestBrowserRankedSlots(t *testing.T) {
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	ranked := map[string]any{"allocation": "ranked"}
	s1 := a.NewSlot(sched, venue, 2, 5, 8, ranked)
	s2 := a.NewSlot(sched, venue, 2, 6, 8, ranked)
	c := a.NewCandidate(sched, nil)
	planner := fmt.Sprintf("planner%d", servertest.Next())
	a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin,
		map[string]any{"username": planner, "password": "staff-secret", "role": "scheduler"})

	t.Run("Candidate", func(t *testing.T) {
		tb := openTab(a, t, 1280, 900)
		tb.logIn(c.IDNo, "candidate-pw", "candidate_journey")
		tb.open("/candidate/slots?subject=2", "candidate_slots")
		if got := tb.text(fmt.Sprintf("#apply-%d", s1)); got != "申请" {
			t.Errorf("ranked slot's action %q, want 申请", got)
		}
		tb.click(fmt.Sprintf("#apply-%d", s1), `body[data-page="candidate_apply"]`)
		if got := tb.text("#rules-h"); got != "排序规则" {
			t.Errorf("rules heading %q", got)
		}
		tb.checkPage()
		tb.checkAxe()
		tb.do("choose preference 2", chromedp.SetValue(chromedp.CSS("#pref2"), fmt.Sprint(s2)))
		tb.click(`#apply-form button[type="submit"]`, `body[data-page="candidate_bookings"]`)
		row := "#applications .application"
		if got := tb.text(row + " .status"); got != "待分配" {
			t.Errorf("application status %q, want 待分配", got)
		}
		if n := eval[int](tb, `document.querySelectorAll('#applications .prefs li').length`); n != 2 {
			t.Errorf("preferences listed: %d, want 2", n)
		}
		// Each preference in words: the day with its weekday, the times, the venue.
		if got, want := tb.text("#applications .prefs li"), longDateZh(a.Day(5))+" 08:00–10:00 · 第一考场"; got != want {
			t.Errorf("first preference %q, want %q", got, want)
		}
		if n := eval[int](tb, `document.querySelectorAll('#applications form input[name="confirm"][required]').length`); n != 1 {
			t.Errorf("withdrawal without a required confirmation")
		}
		tb.checkPage()
		tb.checkAxe()
	})
	t.Run("Scheduler", func(t *testing.T) {
		tb := openTab(a, t, 1280, 900)
		tb.logIn(planner, "staff-secret", "admin_slots")
		tb.open(fmt.Sprintf("/admin/slots/%d/applications", s1), "admin_ranked")
		if got := tb.text("#allocate-form button"); got != "立即分配" {
			t.Errorf("allocate button %q", got)
		}
		tb.checkPage()
		tb.checkAxe()
		tb.click("#allocate-form button", "#allocated-at")
		first := "#ranked tbody tr"
		if got := tb.text(first + " th"); got != "1" {
			t.Errorf("rank %q, want 1", got)
		}
		if got := tb.text(first); strings.Contains(got, c.IDNo) || !strings.Contains(got, "已按第1志愿分配") {
			t.Errorf("ranked row %q: want the ID number masked and the reason", got)
		}
		// The basis in words (not a message key), the table styled as the
		// other staff tables.
		if got := tb.text(first + " td:nth-of-type(2)"); got != "排序时间" {
			t.Errorf("basis %q, want 排序时间", got)
		}
		if n := eval[int](tb, `document.querySelectorAll('link[href="/static/admin.css"]').length`); n != 1 {
			t.Errorf("the ranked list loads admin.css %d times, want once", n)
		}
		tb.checkPage()
		tb.checkAxe()
	})
	t.Run("Allocated", func(t *testing.T) {
		tb := openTab(a, t, 1280, 900)
		tb.logIn(c.IDNo, "candidate-pw", "candidate_journey")
		tb.open("/candidate/bookings", "candidate_bookings")
		if got := tb.text("#applications .application .when"); !strings.Contains(got, "已分配") || !strings.Contains(got, "排名第1") {
			t.Errorf("application after allocation %q", got)
		}
		tb.checkAxe()
	})
}
