package main

import (
	"encoding/json"
	"examd/internal/server/servertest"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// utcInstants lists, as path=value, the RFC 3339 instants anywhere in the
// JSON v that are not written at +08:00 (the README promises instants in
// Asia/Shanghai). Dates (YYYY-MM-DD) are not instants and pass.
func utcInstants(path string, v any) []string {
	var bad []string
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			bad = append(bad, utcInstants(path+"."+k, e)...)
		}
	case []any:
		for i, e := range v {
			bad = append(bad, utcInstants(fmt.Sprintf("%s[%d]", path, i), e)...)
		}
	case string:
		if _, err := time.Parse(time.RFC3339Nano, v); err == nil && !strings.HasSuffix(v, "+08:00") {
			bad = append(bad, path+"="+v)
		}
	}
	return bad
}

// checkInstants fails the test for each instant of the JSON raw not at +08:00.
func checkInstants(t *testing.T, what string, raw []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %s: %v", what, raw, err)
	}
	for _, b := range utcInstants(what, v) {
		t.Errorf("instant not in Asia/Shanghai: %s", b)
	}
}

// drain reads every message a feed has sent within a short wait.
func drain(t *testing.T, conn *websocket.Conn) [][]byte {
	t.Helper()
	var msgs [][]byte
	for {
		_ = conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		_, raw, err := conn.ReadMessage()
		if err != nil {
			return msgs
		}
		msgs = append(msgs, raw)
	}
}

// TestInstantsOfFeedsAndAnswers: every instant examd writes, on its feeds and
// in its answers, is an RFC 3339 instant at +08:00 (Asia/Shanghai), whatever
// the server's own zone and however the value was made (the clock, a
// database column).
func TestInstantsOfFeedsAndAnswers(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	ws := strings.Replace(a.URL, "http://", "ws://", 1)
	venueFeed, _, err := servertest.Watch(t, a, h.Examiner, h.Venue, "")
	if err != nil {
		t.Fatal(err)
	}
	deskFeed, _, err := websocket.DefaultDialer.Dial(ws+"/api/v1/live/issuance?access_token="+h.Issuer, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer deskFeed.Close()

	// A day's work: a lane grant, a candidate ready and issued, a failed
	// exam corrected, a booking cancelled by staff and rated.
	c := h.Ready(t)
	grant := a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/candidates/%d/priority", c.ID), h.Sched,
		map[string]any{"reason": "elderly"})
	h.Issue(t, c)
	issuanceID := h.IssuanceOf(t, c)
	rated := a.Must(http.StatusCreated, "POST", "/api/v1/feedback", c.Token, map[string]any{"issuance_id": issuanceID, "score": 5})

	other, b2 := h.Book(t, h.Slot, 2)
	h.Fail(t, b2)
	var failed int64
	if err := a.DB.Get(&failed, `SELECT max(id) FROM attempts WHERE booking_id = $1`, b2); err != nil {
		t.Fatal(err)
	}
	signed := a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/attempts/%d/signatures", failed), h.Examiner, map[string]any{"signer": "examiner"})
	corrected := a.Must(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/attempts/%d/corrections", failed), h.Examiner,
		map[string]any{"score": 85, "reason": "复核录像"})

	later := a.NewSlot(h.Sched, h.Venue, 3, 40, 9, nil)
	booked := a.Must(http.StatusCreated, "POST", "/api/v1/bookings", other.Token, map[string]any{"slot_ids": []int64{later}}, "Idempotency-Key", "instants-1")
	var booking int64
	if bs, ok := booked.Body["bookings"].([]any); ok && len(bs) > 0 {
		booking = int64(bs[0].(map[string]any)["id"].(float64))
	} else {
		booking = booked.ID()
	}
	cancelled := a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%d?reason=%s", booking, url.QueryEscape("考场检修")), h.Sched, nil)

	answers := map[string][]byte{
		"grant": grant.Raw, "feedback": rated.Raw, "signature": signed.Raw, "correction": corrected.Raw,
		"booked": booked.Raw, "cancelled": cancelled.Raw,
	}
	for name, get := range map[string]struct{ path, token string }{
		"journey":      {"/api/v1/me/journey", c.Token},
		"me/bookings":  {"/api/v1/me/bookings", other.Token},
		"booking":      {fmt.Sprintf("/api/v1/bookings/%d", booking), other.Token},
		"bookings":     {fmt.Sprintf("/api/v1/candidates/%d/bookings", other.ID), h.Sched},
		"candidate":    {fmt.Sprintf("/api/v1/candidates/%d", c.ID), h.Sched},
		"slot":         {fmt.Sprintf("/api/v1/slots/%d", h.Slot), h.Sched},
		"slots":        {"/api/v1/slots?venue_id=" + fmt.Sprint(h.Venue), h.Sched},
		"roster":       {fmt.Sprintf("/api/v1/slots/%d/roster", h.Slot), h.Sched},
		"attempt":      {fmt.Sprintf("/api/v1/attempts/%d", failed), h.Examiner},
		"attempts":     {fmt.Sprintf("/api/v1/bookings/%d/attempts", b2), h.Examiner},
		"queue":        {"/api/v1/issuance/queue?date=" + a.Day(0).Format(time.DateOnly), h.Issuer},
		"audit":        {"/api/v1/audit", a.Admin},
		"satisfaction": {"/api/v1/reports/satisfaction", a.Admin},
		"daily":        {"/api/v1/reports/daily?date=" + a.Day(0).Format(time.DateOnly), a.Admin},
	} {
		answers[name] = a.Must(http.StatusOK, "GET", get.path, get.token, nil).Raw
	}
	for name, raw := range answers {
		checkInstants(t, name, raw)
	}

	venueMsgs, deskMsgs := drain(t, venueFeed.Conn), drain(t, deskFeed)
	if len(venueMsgs) < 5 || len(deskMsgs) < 4 {
		t.Fatalf("feeds: %d venue messages, %d desk messages", len(venueMsgs), len(deskMsgs))
	}
	for i, raw := range venueMsgs {
		checkInstants(t, fmt.Sprintf("venue feed #%d", i), raw)
	}
	for i, raw := range deskMsgs {
		checkInstants(t, fmt.Sprintf("desk feed #%d", i), raw)
	}
}

