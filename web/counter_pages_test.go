package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"examd/internal/server/servertest"
	"examd/internal/testkit"
)

// bookingStatus is the status of booking id, and its cancellation's reason.
func bookingStatus(a *servertest.App, t *testing.T, id int64) (string, string) {
	t.Helper()
	var row struct {
		Status string  `db:"status"`
		Reason *string `db:"cancel_reason"`
	}
	if err := a.DB.Get(&row, `SELECT status, cancel_reason FROM bookings WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if row.Reason == nil {
		return row.Status, ""
	}
	return row.Status, *row.Reason
}

// activeBooking is the id of the candidate's confirmed booking in slot, 0 without one.
func activeBooking(a *servertest.App, t *testing.T, candidate, slot int64) int64 {
	t.Helper()
	var id int64
	err := a.DB.Get(&id, `SELECT coalesce(max(id), 0) FROM bookings WHERE candidate_id = $1 AND slot_id = $2 AND status = 'confirmed'`, candidate, slot)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestWebCounterList: /admin/candidates lists every candidate, 50 a page,
// newest first, with ID numbers and phones masked; the search finds a
// candidate by part of the name, the phone or the ID number; a full ID
// number opens the candidate; nothing found is said next to the box.
func TestWebCounterList(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	var first, last servertest.Candidate
	for i := range 52 {
		over := map[string]any{"name": fmt.Sprintf("考生%02d", i), "phone": fmt.Sprintf("139%08d", i)}
		if i == 51 {
			over["name"], over["phone"] = "欧阳娜娜", "13712345678"
		}
		n := servertest.Next()
		over["id_number"] = testkit.IDNumber(int(n))
		id := a.Must(http.StatusCreated, "POST", "/api/v1/candidates", sched, map[string]any{
			"id_number": over["id_number"], "name": over["name"], "phone": over["phone"], "licence_class": "C1",
			"permit_issued_on": a.Day(-60).Format(time.DateOnly), "permit_expires_on": a.Day(600).Format(time.DateOnly),
			"password": "candidate-pw",
		}).ID()
		c := servertest.Candidate{ID: id, IDNo: over["id_number"].(string)}
		if i == 0 {
			first = c
		}
		last = c
	}
	b := planningBrowser(a, t, "scheduler")

	p := b.get("/admin/candidates")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "全部考生（共 52 人）") || !strings.Contains(p.Body, "第 1 页，共 2 页") {
		t.Fatalf("list: %d\n%s", p.Status, p.Body)
	}
	if !strings.Contains(p.Body, fmt.Sprintf(`id="cand-%d"`, last.ID)) || strings.Contains(p.Body, fmt.Sprintf(`id="cand-%d"`, first.ID)) {
		t.Errorf("page 1 should hold the newest (%d), not the first (%d)", last.ID, first.ID)
	}
	if strings.Contains(p.Body, last.IDNo) || strings.Contains(p.Body, "13712345678") || !strings.Contains(p.Body, "137****5678") {
		t.Errorf("the list shows a full ID number or phone")
	}
	p = b.get("/admin/candidates?page=2")
	if !strings.Contains(p.Body, "第 2 页，共 2 页") || !strings.Contains(p.Body, fmt.Sprintf(`id="cand-%d"`, first.ID)) || !strings.Contains(p.Body, `id="page-prev"`) || strings.Contains(p.Body, `id="page-next"`) {
		t.Errorf("page 2:\n%s", p.Body)
	}
	if p := b.get("/admin/candidates?page=99"); !strings.Contains(p.Body, "第 2 页，共 2 页") {
		t.Errorf("a page past the end shows the last")
	}

	for _, q := range []string{"欧阳", "12345678", last.IDNo[:10], strings.ToLower(last.IDNo[10:])} {
		p := b.get("/admin/candidates?q=" + url.QueryEscape(q))
		if p.Status != http.StatusOK || !strings.Contains(p.Body, fmt.Sprintf(`id="cand-%d"`, last.ID)) {
			t.Errorf("search %q: %d, want candidate %d listed\n%s", q, p.Status, last.ID, p.Body)
		}
	}
	if p := b.get("/admin/candidates?q=" + last.IDNo); p.URL != fmt.Sprintf("/admin/candidates/%d", last.ID) {
		t.Errorf("a full ID number: at %s", p.URL)
	}
	if p := b.get("/admin/candidates?q=" + url.QueryEscape("无此人")); p.Status != http.StatusNotFound || !strings.Contains(p.Body, `id="err-q" role="alert">没有找到该考生`) {
		t.Errorf("nothing found: %d", p.Status)
	}
	// The staff view of a candidate is titled for staff.
	p = b.get(fmt.Sprintf("/admin/candidates/%d", last.ID))
	if !strings.Contains(p.Body, "考生的预约记录") || strings.Contains(p.Body, "我的预约") {
		t.Errorf("the staff page of a candidate is titled for the candidate")
	}
}

// TestWebCounterBooking: staff book a candidate from their page, move the
// booking and cancel it with a reason; refusals (a subject booked already,
// a full slot, no reason) show next to the form and change nothing.
func TestWebCounterBooking(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	s1 := a.NewSlot(sched, venue, 2, 5, 9, nil)
	s2 := a.NewSlot(sched, venue, 2, 6, 9, nil)
	full := a.NewSlot(sched, venue, 2, 7, 9, map[string]any{"capacity": 1})
	c := a.NewCandidate(sched, nil)
	filler := a.NewCandidate(sched, nil)
	a.Must(http.StatusCreated, "POST", "/api/v1/bookings", filler.Token, map[string]any{"slot_ids": []int64{full}})
	b := planningBrowser(a, t, "scheduler")
	page := fmt.Sprintf("/admin/candidates/%d", c.ID)

	b.get(page)
	p := b.post(page+"/book", url.Values{"slot_id": {fmt.Sprint(s1)}, "pair_slot_id": {""}, "key": {"k1"}})
	id := activeBooking(a, t, c.ID, s1)
	if id == 0 || !strings.Contains(p.Body, "已为考生预约。") || p.URL != page+"?done=counter_booked" {
		t.Fatalf("book: %d at %s, booking %d\n%s", p.Status, p.URL, id, p.Body)
	}
	row := fmt.Sprintf("booking-%d", id)

	t.Run("BookRefused", func(t *testing.T) {
		b.get(page)
		p := b.post(page+"/book", url.Values{"slot_id": {fmt.Sprint(s2)}, "key": {"k2"}})
		if p.Status != http.StatusConflict || !strings.Contains(p.Body, `id="err-book" role="alert" data-code="already_booked">该科目已有有效预约`) {
			t.Errorf("second subject 2: %d\n%s", p.Status, p.Body)
		}
		if activeBooking(a, t, c.ID, s2) != 0 {
			t.Errorf("booked anyway")
		}
	})
	t.Run("MoveRefused", func(t *testing.T) {
		b.get(page)
		p := b.post(fmt.Sprintf("/admin/bookings/%d/move", id), url.Values{"slot_id": {fmt.Sprint(full)}, "reason": {"改期"}, "candidate": {fmt.Sprint(c.ID)}})
		if p.Status != http.StatusConflict || !strings.Contains(p.Body, `id="err-`+row+`" role="alert" data-code="slot_full">该场次已约满`) {
			t.Errorf("move to a full slot: %d\n%s", p.Status, p.Body)
		}
		b.get(page)
		p = b.post(fmt.Sprintf("/admin/bookings/%d/move", id), url.Values{"slot_id": {fmt.Sprint(s2)}, "reason": {" "}, "candidate": {fmt.Sprint(c.ID)}})
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="err-`+row+`" role="alert" data-code="invalid_field">请填写原因`) {
			t.Errorf("move without a reason: %d\n%s", p.Status, p.Body)
		}
		if st, _ := bookingStatus(a, t, id); st != "confirmed" {
			t.Errorf("after refused moves: %s", st)
		}
	})

	b.get(page)
	p = b.post(fmt.Sprintf("/admin/bookings/%d/move", id), url.Values{"slot_id": {fmt.Sprint(s2)}, "reason": {"考生来电改期"}, "candidate": {fmt.Sprint(c.ID)}})
	moved := activeBooking(a, t, c.ID, s2)
	if st, reason := bookingStatus(a, t, id); st != "cancelled" || reason != "考生来电改期" || moved == 0 || !strings.Contains(p.Body, "已改约") {
		t.Fatalf("move: %s %q, new booking %d\n%s", st, reason, moved, p.Body)
	}

	b.get(page)
	p = b.post(fmt.Sprintf("/admin/bookings/%d/cancel", moved), url.Values{"reason": {""}, "candidate": {fmt.Sprint(c.ID)}})
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, fmt.Sprintf(`id="err-booking-%d" role="alert" data-code="invalid_field">请填写原因`, moved)) {
		t.Errorf("cancel without a reason: %d\n%s", p.Status, p.Body)
	}
	b.get(page)
	p = b.post(fmt.Sprintf("/admin/bookings/%d/cancel", moved), url.Values{"reason": {"考生身体不适"}, "candidate": {fmt.Sprint(c.ID)}})
	if st, reason := bookingStatus(a, t, moved); st != "cancelled" || reason != "考生身体不适" || !strings.Contains(p.Body, "已取消预约，座位已释放。") {
		t.Errorf("cancel: %s %q\n%s", st, reason, p.Body)
	}
}

