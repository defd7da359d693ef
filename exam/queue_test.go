package exam_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"examd/exam"
	"examd/scheduling"
)

// day is 2026-03-02 in Asia/Shanghai at hh:mm.
func day(hh, mm int) time.Time {
	return time.Date(2026, 3, 2, hh, mm, 0, 0, scheduling.Shanghai)
}

// qb is a booking of the queue: id, lane, booked at 07:00 plus id minutes
// (so ids are in booking order), in the slot starting at 08:00, confirmed.
func qb(id int64, mods ...func(*exam.QueueBooking)) exam.QueueBooking {
	b := exam.QueueBooking{QueueBooking: scheduling.QueueBooking{ID: id, CandidateID: 100 + id,
		Status: scheduling.StatusConfirmed, Lane: scheduling.LaneRegular, BookedAt: day(7, int(id)), StartsAt: day(8, 0)}}
	for _, m := range mods {
		m(&b)
	}
	return b
}

func lane(b *exam.QueueBooking) { b.Lane = scheduling.LanePriority }
func status(s string) func(*exam.QueueBooking) {
	return func(b *exam.QueueBooking) { b.Status = s }
}
func inExamSince(t time.Time) func(*exam.QueueBooking) {
	return func(b *exam.QueueBooking) { b.InExamSince, b.Attempts = &t, b.Attempts+1 }
}
func attempts(n int) func(*exam.QueueBooking) {
	return func(b *exam.QueueBooking) { b.Attempts = n }
}
func slotAt(t time.Time) func(*exam.QueueBooking) {
	return func(b *exam.QueueBooking) { b.StartsAt = t }
}

// places shows a queue as "id:place@HH:MM" in order.
func places(ps []exam.QueuePlace) string {
	var s []string
	for _, p := range ps {
		if p.Ahead != p.Place-1 {
			return fmt.Sprintf("booking %d: place %d with %d ahead", p.BookingID, p.Place, p.Ahead)
		}
		s = append(s, fmt.Sprintf("%d:%d@%s", p.BookingID, p.Place, p.CalledAt.In(scheduling.Shanghai).Format("15:04")))
	}
	return strings.Join(s, " ")
}

