package web

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"examd/scheduling"
)

// The counter's all-subjects day (套餐定制, BK-PACKAGE): for a candidate
// holding a package grant in force, the candidate's staff page offers the
// subject 2, 3 and 4 combinations of one day that fit, as the candidate's
// own slot page lists them (offerSlots, packageRows: candidatePageWith),
// each with a button that books the three through the API's Booker
// (counterBookCandidate).

// bookedOf are the bookings among bs that the query's booked= names (the
// three of an all-subjects day just booked at the counter), by subject; an
// id that is not one of the candidate's bookings is ignored.
func bookedOf(booked string, bs []candidateBooking) []candidateBooking {
	if booked == "" {
		return nil
	}
	var out []candidateBooking
	for _, v := range strings.Split(booked, ",") {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		if i := slices.IndexFunc(bs, func(b candidateBooking) bool { return b.ID == id }); i >= 0 && !slices.ContainsFunc(out, func(b candidateBooking) bool { return b.ID == id }) {
			out = append(out, bs[i])
		}
	}
	slices.SortFunc(out, func(a, b candidateBooking) int { return cmp.Compare(a.Subject, b.Subject) })
	return out
}

// Number is the booking's number as its slip prints it.
func (b candidateBooking) Number() string { return scheduling.BookingNumber(b.ID) }
