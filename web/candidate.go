package web

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"examd/exam"
	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
	"examd/issuance"
	"examd/scheduling"
)

// me loads the calling candidate's profile; the header shows their name.
// On their own pages candidates see their own data.
func (h Handler) me(c echo.Context) (scheduling.CandidateProfile, error) {
	p, err := h.Scheduling.Candidate(c.Request().Context(), auth.Caller(c).UserID)
	if errors.Is(err, refusal.ErrNotFound) {
		return p, refusal.ErrNotFound
	}
	if err != nil {
		return p, err
	}
	c.Set(nameKey, p.Name)
	return p, nil
}

// journeyView is the data of the candidate's home page.
type journeyView struct {
	Me      scheduling.CandidateProfile
	Journey issuance.Journey
	// Offers are subjects 2, 3 and 4: bookable now, or why not.
	Offers map[int]subjectOffer
	// NextExam is the next booked exam, nil without one.
	NextExam *nextExam
	// Services are the ones the candidate may rate (SA-RATE), rated or not.
	Services []issuance.Service
	// LaneRequest is the latest priority-lane request, nil without one.
	LaneRequest *scheduling.LaneRequest
	// Queue is the candidate's place in today's queue, nil without an exam
	// today still to sit.
	Queue *exam.MyQueue
}

// NextIsBooking reports whether the next step is to book an exam and some
// subject can be booked now.
func (v journeyView) NextIsBooking() bool {
	if !strings.HasPrefix(v.Journey.Next.Code, "book_") {
		return false
	}
	for _, o := range v.Offers {
		if o.Bookable() {
			return true
		}
	}
	return false
}

// Offer is subject's offer; nil for subject 1, which is not booked here.
func (v journeyView) Offer(subject int) *subjectOffer {
	o, ok := v.Offers[subject]
	if !ok {
		return nil
	}
	return &o
}

// journey shows what is passed, what is next and what to bring.
func (h Handler) journey(c echo.Context) error {
	me, err := h.me(c)
	if err != nil {
		return err
	}
	ctx, now := c.Request().Context(), h.Now()
	if c.QueryParam("part") == "queue" {
		// The queue's section alone, which the page's script fetches again
		// every 30 seconds (queue.js).
		q, err := h.queueOf(ctx, me.ID, now)
		if err != nil {
			return err
		}
		return h.renderPart(c, "candidate_journey", "queue", journeyView{Me: me, Queue: q})
	}
	j, err := h.Issuing.Journey(ctx, me.ID, now)
	if err != nil {
		return err
	}
	v := journeyView{Me: me, Journey: j}
	if err := h.journeyExtras(ctx, &v, now, language(c) == langEn); err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "candidate_journey", "journey.title", v)
}

// slotsView is the data of the slot page.
type slotsView struct {
	Query  slotQuery
	Class  string
	Lane   bool
	Venues []scheduling.Venue
	Slots  []slotRow
	Pairs  []pairRow
	// Package is the candidate's package grant in force (BK-PACKAGE), nil
	// without one; PackageDays the days with all-subjects days to offer,
	// Packages those of the chosen day.
	Package           *scheduling.PackageGrant
	PackageDays       []packageDay
	Packages          []packageRow
	Truncated         bool
	Refusal           *rowRefusal
	IdempotencyKey    string
	FirstDay, LastDay string
}

// RefusalFor is the refusal to show next to the row key, if any.
func (v slotsView) RefusalFor(key string) *rowRefusal {
	if v.Refusal != nil && v.Refusal.Row == key {
		return v.Refusal
	}
	return nil
}

// option is a choice of a select.
type option struct {
	Value, Key string
	Selected   bool
}

// SubjectOptions are the choices of the subject filter.
func (v slotsView) SubjectOptions() []option {
	opts := []option{
		{"", "slots.all_subjects", false}, {"23", "subject.combined", false},
		{"2", "subject.2", false}, {"3", "subject.3", false}, {"4", "subject.4", false},
	}
	if v.Package != nil {
		opts = slices.Insert(opts, 1, option{"234", "subject.package", false})
	}
	for i := range opts {
		opts[i].Selected = opts[i].Value == v.Query.Subject
	}
	return opts
}

func (h Handler) slots(c echo.Context) error {
	return h.slotsPage(c, parseSlotQuery(c.QueryParams()), http.StatusOK, nil)
}