// TestWebCounterRoster: from a slot's roster staff book a candidate by ID
// number and cancel a booking with a reason; the slot is closed (by the
// venue's examiner, who sees the roster without the counter's forms) once
// it has started; an unknown ID number and a slot not started are refused
// next to their forms.
func TestWebCounterRoster(t *testing.T) {
	t.Parallel()
	clock := testkit.NewClock(time.Now())
	a := servertest.StartAt(t, clock)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	slot := a.NewSlot(sched, venue, 2, 3, 9, nil)
	c := a.NewCandidate(sched, nil)
	other := a.NewCandidate(sched, nil)
	b := planningBrowser(a, t, "scheduler")
	// The venue's examiner logs in on the exam day to close the slot.
	examiner := fmt.Sprintf("examiner-web%d", servertest.Next())
	a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin,
		map[string]any{"username": examiner, "password": "staff-secret", "role": "examiner", "venue_id": venue})
	roster := fmt.Sprintf("/admin/slots/%d", slot)

	b.get(roster)
	p := b.post(roster+"/book", url.Values{"id_number": {testkit.IDNumber(990001)}, "key": {"r1"}})
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="err-book" role="alert" data-code="invalid_field">没有找到该身份证号码的考生`) {
		t.Errorf("unknown ID number: %d\n%s", p.Status, p.Body)
	}
	for i, who := range []servertest.Candidate{c, other} {
		b.get(roster)
		p = b.post(roster+"/book", url.Values{"id_number": {strings.ToLower(who.IDNo)}, "key": {fmt.Sprint("r", i+2)}})
		if activeBooking(a, t, who.ID, slot) == 0 || p.URL != roster+"?done=counter_booked" {
			t.Fatalf("book by ID number: %d at %s\n%s", p.Status, p.URL, p.Body)
		}
	}
	id := activeBooking(a, t, other.ID, slot)
	b.get(roster)
	p = b.post(fmt.Sprintf("/admin/bookings/%d/cancel", id), url.Values{"reason": {"重复登记"}, "slot": {fmt.Sprint(slot)}})
	if st, _ := bookingStatus(a, t, id); st != "cancelled" || p.URL != roster+"?done=counter_cancelled" {
		t.Errorf("cancel from the roster: %s at %s", st, p.URL)
	}

	b.get(roster)
	p = b.post(roster+"/close", nil)
	if p.Status != http.StatusConflict || !strings.Contains(p.Body, `id="err-close" role="alert" data-code="slot_not_started">该场次尚未开始`) {
		t.Errorf("close before the start: %d\n%s", p.Status, p.Body)
	}
	clock.Set(a.Day(3).Add(12 * time.Hour))
	b = newBrowser(a, t)
	b.logIn(examiner, "staff-secret", "")
	p = b.get(roster)
	var name string
	if err := a.DB.Get(&name, `SELECT name FROM candidates WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	if p.Status != http.StatusOK || strings.Contains(p.Body, `id="book-submit"`) || strings.Contains(p.Body, `action="/admin/bookings/`) || strings.Contains(p.Body, name) {
		t.Errorf("the examiner's roster: %d, or it offers the counter's forms or the full name %s\n%s", p.Status, name, p.Body)
	}
	p = b.post(roster+"/close", nil)
	if st, _ := bookingStatus(a, t, activeOrAny(a, t, c.ID, slot)); st != "no_show" || p.URL != roster+"?done=slot_closed" {
		t.Errorf("close: %s at %s\n%s", st, p.URL, p.Body)
	}
}

