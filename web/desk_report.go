package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"examd/issuance"
	"examd/scheduling"
)

// reportView is the data of the day's report page.
type reportView struct {
	// Day is the day asked for, as typed; Today is today's (Asia/Shanghai).
	Day, Today string
	// Error is the catalogue key of what is wrong with the day asked for;
	// then Report is nil.
	Error  string
	Report *issuance.DailyReport
}

// Percent is the same-day issuance rate as a percentage, "" when nobody
// became ready.
func (v reportView) Percent() string {
	if v.Report == nil || v.Report.SameDayRate == nil {
		return ""
	}
	return strconv.FormatFloat(*v.Report.SameDayRate*100, 'f', 1, 64)
}

// Total adds up the day's exams over every subject and class.
func (v reportView) Total() issuance.ExamCounts {
	var t issuance.ExamCounts
	if v.Report == nil {
		return t
	}
	for _, e := range v.Report.Exams {
		t.Booked += e.Booked
		t.Candidates += e.Candidates
		t.Sat += e.Sat
		t.Retakes += e.Retakes
		t.Passed += e.Passed
		t.Failed += e.Failed
		t.NoShows += e.NoShows
	}
	return t
}

// minutes shows a duration of the report in minutes, "" when unmeasured.
func minutes(m *float64) string {
	if m == nil {
		return ""
	}
	return strconv.FormatFloat(*m, 'f', 1, 64)
}

// P50, P90 and Max show the minutes from ready to issued.
func (v reportView) P50() string { return minutes(v.Report.ReadyToIssued.P50) }

// P90 is the 90th percentile of the minutes from ready to issued.
func (v reportView) P90() string { return minutes(v.Report.ReadyToIssued.P90) }

// Max is the longest time from ready to issued, in minutes.
func (v reportView) Max() string { return minutes(v.Report.ReadyToIssued.Max) }

// deskReport shows the day's report (?day=YYYY-MM-DD, today by default in
// Asia/Shanghai): the exams of the day and the issuing desk's work.
func (h Handler) deskReport(c echo.Context) error {
	today := scheduling.Day(h.Now())
	v := reportView{Today: today.Format(time.DateOnly), Day: today.Format(time.DateOnly)}
	day := today
	if q := c.QueryParam("day"); q != "" {
		v.Day = q
		d, err := scheduling.ParseDate(q)
		if err != nil {
			v.Error = "dayreport.day_invalid"
			return h.render(c, http.StatusUnprocessableEntity, "desk_report", "dayreport.title", v)
		}
		day = d
	}
	r, err := h.Issuing.DailyReport(c.Request().Context(), day)
	if err != nil {
		return err
	}
	v.Report = &r
	return h.render(c, http.StatusOK, "desk_report", "dayreport.title", v)
}
