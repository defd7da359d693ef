package web_test

import (
	"examd/internal/server/servertest"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// bookingOutcomes reads examd_bookings_total by result from /metrics.
func bookingOutcomes(a *servertest.App) map[string]int {
	a.T.Helper()
	m := a.Must(http.StatusOK, "GET", "/metrics", "", nil)
	out := map[string]int{}
	for _, l := range regexp.MustCompile(`(?m)^examd_bookings_total\{result="([^"]+)"\} (\d+)$`).FindAllStringSubmatch(string(m.Raw), -1) {
		out[l[1]], _ = strconv.Atoi(l[2])
	}
	return out
}

// TestBookingDoors: the page and the API book through one function, with
// one Idempotency-Key rule and one outcome count.
func TestBookingDoors(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	s2 := a.NewSlot(sched, venue, 2, 5, 8, nil)
	s3 := a.NewSlot(sched, venue, 3, 5, 13, nil)
	c := a.NewCandidate(sched, nil)
	b := newBrowser(a, t)
	b.logIn(c.IDNo, "candidate-pw", "/candidate")
	b.get("/candidate/slots")

	t.Run("KeyRefusedByBoth", func(t *testing.T) {
		p := b.post("/candidate/slots", url.Values{"slot_id": {fmt.Sprint(s2)}, "key": {"钥匙"}})
		if p.Status != http.StatusUnprocessableEntity {
			t.Errorf("page with a non-ASCII key: %d at %s, want 422 as the API answers", p.Status, p.URL)
		}
		r := a.Do("POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{s2}}, "Idempotency-Key", "钥匙")
		if r.Status != http.StatusUnprocessableEntity {
			t.Errorf("API with a non-ASCII key: %d", r.Status)
		}
	})

	t.Run("KeySharedByBoth", func(t *testing.T) {
		// A key the API accepts (70 characters) is the page's key too: the
		// API's repeat of the page's booking is a replay, not a new try.
		key := strings.Repeat("k", 70)
		before := bookingOutcomes(a)
		p := b.post("/candidate/slots", url.Values{"slot_id": {fmt.Sprint(s3)}, "key": {key}})
		if !strings.HasPrefix(p.URL, "/candidate/bookings/") || !strings.HasSuffix(p.URL, "?done=booked") {
			t.Fatalf("page booking: %d at %s", p.Status, p.URL)
		}
		r := a.Do("POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{s3}}, "Idempotency-Key", key)
		if r.Status != http.StatusOK {
			t.Errorf("API repeat of the page's booking: %d %s, want 200 (replayed)", r.Status, r.Raw)
		}
		after := bookingOutcomes(a)
		if after["confirmed"]-before["confirmed"] != 1 || after["replayed"]-before["replayed"] != 1 {
			t.Errorf("outcomes: before %v, after %v; want one confirmed (page) and one replayed (API)", before, after)
		}
	})
}

// TestLiveDoors: /examiner/live (session cookie) and /api/v1/live (bearer
// token) are one door: venue_id names the venue on both, and an examiner
// may leave it out on both.
func TestLiveDoors(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	a.NewVenue(sched, false) // the first venue: not the one watched
	d := servertest.NewExamDay(t, a, 2)
	_, booking := d.Book(t, d.Slot, 2)
	d.Post(d.Device, booking, "exam_started", nil)
	ws := strings.Replace(a.URL, "http://", "ws://", 1)
	first := func(t *testing.T, u string, hd http.Header) {
		t.Helper()
		conn, res, err := websocket.DefaultDialer.Dial(u, hd)
		if err != nil {
			t.Fatalf("dial %s: %v %v", u, err, res)
		}
		defer conn.Close()
		s := servertest.ScreenOf(t, conn)
		if hello := s.Next(); hello["type"] != "hello" {
			t.Fatalf("hello: %v", hello)
		}
		if ev := s.Next(); ev["type"] != "exam_started" || ev["venue_id"] != float64(d.Venue) {
			t.Errorf("first event: %v, want exam_started at venue %d", ev, d.Venue)
		}
	}

	t.Run("CookieVenueID", func(t *testing.T) {
		name := fmt.Sprintf("scheduler%d", servertest.Next())
		a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin, map[string]any{"username": name, "password": "staff-secret", "role": "scheduler"})
		b := newBrowser(a, t)
		b.logIn(name, "staff-secret", "/admin/slots")
		hd := http.Header{"Origin": {a.URL}}
		for _, ck := range b.c.Jar.Cookies(mustURL(t, a.URL)) {
			hd.Add("Cookie", ck.Name+"="+ck.Value)
		}
		first(t, fmt.Sprintf("%s/examiner/live?venue_id=%d&since=0", ws, d.Venue), hd)
	})

	t.Run("BearerOwnVenue", func(t *testing.T) {
		tok := a.Login(examinerAt(a, t, d.Venue), "staff-secret")
		first(t, ws+"/api/v1/live?since=0&access_token="+tok, nil)
		if _, res, err := websocket.DefaultDialer.Dial(fmt.Sprintf("%s/api/v1/live?venue_id=%d&access_token=%s", ws, d.Venue+1000, tok), nil); err == nil || res == nil || res.StatusCode != http.StatusForbidden {
			t.Errorf("an examiner watching another venue: %v %v", err, res)
		}
		if _, res, err := websocket.DefaultDialer.Dial(ws+"/api/v1/live?access_token="+sched, nil); err == nil || res == nil || res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("a scheduler without venue_id: %v %v", err, res)
		}
	})
}
