package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"examd/internal/server/servertest"
)

// TestBrowserDeskChecklist: 预受理 with nothing ticked is refused with every
// missing document named at once and nothing changed; the confirmation
// dialog works from the keyboard (Escape returns to the form without
// sending it, Enter on 确认办理 sends it); once ticked the step is done and
// the page says what was done.
func TestBrowserDeskChecklist(t *testing.T) {
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	issuer := deskUser(t, a, "issuer", "2号窗口")
	c := readyAs(t, h, "孙建国", false)
	row := fmt.Sprintf("#cand-%d", c.ID)
	stepOf := func() string { t.Helper(); return fmt.Sprint(h.InQueue(t, c)["step"]) }
	tb := openTab(a, t, 1280, 900)
	tb.openDesk(issuer)
	tb.click(row+` form[action$="/call"] button`, row+` button[value="accept"].primary`)

	// Nothing ticked: the dialog asks, Enter confirms, the page refuses.
	tb.do("press accept", chromedp.Click(chromedp.CSS(row+` button[value="accept"]`)), chromedp.WaitReady(chromedp.CSS(`dialog#confirm[open]`)))
	if got := tb.text("#confirm-text"); got != "为 A001 孙建国 办理预受理？请确认已核验身份证、照片、体检证明原件。" {
		t.Errorf("the confirmation says %q", got)
	}
	if got := eval[string](tb, `document.activeElement.id`); got != "confirm-yes" {
		t.Errorf("the focus is on %q, want the confirm button", got)
	}
	tb.checkAxe()
	tb.do("confirm with Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitReady(chromedp.CSS("#err-checklist-cand-"+fmt.Sprint(c.ID))))
	if got := tb.text("#err-checklist-cand-" + fmt.Sprint(c.ID)); got != "不能预受理，以下材料未勾选：身份证、照片、体检证明" {
		t.Errorf("the refusal says %q, want every missing item", got)
	}
	if got := stepOf(); got != "ready" {
		t.Errorf("after the refusal the candidate is at %s", got)
	}
	tb.checkPage()
	tb.checkAxe()

	// Ticked from the keyboard; Escape cancels the first confirmation.
	for _, item := range []string{"id_card", "photo", "medical"} {
		tb.do("tick "+item, chromedp.Focus(chromedp.CSS(row+` input[value="`+item+`"]`)), chromedp.KeyEvent(" "))
	}
	if n := eval[int](tb, `document.querySelectorAll('`+row+` input[name="checklist"]:checked').length`); n != 3 {
		t.Fatalf("%d items ticked from the keyboard, want 3", n)
	}
	tb.do("press accept", chromedp.Focus(chromedp.CSS(row+` button[value="accept"]`)), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitReady(chromedp.CSS(`dialog#confirm[open]`)))
	tb.do("cancel with Escape", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent(chromedp.CSS(`dialog#confirm[open]`)))
	if got := eval[string](tb, `document.activeElement.getAttribute('value')`); got != "accept" {
		t.Errorf("after Escape the focus is on %q, want the step's button", got)
	}
	if got := stepOf(); got != "ready" {
		t.Errorf("Escape sent the step: at %s", got)
	}
	tb.do("press accept again", chromedp.KeyEvent(kb.Enter), chromedp.WaitReady(chromedp.CSS(`dialog#confirm[open]`)))
	// A dialog closed and opened again within one task (a quick Escape,
	// Enter): the first closing's close event comes after the reopening and
	// must not cancel the confirmation now open (it did, under load).
	eval[bool](tb, `(() => { const d = document.getElementById('confirm'); d.close();
		document.querySelector('`+row+` button[value="accept"]').click(); return d.open; })()`)
	tb.do("let the close event come", chromedp.Sleep(100*time.Millisecond))
	if !eval[bool](tb, `document.getElementById('confirm').open && document.body.dataset.confirming === 'yes'`) {
		t.Errorf("the late close event cancelled the confirmation open again")
	}
	tb.click("#confirm-yes", "#done")
	if got := tb.text("#done-h"); got != "已为 A001 孙建国 完成预受理（身份证、照片、体检证明已核验）" {
		t.Errorf("the page says %q", got)
	}
	if got := tb.text("#announce"); got != "已预受理。" {
		t.Errorf("announcement %q", got)
	}
	if got := stepOf(); got != "accepted" {
		t.Errorf("after the step the candidate is at %s", got)
	}

	// 审核缴费 without a payment: both fields named at once.
	tb.confirmStep(row+` button[value="review_fee"]`, fmt.Sprintf("#err-pm-cand-%d", c.ID))
	if !strings.Contains(tb.text(fmt.Sprintf("#err-rn-cand-%d", c.ID)), "请填写收据号") {
		t.Errorf("the receipt number's error is missing")
	}
	if got := stepOf(); got != "accepted" {
		t.Errorf("after the refusal the candidate is at %s", got)
	}
	tb.checkAxe()
	r := a.Must(http.StatusOK, "GET", "/api/v1/issuance/queue", a.Login(issuer, "desk-secret"), nil)
	if items, _ := r.Body["items"].([]any); len(items) != 1 {
		t.Errorf("the API's queue holds %d items, want 1 (it hides nothing)", len(items))
	}
}
