package web_test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"examd/internal/server/servertest"
	"examd/scheduling"
)

// logOut leaves the session through the header's button.
func (tb *tab) logOut() {
	tb.t.Helper()
	tb.click(`header form[action="/logout"] button`, `body[data-page="login"]`)
}

// notPrinted are texts of the site's frame (header, navigation, footer,
// skip link) that no printout carries.
var notPrinted = []string{"驾驶人考试服务", "退出登录", "跳到主要内容", "车管所考场 · 如需帮助", "主导航"}

// printedHas reports whether printed text holds want, white space aside:
// pdftotext spaces characters of a narrow table cell as it finds them.
func printedHas(printed, want string) bool {
	squeeze := func(s string) string { return strings.Join(strings.Fields(s), "") }
	return strings.Contains(squeeze(printed), squeeze(want))
}

// pdfImages counts the images of a PDF the test printed (poppler-utils'
// pdfimages, installed with pdftotext).
func pdfImages(t *testing.T, name string) int {
	t.Helper()
	out, err := exec.Command("pdfimages", "-list", filepath.Join(t.ArtifactDir(), name+".pdf")).Output()
	if err != nil {
		t.Fatalf("pdfimages %s: %v", name, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return len(lines) - 2 // the header and its rule
}

// pdfPages is the number of pages of a PDF the test printed.
func pdfPages(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("pdfinfo", filepath.Join(t.ArtifactDir(), name+".pdf")).Output()
	if err != nil {
		t.Fatalf("pdfinfo %s: %v", name, err)
	}
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindSubmatch(out)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// TestBrowserPrintables: the examiner's score sheet, signed through the
// pages, prints on one A4 page with its deduction, score, pass mark,
// result, catalogue version, the examiner's name and the candidate's drawn
// signature, without the site's frame or the buttons; the scheduler's slot
// roster prints as a table of its candidates with a check-in column.
func TestBrowserPrintables(t *testing.T) {
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	c, b2, _, _ := h.Combined(t)
	h.Post(h.Judge, b2, "exam_started", nil)
	h.Post(h.Judge, b2, "deduction", map[string]any{"rule": "RP.STOP"})
	attempt := int64(servertest.AttemptOf(h.Post(h.Judge, b2, "exam_finished", nil))["id"].(float64))
	var name string
	if err := a.DB.Get(&name, `SELECT name FROM candidates WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	examiner := examinerAt(a, t, h.Venue)

	tb := openTab(a, t, 1280, 900)
	tb.logIn(examiner, "staff-secret", "examiner")
	tb.open(fmt.Sprintf("/examiner/attempts/%d", attempt), "examiner_sheet")
	tb.click("#sign-as-examiner", "#confirm-examiner")
	tb.click("#confirm-examiner", "#sign-candidate")
	tb.drawSignature("touch")
	tb.waitText("#pad-state", "已签名", time.Second)
	tb.click("#candidate-confirm", "#candidate-confirm:checked")
	tb.click("#sign-as-candidate", `#signatures img.drawn`)
	if !eval[bool](tb, `!document.getElementById('print-sheet').hidden`) {
		t.Errorf("no print button on the signed sheet")
	}
	tb.checkAxe()

	if dir := os.Getenv("EXAMD_SCREENSHOTS"); dir != "" { // make screenshots: the signed sheet as printed
		tb.shootPrinted(dir, "sheet-printed.png", a4)
	}
	sheet := tb.printed(a4, "scoresheet")
	for _, want := range []string{
		"成绩单", "科目二", "C1", scheduling.MaskName(name), "本次预约第 1 次考试", "1/5",
		"中途停车超过2秒", "扣 5 分", "95 分 / 合格线 80 分", "考试结果： 合格", "第 1 版",
		"考试员 " + examiner, "在考试员平板上本人签名", "打印时间",
	} {
		if !printedHas(sheet, want) {
			t.Errorf("the printed score sheet lacks %q:\n%s", want, sheet)
		}
	}
	for _, not := range append(notPrinted, "打印成绩单", "考生已签名确认以下成绩", name, c.IDNo) {
		if strings.Contains(sheet, not) {
			t.Errorf("the printed score sheet shows %q:\n%s", not, sheet)
		}
	}
	if n := pdfPages(t, "scoresheet"); n != "1" {
		t.Errorf("the score sheet prints on %s pages, want 1", n)
	}
	if n := pdfImages(t, "scoresheet"); n != 1 {
		t.Errorf("the printed score sheet holds %d images, want the drawn signature", n)
	}

	// The roster: the scheduler's, with whole names (staff paper), ID
	// numbers masked (it lies at the check-in, in view of the others).
	tb.logOut()
	tb.staffLogIn(planningUser(a, "scheduler"))
	tb.open(fmt.Sprintf("/admin/slots/%d", h.Slot), "admin_slot")
	if !eval[bool](tb, `!document.getElementById('print-roster').hidden`) {
		t.Errorf("no print button on the roster")
	}
	if eval[bool](tb, `getComputedStyle(document.getElementById('roster-sheet')).display !== 'none'`) {
		t.Errorf("the printed roster's table shows on screen")
	}
	roster := tb.printed(a4, "roster")
	for _, want := range []string{"场次名单", "序号", "姓名", "身份证号", "签到", "1 " + name + " " + scheduling.MaskIDNumber(c.IDNo) + " 科目二", "合格"} {
		if !printedHas(roster, want) {
			t.Errorf("the printed roster lacks %q:\n%s", want, roster)
		}
	}
	for _, not := range append(notPrinted, "打印名单", "考试场次", "关闭场次", c.IDNo) {
		if strings.Contains(roster, not) {
			t.Errorf("the printed roster shows %q:\n%s", not, roster)
		}
	}
	// The office's staff read the sheet with the name whole; only the
	// examiner's tablet, seen by both, masks it.
	tb.open(fmt.Sprintf("/examiner/attempts/%d", attempt), "examiner_sheet")
	if got := tb.text("#sheet-name"); got != name {
		t.Errorf("the scheduler reads the candidate as %q, want %q", got, name)
	}
}

// TestBrowserAuditNamesLinks: the audit log names its actors (the
// examiner and the admin by username and role, a device by its name, a
// candidate masked) and links its subjects; every link opens a page that
// exists, and a link to a row finds the row.
func TestBrowserAuditNamesLinks(t *testing.T) {
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	_, b2 := h.Book(t, h.Slot, 2)
	attempt := h.Pass(t, b2, 2)
	h.Sign(t, attempt, "examiner", "candidate")
	// A booking made through the API is recorded, with its candidate and slot.
	slot := a.NewSlot(h.Sched, h.Venue, 2, 5, 8, nil)
	c := a.NewCandidate(h.Sched, nil)
	a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{slot}})
	var name string
	if err := a.DB.Get(&name, `SELECT name FROM candidates WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}

	tb := openTab(a, t, 1280, 900)
	tb.logIn("admin", servertest.AdminPassword, "admin_slots")
	tb.open("/admin/audit?limit=200", "admin_audit")
	tb.checkAxe()
	actors := tb.text("#entries")
	for _, want := range []string{"admin 管理员", "考试员", "设备", scheduling.MaskName(name) + " 考生"} {
		if !strings.Contains(actors, want) {
			t.Errorf("the log lacks %q:\n%s", want, actors)
		}
	}
	if strings.Contains(actors, name) || strings.Contains(actors, "用户 #") {
		t.Errorf("the log shows a whole name or a bare user id:\n%s", actors)
	}
	links := eval[[]string](tb, `[...new Set([...document.querySelectorAll('#entries a[href]')].map(a => a.getAttribute('href')))]`)
	for _, want := range []string{
		fmt.Sprintf("/admin/candidates/%d", c.ID), fmt.Sprintf("/admin/slots/%d", slot),
		fmt.Sprintf("/examiner/attempts/%d", attempt), "/admin/users#user-", "/admin/devices#device-",
	} {
		if !strings.Contains(strings.Join(links, " "), want) {
			t.Errorf("no link to %s among %v", want, links)
		}
	}
	for _, href := range links {
		path, frag, _ := strings.Cut(href, "#")
		tb.do("open "+href, chromedp.Navigate(a.URL+path), chromedp.WaitReady(chromedp.CSS("body[data-page]")))
		if page := eval[string](tb, `document.body.dataset.page`); page == "error" || page == "" {
			t.Errorf("%s opens %q", href, page)
		}
		if frag != "" && !eval[bool](tb, fmt.Sprintf(`!!document.getElementById(%q)`, frag)) {
			t.Errorf("%s: no element #%s", href, frag)
		}
	}
}
