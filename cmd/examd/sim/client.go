package sim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// client talks to examd's HTTP API, as a user or as a judging device.
type client struct {
	base string
	http *http.Client
	now  func() time.Time // the devices' clock, which stamps their events
}

func newClient(baseURL string, now func() time.Time) *client {
	if now == nil {
		now = time.Now
	}
	return &client{base: strings.TrimRight(baseURL, "/"), http: &http.Client{Timeout: 15 * time.Second}, now: now}
}

// refusal is an answer of examd outside 2xx, with its error envelope.
type refusal struct {
	Status  int
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

func (r *refusal) Error() string {
	if r.Field != "" {
		return fmt.Sprintf("%d %s (%s): %s", r.Status, r.Code, r.Field, r.Message)
	}
	return fmt.Sprintf("%d %s: %s", r.Status, r.Code, r.Message)
}

// refusedWith reports whether err is examd refusing with code.
func refusedWith(err error, code string) bool {
	var r *refusal
	return errors.As(err, &r) && r.Code == code
}

func bearer(token string) string { return "Bearer " + token }

func deviceAuth(key string) string { return "Device " + key }

// do sends one request; body is JSON-encoded unless it is nil or []byte.
// A 2xx answer is decoded into out; anything else is a *refusal.
func (c *client) do(ctx context.Context, method, path, authz string, body, out any) error {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if res.StatusCode/100 != 2 {
		var env struct {
			Error *refusal `json:"error"`
		}
		r := &refusal{Status: res.StatusCode, Code: "http_" + fmt.Sprint(res.StatusCode), Message: http.StatusText(res.StatusCode)}
		if json.Unmarshal(raw, &env) == nil && env.Error != nil {
			r = env.Error
			r.Status = res.StatusCode
		}
		return r
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// event is a device event as POST /api/v1/exam/events takes it.
type event struct {
	EventID   string `json:"event_id"`
	BookingID int64  `json:"booking_id"`
	Type      string `json:"type"`
	Item      string `json:"item,omitempty"`
	Rule      string `json:"rule,omitempty"`
	Score     *int   `json:"score,omitempty"`
	Text      string `json:"text,omitempty"`
	At        string `json:"at"`
}

// answer is examd's answer to an accepted event.
type answer struct {
	Seq     int64 `json:"seq"`
	Attempt struct {
		ID        int64  `json:"id"`
		AttemptNo int    `json:"attempt_no"`
		PassMark  int    `json:"pass_mark"`
		Score     int    `json:"score"`
		Status    string `json:"status"`
	} `json:"attempt"`
}

// postEvent sends a device event stamped with a fresh event_id and the
// device's clock. On a network error or a 5xx it sends the very same event
// again, same event_id, until examd answers or ctx is done: examd answers a
// repeat with the answer it stored, so a retry never counts twice.
func (c *client) postEvent(ctx context.Context, log *slog.Logger, key string, ev event) (answer, error) {
	ev.EventID, ev.At = newUUID(), c.now().Format(time.RFC3339Nano)
	body, err := json.Marshal(ev)
	if err != nil {
		return answer{}, err
	}
	wait := 200 * time.Millisecond
	for {
		var a answer
		err := c.do(ctx, http.MethodPost, "/api/v1/exam/events", deviceAuth(key), body, &a)
		var r *refusal
		switch {
		case err == nil:
			return a, nil
		case ctx.Err() != nil:
			return a, ctx.Err()
		case errors.As(err, &r) && r.Status < 500:
			return a, err
		}
		log.Warn("event not delivered; sending it again", "event_id", ev.EventID, "type", ev.Type, "booking", ev.BookingID, "err", err.Error())
		if err := sleep(ctx, wait); err != nil {
			return a, err
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// newUUID returns a random (version 4) UUID. Event ids come from
// crypto/rand, not the seeded generator: a second run with the same seed
// must not send ids examd has already stored.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
