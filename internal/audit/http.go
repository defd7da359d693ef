package audit

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/refusal"
)

// Handler serves the audit log to admins.
type Handler struct {
	DB *sqlx.DB
}

// List serves GET /api/v1/audit?action=&actor=&subject=&from=&to=&after=&limit=:
// 200 {"entries":[…],"next":<cursor or null>}, newest first; pass next as
// after for the following page. It first brings the chain up to date
// (Flush), so that it lists every entry committed before the request. cmd mounts it behind authentication and the
// admin role: this package cannot import auth, which records into it.
func (h Handler) List(c echo.Context) error {
	f, err := ParseFilter(c.QueryParams())
	if err != nil {
		return err
	}
	if err := flushForRead(c.Request().Context(), h.DB); err != nil {
		return err
	}
	rows, next, err := List(c.Request().Context(), h.DB, f)
	if err != nil {
		return err
	}
	var cursor *int64
	if next > 0 {
		cursor = &next
	}
	return c.JSON(http.StatusOK, struct {
		Entries []Row  `json:"entries"`
		Next    *int64 `json:"next"`
	}{rows, cursor})
}

// ParseFilter reads the query of GET /api/v1/audit (and of the admin's
// page). from and to take an RFC 3339 instant or a day YYYY-MM-DD in
// Asia/Shanghai: from is inclusive, to exclusive, and a day given as to is
// included whole. A refusal is an *refusal.Error naming the parameter.
func ParseFilter(q url.Values) (Filter, error) {
	f := Filter{Limit: DefaultLimit, Action: q.Get("action"), Subject: q.Get("subject")}
	if len(f.Action) > 100 || !api.Text(f.Action) {
		return f, refusal.Invalid("action", "at most 100 characters of text, such as user.created")
	}
	if v := q.Get("actor"); v != "" {
		a, err := ParseActor(v)
		if err != nil {
			return f, refusal.Invalid("actor", "user:<id>, device:<id> or system")
		}
		f.Actor = &a
	}
	if len(f.Subject) > 200 || !api.Text(f.Subject) {
		return f, refusal.Invalid("subject", "at most 200 characters of text, such as booking:12")
	}
	var err error
	if f.From, err = parseBound(q.Get("from"), false); err != nil {
		return f, refusal.Invalid("from", err.Error())
	}
	if f.To, err = parseBound(q.Get("to"), true); err != nil {
		return f, refusal.Invalid("to", err.Error())
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return f, refusal.Invalid("to", "must be after from (a day given as to counts whole)")
	}
	if v := q.Get("after"); v != "" {
		if f.After, err = strconv.ParseInt(v, 10, 64); err != nil || f.After < 0 {
			return f, refusal.Invalid("after", "the next of the previous page")
		}
	}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > MaxLimit {
			return f, refusal.Invalid("limit", fmt.Sprintf("1 to %d", MaxLimit))
		}
	}
	return f, nil
}

// shanghai is the office's time zone (scheduling.Shanghai). This package
// must not import scheduling, which will record into it.
var shanghai = time.FixedZone("Asia/Shanghai", 8*60*60)

// parseBound parses from or to: "" is no bound; a day is its start in
// Asia/Shanghai, or for an upper bound the start of the day after. Ranges and
// precision are scheduling.ParseInstant's and ParseDate's.
func parseBound(s string, upper bool) (time.Time, error) {
	const want = "an RFC 3339 instant or a date YYYY-MM-DD"
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		if t.Year() < 2000 || t.Year() > 2199 {
			return time.Time{}, fmt.Errorf("%s between the years 2000 and 2199", want)
		}
		return t.Truncate(time.Microsecond), nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, errors.New(want)
	}
	if d.Year() < 1900 || d.Year() > 2199 {
		return time.Time{}, fmt.Errorf("%s between the years 1900 and 2199", want)
	}
	if upper {
		d = d.AddDate(0, 0, 1)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, shanghai), nil
}
