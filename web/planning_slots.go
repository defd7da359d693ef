package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
	"examd/scheduling"
)

// localMinute is the value of an <input type="datetime-local">.
const localMinute = "2006-01-02T15:04"

// planSlotRow is a slot as the planners' list shows it.
type planSlotRow struct {
	scheduling.Slot
	Venue string
	// Free is the unbooked seats; Held those of them still held for the
	// priority lane (PL-RESERVE).
	Free, Held int
	// Status is the slot's state now: not_open, open, closed or over.
	Status string
}

// slotStatus is the state of s at now, for the list.
func slotStatus(s scheduling.Slot, now time.Time) string {
	switch {
	case !now.Before(s.EndsAt):
		return "over"
	case !now.Before(s.BookingClosesAt):
		return "closed"
	case now.Before(s.BookingOpensAt):
		return "not_open"
	}
	return "open"
}

// planSlotsView is the data of the slot page: the filtered list and the
// form that publishes a slot.
type planSlotsView struct {
	Query     slotQuery
	Venues    []scheduling.Venue
	Classes   []scheduling.LicenceClassName
	Slots     []planSlotRow
	Truncated bool
	Form      url.Values
	Err       formErrors
	// Today is the date the form starts with.
	Today string
}

// SubjectOptions are the choices of the subject filter.
func (v planSlotsView) SubjectOptions() []option {
	opts := []option{{"", "slots.all_subjects", false}, {"2", "subject.2", false}, {"3", "subject.3", false}, {"4", "subject.4", false}}
	for i := range opts {
		opts[i].Selected = opts[i].Value == v.Query.Subject
	}
	return opts
}

// Subjects are the subjects a slot may hold.
func (planSlotsView) Subjects() []string { return []string{"2", "3", "4"} }

// Value is what the form's field shows: what was sent, or its default.
func (v planSlotsView) Value(field, def string) string {
	if v.Form.Has(field) {
		return v.Form.Get(field)
	}
	return def
}

func (h Handler) planSlots(c echo.Context) error {
	q := parseSlotQuery(c.QueryParams())
	if q.Subject == "23" {
		q.Subject = ""
	}
	return h.planSlotsPage(c, q, http.StatusOK, url.Values{}, nil)
}

// planSlotsPage lists the slots of the filter q, every licence class, and
// shows the form to publish one with what was sent and its refusal.
func (h Handler) planSlotsPage(c echo.Context, q slotQuery, status int, form url.Values, ferr formErrors) error {
	ctx, now := c.Request().Context(), h.Now()
	venues, err := h.Scheduling.Venues(ctx)
	if err != nil {
		return err
	}
	classes, err := h.Scheduling.LicenceClasses(ctx)
	if err != nil {
		return err
	}
	today := scheduling.Day(now)
	found, truncated, err := h.Scheduling.FindSlots(ctx, q.filter("", today))
	if err != nil {
		return err
	}
	names := venueNames(venues)
	rows := make([]planSlotRow, len(found))
	for i, s := range found {
		rows[i] = planSlotRow{Slot: s, Venue: names[s.VenueID], Free: s.Free(), Held: s.HeldForLane(now), Status: slotStatus(s, now)}
	}
	return h.render(c, status, "admin_slots", "plan.slots.title", planSlotsView{
		Query: q, Venues: venues, Classes: classes, Slots: rows, Truncated: truncated,
		Form: form, Err: ferr, Today: today.AddDate(0, 0, 1).Format(time.DateOnly),
	})
}

// newSlotOf reads the slot form into what POST /slots takes: the start and
// end as a date and two times of day in Asia/Shanghai, the optional times
// as datetime-local values. unread are the fields it could not read, each
// refused; the others are read even so, so that the domain can judge them
// in the same answer.
func newSlotOf(f url.Values) (n scheduling.NewSlot, unread refusal.List) {
	bad := func(field string) { unread = append(unread, refusal.Invalid(field, "malformed")) }
	var err error
	if n.VenueID, err = strconv.ParseInt(f.Get("venue_id"), 10, 64); err != nil {
		bad("venue_id")
	}
	if n.Subject, err = strconv.Atoi(f.Get("subject")); err != nil {
		bad("subject")
	}
	n.LicenceClass = strings.TrimSpace(f.Get("licence_class"))
	if n.LicenceClass == "" || len(n.LicenceClass) > 8 {
		bad("licence_class")
	}
	day, dayErr := scheduling.ParseDate(f.Get("date"))
	if dayErr != nil {
		bad("date")
	}
	at := func(field string) time.Time {
		t, err := time.ParseInLocation("15:04", f.Get(field), scheduling.Shanghai)
		if err != nil {
			bad(field)
			return time.Time{}
		}
		return scheduling.StartOfDay(day).Add(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute)
	}
	n.StartsAt, n.EndsAt = at("starts_at"), at("ends_at")
	if n.Capacity, err = strconv.Atoi(strings.TrimSpace(f.Get("capacity"))); err != nil {
		bad("capacity")
	}
	if v := strings.TrimSpace(f.Get("priority_reserved")); v != "" {
		if n.PriorityReserved, err = strconv.Atoi(v); err != nil {
			bad("priority_reserved")
		}
	}
	for _, o := range []struct {
		field string
		dst   **time.Time
	}{{"reserve_release_at", &n.ReserveReleaseAt}, {"booking_opens_at", &n.BookingOpensAt}, {"booking_closes_at", &n.BookingClosesAt}} {
		if v := f.Get(o.field); v != "" {
			t, err := time.ParseInLocation(localMinute, v, scheduling.Shanghai)
			if err != nil {
				bad(o.field)
				continue
			}
			*o.dst = &t
		}
	}
	n.AdaptedVehicle = f.Get("adapted_vehicle") == "1"
	n.Allocation = f.Get("allocation")
	return n, unread
}

