package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"examd/internal/server/servertest"
)

// TestBrowserPackage: staff grant the all-subjects day (套餐) on the
// candidate's page, a missing explanation for "other" shown next to its
// field; the candidate then picks a day on the slot page, sees only the
// subject 2, 3 and 4 combinations of that day that fit, books one with one
// button, and the slip lists all three with their times.
func TestBrowserPackage(t *testing.T) {
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	s2 := a.NewSlot(sched, venue, 2, 5, 8, nil)  // 08:00–10:00
	s3 := a.NewSlot(sched, venue, 3, 5, 10, nil) // 10:00–12:00
	s4 := a.NewSlot(sched, venue, 4, 5, 13, nil) // 13:00–15:00
	early4 := a.NewSlot(sched, venue, 4, 5, 11, nil)
	a.NewSlot(sched, venue, 4, 6, 13, nil)                                    // another day: no combination
	a.NewSlot(sched, venue, 4, 5, 15, map[string]any{"allocation": "ranked"}) // applied for, not booked (RA-*)
	c := a.NewCandidate(sched, map[string]any{"name": "钱多多"})
	user := planningUser(a, "scheduler")

	tb := openTab(a, t, 1280, 900)
	tb.staffLogIn(user)
	page := fmt.Sprintf("/admin/candidates/%d", c.ID)
	tb.open(page, "admin_candidate")
	if got := tb.text("#package-status"); got != "未办理全科考试套餐。" {
		t.Errorf("package status %q", got)
	}
	tb.checkAxe()
	tb.do("choose other without an explanation", chromedp.Click(chromedp.CSS("#package-reason-other")))
	tb.click("#package-grant", "#err-package_note")
	if got := tb.text("#err-package_note"); got != "选择「其他」时须填写原因说明，最多500字。" {
		t.Errorf("note error %q", got)
	}
	tb.checkPage()
	tb.checkAxe()
	tb.do("choose military service with a note",
		chromedp.Click(chromedp.CSS("#package-reason-military_service")),
		chromedp.SendKeys(chromedp.CSS("#package-note"), "已收到入伍通知书"))
	tb.click("#package-grant", "#announce p")
	if got := tb.text("#announce"); got != "已办理全科考试套餐。" {
		t.Errorf("announcement %q", got)
	}
	if got := tb.text("#package-status"); !strings.Contains(got, "已办理（现役军人）") || !strings.Contains(got, "已收到入伍通知书") {
		t.Errorf("package status %q", got)
	}
	tb.checkAxe()
	tb.click(`.tools form button`, `body[data-page="login"]`)

	tb.logIn(c.IDNo, "candidate-pw", "candidate_journey")
	tb.open("/candidate/slots", "candidate_slots")
	if got := tb.text("#package-granted"); !strings.Contains(got, "您已办理全科考试套餐（现役军人）") {
		t.Errorf("slot page's package note %q", got)
	}
	tb.click("#package-granted a", "#package-days")
	days := eval[[]string](tb, `[...document.querySelectorAll('#package-days li')].map(l => l.textContent.trim())`)
	if len(days) != 1 || !strings.Contains(days[0], longDateZh(a.Day(5))) || !strings.Contains(days[0], "1 种场次组合") {
		t.Errorf("days offered %q, want the 5th day with its one combination", days)
	}
	tb.checkPage()
	tb.checkAxe()
	tb.click("#package-days a", "#packages")
	rows := eval[[]string](tb, `[...document.querySelectorAll('#packages > li')].map(l => l.id)`)
	if want := fmt.Sprintf("package-%d-%d-%d", s2, s3, s4); len(rows) != 1 || rows[0] != want {
		t.Errorf("combinations %q, want only %s (subject 4 at 11:00 overlaps subject 3: slot %d; the one at 15:00 is ranked)", rows, want, early4)
	}
	tb.checkPage()
	tb.checkAxe()
	tb.click("#packages button.primary", `body[data-page="candidate_slip"]`)
	slip := tb.text("#slip")
	for _, want := range []string{"科目二 08:00–10:00", "科目三 10:00–12:00", "科目四 13:00–15:00"} {
		if !strings.Contains(slip, want) {
			t.Errorf("slip %q lacks %q", slip, want)
		}
	}
	tb.checkAxe()
	var n int
	if err := a.DB.Get(&n, `SELECT count(*) FROM bookings WHERE candidate_id = $1 AND status = 'confirmed' AND pair_id IS NOT NULL`, c.ID); err != nil || n != 3 {
		t.Errorf("%d linked bookings (%v), want 3", n, err)
	}
}

// TestBrowserCounterPackage: at the counter (the candidate's staff page,
// 1920×1080), a candidate without the package gets only a pointer to the
// grant form; once granted, the day's fitting combination is offered with
// its weekday, three subjects and venue, a seat taken meanwhile is refused
// at its row, and booking names the three bookings.
func TestBrowserCounterPackage(t *testing.T) {
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	s2 := a.NewSlot(sched, venue, 2, 5, 8, nil)
	s3 := a.NewSlot(sched, venue, 3, 5, 10, map[string]any{"capacity": 1})
	s4 := a.NewSlot(sched, venue, 4, 5, 13, nil)
	c := a.NewCandidate(sched, map[string]any{"name": "孙小圣"})
	filler := a.NewCandidate(sched, nil)
	user := planningUser(a, "scheduler")
	page := fmt.Sprintf("/admin/candidates/%d", c.ID)
	row := fmt.Sprintf("#package-%d-%d-%d", s2, s3, s4)

	tb := openTab(a, t, 1920, 1080)
	tb.staffLogIn(user)
	tb.open(page, "admin_candidate")
	if got := tb.text("#counter-packages"); !strings.Contains(got, "考生未办理全科考试套餐") {
		t.Errorf("without a grant: %q", got)
	}
	tb.checkAxe()

	a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/candidates/%d/package", c.ID), sched, map[string]any{"reason": "school_term"})
	tb.open(page, "admin_candidate")
	if got := tb.text(row); !strings.Contains(got, longDateZh(a.Day(5))) || !strings.Contains(got, "科目四 13:00–15:00") {
		t.Errorf("the combination reads %q", got)
	}
	tb.checkPage()
	tb.checkAxe()

	// The last subject 3 seat goes before staff click.
	a.Must(http.StatusCreated, "POST", "/api/v1/bookings", filler.Token, map[string]any{"slot_ids": []int64{s3}})
	tb.click(row+" button.primary", row+" .refusal")
	if got := tb.text(row + " .refusal"); got != "该场次已约满" {
		t.Errorf("refusal %q", got)
	}
	tb.checkAxe()
	a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%d", activeBooking(a, t, filler.ID, s3)), filler.Token, nil)

	tb.open(page, "admin_candidate")
	tb.click(row+" button.primary", "#package-booked")
	if got := tb.text("#announce"); got != "已为考生预约全科考试（科目二、科目三、科目四）。" {
		t.Errorf("announcement %q", got)
	}
	got := tb.text("#package-booked")
	for _, want := range []string{"科目二", "科目三", "科目四 " + longDateZh(a.Day(5)) + " 13:00–15:00", "预约号 YY"} {
		if !strings.Contains(got, want) {
			t.Errorf("the outcome %q lacks %q", got, want)
		}
	}
	tb.checkPage()
	tb.checkAxe()
}
