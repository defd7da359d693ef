package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"examd/internal/server/servertest"
)

// TestBrowserWaitlist: on a full slot the candidate sees 名额已满 with
// 加入候补, joins and sees their place and 退出候补; a cancellation books
// the seat for them, which 我的预约 shows as 候补补位 with 放弃 behind a
// confirmation; declining passes the seat to the next waiting candidate.
func TestBrowserWaitlist(t *testing.T) {
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	slot := a.NewSlot(sched, venue, 2, 5, 9, map[string]any{"capacity": 1})
	holder, w, next := a.NewCandidate(sched, nil), a.NewCandidate(sched, nil), a.NewCandidate(sched, nil)
	held := a.Must(http.StatusCreated, "POST", "/api/v1/bookings", holder.Token, map[string]any{"slot_ids": []int64{slot}})
	heldID := int64(held.Body["bookings"].([]any)[0].(map[string]any)["id"].(float64))

	tb := openTab(a, t, 1280, 900)
	tb.logIn(w.IDNo, "candidate-pw", "candidate_journey")
	list := "/candidate/slots?subject=2&date=" + a.Day(5).Format(time.DateOnly)
	tb.open(list, "candidate_slots")
	row := fmt.Sprintf("#slot-%d", slot)
	if got := tb.text(row + " .muted"); got != "名额已满" {
		t.Errorf("full slot says %q, want 名额已满", got)
	}
	tb.checkAxe()
	tb.click(row+` form[action$="/waitlist"] button`, row+" .waiting")
	if got := tb.text(row + " .waiting"); got != "候补第 1 位" {
		t.Errorf("after joining: %q, want 候补第 1 位", got)
	}
	if got := tb.text(row + ` form[action$="/leave"] button`); got != "退出候补" {
		t.Errorf("leave button says %q", got)
	}
	tb.checkPage()
	tb.checkAxe()
	a.Must(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/slots/%d/waitlist", slot), next.Token, nil)

	a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%d", heldID), holder.Token, nil)
	tb.open("/candidate/bookings", "candidate_bookings")
	var offer int64
	if err := a.DB.Get(&offer, `SELECT booking_id FROM waitlist WHERE candidate_id = $1 AND state = 'offered'`, w.ID); err != nil {
		t.Fatal(err)
	}
	card := fmt.Sprintf("#booking-%d", offer)
	if got := tb.text(card + " .offer"); !strings.HasPrefix(got, "候补补位") {
		t.Errorf("offer says %q", got)
	}
	// The offer is given back by 放弃 alone (which passes the seat on), not
	// by a second 取消预约 button beside it.
	if n := eval[int](tb, `document.querySelectorAll('`+card+` a[href$="/cancel"]').length`); n != 0 {
		t.Errorf("the offer's card has %d 取消预约 links, want none beside 放弃", n)
	}
	tb.checkPage()
	tb.checkAxe()
	tb.click(card+` input[name="confirm"]`, card+` input[name="confirm"]:checked`)
	tb.click(card+" form.decline button", `body[data-page="candidate_bookings"] .flash p`)
	if got := tb.text(card + " .status"); got != "已取消" {
		t.Errorf("declined booking shows %q, want 已取消", got)
	}
	var state string
	if err := a.DB.Get(&state, `SELECT state FROM waitlist WHERE candidate_id = $1 AND slot_id = $2`, next.ID, slot); err != nil {
		t.Fatal(err)
	}
	if state != "offered" {
		t.Errorf("the next waiting candidate's entry is %s, want offered", state)
	}
}

// TestBrowserSlotWaitlist: the scheduler's slot page lists the waitlist in
// ranked order with masked names and ID numbers.
func TestBrowserSlotWaitlist(t *testing.T) {
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	slot := a.NewSlot(sched, venue, 2, 5, 9, map[string]any{"capacity": 1})
	holder := a.NewCandidate(sched, nil)
	w := a.NewCandidate(sched, map[string]any{"name": "王小明"})
	a.Must(http.StatusCreated, "POST", "/api/v1/bookings", holder.Token, map[string]any{"slot_ids": []int64{slot}})
	a.Must(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/slots/%d/waitlist", slot), w.Token, nil)

	a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin, map[string]any{"username": "wl-planner", "password": "staff-secret", "role": "scheduler"})
	tb := openTab(a, t, 1280, 900)
	tb.logIn("wl-planner", "staff-secret", "admin_slots")
	tb.open(fmt.Sprintf("/admin/slots/%d", slot), "admin_slot")
	got := tb.text("#waitlist tbody tr")
	for _, want := range []string{"1", "王**", w.IDNo[:3] + "***********" + w.IDNo[14:], "候补中"} {
		if !strings.Contains(got, want) {
			t.Errorf("waitlist row %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, w.IDNo) {
		t.Errorf("waitlist row shows the full ID number")
	}
	// Styled as the other staff tables, the ID number on one line.
	if ws := eval[string](tb, `getComputedStyle(document.querySelector('#waitlist tbody td.nowrap')).whiteSpace`); ws != "nowrap" {
		t.Errorf("the waitlist's ID number cell wraps (white-space %q): the table lacks the grid style", ws)
	}
	tb.checkPage()
	tb.checkAxe()
}

// TestBrowserWaitlistKeep: an offer's card has 保留 beside 放弃; keeping it
// says so in words, takes 放弃 away and leaves 取消预约 (RA-WAIT).
func TestBrowserWaitlistKeep(t *testing.T) {
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	slot := a.NewSlot(sched, venue, 2, 5, 9, map[string]any{"capacity": 1})
	holder, w := a.NewCandidate(sched, nil), a.NewCandidate(sched, nil)
	held := a.Must(http.StatusCreated, "POST", "/api/v1/bookings", holder.Token, map[string]any{"slot_ids": []int64{slot}})
	a.Must(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/slots/%d/waitlist", slot), w.Token, nil)
	a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%d", int64(held.Body["bookings"].([]any)[0].(map[string]any)["id"].(float64))), holder.Token, nil)
	var offer int64
	if err := a.DB.Get(&offer, `SELECT booking_id FROM waitlist WHERE candidate_id = $1 AND state = 'offered'`, w.ID); err != nil {
		t.Fatal(err)
	}
	card := fmt.Sprintf("#booking-%d", offer)

	tb := openTab(a, t, 1920, 1080)
	tb.logIn(w.IDNo, "candidate-pw", "candidate_journey")
	tb.open("/candidate/bookings", "candidate_bookings")
	if got := tb.text(card + " form.keep button"); got != "保留" {
		t.Errorf("keep button says %q", got)
	}
	if got := tb.text(card + " form.decline button"); got != "放弃" {
		t.Errorf("decline button says %q", got)
	}
	tb.checkPage()
	tb.checkAxe()
	tb.click(card+" form.keep button", `body[data-page="candidate_bookings"] .flash p`)
	if got := tb.text(".flash"); got != "已保留该名额，请按时参加考试。" {
		t.Errorf("flash %q", got)
	}
	if got := tb.text(card + " .offer"); !strings.Contains(got, "候补补位") || !strings.Contains(got, "已确认保留") {
		t.Errorf("kept offer says %q", got)
	}
	if n := eval[int](tb, `document.querySelectorAll('`+card+` form.decline, `+card+` form.keep').length`); n != 0 {
		t.Errorf("the kept offer still has %d keep or decline forms", n)
	}
	if n := eval[int](tb, `document.querySelectorAll('`+card+` a[href$="/cancel"]').length`); n != 1 {
		t.Errorf("the kept offer has %d 取消预约 links, want 1", n)
	}
	tb.checkPage()
	tb.checkAxe()
	var state string
	if err := a.DB.Get(&state, `SELECT state FROM waitlist WHERE booking_id = $1`, offer); err != nil || state != "booked" {
		t.Errorf("entry %q (%v), want booked", state, err)
	}
}
