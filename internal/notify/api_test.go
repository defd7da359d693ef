package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"examd/internal/notify"
	"examd/internal/pg/pgtest"
	"examd/internal/server/servertest"
	"examd/realtime"
	"examd/scheduling"
)

// note is a notification as the API lists it.
type note struct {
	Seq  int64  `json:"seq"`
	ID   int64  `json:"id"`
	Kind string `json:"kind"`
	ZH   string `json:"text_zh"`
	EN   string `json:"text_en"`
	Link string `json:"link"`
	Read bool   `json:"read"`
}

// notesOf lists the caller's notifications (query: "" or "?since=N") and
// their unread count.
func notesOf(t *testing.T, a *servertest.App, token, query string) ([]note, int) {
	t.Helper()
	r := a.Must(http.StatusOK, "GET", "/api/v1/me/notifications"+query, token, nil)
	var body struct {
		Notifications []note `json:"notifications"`
		Unread        int    `json:"unread"`
	}
	if err := json.Unmarshal(r.Raw, &body); err != nil {
		t.Fatal(err)
	}
	return body.Notifications, body.Unread
}

// kinds lists the kinds of ns.
func kinds(ns []note) string {
	var ks []string
	for _, n := range ns {
		ks = append(ks, n.Kind)
	}
	return strings.Join(ks, " ")
}

// numbered waits until the feed has numbered every note of the test.
func numbered(t *testing.T, a *servertest.App) {
	t.Helper()
	a.NotesLive(t)
}

// TestNotificationsAPI: a booking and its cancellation become the
// candidate's notifications, listed newest first or after a seq, marked
// read by seq or id, nobody else's; a refused booking writes none.
func TestNotificationsAPI(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, true)
	slot := a.NewSlot(sched, venue, 2, 5, 9, map[string]any{"capacity": 1})
	other := a.NewSlot(sched, venue, 2, 6, 13, nil)
	c := a.NewCandidate(sched, nil)
	d := a.NewCandidate(sched, nil)

	b := a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{slot}})
	booking := int64(b.Body["bookings"].([]any)[0].(map[string]any)["id"].(float64))
	// Refused: the slot is full. Its transaction rolls back, note included.
	if r := a.Do("POST", "/api/v1/bookings", d.Token, map[string]any{"slot_ids": []int64{slot}}); r.Status != http.StatusConflict {
		t.Fatalf("booking a full slot: %d %s", r.Status, r.Raw)
	}
	if ns, unread := notesOf(t, a, d.Token, ""); len(ns) != 0 || unread != 0 {
		t.Errorf("a refused booking's notes: %+v, unread %d", ns, unread)
	}
	// A scheduler cancels with a reason, then books another slot for c.
	a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%d?reason=%s", booking, "考场维修"), sched, nil)
	a.Must(http.StatusCreated, "POST", "/api/v1/bookings", sched, map[string]any{"candidate_id": c.ID, "slot_ids": []int64{other}})
	numbered(t, a)

	ns, unread := notesOf(t, a, c.Token, "")
	if got, want := kinds(ns), "booking.confirmed booking.cancelled booking.confirmed"; got != want || unread != 3 {
		t.Fatalf("notes: got %q unread %d, want %q unread 3", got, unread, want)
	}
	day := a.Day(5).Format(time.DateOnly)
	for _, tc := range []struct {
		n    note
		want []string
	}{
		{ns[2], []string{"预约成功", "科目二", day, "第一考场", "09:00–11:00", "由您本人预约"}},
		{ns[1], []string{"预约已取消", "由考务人员取消", "原因：考场维修"}},
		{ns[0], []string{"由考务人员为您预约", "13:00–15:00"}},
	} {
		for _, w := range tc.want {
			if !strings.Contains(tc.n.ZH, w) {
				t.Errorf("note %q does not say %q", tc.n.ZH, w)
			}
		}
		if tc.n.EN == "" || tc.n.Seq == 0 || tc.n.Link == "" || tc.n.Read || strings.Contains(tc.n.ZH, c.IDNo) {
			t.Errorf("note %+v", tc.n)
		}
	}
	if !strings.Contains(ns[2].ZH, "（星期") {
		t.Errorf("no weekday in %q", ns[2].ZH)
	}
	if ns[2].Link != fmt.Sprintf("/candidate/bookings/%d", booking) {
		t.Errorf("link %q", ns[2].Link)
	}

	// since: the ones after a seq, oldest first.
	after, _ := notesOf(t, a, c.Token, fmt.Sprintf("?since=%d", ns[2].Seq))
	if got := kinds(after); got != "booking.cancelled booking.confirmed" || after[0].Seq != ns[1].Seq {
		t.Errorf("since %d: %q", ns[2].Seq, got)
	}
	if r := a.Do("GET", "/api/v1/me/notifications?since=-1", c.Token, nil); r.Status != 422 {
		t.Errorf("since=-1: %d", r.Status)
	}

	// Read: up to a seq, by id; someone else's ids are left alone.
	r := a.Must(http.StatusOK, "POST", "/api/v1/me/notifications/read", c.Token, map[string]any{"up_to": ns[1].Seq})
	if r.Body["marked"] != 2.0 || r.Body["unread"] != 1.0 {
		t.Errorf("read up to %d: %s", ns[1].Seq, r.Raw)
	}
	r = a.Must(http.StatusOK, "POST", "/api/v1/me/notifications/read", d.Token, map[string]any{"ids": []int64{ns[0].ID}})
	if r.Body["marked"] != 0.0 {
		t.Errorf("another candidate marked a note read: %s", r.Raw)
	}
	a.Must(http.StatusOK, "POST", "/api/v1/me/notifications/read", c.Token, map[string]any{"ids": []int64{ns[0].ID}})
	if ns, unread := notesOf(t, a, c.Token, ""); unread != 0 || !ns[0].Read || !ns[2].Read {
		t.Errorf("after reading all: unread %d, %+v", unread, ns)
	}
	if r := a.Do("POST", "/api/v1/me/notifications/read", c.Token, map[string]any{}); r.Status != 422 {
		t.Errorf("read nothing: %d %s", r.Status, r.Raw)
	}
	if r := a.Do("GET", "/api/v1/me/notifications", sched, nil); r.Status != http.StatusForbidden {
		t.Errorf("staff listing: %d", r.Status)
	}
	// No gateway is set: nothing is sent, the outbox keeps all three.
	if m := a.Do("GET", "/metrics", "", nil); !strings.Contains(string(m.Raw), "\nexamd_notify_outbox 3\n") ||
		!strings.Contains(string(m.Raw), "\nexamd_notify_outbox_oldest_seconds ") {
		t.Errorf("/metrics lacks the outbox of 3")
	}
}

