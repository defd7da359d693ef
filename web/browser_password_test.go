package web_test

import (
	"strings"
	"testing"

	"examd/internal/server/servertest"

	"github.com/chromedp/chromedp"
)

// TestBrowserPasswordChange: a too short new password with a wrong old one
// and a mismatched repeat is refused on every field at once; a good change
// signs in with the new password, and the old token is ended.
func TestBrowserPasswordChange(t *testing.T) {
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	c := a.NewCandidate(sched, nil)
	tb := openTab(a, t, 1280, 900)
	tb.logIn(c.IDNo, "candidate-pw", "candidate_journey")
	tb.click("#password-link", `body[data-page="account_password"]`)
	tb.checkPage()
	tb.checkAxe()
	tb.do("bad change",
		chromedp.SendKeys(chromedp.CSS("#old_password"), "wrong-pw"),
		chromedp.SendKeys(chromedp.CSS("#new_password"), "short"),
		chromedp.SendKeys(chromedp.CSS("#repeat"), "other"),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
		chromedp.WaitReady(chromedp.CSS(`#err-repeat`)),
	)
	codes := eval[[]string](tb, `[...document.querySelectorAll('main .refusal')].map(e => e.dataset.code)`)
	if strings.Join(codes, " ") != "refusal.wrong_password refusal.password_too_short refusal.password_mismatch" {
		t.Errorf("refusals %q, want all three fields", codes)
	}
	tb.checkAxe()
	tb.do("good change",
		chromedp.SendKeys(chromedp.CSS("#old_password"), "candidate-pw"),
		chromedp.SendKeys(chromedp.CSS("#new_password"), "a-new-password"),
		chromedp.SendKeys(chromedp.CSS("#repeat"), "a-new-password"),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
		chromedp.WaitReady(chromedp.CSS(`#announce p`)),
	)
	// The API token of the candidate's other session has ended.
	if r := a.Do("GET", "/api/v1/me/journey", c.Token, nil); r.Status != 401 {
		t.Errorf("old session after the change: %d, want 401", r.Status)
	}
	tb.click(`form[action="/logout"] button`, `body[data-page="login"]`)
	tb.logIn(c.IDNo, "a-new-password", "candidate_journey")
}
