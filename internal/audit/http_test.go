package audit_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/audit"
	"examd/internal/pg/pgtest"
	"examd/internal/refusal"
)

// page is the body of GET /audit.
type page struct {
	Entries []audit.Row `json:"entries"`
	Next    *int64      `json:"next"`
}

// get asks the handler for GET /audit?query and returns the status and the body.
func get(tb testing.TB, e *echo.Echo, query string) (int, []byte) {
	tb.Helper()
	req := httptest.NewRequest(http.MethodGet, "/audit?"+query, nil)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// list is get for a 200 answer, decoded: the chain_seqs listed and next (0 for null).
func list(tb testing.TB, e *echo.Echo, query string) ([]int64, int64) {
	tb.Helper()
	code, body := get(tb, e, query)
	if code != http.StatusOK {
		tb.Fatalf("GET /audit?%s: %d %s, want 200", query, code, body)
	}
	var p page
	if err := json.Unmarshal(body, &p); err != nil || p.Entries == nil {
		tb.Fatalf("GET /audit?%s: %s (%v), want entries and next", query, body, err)
	}
	seqs := make([]int64, len(p.Entries))
	for i, r := range p.Entries {
		seqs[i] = r.ChainSeq
	}
	var next int64
	if p.Next != nil {
		next = *p.Next
	}
	return seqs, next
}

// newHandler serves the handler at GET /audit with cmd's error handling, in short.
func newHandler(db *sqlx.DB) *echo.Echo {
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		var ae *refusal.Error
		if !errors.As(err, &ae) {
			ae = api.ErrInternal
		}
		c.JSON(api.Status(ae.Code), api.Envelope{Error: ae})
	}
	e.GET("/audit", audit.Handler{DB: db}.List)
	return e
}

