package web_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"examd/internal/server/servertest"
)

// TestWebDeskReceipt: the receipt shows the ticket, the candidate's full
// name with the ID number masked, each step done with its time and staff
// member, the fee with its payment, and the file number once printed.
func TestWebDeskReceipt(t *testing.T) {
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	issuer := deskUser(t, a, "issuer", "5号窗口")
	c := readyAs(t, h, "赵丽华", false)
	b := newBrowser(a, t)
	b.logInTo(issuer, "desk-secret", "/desk")
	path := fmt.Sprintf("/desk/%d/receipt", c.ID)

	p := b.get(path)
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "<h1 id=\"receipt-h\">受理回执</h1>") || !strings.Contains(p.Body, "A001") ||
		!strings.Contains(p.Body, `<dd id="r-name">赵丽华</dd>`) || strings.Contains(p.Body, c.IDNo) ||
		!strings.Contains(p.Body, c.IDNo[:3]) || !strings.Contains(p.Body, "尚未办理。") || !strings.Contains(p.Body, "制证后分配") {
		t.Fatalf("before any step: %d\n%s", p.Status, p.Body)
	}
	for _, s := range []string{"accept", "review_fee", "print"} {
		b.get("/desk")
		body := map[string][]string{"step": {s}}
		for k, v := range servertest.StepBody(s) {
			switch v := v.(type) {
			case string:
				body[k] = []string{v}
			case []string:
				body[k] = v
			}
		}
		if p := b.post(fmt.Sprintf("/desk/%d/step", c.ID), body); p.Status != http.StatusOK {
			t.Fatalf("%s: %d", s, p.Status)
		}
	}
	p = b.get(path + "?kind=fee")
	var file string
	if err := a.DB.Get(&file, `SELECT file_number FROM issuances WHERE candidate_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	steps := regexp.MustCompile(`<span class="step">(预受理|审核缴费|制证)</span> <time[^>]*>[0-9-]{10} [0-9]{2}:[0-9]{2}</time> 经办人 ` + issuer + ` · 5号窗口</li>`)
	if n := len(steps.FindAllString(p.Body, -1)); n != 3 {
		t.Errorf("%d steps with time, staff and desk, want 3\n%s", n, p.Body)
	}
	for _, want := range []string{"<h1 id=\"receipt-h\">缴费凭证</h1>", "10 元", "现金", `<dd id="r-receipt-number">R-0001</dd>`, `<dd id="r-file">` + file + `</dd>`,
		"已核验： 身份证、照片、体检证明", `data-print>打印</button>`} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the fee slip lacks %q", want)
		}
	}
	if p := b.get("/desk/999999/receipt"); p.Status != http.StatusNotFound {
		t.Errorf("the receipt of nobody: %d, want 404", p.Status)
	}
}

// TestWebDeskReportCSV: the day's report as CSV: UTF-8 with a BOM, named
// for the day, a header row and the day's numbers.
func TestWebDeskReportCSV(t *testing.T) {
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	c := h.Ready(t) // subjects 2, 3 and 4 passed today
	h.Issue(t, c)
	b := newBrowser(a, t)
	b.logInTo(deskUser(t, a, "scheduler", ""), "desk-secret", "/admin/slots")
	day := a.Day(0).Format("2006-01-02")

	p := b.get("/desk/report.csv?date=" + day)
	if p.Status != http.StatusOK || p.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		p.Header.Get("Content-Disposition") != `attachment; filename="daily-report-`+day+`.csv"` {
		t.Fatalf("%d %v", p.Status, p.Header)
	}
	if !strings.HasPrefix(p.Body, "\ufeff") {
		t.Fatalf("no BOM: %q", p.Body[:min(20, len(p.Body))])
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(p.Body, "\ufeff")))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows[0], ","); got != "日期,科目,准驾车型,预约,参考人数,考试场次,补考,合格,不合格,缺考" {
		t.Errorf("header %q", got)
	}
	var lines []string
	for _, row := range rows {
		lines = append(lines, strings.Join(row, ","))
	}
	all := strings.Join(lines, "\n")
	for _, want := range []string{day + ",科目二,C1,1,1,1,0,1,0,0", day + ",科目三,C1,1,1,1,0,1,0,0", day + ",科目四,C1,1,1,1,0,1,0,0",
		"日期,指标,数值", day + ",具备领证条件,1", day + ",制证数,1", day + ",当日办结,1", day + ",当日核发率,100.0%"} {
		if !strings.Contains(all, want) {
			t.Errorf("the CSV lacks %q:\n%s", want, all)
		}
	}
	if p := b.get("/desk/report.csv?date=2025-13-40"); p.Status != http.StatusUnprocessableEntity {
		t.Errorf("a bad date: %d", p.Status)
	}
	if p := b.get("/desk/report?day=" + day); !strings.Contains(p.Body, `href="/desk/report.csv?date=`+day+`"`) ||
		!strings.Contains(p.Body, `<title id="cr-title">各科目考试结果：合格与不合格人数</title>`) || !strings.Contains(p.Body, `<title id="cm-title">`) {
		t.Errorf("the report page lacks its CSV link or charts\n%s", p.Body)
	}
}

// TestWebSatisfaction: the month's page ranks the desks and staff members
// as the API does, the top ones marked; a desk with 3 ratings ranks first
// over one with a single 5; comments lowest first; admins only.
func TestWebSatisfaction(t *testing.T) {
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	slot := a.NewSlot(h.Sched, h.Venue, 2, 9, 9, nil)
	// 7号窗口: 5, 4, 4 (three ratings, mean 4.33); 8号窗口: a single 5,
	// the higher mean but too few to be the model desk, and ranked first
	// by mean.
	seven, eight := deskUser(t, a, "scheduler", "7号窗口"), deskUser(t, a, "scheduler", "8号窗口")
	rate := func(user string, score int, comment string) {
		t.Helper()
		tok := a.Login(user, "desk-secret")
		c := a.NewCandidate(h.Sched, nil)
		r := a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{slot}})
		bk := int64(r.Body["bookings"].([]any)[0].(map[string]any)["id"].(float64))
		a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%d?reason=%s", bk, url.QueryEscape("考场设备检修")), tok, nil)
		body := map[string]any{"booking_id": bk, "score": score}
		if comment != "" {
			body["comment"] = comment
		}
		a.Must(http.StatusCreated, "POST", "/api/v1/feedback", c.Token, body)
	}
	rate(seven, 5, "")
	rate(seven, 4, "还可以")
	rate(seven, 4, "")
	rate(eight, 5, "很好")
	rate(seven, 2, "排队太久")

	b := newBrowser(a, t)
	b.logInTo("admin", servertest.AdminPassword, "/admin/slots")
	p := b.get("/admin/slots")
	if !strings.Contains(p.Body, `href="/desk/satisfaction"`) {
		t.Errorf("the admin's navigation does not link the satisfaction page")
	}
	month := a.Day(0).Format("2006-01")
	p = b.get("/desk/satisfaction?month=" + month)
	if p.Status != http.StatusOK {
		t.Fatalf("%d\n%s", p.Status, p.Body)
	}
	desks := tableOf(p.Body, "desks")
	top := strings.Index(desks, `<tr class="top"><td>`)
	if top < 0 || !strings.Contains(desks[top:], "7号窗口 <span class=\"top-badge\">满意标兵窗口</span>") {
		t.Errorf("7号窗口 (4 ratings) is not marked the model desk:\n%s", desks)
	}
	if !strings.Contains(p.Body, `<dd id="s-top-desk">7号窗口</dd>`) || !strings.Contains(p.Body, `<dd id="s-top-staff">`+seven+`</dd>`) {
		t.Errorf("the summary does not name 7号窗口 and %s", seven)
	}
	// 8号窗口 (one 5) ranks above by mean, unmarked.
	if i, j := strings.Index(desks, "8号窗口"), strings.Index(desks, "7号窗口"); i < 0 || j < i {
		t.Errorf("the desks are not ranked by mean:\n%s", desks)
	}
	if !strings.Contains(desks, `<td class="num">4</td><td class="num">3.75</td><td class="num">25.0%</td>`) {
		t.Errorf("7号窗口's count, mean and share of 5s:\n%s", desks)
	}
	c1, c2, c3 := strings.Index(p.Body, "排队太久"), strings.Index(p.Body, "还可以"), strings.Index(p.Body, "很好")
	if c1 < 0 || c2 < c1 || c3 < c2 {
		t.Errorf("the comments are not lowest score first (%d %d %d)", c1, c2, c3)
	}
	if p := b.get("/desk/satisfaction?month=2025-13"); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "请填写有效月份") {
		t.Errorf("a bad month: %d", p.Status)
	}
	issuer := newBrowser(a, t)
	issuer.logInTo(deskUser(t, a, "issuer", "1号窗口"), "desk-secret", "/desk")
	if p := issuer.get("/desk/satisfaction"); p.Status != http.StatusForbidden {
		t.Errorf("an issuer: %d, want 403", p.Status)
	}
}

// tableOf is the table with id in body, "" when there is none.
func tableOf(body, id string) string {
	start := strings.Index(body, `<table class="report" id="`+id+`"`)
	if start < 0 {
		return ""
	}
	end := strings.Index(body[start:], "</table>")
	return body[start : start+end]
}
