package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"examd/internal/server/servertest"
	"examd/scheduling"
)

// TestBrowserPrintablesDesk prints, with Chromium's print-to-PDF, the
// acceptance receipt and the fee slip on 80 mm receipt paper and the day's
// report on A4, and reads their text back: the ticket, each step with its
// time and staff member, the fee and its payment, the file number, the
// report's figures; nothing of the site's header or navigation.
func TestBrowserPrintablesDesk(t *testing.T) {
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	c := h.Ready(t)
	h.Issue(t, c) // as h.Issuer: cash, receipt R-0001
	var r struct {
		File     string    `db:"file_number"`
		Accepted time.Time `db:"accepted_at"`
		Reviewed time.Time `db:"reviewed_at"`
		Issued   time.Time `db:"issued_at"`
		Staff    string    `db:"username"`
		Name     string    `db:"name"`
	}
	if err := a.DB.Get(&r, `SELECT i.file_number, i.accepted_at, i.reviewed_at, i.issued_at, u.username, c.name
		FROM issuances i JOIN users u ON u.id = i.issued_by JOIN candidates c ON c.id = i.candidate_id
		WHERE i.candidate_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	at := func(t time.Time) string { return t.In(scheduling.Shanghai).Format("2006-01-02 15:04") }

	tb := openTab(a, t, 1280, 900)
	tb.logIn("admin", servertest.AdminPassword, "admin_slots")
	for _, kind := range []struct{ path, name, title string }{
		{fmt.Sprintf("/desk/%d/receipt", c.ID), "acceptance-receipt", "受理回执"},
		{fmt.Sprintf("/desk/%d/receipt?kind=fee", c.ID), "fee-slip", "缴费凭证"},
	} {
		tb.open(kind.path, "desk_receipt")
		tb.checkPage()
		tb.checkAxe()
		text := tb.printed(receipt, kind.name)
		for _, want := range []string{kind.title, "A001", r.Name, scheduling.MaskIDNumber(c.IDNo),
			"预受理 " + at(r.Accepted) + " 经办人 " + r.Staff, "审核缴费 " + at(r.Reviewed) + " 经办人 " + r.Staff,
			"制证 " + at(r.Issued) + " 经办人 " + r.Staff, "10 元", "现金", "R-0001", r.File} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: the print lacks %q:\n%s", kind.name, want, text)
			}
		}
		for _, not := range []string{c.IDNo, "退出", "打印 "} {
			if strings.Contains(text, not) {
				t.Errorf("%s: the print holds %q:\n%s", kind.name, not, text)
			}
		}
	}

	day := a.Day(0).Format(time.DateOnly)
	tb.open("/desk/report?day="+day, "desk_report")
	tb.checkPage()
	tb.checkAxe()
	text := tb.printed(a4, "daily-report")
	for _, want := range []string{"当日报表", day + " 制证情况", "具备领证条件 1", "制证数 1", "100.0%",
		"各科目考试结果：合格与不合格人数", "科目二", "合格 1", "不合格 0", "办证用时（分钟）"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report's print lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "导出 CSV") || strings.Contains(text, "查看") {
		t.Errorf("the report's print holds its controls:\n%s", text)
	}
	tb.open("/desk/satisfaction", "desk_satisfaction")
	tb.checkPage()
	tb.checkAxe()
}
