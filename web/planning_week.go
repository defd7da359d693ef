package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"examd/internal/auth"
	"examd/internal/refusal"
	"examd/scheduling"
)

// The scheduler's week: a venue, days, sessions and subjects in one form,
// a preview of every slot it makes, and one step that publishes them all
// (scheduling.Week, Store.CreateSlots: all or nothing, BK-OVERLAP).

// weekSessionRows is the number of session rows the form offers.
const weekSessionRows = 4

// weekDay is a day the form offers.
type weekDay struct {
	Value   string // YYYY-MM-DD
	Date    time.Time
	Checked bool
}

// Weekday is the day's weekday, 0 for Sunday (key hall.weekday.N).
func (d weekDay) Weekday() int { return int(d.Date.Weekday()) }

// weekSession is a session row of the form, as sent.
type weekSession struct {
	N          int
	Start, End string
}

// weekRow is a slot of the preview.
type weekRow struct {
	scheduling.Slot
	// Clash is the published slot it overlaps, if any (BK-OVERLAP).
	Clash *scheduling.Slot
}

// Weekday is the slot's weekday in Asia/Shanghai, 0 for Sunday.
func (r weekRow) Weekday() int { return int(r.StartsAt.In(scheduling.Shanghai).Weekday()) }

// weekView is the data of the week page.
type weekView struct {
	Venues   []scheduling.Venue
	Classes  []scheduling.LicenceClassName
	Days     []weekDay
	Sessions []weekSession
	Form     url.Values
	Err      formErrors
	// Preview is every slot the form makes, Clashes how many of them
	// overlap a published one.
	Preview []weekRow
	Clashes int
}

// Value is what the form's field shows: what was sent, or its default.
func (v weekView) Value(field, def string) string {
	if v.Form.Has(field) {
		return v.Form.Get(field)
	}
	return def
}

// SubjectChecked reports whether the subject's box is ticked: as sent, or
// subject 2 on a fresh form.
func (v weekView) SubjectChecked(s string) bool {
	if !v.Form.Has("venue_id") {
		return s == "2"
	}
	return slices.Contains(v.Form["subjects"], s)
}

// Subjects are the subjects a slot may hold.
func (weekView) Subjects() []string { return []string{"2", "3", "4"} }

func (h Handler) planWeek(c echo.Context) error {
	return h.weekPage(c, http.StatusOK, url.Values{}, nil, nil, nil)
}

// weekPage shows the week form with what was sent, its refusals, and the
// preview of its slots with those that overlap published ones.
func (h Handler) weekPage(c echo.Context, status int, form url.Values, ferr formErrors, preview []scheduling.Slot, clashes []scheduling.Slot) error {
	ctx := c.Request().Context()
	venues, err := h.Scheduling.Venues(ctx)
	if err != nil {
		return err
	}
	classes, err := h.Scheduling.LicenceClasses(ctx)
	if err != nil {
		return err
	}
	v := weekView{Venues: venues, Classes: classes, Form: form, Err: ferr}
	tomorrow := scheduling.Day(h.Now()).AddDate(0, 0, 1)
	for i := range scheduling.MaxWeekDays {
		d := tomorrow.AddDate(0, 0, i)
		value := d.Format(time.DateOnly)
		v.Days = append(v.Days, weekDay{Value: value, Date: scheduling.StartOfDay(d), Checked: slices.Contains(form["days"], value)})
	}
	starts, ends := form["session_start"], form["session_end"]
	if !form.Has("venue_id") {
		starts, ends = []string{"08:00", "14:00"}, []string{"10:00", "16:00"}
	}
	for i := range weekSessionRows {
		s := weekSession{N: i + 1}
		if i < len(starts) {
			s.Start = starts[i]
		}
		if i < len(ends) {
			s.End = ends[i]
		}
		v.Sessions = append(v.Sessions, s)
	}
	for _, sl := range preview {
		row := weekRow{Slot: sl}
		for _, o := range clashes {
			if scheduling.Overlap(sl, o) {
				row.Clash = &o
				v.Clashes++
				break
			}
		}
		v.Preview = append(v.Preview, row)
	}
	return h.render(c, status, "admin_week", "plan.week.title", v)
}