// inShanghai reports whether v is an RFC 3339 instant written at +08:00.
func inShanghai(v any) bool {
	s, _ := v.(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	return err == nil && strings.HasSuffix(s, "+08:00") && !t.IsZero()
}

// TestInstantsInShanghai: the README promises instants in Asia/Shanghai.
func TestInstantsInShanghai(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	r := a.Must(http.StatusOK, "POST", "/api/v1/login", "", map[string]any{"username": "admin", "password": servertest.AdminPassword})
	if !inShanghai(r.Body["expires_at"]) {
		t.Errorf("login expires_at %v, want +08:00", r.Body["expires_at"])
	}

	h := servertest.NewHall(t, a)
	c := h.Ready(t)
	roster := a.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/slots/%d/roster", h.Slot), h.Sched, nil)
	entry := roster.Body["candidates"].([]any)[0].(map[string]any)
	if !inShanghai(entry["booked_at"]) {
		t.Errorf("roster booked_at %v, want +08:00", entry["booked_at"])
	}
	for _, step := range []string{"accept", "review_fee"} {
		a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/issuance/%d/steps", c.ID), h.Issuer, servertest.StepBody(step))
	}
	printed := a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/issuance/%d/steps", c.ID), h.Issuer, map[string]any{"step": "print"})
	if l := printed.Body["licence"].(map[string]any); !inShanghai(l["issued_at"]) {
		t.Errorf("print issued_at %v, want +08:00", l["issued_at"])
	}
	it := h.InQueue(t, c)
	if !inShanghai(it["issued_at"]) || !inShanghai(it["ready_at"]) {
		t.Errorf("queue issued_at %v ready_at %v, want +08:00", it["issued_at"], it["ready_at"])
	}
	j := a.Must(http.StatusOK, "GET", "/api/v1/me/journey", c.Token, nil)
	desk := j.Body["issuance"].(map[string]any)
	if !inShanghai(desk["ready_at"]) || !inShanghai(desk["licence"].(map[string]any)["issued_at"]) {
		t.Errorf("journey issuance %v, want instants at +08:00", desk)
	}
}
