package exam_test

import (
	"strings"
	"testing"

	"examd/exam"
	"examd/internal/api"
	"examd/internal/refusal"
)

// FuzzDecodeEvent: whatever a device sends, the event decoder refuses it
// with a refusal the API answers with a 4xx (never a 500), or gives an
// event with a lower-case UUID, a positive booking, a type and an instant,
// whose own validation answers with a refusal too.
func FuzzDecodeEvent(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		four := func(err error) {
			t.Helper()
			ref, ok := refusal.As(err)
			if !ok {
				t.Fatalf("%q: %v is not a refusal (a 500)", body, err)
			}
			if s := api.Status(ref.Code); s < 400 || s > 499 {
				t.Fatalf("%q: %s answers %d", body, ref.Code, s)
			}
		}
		ev, err := exam.DecodeEvent(body)
		if err != nil {
			four(err)
			return
		}
		if len(ev.EventID) != 36 || ev.EventID != strings.ToLower(ev.EventID) || ev.BookingID <= 0 || ev.At.IsZero() {
			t.Fatalf("%q: accepted %+v", body, ev)
		}
		if len(ev.Item) > 600 || len(ev.Rule) > 600 || len(ev.Text) > 600 {
			t.Fatalf("%q: accepted a field over 600 bytes", body)
		}
		if err := ev.Validate(); err != nil {
			four(err)
		}
	})
}