// timesOf are the fields of a slot computed from its date and times: not
// judged again when one of those could not be read.
func timesOf(unread refusal.List) []string {
	for _, r := range unread {
		if r.Field == "date" || r.Field == "starts_at" || r.Field == "ends_at" {
			return []string{"starts_at", "ends_at", "reserve_release_at", "booking_opens_at", "booking_closes_at"}
		}
	}
	return nil
}

// planCreateSlot publishes a slot, as POST /slots does, and returns to the
// list of its day.
func (h Handler) planCreateSlot(c echo.Context) error {
	f, err := postForm(c)
	if err != nil {
		return err
	}
	refuse := func(err error) error {
		fe, ok := formErrorOf(err)
		if !ok {
			return err
		}
		return h.planSlotsPage(c, parseSlotQuery(url.Values{"date": {f.Get("date")}}), http.StatusUnprocessableEntity, f, fe)
	}
	n, unread := newSlotOf(f)
	s, err := n.Slot(h.Now())
	if err := alongside(unread, err, timesOf(unread)...); err != nil {
		return refuse(err)
	}
	s, err = h.Scheduling.CreateSlot(c.Request().Context(), s, auth.Caller(c).UserID)
	if err != nil {
		return refuse(err)
	}
	q := url.Values{"date": {s.Day().Format(time.DateOnly)}, "done": {"slot_created"}}
	return c.Redirect(http.StatusSeeOther, "/admin/slots?"+q.Encode()+"#slot-"+strconv.FormatInt(s.ID, 10))
}

// rosterView is the data of a slot's roster page.
type rosterView struct {
	Slot   planSlotRow
	Roster []scheduling.RosterEntry
	// Slots are the slots the move forms offer; Key the booking form's
	// Idempotency-Key; Refusal a counter form's refusal.
	Slots   []counterSlot
	Key     string
	Refusal *rowRefusal
	// Counter reports that the caller may book, cancel and move (not the
	// venue's examiner, who may only close the slot).
	Counter bool
	// PrintedAt is when the page was made, on the printed roster.
	PrintedAt time.Time
	// Waitlist is the slot's waitlist, ranked, names and ID numbers masked.
	Waitlist []scheduling.WaitlistEntry
}

// RefusalFor is the refusal to show next to the row key, if any.
func (v rosterView) RefusalFor(key string) *rowRefusal {
	if v.Refusal != nil && v.Refusal.Row == key {
		return v.Refusal
	}
	return nil
}

// planRoster shows a slot and its candidates in exam order (PL-ORDER): the
// priority lane first, marked, with their needs.
func (h Handler) planRoster(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	return h.rosterPage(c, http.StatusOK, id, nil)
}

// rosterPage shows the roster of slot id with the counter's forms and the
// refusal ref of one of them.
func (h Handler) rosterPage(c echo.Context, status int, id int64, ref *rowRefusal) error {
	ctx, now := c.Request().Context(), h.Now()
	s, err := h.Scheduling.Slot(ctx, id)
	if errors.Is(err, refusal.ErrNotFound) {
		return refusal.ErrNotFound
	}
	if err != nil {
		return err
	}
	if venue := examinerVenue(c); venue != 0 && venue != s.VenueID {
		return refusal.ErrNotFound // another venue's slot
	}
	roster, err := h.Scheduling.Roster(ctx, id)
	if err != nil {
		return err
	}
	venues, err := h.Scheduling.Venues(ctx)
	if err != nil {
		return err
	}
	row := planSlotRow{Slot: s, Venue: venueNames(venues)[s.VenueID], Free: s.Free(), Held: s.HeldForLane(now), Status: slotStatus(s, now)}
	v := rosterView{Slot: row, Roster: roster, Key: newIdempotencyKey(), Refusal: ref, Counter: examinerVenue(c) == 0, PrintedAt: now}
	if v.Slots, err = h.counterSlots(ctx, s.LicenceClass); err != nil {
		return err
	}
	if v.Waitlist, err = h.Scheduling.SlotWaitlist(ctx, id, now); err != nil {
		return err
	}
	if ref != nil {
		ref.Placed = ref.Row == "book" || ref.Row == "close" || ref.Row == "allocation" && v.Counter ||
			slices.ContainsFunc(roster, func(e scheduling.RosterEntry) bool { return ref.Row == fmt.Sprintf("booking-%d", e.BookingID) })
	}
	return h.render(c, status, "admin_slot", "plan.roster.title", v)
}

// planSetAllocation switches the slot between instant and ranked
// allocation, as PATCH /slots/{id} does, once the scheduler ticked the
// confirmation; a refusal is shown next to the form.
func (h Handler) planSetAllocation(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	f, err := postForm(c)
	if err != nil {
		return err
	}
	if f.Get("confirm") != "yes" {
		return h.rosterPage(c, http.StatusUnprocessableEntity, id, &rowRefusal{Row: "allocation", Code: "confirm",
			Key: "plan.allocation.confirm_needed", Status: http.StatusUnprocessableEntity})
	}
	_, err = h.Scheduling.SetAllocation(c.Request().Context(), id, f.Get("allocation"), auth.Caller(c).UserID, h.Now())
	if errors.Is(err, refusal.ErrNotFound) {
		return err
	}
	if ref, ok := rowRefusalOf(err, "allocation"); ok {
		return h.rosterPage(c, ref.Status, id, ref)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/slots/%d?done=allocation_changed#allocation-h", id))
}