// slotsPage lists the open slots of the candidate's class, and the valid
// combined exams, with the refusal of the last booking next to its row.
func (h Handler) slotsPage(c echo.Context, q slotQuery, status int, ref *rowRefusal) error {
	me, err := h.me(c)
	if err != nil {
		return err
	}
	ctx, now := c.Request().Context(), h.Now()
	today := scheduling.Day(now)
	booked, err := h.Scheduling.Bookings(ctx, me.ID)
	if err != nil {
		return err
	}
	waits, err := h.Scheduling.MyWaitlist(ctx, me.ID, now)
	if err != nil {
		return err
	}
	o, err := h.offerSlots(ctx, me.ID, q.filter(me.LicenceClass, today), booked, waitlistPlaces(waits), now)
	if err != nil {
		return err
	}
	found, rows, rules := o.Found, o.Rows, o.Rules
	v := slotsView{
		Query: q, Class: me.LicenceClass, Lane: me.Priority != nil, Package: me.Package, Venues: o.Venues, Refusal: ref,
		Truncated: o.Truncated, IdempotencyKey: newIdempotencyKey(),
		FirstDay: today.Format(time.DateOnly), LastDay: today.AddDate(0, 0, slotDays).Format(time.DateOnly),
	}
	if q.Pairs() {
		var more bool
		v.Pairs, more = combinedPairs(found, rows)
		v.Truncated = v.Truncated || more
	}
	if q.Singles() {
		v.Slots = rows
	}
	if q.Packages() && v.Package != nil {
		// BK-PACKAGE: pick a day, then one of its all-subjects days.
		var more bool
		v.Packages, more = packageRows(found, rows, rules, now)
		v.Truncated = v.Truncated || more
		if q.Date == "" {
			v.PackageDays, v.Packages = packageDays(v.Packages), nil
		}
	}
	if ref != nil {
		ref.Placed = slices.ContainsFunc(v.Slots, func(r slotRow) bool { return r.Key == ref.Row }) ||
			slices.ContainsFunc(v.Pairs, func(p pairRow) bool { return p.Key == ref.Row }) ||
			slices.ContainsFunc(v.Packages, func(p packageRow) bool { return p.Key == ref.Row })
	}
	return h.render(c, status, "candidate_slots", "slots.title", v)
}

// book books one slot, the two of a combined exam, or the three of an
// all-subjects day in one step, through
// the API's own Booker: the same validation (the form's key is the
// Idempotency-Key) and the same outcome count.
func (h Handler) book(c echo.Context) error {
	req := c.Request()
	if err := req.ParseForm(); err != nil {
		return api.ErrBadRequest
	}
	var ids []int64
	for _, v := range req.PostForm["slot_id"] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			n = 0 // not an id: Validate refuses it with the other bad ones
		}
		ids = append(ids, n)
	}
	// The booking forms send the list's filter, so that a refusal shows
	// the same list with the message next to the row.
	q := parseSlotQuery(req.PostForm)
	p := auth.Caller(c)
	booked, err := h.booker().Book(req.Context(), scheduling.BookRequest{
		CandidateID: p.UserID, SlotIDs: ids, By: p.UserID, IdempotencyKey: req.PostFormValue("key"),
	}, h.Now())
	if ref, ok := rowRefusalOf(err, rowKey(ids)); ok {
		return h.slotsPage(c, q, ref.Status, ref)
	}
	if err != nil {
		return err
	}
	bs := booked.Bookings
	if len(bs) == 0 {
		return c.Redirect(http.StatusSeeOther, "/candidate/bookings?done=booked")
	}
	// The booking lands on its slip (预约凭证).
	return c.Redirect(http.StatusSeeOther, "/candidate/bookings/"+strconv.FormatInt(bs[0].ID, 10)+"?done=booked")
}

// booker is the API's Booker, on the pages' store and outcome counter.
func (h Handler) booker() scheduling.Booker {
	return scheduling.Booker{Store: h.Scheduling, Outcomes: h.Outcomes}
}

// rowKey names the row of the slot page whose button booked ids.
func rowKey(ids []int64) string {
	switch len(ids) {
	case 1:
		return "slot-" + strconv.FormatInt(ids[0], 10)
	case 2:
		return "pair-" + strconv.FormatInt(ids[0], 10) + "-" + strconv.FormatInt(ids[1], 10)
	case 3:
		return "package-" + strconv.FormatInt(ids[0], 10) + "-" + strconv.FormatInt(ids[1], 10) + "-" + strconv.FormatInt(ids[2], 10)
	}
	return ""
}

