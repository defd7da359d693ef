package web

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"examd/internal/refusal"
	"examd/scheduling"
)

// packageRow is an all-subjects day (BK-PACKAGE) the candidate may book in
// one step: a subject 2, 3 and 4 slot of one day at one venue, in order.
type packageRow struct {
	Key        string
	S2, S3, S4 slotRow
	// Blocked is scheduling.CheckPackage's refusal for the candidate
	// (BlockedKey its message), "" when the candidate may book it.
	Blocked, BlockedKey string
}

// Bookable reports whether all three slots take the booking now.
func (p packageRow) Bookable() bool {
	for _, r := range []slotRow{p.S2, p.S3, p.S4} {
		if !r.Open || r.SeatsLeft <= 0 || r.Mine {
			return false
		}
	}
	return p.Blocked == ""
}

// Mine reports whether the candidate holds one of its slots.
func (p packageRow) Mine() bool { return p.S2.Mine || p.S3.Mine || p.S4.Mine }

// packageDay is a day with all-subjects days to offer, and how many.
type packageDay struct {
	Day   time.Time
	Count int
}

// Date is the day as the slot filter's date.
func (d packageDay) Date() string { return d.Day.Format(time.DateOnly) }

// packageRows offers the all-subjects days among slots that fit
// (scheduling.CheckPackage's order and day), at one venue each, every slot
// taking bookings now, judged for candidate c at now. It lists at most
// maxPairs, by start, and reports whether there were more.
func packageRows(slots []scheduling.Slot, rows []slotRow, c scheduling.Candidate, now time.Time) (ps []packageRow, truncated bool) {
	byID := map[int64]slotRow{}
	for _, r := range rows {
		byID[r.ID] = r
	}
	bySubject := map[int][]scheduling.Slot{}
	for _, s := range slots {
		// Ranked slots are applied for one by one (RA-*), not booked here.
		if r, ok := byID[s.ID]; ok && r.Open && !s.Ranked() {
			bySubject[s.Subject] = append(bySubject[s.Subject], s)
		}
	}
	// fits judges the slots' order and day alone: a candidate who holds
	// the package stands in for c, whose own refusal is shown on the row.
	fits := c
	fits.HoldsPackage = true
	ps = []packageRow{}
	for _, a := range bySubject[2] {
		for _, b := range bySubject[3] {
			for _, d := range bySubject[4] {
				if a.VenueID != b.VenueID || b.VenueID != d.VenueID {
					continue
				}
				trio := []scheduling.Slot{a, b, d}
				if _, err := scheduling.CheckPackage(fits, trio, now); errors.Is(err, scheduling.ErrPackageInvalid) {
					continue
				}
				p := packageRow{Key: fmt.Sprintf("package-%d-%d-%d", a.ID, b.ID, d.ID), S2: byID[a.ID], S3: byID[b.ID], S4: byID[d.ID]}
				if _, err := scheduling.CheckPackage(c, trio, now); err != nil {
					if r, ok := refusal.As(err); ok {
						p.Blocked, p.BlockedKey = r.Code, refusalKey(r.Code)
					}
				}
				ps = append(ps, p)
			}
		}
	}
	slices.SortStableFunc(ps, func(x, y packageRow) int {
		return cmp.Or(x.S2.StartsAt.Compare(y.S2.StartsAt), x.S3.StartsAt.Compare(y.S3.StartsAt), x.S4.StartsAt.Compare(y.S4.StartsAt))
	})
	if len(ps) > maxPairs {
		return ps[:maxPairs], true
	}
	return ps, false
}

// packageDays are the days of ps, in order, with their counts.
func packageDays(ps []packageRow) []packageDay {
	days := []packageDay{}
	for _, p := range ps {
		d := scheduling.Day(p.S2.StartsAt)
		if n := len(days); n > 0 && days[n-1].Day.Equal(d) {
			days[n-1].Count++
			continue
		}
		days = append(days, packageDay{Day: d, Count: 1})
	}
	return days
}
