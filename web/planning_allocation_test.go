package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"examd/internal/server/servertest"
)

// TestWebSlotAllocation: on a slot's page the scheduler switches its
// allocation once they ticked the confirmation, as PATCH /slots/{id} does;
// the refusals (no confirmation, a slot with a booking) are shown next to
// the form and change nothing; the venue's examiner sees no form.
func TestWebSlotAllocation(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, true)
	slot := a.NewSlot(sched, venue, 2, 5, 9, nil)
	page := fmt.Sprintf("/admin/slots/%d", slot)
	b := planningBrowser(a, t, "scheduler")
	allocation := func(t *testing.T) string {
		t.Helper()
		var s string
		if err := a.DB.Get(&s, `SELECT allocation FROM slots WHERE id = $1`, slot); err != nil {
			t.Fatal(err)
		}
		return s
	}

	p := b.get(page)
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `<span id="allocation-now">先到先得</span>`) ||
		!strings.Contains(p.Body, `<input type="hidden" name="allocation" value="ranked">`) || !strings.Contains(p.Body, "改为排序分配") {
		t.Fatalf("slot page: %d\n%s", p.Status, p.Body)
	}

	t.Run("ConfirmationNeeded", func(t *testing.T) {
		p := b.post(page+"/allocation", url.Values{"allocation": {"ranked"}})
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="err-allocation" role="alert" data-code="confirm">请先勾选确认`) {
			t.Fatalf("no confirmation: %d\n%s", p.Status, p.Body)
		}
		if got := allocation(t); got != "instant" {
			t.Errorf("allocation %s after a refusal", got)
		}
	})

	t.Run("Switched", func(t *testing.T) {
		p := b.post(page+"/allocation", url.Values{"allocation": {"ranked"}, "confirm": {"yes"}})
		if p.URL != page+"?done=allocation_changed" || !strings.Contains(p.Body, "本场次的分配方式已更改。") ||
			!strings.Contains(p.Body, `<span id="allocation-now">排序分配</span>`) || !strings.Contains(p.Body, "改为先到先得") {
			t.Fatalf("switch: %d at %s\n%s", p.Status, p.URL, p.Body)
		}
		if got := allocation(t); got != "ranked" {
			t.Errorf("allocation %s, want ranked", got)
		}
		if n := planningCount(a, t, "audit_log", "action = 'slot.allocation_changed' AND subject = $1", fmt.Sprintf("slot:%d", slot)); n != 1 {
			t.Errorf("%d audit entries, want 1", n)
		}
		b.post(page+"/allocation", url.Values{"allocation": {"instant"}, "confirm": {"yes"}})
		if got := allocation(t); got != "instant" {
			t.Errorf("allocation %s, want instant again", got)
		}
	})

	t.Run("InUseRefused", func(t *testing.T) {
		c := a.NewCandidate(sched, nil)
		a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{slot}})
		b.get(page)
		p := b.post(page+"/allocation", url.Values{"allocation": {"ranked"}, "confirm": {"yes"}})
		if p.Status != http.StatusConflict || !strings.Contains(p.Body, `id="err-allocation" role="alert" data-code="slot_in_use">该场次已有预约、预约申请或候补，不能再更改分配方式`) {
			t.Fatalf("booked slot: %d\n%s", p.Status, p.Body)
		}
		if got := allocation(t); got != "instant" {
			t.Errorf("allocation %s after a refusal", got)
		}
	})

	t.Run("ExaminerSeesNoForm", func(t *testing.T) {
		name := fmt.Sprintf("examiner-web%d", servertest.Next())
		a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin,
			map[string]any{"username": name, "password": "staff-secret", "role": "examiner", "venue_id": venue})
		e := newBrowser(a, t)
		e.logIn(name, "staff-secret", "")
		if p := e.get(page); p.Status != http.StatusOK || strings.Contains(p.Body, "allocation-form") {
			t.Errorf("the examiner's slot page: %d, form shown: %v", p.Status, strings.Contains(p.Body, "allocation-form"))
		}
	})
}
