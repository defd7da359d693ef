package scheduling

import (
	"fmt"
	"slices"
	"time"

	"examd/internal/refusal"
)

// ErrSlotOverlap refuses a publication with a slot that overlaps another
// of the same venue and subject (BK-OVERLAP).
var ErrSlotOverlap = refusal.New("slot_overlap", "该考场同一科目在此时段已有场次，不能重复发布")

// Limits of one publication: a fortnight of days, a day's sessions, every
// subject.
const (
	MaxWeekDays     = 14
	MaxWeekSessions = 8
)

// Session is a time window of a day, in minutes after midnight in
// Asia/Shanghai: Start included, End excluded.
type Session struct {
	Start, End int
}

// ParseSession reads a session from two clock times "HH:MM".
func ParseSession(start, end string) (Session, error) {
	s, err1 := time.Parse("15:04", start)
	e, err2 := time.Parse("15:04", end)
	if err1 != nil || err2 != nil {
		return Session{}, fmt.Errorf("session %q–%q: not two HH:MM times", start, end)
	}
	return Session{Start: s.Hour()*60 + s.Minute(), End: e.Hour()*60 + e.Minute()}, nil
}

// On returns the session's start and end on the calendar day d.
func (s Session) On(d time.Time) (time.Time, time.Time) {
	day := StartOfDay(d)
	return day.Add(time.Duration(s.Start) * time.Minute), day.Add(time.Duration(s.End) * time.Minute)
}

// String is the session as the pages show it: "08:00–10:00".
func (s Session) String() string {
	return fmt.Sprintf("%02d:%02d–%02d:%02d", s.Start/60, s.Start%60, s.End/60, s.End%60)
}

// Week is a publication of many slots in one step (a week of them, or
// up to a fortnight): every chosen day × session × subject at one venue,
// with the same licence class, seats and priority reserve.
type Week struct {
	VenueID          int64
	Days             []time.Time // calendar days, as from ParseDate
	Sessions         []Session
	Subjects         []int
	LicenceClass     string
	Capacity         int
	PriorityReserved int
	AdaptedVehicle   bool
	// Allocation is how every slot of the week gives its seats (RA-*):
	// "instant" (the default, when empty) or "ranked".
	Allocation string
}

// Overlap reports whether two slots overlap (BK-OVERLAP): the same venue
// and subject, and time windows that share an instant. A slot that starts
// as another ends does not overlap it.
func Overlap(a, b Slot) bool {
	return a.VenueID == b.VenueID && a.Subject == b.Subject &&
		a.StartsAt.Before(b.EndsAt) && b.StartsAt.Before(a.EndsAt)
}

// Slots validates the publication as of now and returns its slots, by
// day, then session, then subject, each checked as NewSlot.Slot checks one
// (with its default times). Every bad field is refused at once
// (refusal.List): those of one slot are those of the form ("days" for a
// day whose session is already over, "sessions" for a session that ends
// before it starts or overlaps another of the form).
func (w Week) Slots(now time.Time) ([]Slot, error) {
	var bad refusal.List
	refuse := func(field, message string) {
		if !slices.ContainsFunc(bad, func(r *refusal.Error) bool { return r.Field == field }) {
			bad = append(bad, refusal.Invalid(field, message))
		}
	}
	if w.VenueID <= 0 {
		refuse("venue_id", "required")
	}
	days := slices.Clone(w.Days)
	slices.SortFunc(days, func(a, b time.Time) int { return a.Compare(b) })
	days = slices.Compact(days)
	switch {
	case len(days) == 0:
		refuse("days", "choose at least one day")
	case len(days) > MaxWeekDays:
		refuse("days", fmt.Sprintf("at most %d days at once", MaxWeekDays))
	case days[0].Before(Day(now)):
		refuse("days", "a chosen day is in the past")
	}
	switch {
	case len(w.Sessions) == 0:
		refuse("sessions", "at least one session")
	case len(w.Sessions) > MaxWeekSessions:
		refuse("sessions", fmt.Sprintf("at most %d sessions a day", MaxWeekSessions))
	}
	for i, s := range w.Sessions {
		switch {
		case s.Start < 0 || s.End >= 24*60 || s.End <= s.Start:
			// A slot starts and ends on one day: by 23:59 at the latest.
			refuse("sessions", "each session ends after it starts, by 23:59 of its day")
		case slices.ContainsFunc(w.Sessions[:i], func(o Session) bool { return s.Start < o.End && o.Start < s.End }):
			// BK-OVERLAP within the form itself.
			refuse("sessions", "sessions must not overlap each other")
		}
	}
	subjects := slices.Compact(slices.Sorted(slices.Values(w.Subjects)))
	if len(subjects) == 0 || slices.ContainsFunc(subjects, func(s int) bool { return s < 2 || s > 4 }) {
		refuse("subjects", "one or more of 2, 3 and 4")
	}
	if len(bad) > 0 && (bad.Has("days") || bad.Has("sessions") || bad.Has("subjects")) {
		// The slots cannot be made; judge the shared fields on one of them.
		_, err := w.slot(now, time.Date(2199, 1, 1, 0, 0, 0, 0, time.UTC), Session{Start: 0, End: 60}, 2)
		for _, r := range refusal.All(err) {
			refuse(r.Field, r.Message)
		}
		return nil, bad.Err()
	}

	slots := make([]Slot, 0, len(days)*len(w.Sessions)*len(subjects))
	for _, d := range days {
		for _, s := range w.Sessions {
			for _, subject := range subjects {
				sl, err := w.slot(now, d, s, subject)
				for _, r := range refusal.All(err) {
					switch r.Field {
					case "ends_at", "starts_at", "booking_closes_at", "booking_opens_at", "reserve_release_at":
						refuse("days", fmt.Sprintf("%s %s is already over", d.Format(time.DateOnly), s))
					default:
						refuse(r.Field, r.Message)
					}
				}
				slots = append(slots, sl)
			}
		}
	}
	if err := bad.Err(); err != nil {
		return nil, err
	}
	return slots, nil
}

// slot is the week's slot of subject at session s of day d.
func (w Week) slot(now, d time.Time, s Session, subject int) (Slot, error) {
	start, end := s.On(d)
	return NewSlot{
		VenueID: w.VenueID, Subject: subject, LicenceClass: w.LicenceClass,
		StartsAt: start, EndsAt: end, Capacity: w.Capacity, PriorityReserved: w.PriorityReserved,
		AdaptedVehicle: w.AdaptedVehicle, Allocation: w.Allocation,
	}.Slot(now)
}
