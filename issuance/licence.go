package issuance

import (
	"fmt"
	"time"

	"examd/scheduling"
)

// fileNumberDigits is the width of a licence's file number (IS-NUMBER).
const fileNumberDigits = 12

// fileNumber writes the n-th file number of the office (IS-NUMBER): 12
// digits, zero-padded. A number that needs more digits is an error, not a
// longer or a cut number: either would break the format, the second the
// uniqueness too.
func fileNumber(n int64) (string, error) {
	s := fmt.Sprintf("%0*d", fileNumberDigits, n)
	if n < 1 || len(s) > fileNumberDigits {
		return "", fmt.Errorf("file number %d out of range 1 to %d digits", n, fileNumberDigits)
	}
	return s, nil
}

// validity is the validity of a first licence printed at the instant
// printed (IS-VALIDITY): from the day of printing in Asia/Shanghai, valid
// until the same date 6 years later, on probation until the same date a
// year later. A licence printed on 29 February runs to 28 February, the
// last day of that month, as PostgreSQL adds years to a date: never into
// March.
func validity(printed time.Time) (from, until, probation time.Time) {
	from = scheduling.Day(printed)
	return from, addYears(from, validYears), addYears(from, probationYears)
}

// addYears adds n years to the calendar day d, keeping the month: a day the
// month lacks that year (29 February) becomes the month's last.
func addYears(d time.Time, n int) time.Time {
	y, m, day := d.Date()
	t := time.Date(y+n, m, day, 0, 0, 0, 0, d.Location())
	if t.Month() != m {
		t = time.Date(y+n, m+1, 0, 0, 0, 0, 0, d.Location())
	}
	return t
}
