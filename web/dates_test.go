package web

import (
	"strings"
	"testing"
	"time"
)

// TestLongDate: the weekday is the day's in Asia/Shanghai, on either side of
// its midnight; calendar days and texts are shown as they are.
func TestLongDate(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   any
		en   bool
		want string
	}{
		{"BeforeShanghaiMidnight", time.Date(2026, 12, 8, 15, 59, 59, 0, time.UTC), false, "2026年12月8日 星期二"},
		{"AtShanghaiMidnight", time.Date(2026, 12, 8, 16, 0, 0, 0, time.UTC), false, "2026年12月9日 星期三"},
		{"CalendarDay", time.Date(2026, 12, 9, 0, 0, 0, 0, time.UTC), false, "2026年12月9日 星期三"},
		{"Text", "2026-12-13", false, "2026年12月13日 星期日"},
		{"English", "2026-12-09", true, "Wednesday 9 December 2026"},
		{"NotADate", "soon", false, "soon"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := longDate(tc.in, tc.en); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestICSFold: long lines fold at 75 octets, never inside a character, and
// text values escape what RFC 5545 asks.
func TestICSFold(t *testing.T) {
	line := "DESCRIPTION:" + strings.Repeat("请携带身份证", 20)
	folded := icsFold(line)
	if !strings.HasSuffix(folded, "\r\n") {
		t.Fatalf("no CRLF at the end: %q", folded)
	}
	parts := strings.Split(strings.TrimSuffix(folded, "\r\n"), "\r\n")
	for i, p := range parts {
		if len(p) > 75 {
			t.Errorf("line %d has %d octets", i, len(p))
		}
		if i > 0 && !strings.HasPrefix(p, " ") {
			t.Errorf("continuation %d does not start with a space", i)
		}
	}
	if got := strings.ReplaceAll(strings.TrimSuffix(folded, "\r\n"), "\r\n ", ""); got != line {
		t.Errorf("unfolded %q, want %q", got, line)
	}
	if got, want := icsText("a,b;c\\d\ne"), `a\,b\;c\\d\ne`; got != want {
		t.Errorf("icsText %q, want %q", got, want)
	}
}
