package web

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"examd/internal/refusal"
	"examd/scheduling"
)

// slotDays is how far ahead the slot page looks without a date.
const slotDays = 30

// maxPairs bounds the combined-exam offers one page lists.
const maxPairs = 100

// slotQuery is the slot page's filter as its form sends it. The licence
// class is always the candidate's own.
type slotQuery struct {
	Subject string // "", "2", "3", "4", "23" for the combined exam, or "234" for the all-subjects day
	Date    string // YYYY-MM-DD, or "" for the next slotDays days
	Venue   int64
}

// parseSlotQuery reads the filter, dropping values that mean nothing: the
// form offers only valid ones.
func parseSlotQuery(q url.Values) slotQuery {
	var s slotQuery
	if v := q.Get("subject"); slices.Contains([]string{"2", "3", "4", "23", "234"}, v) {
		s.Subject = v
	}
	if v := q.Get("date"); v != "" {
		if _, err := scheduling.ParseDate(v); err == nil {
			s.Date = v
		}
	}
	if n, err := strconv.ParseInt(q.Get("venue"), 10, 64); err == nil && n > 0 {
		s.Venue = n
	}
	return s
}

// Encode is the filter as a query string, so that a booking form returns to
// the same list.
func (s slotQuery) Encode() string {
	q := url.Values{}
	if s.Subject != "" {
		q.Set("subject", s.Subject)
	}
	if s.Date != "" {
		q.Set("date", s.Date)
	}
	if s.Venue != 0 {
		q.Set("venue", strconv.FormatInt(s.Venue, 10))
	}
	return q.Encode()
}

// Singles reports whether the page lists single slots; Pairs whether it
// lists combined exams.
func (s slotQuery) Singles() bool { return s.Subject != "23" && s.Subject != "234" }

// Pairs reports whether the page lists combined subject 2 + 3 exams.
func (s slotQuery) Pairs() bool { return s.Subject == "" || s.Subject == "23" }

// Packages reports whether the page lists all-subjects days (BK-PACKAGE).
func (s slotQuery) Packages() bool { return s.Subject == "234" }

// filter is the store's filter for the candidate's class from today on.
func (s slotQuery) filter(class string, today time.Time) scheduling.SlotFilter {
	f := scheduling.SlotFilter{LicenceClass: class, VenueID: s.Venue, From: today, To: today.AddDate(0, 0, slotDays)}
	if s.Date != "" {
		d, _ := scheduling.ParseDate(s.Date)
		f.From, f.To = d, d
	}
	switch s.Subject {
	case "2", "3", "4":
		f.Subject = int(s.Subject[0] - '0')
	}
	return f
}

// slotRow is a slot as the candidate sees it.
type slotRow struct {
	Key              string
	ID               int64
	Subject          int
	Venue            string
	StartsAt, EndsAt time.Time
	SeatsLeft        int
	Open             bool // taking bookings now (BK-WINDOW)
	// Ranked: the slot takes applications (RA-*), offered as 申请.
	Ranked            bool
	OpensAt           time.Time
	Adapted, StepFree bool
	// Mine: the candidate holds a confirmed booking of this slot.
	Mine bool
	// Waiting is the candidate's place on the slot's waitlist, 0 when not on it.
	Waiting int
	// Blocked is the refusal of scheduling.CheckSubject for the candidate,
	// the subject and the slot's day (BlockedKey its message), "" when the
	// candidate may book it.
	Blocked, BlockedKey string
}

// Bookable reports whether the slot's book button is offered.
func (r slotRow) Bookable() bool { return r.Open && r.SeatsLeft > 0 && !r.Mine && r.Blocked == "" }

// block marks the rows the candidate cannot book, whatever the seats: the
// rules of the candidate, the subject and the day (scheduling.CheckSubject).
func block(rows []slotRow, c scheduling.Candidate) {
	for i, r := range rows {
		if err, ok := refusal.As(scheduling.CheckSubject(c, r.Subject, scheduling.Day(r.StartsAt))); ok {
			rows[i].Blocked, rows[i].BlockedKey = err.Code, refusalKey(err.Code)
		}
	}
}

// pairRow is a combined subject 2 + 3 exam the candidate may book in one step.
type pairRow struct {
	Key    string
	S2, S3 slotRow
}

// Bookable reports whether both halves take a booking now.
func (p pairRow) Bookable() bool { return p.S2.Bookable() && p.S3.Bookable() }

// Ranked reports whether the pair takes combined applications (RA-*)
// instead of bookings: both halves are ranked slots.
func (p pairRow) Ranked() bool { return p.S2.Ranked }