// activeOrAny is the id of the candidate's latest booking in slot.
func activeOrAny(a *servertest.App, t *testing.T, candidate, slot int64) int64 {
	t.Helper()
	var id int64
	if err := a.DB.Get(&id, `SELECT max(id) FROM bookings WHERE candidate_id = $1 AND slot_id = $2`, candidate, slot); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestWebCounterPackage: without a package grant the counter offers no
// all-subjects day, only a pointer to the grant form; once granted it lists
// the day's fitting subject 2, 3 and 4 combinations (the subject 4 slot
// that overlaps subject 3 is in none), a refusal (a seat taken meanwhile)
// shows at its row and books nothing, and a booking names its three
// bookings.
func TestWebCounterPackage(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	s2 := a.NewSlot(sched, venue, 2, 5, 8, nil)                            // 08:00–10:00
	s3 := a.NewSlot(sched, venue, 3, 5, 10, map[string]any{"capacity": 1}) // 10:00–12:00
	s3b := a.NewSlot(sched, venue, 3, 5, 10, nil)                          // the same hour, seats left
	s4 := a.NewSlot(sched, venue, 4, 5, 13, nil)                           // 13:00–15:00
	early4 := a.NewSlot(sched, venue, 4, 5, 11, nil)                       // overlaps subject 3
	c := a.NewCandidate(sched, nil)
	filler := a.NewCandidate(sched, nil)
	b := planningBrowser(a, t, "scheduler")
	page := fmt.Sprintf("/admin/candidates/%d", c.ID)
	row := fmt.Sprintf("package-%d-%d-%d", s2, s3, s4)

	p := b.get(page)
	if hint := rowOf(p.Body, "counter-packages"); !strings.Contains(hint, "考生未办理全科考试套餐") || !strings.Contains(hint, `href="#package"`) {
		t.Errorf("without a grant: %q", hint)
	}
	if strings.Contains(p.Body, `id="`+row+`"`) {
		t.Errorf("a combination offered without a grant")
	}

	a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/candidates/%d/package", c.ID), sched, map[string]any{"reason": "permit_expiring"})
	p = b.get(page)
	offer := cardOf(p.Body, row)
	for _, want := range []string{longDateZh(a.Day(5)), "科目二 08:00–10:00", "科目三 10:00–12:00", "科目四 13:00–15:00", "为考生预约这三场"} {
		if !strings.Contains(offer, want) {
			t.Errorf("row %s lacks %q:\n%s", row, want, offer)
		}
	}
	if !strings.Contains(p.Body, fmt.Sprintf(`id="package-%d-%d-%d"`, s2, s3b, s4)) {
		t.Errorf("the combination with the other subject 3 slot is not offered")
	}
	if strings.Contains(p.Body, fmt.Sprintf("-%d\"", early4)) {
		t.Errorf("the subject 4 slot that overlaps subject 3 (%d) is offered", early4)
	}

	// The last seat of s3 goes meanwhile: the package is refused at its row.
	a.Must(http.StatusCreated, "POST", "/api/v1/bookings", filler.Token, map[string]any{"slot_ids": []int64{s3}})
	form := func(s3 int64, key string) url.Values {
		return url.Values{"slot_id": {fmt.Sprint(s2), fmt.Sprint(s3), fmt.Sprint(s4)}, "key": {key}}
	}
	p = b.post(page+"/book", form(s3, "pk1"))
	if p.Status != http.StatusConflict || !strings.Contains(cardOf(p.Body, row), `id="err-`+row+`" role="alert" data-code="slot_full">该场次已约满`) {
		t.Errorf("a full subject 3: %d\n%s", p.Status, cardOf(p.Body, row))
	}
	if activeBooking(a, t, c.ID, s2) != 0 || activeBooking(a, t, c.ID, s4) != 0 {
		t.Errorf("a refused package booked a part of it")
	}

	b.get(page)
	p = b.post(page+"/book", form(s3b, "pk2"))
	ids := []int64{activeBooking(a, t, c.ID, s2), activeBooking(a, t, c.ID, s3b), activeBooking(a, t, c.ID, s4)}
	if ids[0] == 0 || ids[1] == 0 || ids[2] == 0 {
		t.Fatalf("package: %d at %s, bookings %v\n%s", p.Status, p.URL, ids, p.Body)
	}
	if want := fmt.Sprintf("%s?done=counter_package_booked&booked=%d,%d,%d", page, ids[0], ids[1], ids[2]); p.URL != want {
		t.Errorf("landed on %s, want %s", p.URL, want)
	}
	booked := p.Body[strings.Index(p.Body, `id="package-booked"`)+1:]
	booked = booked[:strings.Index(booked, "</div>")]
	if !strings.Contains(p.Body, "已为考生预约全科考试（科目二、科目三、科目四）。") {
		t.Errorf("no flash:\n%s", p.Body)
	}
	for i, want := range []string{"科目二 " + longDateZh(a.Day(5)) + " 08:00–10:00", "科目三 " + longDateZh(a.Day(5)) + " 10:00–12:00", "科目四 " + longDateZh(a.Day(5)) + " 13:00–15:00"} {
		if !strings.Contains(booked, want) || !strings.Contains(booked, fmt.Sprintf("预约号 YY%08d", ids[i])) {
			t.Errorf("the outcome lacks %q and booking %d:\n%s", want, ids[i], booked)
		}
	}
	if strings.Contains(cardOf(p.Body, fmt.Sprintf("package-%d-%d-%d", s2, s3b, s4)), "为考生预约这三场") {
		t.Errorf("the booked combination is still offered")
	}
}

// cardOf returns the HTML of the counter's card with id, up to its closing
// tag (its own list has items of its own), "" when there is none.
func cardOf(body, id string) string {
	start := strings.Index(body, `id="`+id+`"`)
	if start < 0 {
		return ""
	}
	end := strings.Index(body[start:], "\n    </li>")
	if end < 0 {
		return body[start:]
	}
	return body[start : start+end]
}
