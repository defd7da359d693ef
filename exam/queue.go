package exam

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"examd/internal/notify"
	"examd/scheduling"
)

// QueueBooking is a booking of a venue's exam day of one subject as the
// queue sees it (scheduling.DayQueue), with its attempts of the day.
type QueueBooking struct {
	scheduling.QueueBooking
	// Attempts is how many attempts it has had (BK-RETAKE: at most 2).
	Attempts int
	// InExamSince is the start of its attempt in progress; nil when none is.
	InExamSince *time.Time
}

// Waiting reports whether the booking waits for a car: confirmed, no
// attempt in progress, an attempt still to sit (the first, or the retake
// after a failed first, BK-RETAKE). Someone withdrawn, absent or done is
// not in the queue.
func (b QueueBooking) Waiting() bool {
	return b.Status == scheduling.StatusConfirmed && b.InExamSince == nil && b.Attempts < 2
}

// Pace is how fast a venue examines one subject today: the time an attempt
// takes and how many run at once.
type Pace struct {
	// PerAttempt is the median duration of the day's finished attempts, or
	// DefaultPerAttempt before one has finished.
	PerAttempt time.Duration
	// Measured is how many finished attempts PerAttempt is the median of:
	// 0 when it is the default.
	Measured int
	// Cars is how many attempts run at once: the venue's active devices of
	// the subject, at least those examining now, at least 1.
	Cars int
}

// DefaultPerAttempt is the time an attempt of subject is taken to last
// before the day has measured one: about what the exams take in practice,
// rounded up so that the first estimates of the day are late rather than
// early (a candidate called before the estimate is still in the hall; one
// told too early wanders off). Subject 2 (five field items for C1): 15
// minutes; subject 3 (the road route and its items): 25 minutes; subject 4
// (the theory paper's time limit): 45 minutes.
func DefaultPerAttempt(subject int) time.Duration {
	switch subject {
	case 2:
		return 15 * time.Minute
	case 3:
		return 25 * time.Minute
	default:
		return 45 * time.Minute
	}
}

// DayAttempt is an attempt of the day at a venue, as the pace measures it.
type DayAttempt struct {
	StartedAt  time.Time
	FinishedAt *time.Time
}

// PaceOf measures the pace of a subject's day: the median of the finished
// attempts (an attempt that ended as it began, a theory result, measures
// nothing), DefaultPerAttempt before any; cars are the devices of the
// subject, at least those examining now (inExam), at least one. The median
// is used rather than the mean so that an attempt that ended early on a
// fail-outright rule (SC-END) or ran long does not move every estimate.
func PaceOf(subject int, attempts []DayAttempt, devices, inExam int) Pace {
	var ds []time.Duration
	for _, a := range attempts {
		if a.FinishedAt != nil && a.FinishedAt.After(a.StartedAt) {
			ds = append(ds, a.FinishedAt.Sub(a.StartedAt))
		}
	}
	p := Pace{PerAttempt: DefaultPerAttempt(subject), Measured: len(ds), Cars: max(devices, inExam, 1)}
	if len(ds) == 0 {
		return p
	}
	slices.Sort(ds)
	if n := len(ds); n%2 == 1 {
		p.PerAttempt = ds[n/2]
	} else {
		p.PerAttempt = (ds[n/2-1] + ds[n/2]) / 2
	}
	return p
}

// QueuePlace is a waiting booking's place in the queue and when it is
// expected to be called.
type QueuePlace struct {
	BookingID   int64
	CandidateID int64
	// Place is 1 for the next to be called; Ahead is how many wait before.
	Place, Ahead int
	// CalledAt is the estimated time the booking is called, never before now
	// nor before its slot starts.
	CalledAt time.Time
}

// ExamOrder is the order a venue examines a subject's day in: slot by slot
// in order of start, and within a slot its roster's order (PL-ORDER,
// scheduling.Store.Roster): the priority lane first, then by booking time.
func ExamOrder(a, b scheduling.QueueBooking) int {
	return cmp.Or(
		a.StartsAt.Compare(b.StartsAt),
		cmpBool(a.Lane == scheduling.LanePriority, b.Lane == scheduling.LanePriority),
		a.BookedAt.Compare(b.BookedAt),
		cmp.Compare(a.ID, b.ID),
	)
}

// cmpBool orders true before false.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

// Queue places the waiting bookings of a subject's day at a venue, in exam
// order (ExamOrder), and estimates when each is called: each car takes the
// next waiting booking when it is free, an attempt in progress frees its car
// PerAttempt after it started (now, if that has passed), and nobody is called
// before their slot starts.
func Queue(bookings []QueueBooking, pace Pace, now time.Time) []QueuePlace {
	bs := slices.Clone(bookings)
	slices.SortFunc(bs, func(a, b QueueBooking) int { return ExamOrder(a.QueueBooking, b.QueueBooking) })
	var free []time.Time // when each car is free
	for _, b := range bs {
		if b.InExamSince != nil {
			free = append(free, latest(now, b.InExamSince.Add(pace.PerAttempt)))
		}
	}
	for len(free) < pace.Cars {
		free = append(free, now)
	}
	places := []QueuePlace{}
	for _, b := range bs {
		if !b.Waiting() {
			continue
		}
		car := 0
		for i := range free {
			if free[i].Before(free[car]) {
				car = i
			}
		}
		at := latest(free[car], b.StartsAt)
		free[car] = at.Add(pace.PerAttempt)
		n := len(places)
		places = append(places, QueuePlace{BookingID: b.ID, CandidateID: b.CandidateID, Place: n + 1, Ahead: n, CalledAt: at})
	}
	return places
}

// TurnNext is the booking that an attempt's start has made next in the queue
// (place 1), to be told "your turn is next": nil when nobody waits, or when
// the next one has been examined before (a retake after a failed first is
// called at once; they know).
func TurnNext(bookings []QueueBooking, places []QueuePlace) *QueueBooking {
	if len(places) == 0 {
		return nil
	}
	for _, b := range bookings {
		if b.ID == places[0].BookingID && b.Attempts == 0 {
			return &b
		}
	}
	return nil
}

// turnNote tells a candidate that their exam of subject calls them next.
func turnNote(candidateID int64, subject int) notify.Note {
	return notify.Note{CandidateID: candidateID, Kind: notify.KindTurnNext, Link: "/candidate",
		ZH: fmt.Sprintf("下一位就是您：科目%s考试即将叫号，请在候考区等候，留意叫号。", scheduling.SubjectZh(subject)),
		EN: fmt.Sprintf("Your turn is next: your subject %d exam calls you next. Please wait in the waiting room and listen for your call.", subject),
	}
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