// dial opens the notifications' websocket with token.
func dial(a *servertest.App, token, since string) (*websocket.Conn, *http.Response, error) {
	u := strings.Replace(a.URL, "http://", "ws://", 1) + "/api/v1/me/notifications/live?access_token=" + token
	if since != "" {
		u += "&since=" + since
	}
	return websocket.DefaultDialer.Dial(u, nil)
}

// TestNotificationsLive: the candidate's channel says hello, replays from
// since and brings new notes as they commit; it carries only the caller's
// own topic, and only candidates may open it.
func TestNotificationsLive(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, true)
	s1 := a.NewSlot(sched, venue, 2, 5, 9, nil)
	c := a.NewCandidate(sched, nil)
	d := a.NewCandidate(sched, nil)
	b := a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{s1}})
	booking := int64(b.Body["bookings"].([]any)[0].(map[string]any)["id"].(float64))
	numbered(t, a)

	conn, _, err := dial(a, c.Token, "0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	other, _, err := dial(a, d.Token, "0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	screen, others := servertest.ScreenOf(t, conn), servertest.ScreenOf(t, other)
	if m := screen.Next(); m["type"] != "hello" || m["seq"] != 1.0 {
		t.Fatalf("hello: %v", m)
	}
	if m := screen.Next(); m["type"] != "notification" || m["kind"] != notify.KindBookingConfirmed || m["seq"] != 1.0 {
		t.Fatalf("replayed: %v", m)
	}
	if m := others.Next(); m["type"] != "hello" || m["seq"] != 0.0 {
		t.Fatalf("the other's hello: %v", m)
	}
	// Live: the cancellation's note arrives; the other candidate gets nothing.
	a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%d", booking), c.Token, nil)
	m := screen.Next()
	if m["type"] != "notification" || m["seq"] != 2.0 || !strings.Contains(m["text_zh"].(string), "由您本人取消") {
		t.Fatalf("live: %v", m)
	}
	_ = other.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, raw, err := other.ReadMessage(); err == nil {
		t.Errorf("another candidate's channel got %s", raw)
	}

	// Only candidates; a since that is not a seq is refused.
	if _, res, err := dial(a, sched, ""); err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("staff opening the channel: %v %v", res, err)
	}
	if _, res, err := dial(a, "not-a-token", ""); err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %v %v", res, err)
	}
	if _, res, err := dial(a, c.Token, "x"); err == nil || res == nil || res.StatusCode != 422 {
		t.Errorf("since=x: %v %v", res, err)
	}
}

