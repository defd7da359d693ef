package api_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"examd/internal/api"
	"examd/internal/refusal"
)

// TestStatus: each code answers with its status; a rule's code is a 409.
func TestStatus(t *testing.T) {
	for code, want := range map[string]int{
		"malformed_json": 400, "unauthorized": 401, "invalid_credentials": 401, "forbidden": 403,
		"not_found": 404, "body_too_large": 413, "invalid_field": 422, "unknown_rule": 422,
		"internal": 500, "unavailable": 503, "feed_unavailable": 503,
		"slot_full": http.StatusConflict, "already_passed": 409, "slot_not_started": 409, "not_ready": 409,
	} {
		if got := api.Status(code); got != want {
			t.Errorf("%s: got %d, want %d", code, got, want)
		}
	}
}

// TestRefusalIs: refusals match by code, and by field when the target names
// one, through wrapping.
func TestRefusalIs(t *testing.T) {
	full := refusal.New("slot_full", "该场次已约满")
	wrapped := fmt.Errorf("book slot 3: %w", full)
	if !errors.Is(wrapped, full) || errors.Is(wrapped, refusal.New("cooldown", "")) {
		t.Error("a wrapped refusal does not match by code")
	}
	bad := fmt.Errorf("x: %w", refusal.Invalid("phone", "11 digits"))
	if !errors.Is(bad, refusal.Invalid("phone", "")) || errors.Is(bad, refusal.Invalid("name", "")) ||
		!errors.Is(bad, &refusal.Error{Code: refusal.InvalidField}) {
		t.Error("an invalid field does not match by field")
	}
	if r, ok := refusal.As(wrapped); !ok || r != full {
		t.Errorf("As: got %v %v", r, ok)
	}
}
