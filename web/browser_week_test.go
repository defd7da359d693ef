package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"examd/internal/server/servertest"
)

// TestBrowserWeekOfSlots: a scheduler publishes a week in one step (5 days
// × 2 sessions of subject 2) after previewing its 10 slots, and a candidate
// then finds the 10 slots on their slots page.
func TestBrowserWeekOfSlots(t *testing.T) {
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	a.NewVenue(sched, true)
	c := a.NewCandidate(sched, nil)
	user := planningUser(a, "scheduler")
	tb := openTab(a, t, 1280, 900)
	tb.staffLogIn(user)
	tb.open("/admin/slots", "admin_slots")
	tb.click("#week-link", `body[data-page="admin_week"]`)
	tb.checkPage()

	var days []string
	for i := 3; i < 8; i++ {
		days = append(days, a.Day(i).Format(time.DateOnly))
	}
	var ticks []chromedp.Action[chromedp.Void]
	for _, d := range days {
		ticks = append(ticks, chromedp.Click(chromedp.CSS("#day-"+d)))
	}
	tb.do("tick five days", ticks...)
	tb.do("fill the sessions and seats",
		chromedp.SetValue(chromedp.CSS("#session-1-start"), "08:00"),
		chromedp.SetValue(chromedp.CSS("#session-1-end"), "10:00"),
		chromedp.SetValue(chromedp.CSS("#session-2-start"), "14:00"),
		chromedp.SetValue(chromedp.CSS("#session-2-end"), "16:00"),
		chromedp.SetValue(chromedp.CSS("#capacity"), ""),
		chromedp.SendKeys(chromedp.CSS("#capacity"), "12"),
	)
	if got := eval[string](tb, `document.querySelector('#allocation').value`); got != "instant" {
		t.Errorf("allocation %q by default, want instant", got)
	}
	tb.click("#week-preview", "#preview")
	tb.checkPage()
	tb.checkAxe()
	rows := eval[[]string](tb, `[...document.querySelectorAll('#preview tbody tr')].map(r => r.textContent.replace(/\s+/g, ' ').trim())`)
	if len(rows) != 10 {
		t.Fatalf("preview %q, want 10 slots", rows)
	}
	for i, want := range []string{days[0], "08:00–10:00", "科目二", "C1", "12", "新场次"} {
		if !strings.Contains(rows[0], want) {
			t.Errorf("row 0 %q lacks %q (%d)", rows[0], want, i)
		}
	}
	if !strings.Contains(rows[9], days[4]) || !strings.Contains(rows[9], "14:00–16:00") {
		t.Errorf("last row %q", rows[9])
	}
	var n int
	if err := a.DB.Get(&n, `SELECT count(*) FROM slots`); err != nil || n != 0 {
		t.Fatalf("%d slots stored by the preview (%v)", n, err)
	}
	tb.click("#week-publish", "#announce p")
	if got := tb.text("#announce"); got != "本周场次已全部发布。" {
		t.Errorf("announcement %q", got)
	}
	if err := a.DB.Get(&n, `SELECT count(*) FROM slots WHERE capacity = 12 AND subject = 2`); err != nil || n != 10 {
		t.Errorf("%d slots in the database (%v), want 10", n, err)
	}
	// The scheduler switches the last slot to ranked on its page.
	var last int64
	if err := a.DB.Get(&last, `SELECT max(id) FROM slots`); err != nil {
		t.Fatal(err)
	}
	tb.open(fmt.Sprintf("/admin/slots/%d", last), "admin_slot")
	tb.checkAxe()
	tb.do("confirm the switch", chromedp.Click(chromedp.CSS("#allocation-confirm")))
	tb.click("#allocation-submit", "#announce p")
	if got := tb.text("#allocation-now"); got != "排序分配" {
		t.Errorf("allocation shown %q after the switch", got)
	}
	tb.checkAxe()
	tb.click(`.tools form button`, `body[data-page="login"]`)

	tb.logIn(c.IDNo, "candidate-pw", "candidate_journey")
	tb.open("/candidate/slots?subject=2", "candidate_slots")
	slots := eval[[]string](tb, `[...document.querySelectorAll('#singles > li')].map(r => r.querySelector('.when').textContent.replace(/\s+/g, ' ').trim())`)
	if len(slots) != 10 {
		t.Fatalf("the candidate sees %q, want the 10 slots", slots)
	}
	for i, d := range days {
		day, _ := time.Parse(time.DateOnly, d)
		for j, session := range []string{"08:00–10:00", "14:00–16:00"} {
			if got, want := slots[2*i+j], fmt.Sprintf("科目二 · %s %s · 第一考场", longDateZh(day), session); got != want {
				t.Errorf("slot %d: %q, want %q", 2*i+j, got, want)
			}
		}
	}
}
