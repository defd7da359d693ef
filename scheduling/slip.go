package scheduling

import (
	"context"
	"fmt"
	"time"
)

// ArrivalLead is how long before a slot's start the candidate must be at
// the venue: the booking slip (预约凭证) gives the arrival time, and the
// sources name no figure, so examd asks for half an hour (check-in and the
// identity check come before the exam).
const ArrivalLead = 30 * time.Minute

// ArrivalAt is when the candidate of a slot starting at startsAt must arrive.
func ArrivalAt(startsAt time.Time) time.Time { return startsAt.Add(-ArrivalLead).In(Shanghai) }

// BookingNumber is the number the slip, its QR code and the counter name a
// booking by: "YY" (预约) and the booking's id on at least 8 digits.
func BookingNumber(id int64) string { return fmt.Sprintf("YY%08d", id) }

// CancelDeadline is the instant from which a candidate may no longer cancel
// a booking of examDay themselves (BK-CANCEL: until the end of the day
// before the exam, in Asia/Shanghai).
func CancelDeadline(examDay time.Time) time.Time { return StartOfDay(examDay) }

// cancelDeadlineSQL is CancelDeadline in SQL, of the date expression day.
func cancelDeadlineSQL(day string) string {
	return "(" + day + "::timestamp AT TIME ZONE 'Asia/Shanghai')"
}

// RulesCandidate loads the candidate as the booking rules see them (class,
// grant, history), for pages that tell what can be booked now.
func (s *Store) RulesCandidate(ctx context.Context, id int64) (Candidate, error) {
	return LoadCandidate(ctx, s.db, id)
}
