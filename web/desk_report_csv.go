package web

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"examd/issuance"
	"examd/scheduling"
)

// utf8BOM starts the CSV export so that Excel reads it as UTF-8 (the
// Chinese headers) rather than in the system's code page.
const utf8BOM = "\ufeff"

// deskReportCSV exports the day's report (?date=YYYY-MM-DD, today by
// default) as CSV for a spreadsheet: the exams of each subject and class
// under one header row, then, after an empty line, the issuing desk's
// figures as 指标,数值 rows. The headers are Chinese, whatever the page's
// language: the office's spreadsheets are.
func (h Handler) deskReportCSV(c echo.Context) error {
	day, err := scheduling.DayParam(c.QueryParam("date"), h.Now())
	if err != nil {
		return err
	}
	r, err := h.Issuing.DailyReport(c.Request().Context(), day)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString(utf8BOM)
	w := csv.NewWriter(&b)
	w.UseCRLF = true // what Excel writes
	rows := reportRows(r)
	if err := w.WriteAll(rows); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition,
		`attachment; filename="daily-report-`+r.Date+`.csv"`)
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", b.Bytes())
}

// reportRows are the CSV's rows of report r.
func reportRows(r issuance.DailyReport) [][]string {
	n := strconv.Itoa
	rows := [][]string{{"日期", "科目", "准驾车型", "预约", "参考人数", "考试场次", "补考", "合格", "不合格", "缺考"}}
	for _, e := range r.Exams {
		rows = append(rows, []string{r.Date, "科目" + []string{"", "一", "二", "三", "四"}[min(e.Subject, 4)], e.LicenceClass,
			n(e.Booked), n(e.Candidates), n(e.Sat), n(e.Retakes), n(e.Passed), n(e.Failed), n(e.NoShows)})
	}
	rate := ""
	if r.SameDayRate != nil {
		rate = strconv.FormatFloat(*r.SameDayRate*100, 'f', 1, 64) + "%"
	}
	rows = append(rows, []string{},
		[]string{"日期", "指标", "数值"},
		[]string{r.Date, "具备领证条件", n(r.BecameReady)},
		[]string{r.Date, "制证数", n(r.LicencesIssued)},
		[]string{r.Date, "当日办结", n(r.IssuedSameDay)},
		[]string{r.Date, "当日核发率", rate},
		[]string{r.Date, "绿色通道服务人数", n(r.PriorityLaneServed)},
		[]string{r.Date, "办证用时中位数（分钟）", minutes(r.ReadyToIssued.P50)},
		[]string{r.Date, "办证用时90%分位（分钟）", minutes(r.ReadyToIssued.P90)},
		[]string{r.Date, "最长办证用时（分钟）", minutes(r.ReadyToIssued.Max)},
	)
	return rows
}
