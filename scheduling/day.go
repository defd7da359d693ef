package scheduling

import "time"

// Shanghai is the office's time zone. China keeps no daylight saving time,
// so a fixed offset is exact and needs no tzdata on the machine.
var Shanghai = time.FixedZone("Asia/Shanghai", 8*60*60)

// Day returns the calendar day of t in Asia/Shanghai, as midnight UTC:
// the form in which lib/pq returns a PostgreSQL date.
func Day(t time.Time) time.Time {
	y, m, d := t.In(Shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// StartOfDay returns the instant at which the calendar day d begins in Asia/Shanghai.
func StartOfDay(d time.Time) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, Shanghai)
}

// ParseDate parses YYYY-MM-DD.
func ParseDate(s string) (time.Time, error) {
	return time.Parse(time.DateOnly, s)
}

// daysBetween counts whole calendar days from a to b (both from Day or ParseDate).
func daysBetween(a, b time.Time) int {
	return int(b.Sub(a).Hours() / 24)
}
