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
		"not_found": 404, "body_too_large": 413, "invalid_field": 422, "unknown_rule": 422, "checklist_incomplete": 422,
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

// TestDecodeText: a body whose strings are not UTF-8 text (raw invalid bytes,
// or an escaped half of a surrogate pair) is malformed: encoding/json would
// store U+FFFD in their place without a word.
func TestDecodeText(t *testing.T) {
	for name, tc := range map[string]struct {
		body string
		want string // the refusal's code, "" when accepted
	}{
		"Chinese":           {`{"name":"第一考场"}`, ""},
		"EscapedChinese":    {`{"name":"\u7b2c\u4e00"}`, ""},
		"Pair":              {`{"name":"\ud83d\ude97"}`, ""},
		"EscapedBackslashU": {`{"name":"\\udc00"}`, ""},
		"InvalidByte":       {"{\"name\":\"考\xff场\"}", "malformed_json"},
		"Truncated":         {"{\"name\":\"\xe8\x80\"}", "malformed_json"},
		"Overlong":          {"{\"name\":\"\xc0\xaf\"}", "malformed_json"},
		"EncodedSurrogate":  {"{\"name\":\"\xed\xa0\x80\"}", "malformed_json"},
		"InvalidKey":        {"{\"na\xffme\":\"x\"}", "malformed_json"},
		"LoneHigh":          {`{"name":"\ud83d"}`, "malformed_json"},
		"HighThenText":      {`{"name":"\ud83dxxxxxx"}`, "malformed_json"},
		"HighThenHigh":      {`{"name":"\ud83d\ud83d"}`, "malformed_json"},
		"LoneLow":           {`{"name":"\ude97"}`, "malformed_json"},
		"HighAtEnd":         {`{"name":"x\uD83D"}`, "malformed_json"},
	} {
		t.Run(name, func(t *testing.T) {
			var dst struct {
				Name string `json:"name"`
			}
			err := api.Decode([]byte(tc.body), &dst)
			r, _ := refusal.As(err)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("got %v, want accepted", err)
			case tc.want != "" && (r == nil || r.Code != tc.want):
				t.Fatalf("got %v (name %q), want %s", err, dst.Name, tc.want)
			}
		})
	}
}