// weekOf reads the week form into a scheduling.Week, with the fields it
// could not read. A session row left empty is no session.
func weekOf(f url.Values) (w scheduling.Week, unread refusal.List) {
	bad := func(field string) {
		if !unread.Has(field) {
			unread = append(unread, refusal.Invalid(field, "malformed"))
		}
	}
	var err error
	if w.VenueID, err = strconv.ParseInt(f.Get("venue_id"), 10, 64); err != nil {
		bad("venue_id")
	}
	for _, v := range f["days"] {
		d, err := scheduling.ParseDate(v)
		if err != nil {
			bad("days")
			continue
		}
		w.Days = append(w.Days, d)
	}
	starts, ends := f["session_start"], f["session_end"]
	for i := range max(len(starts), len(ends)) {
		var start, end string
		if i < len(starts) {
			start = strings.TrimSpace(starts[i])
		}
		if i < len(ends) {
			end = strings.TrimSpace(ends[i])
		}
		if start == "" && end == "" {
			continue
		}
		s, err := scheduling.ParseSession(start, end)
		if err != nil {
			bad("sessions")
			continue
		}
		w.Sessions = append(w.Sessions, s)
	}
	for _, v := range f["subjects"] {
		n, err := strconv.Atoi(v)
		if err != nil {
			bad("subjects")
			continue
		}
		w.Subjects = append(w.Subjects, n)
	}
	w.LicenceClass = strings.TrimSpace(f.Get("licence_class"))
	if w.LicenceClass == "" || len(w.LicenceClass) > 8 {
		bad("licence_class")
	}
	if w.Capacity, err = strconv.Atoi(strings.TrimSpace(f.Get("capacity"))); err != nil {
		bad("capacity")
	}
	if v := strings.TrimSpace(f.Get("priority_reserved")); v != "" {
		if w.PriorityReserved, err = strconv.Atoi(v); err != nil {
			bad("priority_reserved")
		}
	}
	w.AdaptedVehicle = f.Get("adapted_vehicle") == "1"
	w.Allocation = f.Get("allocation")
	return w, unread
}

// planPublishWeek previews the week's slots (action preview), or publishes
// them all in one step (action publish) and returns to the venue's slots.
func (h Handler) planPublishWeek(c echo.Context) error {
	f, err := postForm(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	w, unread := weekOf(f)
	slots, err := w.Slots(h.Now())
	if err := alongside(unread, err); err != nil {
		fe, ok := formErrorOf(err)
		if !ok {
			return err
		}
		return h.weekPage(c, http.StatusUnprocessableEntity, f, fe, nil, nil)
	}
	if f.Get("action") == "publish" {
		_, err := h.Scheduling.CreateSlots(ctx, slots, auth.Caller(c).UserID)
		if err == nil {
			q := url.Values{"venue": {strconv.FormatInt(w.VenueID, 10)}, "done": {"week_published"}}
			return c.Redirect(http.StatusSeeOther, "/admin/slots?"+q.Encode())
		}
		if !errors.Is(err, scheduling.ErrSlotOverlap) {
			if fe, ok := formErrorOf(err); ok {
				return h.weekPage(c, http.StatusUnprocessableEntity, f, fe, nil, nil)
			}
			return err
		}
		// Nothing was published: show which slots overlap which.
		clashes, cerr := h.Scheduling.Overlapping(ctx, slots)
		if cerr != nil {
			return cerr
		}
		return h.weekPage(c, http.StatusConflict, f, one("form", refusalKey(scheduling.ErrSlotOverlap.Code)), slots, clashes)
	}
	clashes, err := h.Scheduling.Overlapping(ctx, slots)
	if err != nil {
		return err
	}
	return h.weekPage(c, http.StatusOK, f, nil, slots, clashes)
}
