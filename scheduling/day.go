package scheduling

import (
	"fmt"
	"time"
)

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

// ParseDate parses YYYY-MM-DD, for years 1900 to 2199: dates outside them
// are typing mistakes, not exam days.
func ParseDate(s string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err == nil && (d.Year() < 1900 || d.Year() > 2199) {
		return d, fmt.Errorf("date %s out of range", s)
	}
	return d, err
}

// DayParam is the day a request's ?date= names (YYYY-MM-DD), or the day of
// now in Asia/Shanghai when q is empty; a bad date is an invalid field.
func DayParam(q string, now time.Time) (time.Time, error) {
	if q == "" {
		return Day(now), nil
	}
	d, err := ParseDate(q)
	if err != nil {
		return d, invalid("date", "a day as YYYY-MM-DD")
	}
	return d, nil
}

// ParseInstant parses an RFC 3339 instant between the years 2000 and 2199,
// truncated to the microsecond, as PostgreSQL keeps it: compared in Go to
// the nanosecond, two instants could differ here and be equal there.
func ParseInstant(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	t = t.Truncate(time.Microsecond)
	if err == nil && (t.Year() < 2000 || t.Year() > 2199) {
		return t, fmt.Errorf("instant %s out of range", s)
	}
	return t, err
}

// daysBetween counts whole calendar days from a to b (both from Day or ParseDate).
func daysBetween(a, b time.Time) int {
	return int(b.Sub(a).Hours() / 24)
}
