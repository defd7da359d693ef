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
		// The slot's roster says why the seat was given.
		tb.open(fmt.Sprintf("/admin/slots/%d", s1), "admin_slot")
		if got := tb.text("#roster .allocation"); got != "排序分配：排名第1（排序时间），已按第1志愿分配" {
			t.Errorf("roster's allocation %q", got)
		}
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

// TestBrowserCombinedApplication: at phone width, a candidate finds a pair
// of ranked subject 2 and 3 slots offered as 申请联考, picks the same pair
// twice and reads the refusal under the second preference, then applies
// with the two days' pairs in order and sees the application 待分配 with
// both subjects and times of each preference and its withdrawal.
func TestBrowserCombinedApplication(t *testing.T) {
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	s2a, s3a, s2b, s3b := rankedPairs(a, sched, venue)
	c := a.NewCandidate(sched, nil)
	first, second := fmt.Sprintf("%d-%d", s2a, s3a), fmt.Sprintf("%d-%d", s2b, s3b)

	tb := openTab(a, t, 390, 844)
	tb.logIn(c.IDNo, "candidate-pw", "candidate_journey")
	tb.open("/candidate/slots?subject=23", "candidate_slots")
	link := "#apply-pair-" + first
	if got := tb.text(link); got != "申请联考" {
		t.Errorf("ranked pair's action %q, want 申请联考", got)
	}
	tb.checkPage()
	tb.checkAxe()
	tb.click(link, `body[data-page="candidate_apply"]`)
	if got := tb.text("h1"); got != "预约申请 · 科目二三联考" {
		t.Errorf("heading %q", got)
	}
	if got, want := eval[string](tb, `document.querySelector('#pref1').selectedOptions[0].textContent`), longDateZh(a.Day(5))+" · 科目二 08:00–10:00 + 科目三 13:00–15:00 · 第一考场"; got != want {
		t.Errorf("preference 1 %q, want %q", got, want)
	}
	tb.checkPage()
	tb.checkAxe()

	// The same pair twice: refused under preference 2, nothing recorded.
	tb.do("choose the same pair again", chromedp.SetValue(chromedp.CSS("#pref2"), first))
	tb.click(`#apply-form button[type="submit"]`, "#err-pref2")
	if got := tb.text("#err-pref2"); got != "该志愿与前面的志愿有相同场次，请另选联考场次或不填" {
		t.Errorf("refusal of preference 2 %q", got)
	}
	if got := eval[string](tb, `document.querySelector('#pref2').getAttribute('aria-describedby')`); got != "err-pref2" {
		t.Errorf("preference 2 described by %q", got)
	}
	tb.checkPage()
	tb.checkAxe()

	tb.do("choose the second day", chromedp.SetValue(chromedp.CSS("#pref2"), second))
	tb.click(`#apply-form button[type="submit"]`, `body[data-page="candidate_bookings"]`)
	if got := tb.text("#applications .application .when"); !strings.Contains(got, "科目二 科目三") || !strings.Contains(got, "待分配") {
		t.Errorf("application %q, want both subjects 待分配", got)
	}
	prefs := eval[[]string](tb, `[...document.querySelectorAll('#applications .prefs li')].map(e => e.textContent.trim())`)
	want := []string{
		"科目二 " + longDateZh(a.Day(5)) + " 08:00–10:00 · 第一考场 + 科目三 " + longDateZh(a.Day(5)) + " 13:00–15:00 · 第一考场",
		"科目二 " + longDateZh(a.Day(6)) + " 08:00–10:00 · 第一考场 + 科目三 " + longDateZh(a.Day(6)) + " 13:00–15:00 · 第一考场",
	}
	if fmt.Sprint(prefs) != fmt.Sprint(want) {
		t.Errorf("preferences %q, want %q", prefs, want)
	}
	if n := eval[int](tb, `document.querySelectorAll('#applications form input[name="confirm"][required]').length`); n != 1 {
		t.Errorf("withdrawal without a required confirmation")
	}
	tb.checkPage()
	tb.checkAxe()
}