// Blocked is the half that the candidate cannot book, subject 2 first, or nil.
func (p pairRow) Blocked() *slotRow {
	switch {
	case p.S2.Blocked != "":
		return &p.S2
	case p.S3.Blocked != "":
		return &p.S3
	}
	return nil
}

// slotRows shows the slots whose booking window has not closed, for a
// candidate in the lane or not (PL-RESERVE decides the seats left), marking
// the slots the candidate has booked.
func slotRows(slots []scheduling.Slot, venues map[int64]string, mine map[int64]bool, waiting map[int64]int, lane bool, now time.Time) []slotRow {
	rows := []slotRow{}
	for _, s := range slots {
		if !now.Before(s.BookingClosesAt) {
			continue
		}
		rows = append(rows, slotRow{
			Key: fmt.Sprintf("slot-%d", s.ID), ID: s.ID, Subject: s.Subject, Venue: venues[s.VenueID],
			StartsAt: s.StartsAt, EndsAt: s.EndsAt, SeatsLeft: max(0, s.SeatsLeft(lane, now)),
			Open: s.Open(now), OpensAt: s.BookingOpensAt,
			Adapted: s.AdaptedVehicle, StepFree: s.VenueStepFree, Mine: mine[s.ID], Ranked: s.Ranked(), Waiting: waiting[s.ID],
		})
	}
	return rows
}

// offered are the slots a filter found for a candidate, as the pages that
// offer seats show them.
type offered struct {
	Venues []scheduling.Venue
	Found  []scheduling.Slot
	// Rows are Found's rows whose window has not closed, judged by the
	// booking rules (block).
	Rows []slotRow
	// Rules are the candidate as the booking rules see them.
	Rules scheduling.Candidate
	// Truncated: the filter found more slots than it lists.
	Truncated bool
}

// offerSlots reads the slots of filter f for candidate id and judges them
// as every page offering seats does (the candidate's slot list and
// application form, the counter): seats left for the candidate's lane,
// the slots of the confirmed bookings among bs marked theirs, their
// waitlist places (waiting, nil for none), the rows they may not book
// blocked with the rule's reason.
func (h Handler) offerSlots(ctx context.Context, id int64, f scheduling.SlotFilter, bs []scheduling.Booking, waiting map[int64]int, now time.Time) (offered, error) {
	var o offered
	var err error
	if o.Venues, err = h.Scheduling.Venues(ctx); err != nil {
		return o, err
	}
	if o.Found, o.Truncated, err = h.Scheduling.FindSlots(ctx, f); err != nil {
		return o, err
	}
	if o.Rules, err = h.Scheduling.RulesCandidate(ctx, id); err != nil {
		return o, err
	}
	mine := map[int64]bool{}
	for _, b := range bs {
		mine[b.SlotID] = mine[b.SlotID] || b.Status == scheduling.StatusConfirmed
	}
	o.Rows = slotRows(o.Found, venueNames(o.Venues), mine, waiting, o.Rules.Priority != nil, now)
	block(o.Rows, o.Rules)
	return o, nil
}

// combinedPairs offers the valid combined exams among slots: a subject 2
// and a subject 3 slot at the same venue that scheduling.CheckCombined
// accepts (BK-COMBINED: same day, subject 2 ending no later than subject 3
// starts), both taking bookings now, or both ranked slots taking
// applications now (never one of each). It lists at most maxPairs, by start,
// and reports whether there were more.
func combinedPairs(slots []scheduling.Slot, rows []slotRow) (pairs []pairRow, truncated bool) {
	byID := map[int64]slotRow{}
	for _, r := range rows {
		byID[r.ID] = r
	}
	pairs = []pairRow{}
	for _, a := range slots {
		for _, b := range slots {
			// Two ranked slots are a pair applied for (RA-*, the combined
			// application form), two instant ones a pair booked here; a
			// ranked and an instant slot make no pair.
			if a.Subject != 2 || b.Subject != 3 || a.VenueID != b.VenueID || a.Ranked() != b.Ranked() {
				continue
			}
			if _, _, err := scheduling.CheckCombined(a, b); err != nil {
				continue
			}
			ra, okA := byID[a.ID]
			rb, okB := byID[b.ID]
			if !okA || !okB || !ra.Open || !rb.Open {
				continue
			}
			pairs = append(pairs, pairRow{Key: fmt.Sprintf("pair-%d-%d", a.ID, b.ID), S2: ra, S3: rb})
		}
	}
	slices.SortStableFunc(pairs, func(x, y pairRow) int {
		return cmp.Or(x.S2.StartsAt.Compare(y.S2.StartsAt), x.S3.StartsAt.Compare(y.S3.StartsAt))
	})
	if len(pairs) > maxPairs {
		return pairs[:maxPairs], true
	}
	return pairs, false
}
