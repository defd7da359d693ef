package issuance

import (
	"testing"
	"time"

	"examd/scheduling"
)

// TestTicketText: three digits at least, never cut past 999 (the 1000th
// ticket is A1000, not A100); P for the priority lane (PL-ORDER).
func TestTicketText(t *testing.T) {
	tests := []struct {
		name     string
		priority bool
		n        int
		want     string
	}{
		{"First", false, 1, "A001"},
		{"Tenth", false, 10, "A010"},
		{"Hundredth", false, 100, "A100"},
		{"Last3Digits", false, 999, "A999"},
		{"Thousandth", false, 1000, "A1000"},
		{"TenThousandth", false, 10000, "A10000"},
		{"PriorityFirst", true, 1, "P001"},
		{"PriorityThousandth", true, 1000, "P1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ticketText(tt.priority, tt.n); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestFileNumber: 12 digits, zero-padded (IS-NUMBER); a number that does
// not fit is an error, never a longer or a cut number.
func TestFileNumber(t *testing.T) {
	tests := []struct {
		name string
		n    int64
		want string // "" for an error
	}{
		{"First", 1, "000000000001"},
		{"Some", 123456, "000000123456"},
		{"Last", 999999999999, "999999999999"},
		{"TooLong", 1000000000000, ""},
		{"Zero", 0, ""},
		{"Negative", -1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fileNumber(tt.n)
			if tt.want == "" {
				if err == nil {
					t.Errorf("got %q, want an error", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestValidity: from the day of printing in Asia/Shanghai, 6 years to the
// same date, probation a year to the same date (IS-VALIDITY); a 29
// February runs to 28 February, as PostgreSQL's date arithmetic did.
func TestValidity(t *testing.T) {
	tests := []struct {
		name                   string
		printed                string
		from, until, probation string
	}{
		{"Plain", "2026-06-15T10:00:00+08:00", "2026-06-15", "2032-06-15", "2027-06-15"},
		{"LeapDay", "2028-02-29T09:30:00+08:00", "2028-02-29", "2034-02-28", "2029-02-28"},
		// 2024 + 6 = 2030 is no leap year either; 2032 would be, but no
		// validity reaches it from a leap day.
		{"LeapDay2024", "2024-02-29T16:00:00+08:00", "2024-02-29", "2030-02-28", "2025-02-28"},
		{"DayBeforeLeapDay", "2028-02-28T09:00:00+08:00", "2028-02-28", "2034-02-28", "2029-02-28"},
		{"ThirtyFirst", "2026-03-31T11:00:00+08:00", "2026-03-31", "2032-03-31", "2027-03-31"},
		{"NewYearsEve", "2026-12-31T17:00:00+08:00", "2026-12-31", "2032-12-31", "2027-12-31"},
		// The day is Shanghai's: 23:59 there is 15:59 UTC the same day,
		// 00:10 there is still the day before in UTC.
		{"LateInShanghai", "2026-03-31T15:59:00Z", "2026-03-31", "2032-03-31", "2027-03-31"},
		{"JustAfterMidnightInShanghai", "2026-03-31T16:10:00Z", "2026-04-01", "2032-04-01", "2027-04-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			printed, err := time.Parse(time.RFC3339, tt.printed)
			if err != nil {
				t.Fatal(err)
			}
			from, until, probation := validity(printed)
			got := [3]string{from.Format(time.DateOnly), until.Format(time.DateOnly), probation.Format(time.DateOnly)}
			want := [3]string{tt.from, tt.until, tt.probation}
			if got != want {
				t.Errorf("got from, until, probation %v, want %v", got, want)
			}
		})
	}
}

// TestWaitingMinutes: whole minutes from ready to now, or to the licence
// once issued; never negative.
func TestWaitingMinutes(t *testing.T) {
	ready := time.Date(2026, 6, 15, 9, 0, 0, 0, scheduling.Shanghai)
	issued := ready.Add(42*time.Minute + 30*time.Second)
	tests := []struct {
		name   string
		issued *time.Time
		now    time.Time
		want   int
	}{
		{"JustReady", nil, ready, 0},
		{"Waiting", nil, ready.Add(17*time.Minute + 59*time.Second), 17},
		{"Issued", &issued, ready.Add(3 * time.Hour), 42},
		{"ClockBehind", nil, ready.Add(-time.Minute), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := waitingMinutes(ready, tt.issued, tt.now); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

// TestPercentiles: the ready→issued minutes of the daily report, as
// percentile_cont interpolates them, to 1 decimal.
func TestPercentiles(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name    string
		minutes []float64
		want    Minutes
	}{
		{"Empty", nil, Minutes{}},
		{"One", []float64{12.34}, Minutes{P50: f(12.3), P90: f(12.3), Max: f(12.3)}},
		// Two: the median halfway, p90 at 0.9 of the way.
		{"Even", []float64{40, 10}, Minutes{P50: f(25), P90: f(37), Max: f(40)}},
		// p90 = 90 + 0.8 × (1020 − 90), unsorted input.
		{"Odd", []float64{1020, 30, 90}, Minutes{P50: f(90), P90: f(834), Max: f(1020)}},
		{"Four", []float64{1, 2, 3, 4}, Minutes{P50: f(2.5), P90: f(3.7), Max: f(4)}},
		// Ten: the 90th percentile lies between the 9th and the 10th.
		{"Ten", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 100}, Minutes{P50: f(5.5), P90: f(18.1), Max: f(100)}},
		{"Rounding", []float64{0.25, 0.25, 10.05}, Minutes{P50: f(0.3), P90: f(8.1), Max: f(10.1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := percentiles(tt.minutes)
			for _, m := range []struct {
				name      string
				got, want *float64
			}{{"p50", got.P50, tt.want.P50}, {"p90", got.P90, tt.want.P90}, {"max", got.Max, tt.want.Max}} {
				switch {
				case m.want == nil && m.got != nil:
					t.Errorf("%s: got %v, want nil", m.name, *m.got)
				case m.want != nil && m.got == nil:
					t.Errorf("%s: got nil, want %v", m.name, *m.want)
				case m.want != nil && *m.got != *m.want:
					t.Errorf("%s: got %v, want %v", m.name, *m.got, *m.want)
				}
			}
		})
	}
}