// TestDecisionNotes: each decision of the exam day and of the priority lane
// writes its note in its own transaction: a result made final by both
// signatures, ready for the desk with the ticket, the ticket called, the
// licence issued, a lane granted and declined.
func TestDecisionNotes(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	c, b2, b3, b4 := h.Combined(t)
	at2 := h.Pass(t, b2, 2)
	h.Sign(t, at2, "examiner")
	if ns, _ := notesOf(t, a, c.Token, ""); len(ns) != 0 {
		t.Fatalf("one signature: %q", kinds(ns))
	}
	h.Sign(t, at2, "candidate")
	ns, _ := notesOf(t, a, c.Token, "")
	if kinds(ns) != notify.KindResultFinal || !strings.Contains(ns[0].ZH, "科目二") || !strings.Contains(ns[0].ZH, "100 分，合格") {
		t.Fatalf("after both signatures: %+v", ns)
	}
	h.Sign(t, at2, "candidate") // signing again changes nothing
	for _, at := range []int64{h.Pass(t, b3, 3), h.Pass(t, b4, 4)} {
		h.Sign(t, at, "examiner", "candidate")
	}
	ticket := h.InQueue(t, c)["ticket"].(string)
	ns, _ = notesOf(t, a, c.Token, "")
	if got := kinds(ns); got != "desk.ready result.final result.final result.final" || !strings.Contains(ns[0].ZH, ticket) {
		t.Fatalf("ready: %q %q", got, ns[0].ZH)
	}
	a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/issuance/%d/call", c.ID), h.Issuer, nil)
	h.Issue(t, c)
	ns, _ = notesOf(t, a, c.Token, "")
	if got := kinds(ns[:2]); got != "licence.issued ticket.called" || !strings.Contains(ns[1].ZH, "3号窗口") {
		t.Fatalf("called and issued: %q %q", got, ns[1].ZH)
	}
	if strings.Contains(ns[0].ZH, c.IDNo) {
		t.Errorf("the licence note names the ID number: %q", ns[0].ZH)
	}

	// The priority lane: granted by staff, requested and declined.
	sched := a.Staff("scheduler")
	e := a.NewCandidate(sched, nil)
	a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/candidates/%d/priority", e.ID), sched,
		map[string]any{"reason": "elderly", "needs": []string{}, "note": ""})
	store := scheduling.NewStore(a.DB, notify.New(realtime.NewFeed(a.DB)))
	f := a.NewCandidate(sched, nil)
	ctx := context.Background()
	if err := store.RequestLane(ctx, f.ID, scheduling.NewGrant{Reason: "elderly", Needs: []string{}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	req, err := store.LatestLaneRequest(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.DeclineLaneRequest(ctx, req.ID, 1, "材料不全"); err != nil {
		t.Fatal(err)
	}
	if _, err := store.DeclineLaneRequest(ctx, req.ID, 1, "again"); err == nil {
		t.Fatal("declined twice")
	}
	for _, tc := range []struct {
		c    servertest.Candidate
		want string
	}{{e, "优先通道申请已批准"}, {f, "优先通道申请未获批准，原因：材料不全"}} {
		ns, _ := notesOf(t, a, tc.c.Token, "")
		if len(ns) != 1 || ns[0].Kind != notify.KindLaneDecided || !strings.Contains(ns[0].ZH, tc.want) {
			t.Errorf("candidate %d: %+v, want one note saying %q", tc.c.ID, ns, tc.want)
		}
	}
}

// TestNotificationsWebhook: with EXAMD_NOTIFY_WEBHOOK set, examd sends a
// booking's note to the gateway by itself, with the candidate's full phone
// and the Chinese text, and marks it sent.
func TestNotificationsWebhook(t *testing.T) {
	t.Parallel()
	gw := newGateway(func(string, int) string { return "ok" }, 0)
	srv := httptest.NewServer(gw)
	defer srv.Close()
	db, dbURL := pgtest.NewDB(t)
	a := servertest.StartOn(t, db, dbURL, "EXAMD_NOTIFY_WEBHOOK", srv.URL)
	sched := a.Staff("scheduler")
	slot := a.NewSlot(sched, a.NewVenue(sched, true), 2, 5, 9, nil)
	c := a.NewCandidate(sched, nil)
	a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{slot}})
	deadline := time.Now().Add(10 * time.Second)
	for {
		var unsent int
		if err := db.Get(&unsent, `SELECT count(*) FROM notifications WHERE sent_at IS NULL`); err != nil {
			t.Fatal(err)
		}
		if unsent == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the booking's note was not sent within 10 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	gw.mu.Lock()
	defer gw.mu.Unlock()
	if len(gw.delivered) != 1 || len(gw.bad) != 0 {
		t.Errorf("gateway: delivered %v, bad %q", gw.delivered, gw.bad)
	}
}
