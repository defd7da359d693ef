package web_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"examd/internal/server/servertest"
)

// signIn logs user in through the login form and waits for any page but
// the login page.
func (tb *tab) signIn(user, password string) {
	tb.t.Helper()
	tb.open("/login", "login")
	tb.do("sign in as "+user,
		chromedp.SendKeys(chromedp.CSS("#username"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
		chromedp.WaitReady(chromedp.CSS(`body:not([data-page="login"])`)),
	)
}

// a11yPage is a page of the sweep: who opens it (a key of the sweep's
// accounts; "" for no one signed in), where, and the page it is.
type a11yPage struct {
	as, path, page string
	// ready, when set, is a JavaScript condition the page's script makes
	// true once it shows its live data.
	ready string
}

// TestBrowserAccessibility runs axe-core (WCAG 2.1 A and AA) on every page
// of the site at 1280×900, signed in as the role each is for, with a day's
// data on screen: a booked candidate with a priority-lane request, a hall
// whose candidate passed and signed (in the desk's queue), a score sheet,
// a hall board. A serious or critical violation fails the test.
func TestBrowserAccessibility(t *testing.T) {
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	done, b2, b3, b4 := h.Combined(t)
	attempt := h.Pass(t, b2, 2)
	for _, at := range []int64{attempt, h.Pass(t, b3, 3), h.Pass(t, b4, 4)} {
		h.Sign(t, at, "examiner", "candidate")
	}
	// Two sheets to sign: one for the examiner, one for the candidate.
	_, bx := h.Book(t, h.Slot, 2)
	toSign := h.Pass(t, bx, 2)
	_, by := h.Book(t, h.Slot, 2)
	candidateSigns := h.Pass(t, by, 2)
	h.Sign(t, candidateSigns, "examiner")
	// An exam under way, with a deduction, on the examiner's screen and the
	// hall's board; a ticket called to the desk.
	_, bz := h.Book(t, h.Slot, 2)
	h.Post(h.Judge, bz, "exam_started", nil)
	h.Post(h.Judge, bz, "deduction", map[string]any{"rule": "RP.STOP"})
	a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/issuance/%d/call", done.ID), h.Issuer, nil)
	slot := a.NewSlot(h.Sched, h.Venue, 2, 5, 8, map[string]any{"priority_reserved": 2})
	c := a.NewCandidate(h.Sched, nil)
	booked := a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{slot}})
	booking := int64(booked.Body["bookings"].([]any)[0].(map[string]any)["id"].(float64))
	admin := newBrowser(a, t)
	admin.logIn("admin", servertest.AdminPassword, "/admin/slots")
	board, _ := newDisplay(t, admin, h.Venue, "候考大厅 1号屏")
	issuer := fmt.Sprintf("issuer-a11y%d", servertest.Next())
	a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin, map[string]any{"username": issuer, "password": "staff-secret", "role": "issuer", "desk": "3号窗口"})
	accounts := map[string][2]string{
		"candidate": {c.IDNo, "candidate-pw"},
		"examiner":  {examinerAt(a, t, h.Venue), "staff-secret"},
		"issuer":    {issuer, "staff-secret"},
		"scheduler": {planningUser(a, "scheduler"), "staff-secret"},
		"admin":     {"admin", servertest.AdminPassword},
	}

	pages := []a11yPage{
		{"", "/login", "login", ""},
		{"", board, "hall", `document.querySelectorAll('#exams tbody tr').length > 0 && document.querySelectorAll('#calls li').length > 0`},
		{"candidate", "/candidate", "candidate_journey", ""},
		{"candidate", "/candidate/slots", "candidate_slots", ""},
		{"candidate", "/candidate/bookings", "candidate_bookings", ""},
		{"candidate", "/candidate/priority", "candidate_lane", ""},
		{"candidate", fmt.Sprintf("/candidate/bookings/%d", booking), "candidate_slip", ""},
		{"candidate", fmt.Sprintf("/candidate/bookings/%d/cancel", booking), "candidate_cancel", ""},
		{"candidate", fmt.Sprintf("/candidate/feedback?booking_id=%d", booking), "candidate_feedback", ""},
		{"candidate", "/account/password", "account_password", ""},
		{"examiner", "/examiner", "examiner", `document.body.textContent.includes('中途停车超过2秒') && document.querySelectorAll('#to-sign li').length > 0`},
		{"examiner", fmt.Sprintf("/examiner/attempts/%d", attempt), "examiner_sheet", ""},
		{"examiner", fmt.Sprintf("/examiner/attempts/%d", toSign), "examiner_sheet", ""},
		{"examiner", fmt.Sprintf("/examiner/attempts/%d?step=examiner", toSign), "examiner_sheet", ""},
		{"examiner", fmt.Sprintf("/examiner/attempts/%d", candidateSigns), "examiner_sheet", ""},
		{"examiner", fmt.Sprintf("/admin/slots/%d", h.Slot), "admin_slot", ""},
		{"issuer", "/desk", "desk", `document.querySelectorAll('#queue li, #queue tr').length > 0`},
		{"issuer", "/desk/report", "desk_report", ""},
		{"issuer", fmt.Sprintf("/desk/%d/receipt", done.ID), "desk_receipt", ""},
		{"issuer", fmt.Sprintf("/desk/%d/receipt?kind=fee", done.ID), "desk_receipt", ""},
		{"issuer", "/account/password", "account_password", ""},
		{"scheduler", "/admin/venues", "admin_venues", ""},
		{"scheduler", "/admin/slots", "admin_slots", ""},
		{"scheduler", "/admin/slots/week", "admin_week", ""},
		{"scheduler", fmt.Sprintf("/admin/slots/%d", slot), "admin_slot", ""},
		{"scheduler", "/admin/candidates", "admin_candidates", ""},
		{"scheduler", fmt.Sprintf("/admin/candidates/%d", c.ID), "admin_candidate", ""},
		{"scheduler", fmt.Sprintf("/admin/candidates/%d", done.ID), "admin_candidate", ""},
		{"scheduler", "/admin/candidates/999999999", "error", ""},
		{"scheduler", fmt.Sprintf("/admin/bookings/%d/slip", booking), "candidate_slip", ""},
		{"admin", "/admin/users", "admin_users", ""},
		{"admin", "/admin/devices", "admin_devices", ""},
		{"admin", "/admin/displays", "admin_displays", ""},
		{"admin", "/admin/audit", "admin_audit", ""},
		{"admin", "/desk/satisfaction", "desk_satisfaction", ""},
		{"admin", "/admin/audit?from=yesterday&subject=booking:1", "admin_audit", ""},
		{"admin", fmt.Sprintf("/examiner/attempts/%d", attempt), "examiner_sheet", ""},
	}

	tb := openTab(a, t, 1280, 900)
	signedIn := ""
	for _, p := range pages {
		if p.as != signedIn {
			if signedIn != "" {
				tb.logOut()
			}
			if p.as != "" {
				tb.signIn(accounts[p.as][0], accounts[p.as][1])
			}
			signedIn = p.as
		}
		tb.open(p.path, p.page)
		if p.ready != "" {
			tb.waitFor(p.path+" live", p.ready, 5*time.Second)
		}
		tb.checkAxe()
	}
}
