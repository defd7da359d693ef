package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"examd/internal/server/servertest"
)

// TestBrowserScreenshotsFairSeats saves the pages of issue 14 (ranked
// slots, the all-subjects day, waitlists, notifications, the exam-day
// queue) at desktop (1280 px) and phone (375 px) width, with one office's
// scene on screen, when EXAMD_SCREENSHOTS names the folder (`make
// screenshots`). Every page is checked (checkPage, checkAxe) as it is shot.
func TestBrowserScreenshotsFairSeats(t *testing.T) {
	dir := screenshotDir(t)
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.Must(http.StatusCreated, "POST", "/api/v1/venues", sched,
		map[string]any{"name": "朝阳考场", "address": "北京市朝阳区东坝中路88号", "step_free": true}).ID()
	ranked := map[string]any{"allocation": "ranked", "capacity": 2}
	r1 := a.NewSlot(sched, venue, 2, 5, 8, ranked)                        // allocated below
	r3 := a.NewSlot(sched, venue, 2, 6, 8, ranked)                        // open: 申请
	a.NewSlot(sched, venue, 2, 9, 8, ranked)                              // a second preference
	r3b := a.NewSlot(sched, venue, 3, 6, 13, ranked)                      // with r3: 申请联考
	f1 := a.NewSlot(sched, venue, 2, 7, 9, map[string]any{"capacity": 1}) // full: 王小明 waits
	f2 := a.NewSlot(sched, venue, 2, 8, 9, map[string]any{"capacity": 1}) // full: 加入候补
	f3 := a.NewSlot(sched, venue, 3, 7, 13, map[string]any{"capacity": 1})
	x3 := a.NewSlot(sched, venue, 3, 10, 13, nil)

	// Permits running out within six months rank first (RA-PRIORITY).
	expiring := func(days int) map[string]any {
		issued := a.Day(days).AddDate(-3, 0, 0)
		return map[string]any{"permit_issued_on": issued.Format(time.DateOnly),
			"permit_expires_on":  a.Day(days).Format(time.DateOnly),
			"subject1_passed_on": issued.AddDate(0, 0, -2).Format(time.DateOnly)}
	}
	named := func(name string, over map[string]any) servertest.Candidate {
		if over == nil {
			over = map[string]any{}
		}
		over["name"] = name
		return a.NewCandidate(sched, over)
	}
	wang := named("王小明", nil)
	li := named("李秀英", expiring(90))
	zhang := named("张伟", expiring(150))
	liu := named("刘洋", nil)
	chen, zhao, sun, zhou := named("陈静", nil), named("赵强", nil), named("孙丽", nil), named("周杰", nil)

	book := func(c servertest.Candidate, slot int64) int64 {
		r := a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{slot}})
		return int64(r.Body["bookings"].([]any)[0].(map[string]any)["id"].(float64))
	}
	// 王小明's subject 3 booking, cancelled by the office.
	cancelled := book(wang, x3)
	a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%d?reason=%s", cancelled, "考场设备检修"), sched, nil)
	// Four applications for two seats: 王小明 is not allocated.
	for _, c := range []servertest.Candidate{li, zhang, wang, liu} {
		a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{r1}})
	}
	a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/slots/%d/allocate", r1), sched, nil)
	// Full slots and their waitlists.
	book(chen, f1)
	book(zhao, f2)
	held := book(sun, f3)
	for _, c := range []servertest.Candidate{liu, wang, zhou} {
		a.Must(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/slots/%d/waitlist", f1), c.Token, nil)
	}
	a.Must(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/slots/%d/waitlist", f3), wang.Token, nil)
	a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%d", held), sun.Token, nil) // the seat is offered to 王小明
	a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/candidates/%d/package", wang.ID), sched,
		map[string]any{"reason": "military_service", "note": "已收到入伍通知书"})
	// The two oldest notes read.
	notes := a.Must(http.StatusOK, "GET", "/api/v1/me/notifications", wang.Token, nil).Body["notifications"].([]any)
	if len(notes) < 4 {
		t.Fatalf("王小明 has %d notifications, want at least 4", len(notes))
	}
	var old []int64
	for _, n := range notes[len(notes)-2:] {
		old = append(old, int64(n.(map[string]any)["id"].(float64)))
	}
	a.Must(http.StatusOK, "POST", "/api/v1/me/notifications/read", wang.Token, map[string]any{"ids": old})

	// Today's exam at 朝阳考场: 赵丽 has two candidates ahead of her.
	d := &servertest.ExamDay{A: a, Sched: sched, Venue: venue}
	d.Slot = d.TodaySlot(t, 2)
	d.Device = d.NewDevice(t, venue)
	for _, n := range []string{"黄磊", "何静"} {
		d.BookAs(t, named(n, nil), d.Slot)
	}
	zhaoLi := named("赵丽", nil)
	d.BookAs(t, zhaoLi, d.Slot)

	user := planningUser(a, "scheduler")
	for _, w := range []struct {
		name          string
		width, height int
	}{{"desktop", 1280, 900}, {"phone", 375, 812}} {
		t.Run(w.name, func(t *testing.T) {
			tb := openTab(a, t, w.width, w.height)
			shoot := func(path, page, file string) {
				t.Helper()
				tb.open(path, page)
				tb.checkPage()
				tb.checkAxe()
				tb.shoot(dir, "fair-"+file+"-"+w.name+".png")
			}
			tb.logIn(wang.IDNo, "candidate-pw", "candidate_journey")
			shoot("/candidate/slots?subject=2", "candidate_slots", "slots")
			for _, want := range []string{fmt.Sprintf("#apply-%d", r3), fmt.Sprintf("#slot-%d .waiting", f1),
				fmt.Sprintf(`#slot-%d form[action$="/waitlist"] button`, f2), "#package-granted"} {
				if n := eval[int](tb, `document.querySelectorAll('`+want+`').length`); n != 1 {
					t.Errorf("the slot list lacks %s", want)
				}
			}
			shoot(fmt.Sprintf("/candidate/apply?slot=%d", r3), "candidate_apply", "apply")
			shoot("/candidate/bookings", "candidate_bookings", "bookings")
			if got := tb.text("main"); !strings.Contains(got, "候补补位") || !strings.Contains(got, "排名第") {
				t.Errorf("我的预约 lacks the offer or the application's rank: %q", got)
			}
			shoot("/candidate/notifications", "candidate_notifications", "notifications")
			if n := eval[int](tb, `document.querySelectorAll('#notifications li.unread').length`); n < 2 || n >= len(notes) {
				t.Errorf("%d of %d notes unread, want some but not all", n, len(notes))
			}
			tb.click(`form[action="/logout"] button`, `body[data-page="login"]`)

			// A combined application (科目二三联考) to two ranked slots of one day.
			tb.logIn(liu.IDNo, "candidate-pw", "candidate_journey")
			shoot(fmt.Sprintf("/candidate/apply/combined?pair=%d-%d", r3, r3b), "candidate_apply", "apply-combined")
			if got := tb.text("main"); !strings.Contains(got, "科目三") {
				t.Errorf("the combined form names no subject 3: %q", got)
			}
			tb.click(`form[action="/logout"] button`, `body[data-page="login"]`)

			tb.logIn(zhaoLi.IDNo, "candidate-pw", "candidate_journey")
			shoot("/candidate", "candidate_journey", "queue")
			if got := tb.text("#queue-text"); !strings.HasPrefix(got, "您前面还有 2 人") {
				t.Errorf("queue says %q", got)
			}
			tb.click(`form[action="/logout"] button`, `body[data-page="login"]`)

			tb.staffLogIn(user)
			shoot(fmt.Sprintf("/admin/slots/%d/applications", r1), "admin_ranked", "ranked")
			if got := tb.text("#ranked"); strings.Contains(got, wang.IDNo) {
				t.Errorf("the ranked list shows a full ID number")
			}
			shoot(fmt.Sprintf("/admin/slots/%d", r1), "admin_slot", "slot-ranked-roster")
			if got := tb.text("#roster"); !strings.Contains(got, "排序分配：排名第1") {
				t.Errorf("the ranked slot's roster %q: want each seat's rank and reason", got)
			}
			shoot(fmt.Sprintf("/admin/candidates/%d", zhang.ID), "admin_candidate", "candidate-package")
			shoot(fmt.Sprintf("/admin/slots/%d", f1), "admin_slot", "slot-waitlist")
			if got := tb.text("#waitlist"); strings.Contains(got, wang.IDNo) || !strings.Contains(got, "王**") {
				t.Errorf("the waitlist %q: want names and ID numbers masked", got)
			}
		})
	}
}
