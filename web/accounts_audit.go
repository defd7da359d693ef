package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/audit"
	"examd/internal/refusal"
	"examd/scheduling"
)

// auditActions are the actions examd records, in the order the filter
// offers them; each has its name in the catalogue as audit.action.<action>.
// An action missing here still shows, by its raw name.
var auditActions = []string{
	"user.created",
	"booking.created", "booking.cancelled", "booking.no_show", "day.closed",
	"application.created", "application.withdrawn", "slots.allocated", "slot.allocation_changed",
	"waitlist.joined", "waitlist.left", "waitlist.kept",
	"priority.granted", "priority.revoked", "priority.declined", "package.granted", "package.revoked",
	"device.key_issued", "device.retired", "display.token_issued", "display.revoked",
	"attempt.opened", "attempt.finished", "attempt.confirmed", "attempt.corrected", "correction.confirmed",
	"issuance.ready", "issuance.withdrawn", "issuance.accept", "issuance.review_fee", "issuance.print",
}

// auditPageSize is how many entries a page of the log shows.
const auditPageSize = 50

// auditRow is an entry as the page shows it.
type auditRow struct {
	audit.Row
	At string // the instant to the second, in Asia/Shanghai
	// By names the actor; About the subject's pages (a booking has two).
	By    auditRef
	About []auditRef
	// Before and After are the subject's state as indented JSON, "" for none.
	Before, After string
}

// auditChoice is an option of the actor filter.
type auditChoice struct {
	Value, Label string
	Selected     bool
}

// auditView is the data of the audit page.
type auditView struct {
	Rows []auditRow
	// Query is the filter as the form shows it.
	Query struct{ Action, Actor, Subject, From, To string }
	// Actions are the filter's known actions; Other the filtered action
	// when it is not one of them.
	Actions []string
	Other   string
	Actors  []auditChoice
	// First links the first page, when this is not it; Next the next page.
	First, Next string
	Refusal     formErrors
	// Verified is the chain's check, when asked for with ?verify=1.
	Verified *audit.Report
}

// auditPage lists the audit log, newest first, with the API's filters
// (audit.ParseFilter): action, actor, subject, a range of days, and paging.
func (h Handler) auditPage(c echo.Context) error {
	ctx := c.Request().Context()
	q := maps.Clone(c.QueryParams())
	v := auditView{Actions: auditActions, Rows: []auditRow{}}
	v.Query.Action, v.Query.Actor, v.Query.Subject = q.Get("action"), q.Get("actor"), q.Get("subject")
	v.Query.From, v.Query.To = q.Get("from"), q.Get("to")
	if v.Query.Action != "" && !slices.Contains(auditActions, v.Query.Action) {
		v.Other = v.Query.Action
	}
	names, err := h.auditActors(c, &v)
	if err != nil {
		return err
	}
	if !q.Has("limit") {
		q.Set("limit", strconv.Itoa(auditPageSize))
	}
	f, err := audit.ParseFilter(q)
	var ae *refusal.Error
	switch {
	case errors.As(err, &ae) && ae.Field != "":
		key := "audit.err." + ae.Field
		if ae.Field == "after" || ae.Field == "limit" {
			key = "audit.err.paging"
		}
		v.Refusal = one(ae.Field, key)
		return h.render(c, api.Status(ae.Code), "admin_audit", "audit.title", v)
	case err != nil:
		return err
	}
	rows, next, err := h.Audit.List(ctx, f)
	if err != nil {
		return err
	}
	for _, r := range rows {
		row := auditRow{Row: r, At: r.At.In(scheduling.Shanghai).Format(time.DateTime), Before: indentJSON(r.Before), After: indentJSON(r.After)}
		if row.By, err = names.actor(r.Actor); err != nil {
			return err
		}
		if row.About, err = names.subjects(r); err != nil {
			return err
		}
		v.Rows = append(v.Rows, row)
	}
	if f.After > 0 {
		v.First = auditLink(q, 0)
	}
	if next > 0 {
		v.Next = auditLink(q, next)
	}
	if q.Get("verify") == "1" {
		rep, err := h.Audit.Verify(ctx)
		if err != nil {
			return err
		}
		v.Verified = &rep
	}
	return h.render(c, http.StatusOK, "admin_audit", "audit.title", v)
}

// auditActors offers the staff and the devices as actors to filter by,
// after the system; an actor filtered by that is neither (a candidate) is
// offered too, by its id. It returns them named for the page's entries.
func (h Handler) auditActors(c echo.Context, v *auditView) (*auditNames, error) {
	ctx := c.Request().Context()
	users, err := h.Accounts.StaffUsers(ctx)
	if err != nil {
		return nil, err
	}
	devices, err := h.Exams.Devices(ctx, 0)
	if err != nil {
		return nil, err
	}
	names := &auditNames{ctx: ctx, scheduling: h.Scheduling, staff: map[int64]auditRef{}, devices: map[int64]string{}, candidates: map[int64]*auditRef{}}
	v.Actors = []auditChoice{{Value: audit.KindSystem, Label: ""}}
	for _, u := range users {
		v.Actors = append(v.Actors, auditChoice{Value: audit.User(u.ID).String(), Label: u.Username})
		names.staff[u.ID] = auditRef{Name: u.Username, Role: "role." + u.Role, Href: fmt.Sprintf("/admin/users#user-%d", u.ID)}
	}
	for _, d := range devices {
		v.Actors = append(v.Actors, auditChoice{Value: audit.Device(d.ID).String(), Label: d.Name})
		names.devices[d.ID] = d.Name
	}
	found := false
	for i := range v.Actors {
		v.Actors[i].Selected = v.Actors[i].Value == v.Query.Actor
		found = found || v.Actors[i].Selected
	}
	if !found && v.Query.Actor != "" {
		v.Actors = append(v.Actors, auditChoice{Value: v.Query.Actor, Selected: true})
	}
	return names, nil
}

// auditLink is the page's URL with the query q and the cursor after (none for 0).
func auditLink(q url.Values, after int64) string {
	q = maps.Clone(q)
	q.Del("verify")
	q.Del("after")
	if q.Get("limit") == strconv.Itoa(auditPageSize) {
		q.Del("limit")
	}
	if after > 0 {
		q.Set("after", strconv.FormatInt(after, 10))
	}
	if len(q) == 0 {
		return "/admin/audit"
	}
	return "/admin/audit?" + q.Encode()
}

// indentJSON indents a state for reading, "" for none.
func indentJSON(j json.RawMessage) string {
	if len(j) == 0 {
		return ""
	}
	var b bytes.Buffer
	if json.Indent(&b, j, "", "  ") != nil {
		return string(j)
	}
	return b.String()
}