func TestQueue(t *testing.T) {
	t.Parallel()
	min := func(n int) time.Duration { return time.Duration(n) * time.Minute }
	for _, c := range []struct {
		name     string
		bookings []exam.QueueBooking
		pace     exam.Pace
		now      time.Time
		want     string
	}{
		{"FirstOfTheDayBeforeTheSlot", // called from the slot's start, the default pace
			[]exam.QueueBooking{qb(1), qb(2), qb(3)}, exam.PaceOf(2, nil, 0, 0), day(7, 30),
			"1:1@08:00 2:2@08:15 3:3@08:30"},
		{"InBookingOrder", // whatever order they are given in
			[]exam.QueueBooking{qb(3), qb(1), qb(2)}, exam.Pace{PerAttempt: min(10), Cars: 1}, day(8, 0),
			"1:1@08:00 2:2@08:10 3:3@08:20"},
		{"LaneFirst", // PL-ORDER: booked last, called first
			[]exam.QueueBooking{qb(1), qb(2), qb(3, lane)}, exam.Pace{PerAttempt: min(10), Cars: 1}, day(8, 0),
			"3:1@08:00 1:2@08:10 2:3@08:20"},
		{"LaneAheadOfTheWaitingNotOfTheExamined", // the lane candidate goes before those waiting, after the one in exam
			[]exam.QueueBooking{qb(1, inExamSince(day(8, 0))), qb(2), qb(3, lane)}, exam.Pace{PerAttempt: min(10), Cars: 1}, day(8, 5),
			"3:1@08:10 2:2@08:20"},
		{"WithdrawnAndAbsentLeaveTheQueue",
			[]exam.QueueBooking{qb(1, status(scheduling.StatusCancelled)), qb(2, status(scheduling.StatusNoShow)), qb(3)},
			exam.Pace{PerAttempt: min(10), Cars: 1}, day(8, 0),
			"3:1@08:00"},
		{"DoneLeaveTheQueue", // passed, failed, both attempts sat
			[]exam.QueueBooking{qb(1, status(scheduling.StatusPassed), attempts(1)), qb(2, status(scheduling.StatusFailed), attempts(2)), qb(3)},
			exam.Pace{PerAttempt: min(10), Cars: 1}, day(9, 0),
			"3:1@09:00"},
		{"RetakeKeepsItsPlace", // BK-RETAKE: a failed first waits for its retake where it stood
			[]exam.QueueBooking{qb(1, attempts(1)), qb(2)}, exam.Pace{PerAttempt: min(10), Cars: 1}, day(9, 0),
			"1:1@09:00 2:2@09:10"},
		{"TheLastOne",
			[]exam.QueueBooking{qb(1, inExamSince(day(8, 0))), qb(2, status(scheduling.StatusPassed), attempts(1)), qb(3)},
			exam.Pace{PerAttempt: min(20), Cars: 1}, day(8, 5),
			"3:1@08:20"},
		{"OverdueAttemptFreesItsCarNow", // not in the past
			[]exam.QueueBooking{qb(1, inExamSince(day(8, 0))), qb(2)}, exam.Pace{PerAttempt: min(10), Cars: 1}, day(8, 30),
			"2:1@08:30"},
		{"SeveralCars", // two cars, one busy until 08:15: the free one now, then the busy one
			[]exam.QueueBooking{qb(1, inExamSince(day(8, 0))), qb(2), qb(3), qb(4), qb(5)}, exam.Pace{PerAttempt: min(15), Cars: 2}, day(8, 5),
			"2:1@08:05 3:2@08:15 4:3@08:20 5:4@08:30"},
		{"MoreInExamThanCars", // the data says three run at once
			[]exam.QueueBooking{qb(1, inExamSince(day(8, 0))), qb(2, inExamSince(day(8, 2))), qb(3, inExamSince(day(8, 4))), qb(4)},
			exam.Pace{PerAttempt: min(10), Cars: 1}, day(8, 5),
			"4:1@08:10"},
		{"LaterSlotWaitsForItsStart", // the afternoon's slot after the morning's, whoever booked first
			[]exam.QueueBooking{qb(1, slotAt(day(13, 0))), qb(2)}, exam.Pace{PerAttempt: min(10), Cars: 2}, day(8, 0),
			"2:1@08:00 1:2@13:00"},
		{"NobodyWaits",
			[]exam.QueueBooking{qb(1, inExamSince(day(8, 0)))}, exam.Pace{PerAttempt: min(10), Cars: 1}, day(8, 5),
			""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := places(exam.Queue(c.bookings, c.pace, c.now)); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestPaceOf(t *testing.T) {
	t.Parallel()
	at := func(start, minutes int) exam.DayAttempt {
		s := day(8, start)
		f := s.Add(time.Duration(minutes) * time.Minute)
		return exam.DayAttempt{StartedAt: s, FinishedAt: &f}
	}
	running := exam.DayAttempt{StartedAt: day(8, 0)}
	for _, c := range []struct {
		name            string
		subject         int
		attempts        []exam.DayAttempt
		devices, inExam int
		want            exam.Pace
	}{
		{"DefaultSubject2", 2, nil, 0, 0, exam.Pace{PerAttempt: 15 * time.Minute, Cars: 1}},
		{"DefaultSubject3", 3, []exam.DayAttempt{running}, 3, 1, exam.Pace{PerAttempt: 25 * time.Minute, Cars: 3}},
		{"DefaultSubject4", 4, nil, 40, 0, exam.Pace{PerAttempt: 45 * time.Minute, Cars: 40}},
		{"TheoryResultsMeasureNothing", 4, []exam.DayAttempt{at(0, 0)}, 1, 0, exam.Pace{PerAttempt: 45 * time.Minute, Cars: 1}},
		{"MedianOdd", 2, []exam.DayAttempt{at(0, 3), at(5, 12), at(20, 40), running}, 2, 1,
			exam.Pace{PerAttempt: 12 * time.Minute, Measured: 3, Cars: 2}},
		{"MedianEven", 2, []exam.DayAttempt{at(0, 10), at(5, 14)}, 1, 0, exam.Pace{PerAttempt: 12 * time.Minute, Measured: 2, Cars: 1}},
		{"CarsAtLeastInExam", 2, nil, 1, 2, exam.Pace{PerAttempt: 15 * time.Minute, Cars: 2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := exam.PaceOf(c.subject, c.attempts, c.devices, c.inExam); got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestTurnNext(t *testing.T) {
	t.Parallel()
	pace := exam.Pace{PerAttempt: 10 * time.Minute, Cars: 1}
	for _, c := range []struct {
		name     string
		bookings []exam.QueueBooking
		want     int64 // 0: nobody
	}{
		{"TheFirstWaiting", []exam.QueueBooking{qb(1, inExamSince(day(8, 0))), qb(2), qb(3)}, 2},
		{"LaneOrder", []exam.QueueBooking{qb(1, inExamSince(day(8, 0))), qb(2), qb(3, lane)}, 3},
		{"NotARetake", []exam.QueueBooking{qb(1, inExamSince(day(8, 0))), qb(2, attempts(1)), qb(3)}, 0},
		{"NotTheExamined", []exam.QueueBooking{qb(1, status(scheduling.StatusPassed), attempts(1)), qb(2, inExamSince(day(8, 0)))}, 0},
		{"Nobody", nil, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got int64
			if b := exam.TurnNext(c.bookings, exam.Queue(c.bookings, pace, day(8, 5))); b != nil {
				got = b.ID
			}
			if got != c.want {
				t.Errorf("got booking %d, want %d", got, c.want)
			}
		})
	}
}