func TestHandler(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	e := newHandler(db)
	for _, en := range []audit.Entry{
		{Actor: audit.User(3), Action: "booking.created", Subject: "booking:12", After: map[string]string{"status": "confirmed"}},
		{Actor: audit.User(3), Action: "booking.cancelled", Subject: "booking:12", Before: map[string]string{"status": "confirmed"}},
		{Actor: audit.Device(5), Action: "attempt.finished", Subject: "attempt:7"},
		{Actor: audit.System, Action: "booking.no_show", Subject: "booking:13"},
		{Actor: audit.User(4), Action: "booking.created", Subject: "booking:13"},
	} {
		record(t, db, en)
	}
	var at []time.Time
	if err := db.Select(&at, `SELECT at FROM audit_log ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(at); i++ {
		if !at[i].After(at[i-1]) {
			t.Fatalf("at %v: not increasing, the from/to cases would be wrong", at)
		}
	}
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	today := time.Now().In(time.FixedZone("", 8*3600)).Format(time.DateOnly)

	t.Run("Filters", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name  string
			query string
			want  []int64
		}{
			{"All", "", []int64{5, 4, 3, 2, 1}},
			{"User", q("actor", "user:3"), []int64{2, 1}},
			{"Device", q("actor", "device:5"), []int64{3}},
			{"System", q("actor", "system"), []int64{4}},
			{"NobodyLikeThat", q("actor", "device:3"), []int64{}},
			{"Subject", q("subject", "booking:13"), []int64{5, 4}},
			{"ActorAndSubject", q("actor", "user:3", "subject", "booking:13"), []int64{}},
			{"Action", q("action", "booking.created"), []int64{5, 1}},
			{"ActionAndActor", q("action", "booking.created", "actor", "user:4"), []int64{5}},
			{"NoSuchAction", q("action", "booking"), []int64{}},
			// from is inclusive, to exclusive.
			{"Instants", q("from", at[1].Format(time.RFC3339Nano), "to", at[3].Format(time.RFC3339Nano)), []int64{3, 2}},
			{"InstantsElsewhere", q("from", at[1].In(time.FixedZone("", -5*3600)).Format(time.RFC3339Nano)), []int64{5, 4, 3, 2}},
			{"Today", q("from", today, "to", today), []int64{5, 4, 3, 2, 1}},
			{"LongAgo", q("from", "2001-01-01", "to", "2001-01-01"), []int64{}},
			{"Tomorrow", q("from", time.Now().Add(24*time.Hour).In(time.FixedZone("", 8*3600)).Format(time.DateOnly)), []int64{}},
		}
		for _, c := range cases {
			if got, next := list(t, e, c.query); !slices.Equal(got, c.want) || next != 0 {
				t.Errorf("%s: GET /audit?%s lists %v next %d, want %v and no next", c.name, c.query, got, next, c.want)
			}
		}
	})

	t.Run("Paging", func(t *testing.T) {
		t.Parallel()
		var got []int64
		var nexts []int64
		for after := int64(0); ; {
			seqs, next := list(t, e, q("limit", "2", "after", itoa(after)))
			got = append(got, seqs...)
			nexts = append(nexts, next)
			if next == 0 {
				break
			}
			after = next
		}
		if !slices.Equal(got, []int64{5, 4, 3, 2, 1}) || !slices.Equal(nexts, []int64{4, 2, 0}) {
			t.Fatalf("pages of 2 list %v with nexts %v, want 5..1 with nexts 4, 2, null", got, nexts)
		}
		if seqs, next := list(t, e, q("limit", "5")); len(seqs) != 5 || next != 0 {
			t.Errorf("limit 5 of 5 entries: %v next %d, want no next page", seqs, next)
		}
		if seqs, next := list(t, e, q("actor", "user:3", "limit", "1")); !slices.Equal(seqs, []int64{2}) || next != 2 {
			t.Errorf("user:3 by 1: %v next %d, want [2] next 2", seqs, next)
		}
		if seqs, next := list(t, e, q("actor", "user:3", "limit", "1", "after", "2")); !slices.Equal(seqs, []int64{1}) || next != 0 {
			t.Errorf("user:3 by 1 after 2: %v next %d, want [1] and no next", seqs, next)
		}
	})

	t.Run("Body", func(t *testing.T) {
		t.Parallel()
		code, body := get(t, e, q("subject", "booking:13"))
		var raw struct {
			Entries []map[string]any `json:"entries"`
			Next    any              `json:"next"`
		}
		if err := json.Unmarshal(body, &raw); code != 200 || err != nil || len(raw.Entries) != 2 || raw.Next != nil {
			t.Fatalf("GET /audit?subject=booking:13: %d %s", code, body)
		}
		created, noShow := raw.Entries[0], raw.Entries[1]
		if a, _ := json.Marshal(noShow["actor"]); string(a) != `{"kind":"system"}` {
			t.Errorf("system actor as %s", a)
		}
		if a, _ := json.Marshal(created["actor"]); string(a) != `{"id":4,"kind":"user"}` {
			t.Errorf("user actor as %s", a)
		}
		for _, k := range []string{"id", "chain_seq", "at", "action", "subject", "before", "after", "hash", "prev_hash"} {
			if _, ok := created[k]; !ok {
				t.Errorf("entry %v lacks %s", created, k)
			}
		}
		if created["before"] != nil || len(created["hash"].(string)) != 64 {
			t.Errorf("entry %v: want before null and a hex hash", created)
		}
		code, body = get(t, e, q("actor", "device:3"))
		if code != 200 || string(body) != `{"entries":[],"next":null}`+"\n" {
			t.Errorf("nothing found: %d %q, want an empty list", code, body)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		cases := []struct{ query, field string }{
			{q("actor", "robot:1"), "actor"},
			{q("actor", "user:0"), "actor"},
			{q("actor", "user:abc"), "actor"},
			{q("actor", "user"), "actor"},
			{q("actor", "system:1"), "actor"},
			{q("subject", "booking:\x00"), "subject"},
			{q("subject", "booking:\xff"), "subject"},
			{q("action", "booking.\x00"), "action"},
			{q("from", "yesterday"), "from"},
			{q("from", "2026-13-01"), "from"},
			{q("from", "1850-01-01"), "from"},
			{q("to", "1999-12-31T23:59:59Z"), "to"},
			{q("to", "2026-03-01T08:00:00"), "to"}, // no offset
			{q("from", "2026-03-02", "to", "2026-03-01"), "to"},
			{q("after", "-1"), "after"},
			{q("after", "x"), "after"},
			{q("limit", "0"), "limit"},
			{q("limit", "1001"), "limit"},
			{q("limit", "ten"), "limit"},
		}
		for _, c := range cases {
			code, body := get(t, e, c.query)
			var env api.Envelope
			if err := json.Unmarshal(body, &env); code != http.StatusUnprocessableEntity || err != nil || env.Error == nil ||
				env.Error.Code != "invalid_field" || env.Error.Field != c.field {
				t.Errorf("GET /audit?%s: %d %s, want 422 invalid_field %s", c.query, code, body, c.field)
			}
		}
	})
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
