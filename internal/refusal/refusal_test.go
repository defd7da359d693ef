package refusal_test

import (
	"errors"
	"fmt"
	"testing"

	"examd/internal/refusal"
)

func TestList(t *testing.T) {
	name, phone := refusal.Invalid("name", "required"), refusal.Invalid("phone", "11 digits")
	l := refusal.List{name, phone}

	t.Run("AsFindsTheFirst", func(t *testing.T) {
		wrapped := fmt.Errorf("create: %w", l.Err())
		if r, ok := refusal.As(wrapped); !ok || r != name {
			t.Errorf("As: got %v, want the first, %v", r, name)
		}
		if !errors.Is(wrapped, refusal.Invalid("phone", "")) {
			t.Errorf("Is does not find the second field")
		}
	})
	t.Run("All", func(t *testing.T) {
		if got := refusal.All(fmt.Errorf("create: %w", l.Err())); len(got) != 2 || got[0] != name || got[1] != phone {
			t.Errorf("got %v, want both", got)
		}
		if got := refusal.All(name); len(got) != 1 || got[0] != name {
			t.Errorf("one refusal: got %v", got)
		}
		if got := refusal.All(errors.New("disk full")); got != nil {
			t.Errorf("no refusal: got %v", got)
		}
	})
	t.Run("Err", func(t *testing.T) {
		if err := (refusal.List{}).Err(); err != nil {
			t.Errorf("empty: got %v, want nil", err)
		}
		if err := (refusal.List{name}).Err(); err != name {
			t.Errorf("one: got %#v, want the refusal itself", err)
		}
		if !l.Has("phone") || l.Has("address") {
			t.Errorf("Has")
		}
	})
}
