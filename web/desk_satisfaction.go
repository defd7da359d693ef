package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"examd/issuance"
	"examd/scheduling"
)

// satisfactionView is the data of the month's satisfaction page.
type satisfactionView struct {
	// Month is the month asked for, as typed; Error the catalogue key of
	// what is wrong with it, and then Report is nil.
	Month, Error string
	Report       *issuance.Satisfaction
}

// Percent shows a share (0 to 1) as a percentage.
func (satisfactionView) Percent(share float64) string {
	return minutes(&[]float64{share * 100}[0]) + "%"
}

// IsTopDesk reports whether desk is the month's 满意标兵窗口.
func (v satisfactionView) IsTopDesk(desk string) bool {
	return v.Report != nil && v.Report.TopDesk != nil && v.Report.TopDesk.Desk == desk
}

// IsTopStaff reports whether the staff member is the month's 服务标兵个人.
func (v satisfactionView) IsTopStaff(id int64) bool {
	return v.Report != nil && v.Report.TopStaff != nil && v.Report.TopStaff.StaffID == id
}

// satisfaction shows the month's ratings (?month=YYYY-MM, this month by
// default, Asia/Shanghai), from the same function as GET
// /api/v1/reports/satisfaction: per desk and per staff member, best first
// with the month's top one marked (SA-RATE's ranking), and the comments,
// lowest score first.
func (h Handler) satisfaction(c echo.Context) error {
	d := scheduling.Day(h.Now())
	month := d.AddDate(0, 0, 1-d.Day())
	v := satisfactionView{Month: month.Format("2006-01")}
	if q := c.QueryParam("month"); q != "" {
		v.Month = q
		m, err := issuance.ParseMonth(q)
		if err != nil {
			v.Error = "satisfaction.month_invalid"
			return h.render(c, http.StatusUnprocessableEntity, "desk_satisfaction", "satisfaction.title", v)
		}
		month = m
	}
	r, err := h.Issuing.Satisfaction(c.Request().Context(), month)
	if err != nil {
		return err
	}
	v.Report = &r
	return h.render(c, http.StatusOK, "desk_satisfaction", "satisfaction.title", v)
}

// Rank is the place of the i-th score of a list (from 0), counted from 1.
func (satisfactionView) Rank(i int) int { return i + 1 }