// newIdempotencyKey gives each rendering of the booking forms a key, so
// that a form sent twice (a double click, a reload) books once.
func newIdempotencyKey() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return "web-" + base64.RawURLEncoding.EncodeToString(b)
}

// bookingRow is one of the candidate's bookings as the list shows it.
type bookingRow struct {
	scheduling.Booking
	Key   string
	Venue string
	// Cancellable: the candidate may still cancel it (BK-CANCEL), until Deadline.
	Cancellable bool
	Deadline    time.Time
	// Offer: the waitlist booked it for the candidate, who may keep or
	// decline it; Kept: such a seat the candidate kept, or whose cancel
	// deadline passed (RA-WAIT).
	Offer, Kept bool
}

// bookingsView is the data of the bookings page.
type bookingsView struct {
	Bookings []bookingRow
	// Applications are the candidate's applications to ranked slots (RA-*).
	Applications []applicationRow
	// Waitlist holds the candidate's waitlist entries still waiting, and
	// those passed over.
	Waitlist []waitRow
	Refusal  *rowRefusal
}

// RefusalFor is the refusal to show next to the row key, if any.
func (v bookingsView) RefusalFor(key string) *rowRefusal {
	if v.Refusal != nil && v.Refusal.Row == key {
		return v.Refusal
	}
	return nil
}

func (h Handler) bookings(c echo.Context) error { return h.bookingsPage(c, http.StatusOK, nil) }

// bookingsPage lists the candidate's bookings, newest exam first, each
// confirmed one with its cancel button or the reason it has none.
func (h Handler) bookingsPage(c echo.Context, status int, ref *rowRefusal) error {
	me, err := h.me(c)
	if err != nil {
		return err
	}
	ctx, now := c.Request().Context(), h.Now()
	bs, err := h.Scheduling.Bookings(ctx, me.ID)
	if err != nil {
		return err
	}
	venues, err := h.Scheduling.Venues(ctx)
	if err != nil {
		return err
	}
	names := venueNames(venues)
	waits, err := h.Scheduling.MyWaitlist(ctx, me.ID, now)
	if err != nil {
		return err
	}
	offers := map[int64]string{}
	v := bookingsView{Bookings: []bookingRow{}, Waitlist: []waitRow{}, Refusal: ref}
	for _, e := range waits {
		switch e.State {
		case scheduling.WaitOffered, scheduling.WaitBooked:
			offers[*e.BookingID] = e.State
		case scheduling.WaitWaiting, scheduling.WaitSkipped:
			v.Waitlist = append(v.Waitlist, waitRow{WaitlistEntry: e, Key: "wait-" + strconv.FormatInt(e.ID, 10), Venue: names[e.VenueID]})
		}
	}
	for _, b := range bs {
		cancellable := scheduling.CheckCancel(b.Status, b.ExamDay, false, now) == nil
		v.Bookings = append(v.Bookings, bookingRow{
			Booking: b, Key: "booking-" + strconv.FormatInt(b.ID, 10), Venue: names[b.VenueID],
			Cancellable: cancellable, Deadline: scheduling.CancelDeadline(b.ExamDay),
			Offer: offers[b.ID] == scheduling.WaitOffered && cancellable,
			Kept:  offers[b.ID] == scheduling.WaitBooked,
		})
	}
	if v.Applications, err = h.applications(c, me.ID, now); err != nil {
		return err
	}
	if ref != nil {
		ref.Placed = slices.ContainsFunc(v.Bookings, func(b bookingRow) bool { return b.Key == ref.Row }) ||
			slices.ContainsFunc(v.Applications, func(a applicationRow) bool { return a.Key == ref.Row })
	}
	return h.render(c, status, "candidate_bookings", "bookings.title", v)
}

// cancel cancels one of the candidate's bookings, and the other half of a
// combined booking when the box is ticked.
func (h Handler) cancel(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	p := auth.Caller(c)
	_, err = h.booker().Cancel(c.Request().Context(), scheduling.CancelRequest{
		BookingID: id, Owner: p.UserID, By: p.UserID,
		WithPair: c.Request().PostFormValue("with_pair") == "1",
	}, h.Now())
	if errors.Is(err, refusal.ErrNotFound) {
		return refusal.ErrNotFound
	}
	if ref, ok := rowRefusalOf(err, "booking-"+strconv.FormatInt(id, 10)); ok {
		return h.bookingsPage(c, ref.Status, ref)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/candidate/bookings?done=cancelled")
}
