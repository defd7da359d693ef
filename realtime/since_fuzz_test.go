package realtime

import (
	"strconv"
	"testing"

	"examd/internal/refusal"
)

// FuzzParseSince: since is empty (nil: live only), or decimal digits that
// fit a seq, taken as such; anything else is an invalid_field refusal of
// since, never a panic.
func FuzzParseSince(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseSince(s)
		if err != nil {
			if r, ok := refusal.As(err); !ok || r.Code != refusal.InvalidField || r.Field != "since" {
				t.Fatalf("parseSince(%q): %v, want an invalid_field refusal of since", s, err)
			}
			return
		}
		if s == "" {
			if n != nil {
				t.Fatalf("parseSince(%q) = %d, want nil", s, *n)
			}
			return
		}
		for _, c := range s {
			if c < '0' || c > '9' {
				t.Fatalf("parseSince(%q) accepted a non-digit", s)
			}
		}
		if n == nil || *n < 0 {
			t.Fatalf("parseSince(%q) = %v", s, n)
		}
		if back, err := strconv.ParseInt(strconv.FormatInt(*n, 10), 10, 64); err != nil || back != *n {
			t.Fatalf("parseSince(%q) = %d does not round-trip", s, *n)
		}
	})
}
