package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"examd/internal/server/servertest"
	"examd/scheduling"
)

// TestBookingCalendar: the booking's .ics download is one event from the
// arrival time (30 minutes before the start) to the end, at the venue and
// its address, every line ended by CRLF; another candidate gets 404.
func TestBookingCalendar(t *testing.T) {
	a := servertest.Start(t)
	sched, _, s2, _ := bookingDay(t, a)
	c := a.NewCandidate(sched, nil)
	b := newBrowser(a, t)
	b.logIn(c.IDNo, "candidate-pw", "/candidate")
	b.get("/candidate/slots")
	p := b.post("/candidate/slots", url.Values{"slot_id": {fmt.Sprint(s2)}, "key": {"web-ics-1"}})
	var id int64
	if err := a.DB.Get(&id, `SELECT id FROM bookings WHERE candidate_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("/candidate/bookings/%d?done=booked", id); p.URL != want {
		t.Fatalf("booking landed at %s, want %s", p.URL, want)
	}
	r := b.get(fmt.Sprintf("/candidate/bookings/%d/calendar.ics", id))
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("calendar: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	text := r.Body
	if !strings.HasPrefix(text, "BEGIN:VCALENDAR\r\n") || strings.Count(text, "\r\n") != strings.Count(text, "\n") || !strings.HasSuffix(text, "\r\n") {
		t.Errorf("lines not ended by CRLF:\n%q", text)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(strings.ReplaceAll(text, "\r\n ", ""), "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			lines[k] = v
		}
	}
	start := scheduling.StartOfDay(a.Day(5)).Add(8 * time.Hour)
	for k, want := range map[string]string{
		"UID":      scheduling.BookingNumber(id) + "@examd",
		"DTSTART":  start.Add(-30 * time.Minute).UTC().Format("20060102T150405Z"),
		"DTEND":    start.Add(2 * time.Hour).UTC().Format("20060102T150405Z"),
		"LOCATION": `第一考场\, 长安街1号`,
	} {
		if lines[k] != want {
			t.Errorf("%s: %q, want %q", k, lines[k], want)
		}
	}
	if !strings.Contains(lines["DESCRIPTION"], "本人居民身份证原件") {
		t.Errorf("DESCRIPTION %q lacks what to bring", lines["DESCRIPTION"])
	}

	t.Run("OtherCandidate", func(t *testing.T) {
		d := a.NewCandidate(sched, nil)
		o := newBrowser(a, t)
		o.logIn(d.IDNo, "candidate-pw", "/candidate")
		if p := o.get(fmt.Sprintf("/candidate/bookings/%d/calendar.ics", id)); p.Status != http.StatusNotFound {
			t.Errorf("another candidate's calendar: %d", p.Status)
		}
	})
}
