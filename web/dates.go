package web

import (
	"fmt"
	"time"

	"examd/scheduling"
)

// weekdaysZh are the weekdays as Chinese dates name them, Sunday first.
var weekdaysZh = [...]string{"星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"}

// longDate shows a day with its weekday, in Chinese ("2026年12月9日 星期三")
// or English ("Wednesday 9 December 2026"). An instant is shown on its day in
// Asia/Shanghai; a calendar day (midnight UTC, as the stores return dates)
// and a YYYY-MM-DD text are shown as they are. Anything else is shown as
// fmt prints it.
func longDate(v any, en bool) string {
	var d time.Time
	switch t := v.(type) {
	case time.Time:
		d = t.In(scheduling.Shanghai)
		if t.Location() == time.UTC && t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
			d = t // a calendar day, not an instant
		}
	case *time.Time:
		if t == nil {
			return ""
		}
		return longDate(*t, en)
	case string:
		p, err := scheduling.ParseDate(t)
		if err != nil {
			return t
		}
		d = p
	default:
		return fmt.Sprint(v)
	}
	if en {
		return d.Format("Monday 2 January 2006")
	}
	return fmt.Sprintf("%d年%d月%d日 %s", d.Year(), int(d.Month()), d.Day(), weekdaysZh[d.Weekday()])
}
