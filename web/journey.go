package web

import (
	"context"
	"errors"
	"slices"
	"time"

	"examd/internal/refusal"
	"examd/scheduling"
)

// subjectOffer tells whether the journey offers booking a subject: from
// First (a day within the slot page's window), or not, for the reason named
// by Code and Key (the catalogue's refusal.<code>), in the domain's words.
type subjectOffer struct {
	Subject int
	First   time.Time
	// Later: the first day is not today (a waiting period or cool-down ends
	// within the window).
	Later     bool
	Code, Key string
}

// Bookable reports whether the subject is offered as an action.
func (o subjectOffer) Bookable() bool { return o.Code == "" }

// offers are subjects 2, 3 and 4 as scheduling.FirstBookableDay sees them
// over the slot page's days from today.
func offers(c scheduling.Candidate, now time.Time) map[int]subjectOffer {
	today := scheduling.Day(now)
	m := map[int]subjectOffer{}
	for subject := 2; subject <= 4; subject++ {
		o := subjectOffer{Subject: subject}
		d, err := scheduling.FirstBookableDay(c, subject, today, today.AddDate(0, 0, slotDays))
		if r, ok := refusal.As(err); ok {
			o.Code, o.Key = r.Code, refusalKey(r.Code)
		} else {
			o.First, o.Later = d, d.After(today)
		}
		m[subject] = o
	}
	return m
}

// nextExam is the candidate's next booked exam, as the journey's next step
// names it: when, where and when to arrive (the slip's arrival time).
type nextExam struct {
	Bookings []scheduling.Booking // a combined exam's two halves, subject 2 first
	Venue    scheduling.Venue
	Arrival  time.Time
	Subjects string // the subjects' names in the page's language
}

// Starts is when the first exam starts.
func (n nextExam) Starts() time.Time { return n.Bookings[0].StartsAt }

// nextExamOf is the first confirmed booking yet to start, with the others
// booked with it (a combined exam, an all-subjects day), or nil.
func (h Handler) nextExamOf(ctx context.Context, bs []scheduling.Booking, now time.Time, en bool) (*nextExam, error) {
	var next []scheduling.Booking
	for _, b := range bs {
		if b.Status != scheduling.StatusConfirmed || !b.StartsAt.After(now) {
			continue
		}
		if len(next) == 0 || b.StartsAt.Before(next[0].StartsAt) {
			next = []scheduling.Booking{b}
		}
	}
	if len(next) == 0 {
		return nil, nil
	}
	for _, b := range bs {
		if scheduling.BookedWith(next[0], b) && b.Status == scheduling.StatusConfirmed {
			next = append(next, b)
		}
	}
	slices.SortFunc(next, func(x, y scheduling.Booking) int { return x.StartsAt.Compare(y.StartsAt) })
	n := &nextExam{Bookings: next, Arrival: scheduling.ArrivalAt(next[0].StartsAt), Subjects: subjectNames(next, en)}
	venues, err := h.Scheduling.Venues(ctx)
	if err != nil {
		return nil, err
	}
	for _, v := range venues {
		if v.ID == next[0].VenueID {
			n.Venue = v
		}
	}
	return n, nil
}

// latestLaneRequest is the candidate's latest priority-lane request, or nil.
func (h Handler) latestLaneRequest(ctx context.Context, candidateID int64) (*scheduling.LaneRequest, error) {
	r, err := h.Scheduling.LatestLaneRequest(ctx, candidateID)
	if errors.Is(err, refusal.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// journeyExtras loads what the journey shows beyond issuance.Journey: the
// subjects offered, the next exam, today's queue, the services to rate and
// the lane request.
func (h Handler) journeyExtras(ctx context.Context, v *journeyView, now time.Time, en bool) error {
	c, err := h.Scheduling.RulesCandidate(ctx, v.Me.ID)
	if err != nil {
		return err
	}
	v.Offers = offers(c, now)
	bs, err := h.Scheduling.Bookings(ctx, v.Me.ID)
	if err != nil {
		return err
	}
	if v.NextExam, err = h.nextExamOf(ctx, bs, now, en); err != nil {
		return err
	}
	if v.Services, err = h.Issuing.Services(ctx, v.Me.ID); err != nil {
		return err
	}
	if v.Queue, err = h.queueOf(ctx, v.Me.ID, now); err != nil {
		return err
	}
	v.LaneRequest, err = h.latestLaneRequest(ctx, v.Me.ID)
	return err
}
