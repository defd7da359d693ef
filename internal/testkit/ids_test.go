package testkit_test

import (
	"regexp"
	"testing"
	"time"

	"examd/internal/testkit"
	"examd/scheduling"
)

func TestIDNumber(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range []int{0, 1, 999, 1000, 123456, 999999} {
		id := testkit.IDNumber(n)
		if !scheduling.ValidIDNumber(id, time.Now()) {
			t.Errorf("IDNumber(%d) = %s: not valid", n, id)
		}
		if seen[id] {
			t.Errorf("IDNumber(%d) = %s twice", n, id)
		}
		seen[id] = true
	}
}

func TestUUID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if a, b := testkit.UUID(), testkit.UUID(); !re.MatchString(a) || a == b {
		t.Errorf("UUID() = %s, then %s", a, b)
	}
}
