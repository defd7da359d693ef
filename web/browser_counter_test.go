package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"examd/internal/server/servertest"
)

// TestBrowserCounterService: at the counter (导办) a scheduler finds a
// walk-in candidate by name, books them a subject 2 exam, moves the booking
// to another day, and cancels another candidate's booking from the slot's
// roster with a reason, all through the pages.
func TestBrowserCounterService(t *testing.T) {
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	s1 := a.NewSlot(sched, venue, 2, 5, 9, nil)
	s2 := a.NewSlot(sched, venue, 2, 6, 9, nil)
	walkIn := a.NewCandidate(sched, map[string]any{"name": "司马光明"})
	other := a.NewCandidate(sched, map[string]any{"name": "上官婉"})
	a.Must(http.StatusCreated, "POST", "/api/v1/bookings", other.Token, map[string]any{"slot_ids": []int64{s1}})
	otherBooking := activeBooking(a, t, other.ID, s1)
	user := planningUser(a, "scheduler")

	tb := openTab(a, t, 1280, 900)
	tb.staffLogIn(user)
	tb.open("/admin/candidates", "admin_candidates")
	tb.checkPage()
	tb.do("search by name", chromedp.SendKeys(chromedp.CSS("#q"), "司马"))
	// The list shows every candidate before the search: wait for the other
	// one to leave it, not for the walk-in (there from the start).
	tb.do("search", chromedp.Click(chromedp.CSS(`form[role="search"] button[type="submit"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(fmt.Sprintf("#cand-%d", other.ID))),
		chromedp.WaitReady(chromedp.CSS(fmt.Sprintf("#cand-%d", walkIn.ID))))
	if got := tb.text("#candidates tbody"); !strings.Contains(got, "司马光明") || strings.Contains(got, "上官婉") || strings.Contains(got, walkIn.IDNo) {
		t.Errorf("search shows %q", got)
	}
	tb.click(fmt.Sprintf("#cand-%d a", walkIn.ID), `body[data-page="admin_candidate"]`)
	tb.checkPage()

	// Book subject 2 on day 5.
	tb.do("choose the slot", chromedp.SetValue(chromedp.CSS("#book-slot"), fmt.Sprint(s1)))
	tb.click("#book-submit", "#announce p")
	if got := tb.text("#announce"); got != "已为考生预约。" {
		t.Errorf("announcement %q", got)
	}
	booked := activeBooking(a, t, walkIn.ID, s1)
	if booked == 0 {
		t.Fatalf("no booking made")
	}

	// Move it to day 6.
	tb.click(fmt.Sprintf("#actions-%d summary", booked), fmt.Sprintf("#move-slot-%d", booked))
	tb.do("fill the move form",
		chromedp.SetValue(chromedp.CSS(fmt.Sprintf("#move-slot-%d", booked)), fmt.Sprint(s2)),
		chromedp.SendKeys(chromedp.CSS(fmt.Sprintf("#move-reason-%d", booked)), "考生申请改期"),
	)
	// The page that answers shows the old booking without its forms.
	tb.click(fmt.Sprintf("#move-%d button[type=submit]", booked), fmt.Sprintf("#booking-%d:not(:has(details))", booked))
	if got := tb.text("#announce"); !strings.HasPrefix(got, "已改约") {
		t.Errorf("announcement %q", got)
	}
	moved := activeBooking(a, t, walkIn.ID, s2)
	if st, reason := bookingStatus(a, t, booked); st != "cancelled" || reason != "考生申请改期" || moved == 0 {
		t.Errorf("after the move: old %s %q, new %d", st, reason, moved)
	}
	tb.checkPage()

	// Cancel the other candidate's booking from the roster of day 5.
	tb.open(fmt.Sprintf("/admin/slots/%d", s1), "admin_slot")
	tb.checkPage()
	tb.click(fmt.Sprintf("#actions-%d summary", otherBooking), fmt.Sprintf("#cancel-reason-%d", otherBooking))
	tb.do("give the reason", chromedp.SendKeys(chromedp.CSS(fmt.Sprintf("#cancel-reason-%d", otherBooking)), "考生本人来电取消"))
	tb.click(fmt.Sprintf("#cancel-%d button[type=submit]", otherBooking), "#announce p")
	if got := tb.text("#announce"); got != "已取消预约，座位已释放。" {
		t.Errorf("announcement %q", got)
	}
	if st, reason := bookingStatus(a, t, otherBooking); st != "cancelled" || reason != "考生本人来电取消" {
		t.Errorf("other booking: %s %q", st, reason)
	}
}
