package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"examd/internal/server/servertest"
)

// TestBrowserNotifications: on a phone, the candidate's 通知 page lists
// their notes newest first, the unread ones marked, with the count in the
// navigation; a note arriving while the page is open appears at the top
// and raises the count without a reload; 全部标为已读 clears the count.
func TestBrowserNotifications(t *testing.T) {
	a := servertest.Start(t)
	sched, _, s2, _ := bookingDay(t, a)
	c := a.NewCandidate(sched, nil)
	b := a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{s2}})
	booking := int64(b.Body["bookings"].([]any)[0].(map[string]any)["id"].(float64))

	tb := openTab(a, t, 375, 740)
	tb.logIn(c.IDNo, "candidate-pw", "candidate_journey")
	if got := strings.Join(strings.Fields(tb.text("#unread-count")), " "); got != "1 条未读" {
		t.Errorf("the navigation's count on the journey: %q, want 1 条未读", got)
	}
	tb.click(`nav a[href="/candidate/notifications"]`, `body[data-page="candidate_notifications"]`)
	if got := tb.text("#notifications li.unread"); !strings.Contains(got, "预约成功") || !strings.Contains(got, "未读") {
		t.Errorf("the booking's note: %q", got)
	}
	if href := eval[string](tb, `document.querySelector('#notifications li a').getAttribute('href')`); href != fmt.Sprintf("/candidate/bookings/%d", booking) {
		t.Errorf("the note links to %q", href)
	}
	tb.checkPage()
	tb.checkAxe()

	// A scheduler cancels the booking while the page is open.
	tb.do("wait for the live channel", chromedp.WaitReady(chromedp.CSS(`body[data-notify-live="connected"]`)))
	a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%d?reason=%s", booking, "考场维修"), sched, nil)
	tb.do("wait for the note", chromedp.WaitReady(chromedp.CSS(`#notifications li:nth-child(2)`)))
	if got := tb.text("#notifications li:first-child"); !strings.Contains(got, "预约已取消") || !strings.Contains(got, "考场维修") {
		t.Errorf("the live note: %q", got)
	}
	// Both the page's notes and the live one say the day with its weekday.
	for _, n := range []string{"1", "2"} {
		if got := tb.text("#notifications li:nth-child(" + n + ") time"); !strings.Contains(got, "星期") {
			t.Errorf("note %s's time %q lacks the weekday", n, got)
		}
	}
	if got := tb.text("#unread-count .n"); got != "2" {
		t.Errorf("the count after the live note: %q, want 2", got)
	}
	tb.checkPage()
	tb.checkAxe()

	tb.click("#mark-all-read", `#announce p`)
	if n := eval[int](tb, `document.querySelectorAll('#notifications li.unread').length`); n != 0 {
		t.Errorf("%d notes unread after marking all read", n)
	}
	for _, id := range []string{"unread-count", "mark-all-form"} {
		if shown := eval[bool](tb, `document.getElementById('`+id+`').checkVisibility()`); shown {
			t.Errorf("#%s is still shown after marking all read", id)
		}
	}
	tb.checkAxe()
}
