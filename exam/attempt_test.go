package exam_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"examd/exam"
	"examd/internal/refusal"
	"examd/scheduling"
)

// The exam day of every Apply test: a subject 2 slot of 2026-12-10 that
// starts at 08:30, and the clock at 09:00.
var (
	examDay   = time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC) // as the store returns a date
	slotStart = scheduling.StartOfDay(examDay).Add(8*time.Hour + 30*time.Minute)
	applyNow  = scheduling.StartOfDay(examDay).Add(9 * time.Hour)
)

// car is the device of every road test, at venue 1: subjects 2 and 3 in
// C1, C2 and B2, not adapted; terminal is the theory terminal beside it.
var (
	car = exam.Device{ID: 7, VenueID: 1, Name: "考试车 3号", VehiclePlate: "京A1234学",
		Subjects: []int64{2, 3}, LicenceClasses: []string{"B2", "C1", "C2"}}
	terminal = exam.Device{ID: 9, VenueID: 1, Name: "理论考试终端 1号", Subjects: []int64{4}, LicenceClasses: []string{"C1"}}
)

// examBooking is a confirmed C1 booking of subject on the exam day, changed by opts.
func examBooking(subject int, opts ...func(*scheduling.BookingForExam)) scheduling.BookingForExam {
	b := scheduling.BookingForExam{
		ID: 11, CandidateID: 3, Subject: subject, Status: scheduling.StatusConfirmed, Lane: scheduling.LaneRegular,
		ExamDay: examDay, SlotID: 5, StartsAt: slotStart, VenueID: 1, LicenceClass: "C1",
		Name: "张伟", IDNumber: "110101199001011234",
	}
	for _, opt := range opts {
		opt(&b)
	}
	return b
}

// attempt is an attempt of booking 11 on car, numbered no.
func attempt(no, score int, status string) exam.Attempt {
	return exam.Attempt{ID: 40 + int64(no), BookingID: 11, AttemptNo: no, DeviceID: car.ID, RuleVersion: 1,
		PassMark: 80, Score: score, Status: status}
}

func intp(n int) *int { return &n }

// Rules of the catalogue as the tests use them.
var (
	subject2  = 2
	subject3  = 3
	rpStop    = exam.Rule{Code: "RP.STOP", Subject: &subject2, Item: "reverse_parking", TextZh: "中途停车", Points: 5, Repeatable: true}
	handbrake = exam.Rule{Code: "GEN.HANDBRAKE_CORRECTED", Item: "any", TextZh: "起步未松驻车制动器，但能及时纠正", Points: 10}
	bodyOut   = exam.Rule{Code: "RP.BODY_OUT", Subject: &subject2, Item: "reverse_parking", TextZh: "车身出线", Points: exam.FailOutright, Repeatable: true}
	hsStall   = exam.Rule{Code: "HS.STALL", Subject: &subject2, Item: "hill_start", TextZh: "起步熄火", Points: 10, Repeatable: true}
	lcNoLook  = exam.Rule{Code: "LC.NO_LOOK", Subject: &subject3, Item: "lane_change", TextZh: "变更车道前未观察", Points: 100}
)

func TestAttemptApply(t *testing.T) {
	none := exam.Attempt{}
	running := func(score int) exam.Attempt { return attempt(1, score, exam.InProgress) }
	retaking := func(score int) exam.Attempt { return attempt(2, score, exam.InProgress) }
	ev := func(typ string, opts ...func(*exam.Event)) exam.Event {
		e := exam.Event{EventID: "e1", BookingID: 11, Type: typ, At: applyNow}
		for _, opt := range opts {
			opt(&e)
		}
		return e
	}
	item := func(s string) func(*exam.Event) { return func(e *exam.Event) { e.Item = s } }
	rule := func(s string) func(*exam.Event) { return func(e *exam.Event) { e.Rule = s } }
	score := func(n int) func(*exam.Event) { return func(e *exam.Event) { e.Score = intp(n) } }
	text := func(s string) func(*exam.Event) { return func(e *exam.Event) { e.Text = s } }
	deduct := func(r exam.Rule) exam.Event { return ev(exam.Deduction, rule(r.Code)) }
	facts := func(b scheduling.BookingForExam) exam.Facts {
		if b.Subject == 4 {
			return exam.Facts{Device: terminal, Booking: b}
		}
		return exam.Facts{Device: car, Booking: b}
	}
	// on is booking b examined on dev, changed by opts.
	on := func(b scheduling.BookingForExam, dev exam.Device, opts ...func(*exam.Device)) exam.Facts {
		for _, opt := range opts {
			opt(&dev)
		}
		return exam.Facts{Device: dev, Booking: b}
	}
	serving := func(subjects []int64, classes ...string) func(*exam.Device) {
		return func(d *exam.Device) { d.Subjects, d.LicenceClasses = subjects, classes }
	}
	adaptedCar := func(d *exam.Device) { d.AdaptedVehicle = true }
	busy := func(f exam.Facts) exam.Facts { f.DeviceBusy = true; return f }
	needs := func(n ...string) func(*scheduling.BookingForExam) {
		return func(b *scheduling.BookingForExam) { b.Needs = n }
	}
	with := func(r exam.Rule, before bool) exam.Facts {
		f := facts(examBooking(2))
		f.Rule, f.DeductedBefore = &r, before
		return f
	}
	status := func(s string) func(*scheduling.BookingForExam) {
		return func(b *scheduling.BookingForExam) { b.Status = s }
	}
	class := func(c string) func(*scheduling.BookingForExam) {
		return func(b *scheduling.BookingForExam) { b.LicenceClass = c }
	}
	otherCar := func(a exam.Attempt) exam.Attempt { a.DeviceID = 8; return a }
	const (
		passed, failed, inProgress   = exam.Passed, exam.Failed, exam.InProgress
		bookingPassed, bookingFailed = scheduling.StatusPassed, scheduling.StatusFailed
	)

	for _, tt := range []struct {
		name string
		a    exam.Attempt
		ev   exam.Event
		f    exam.Facts
		at   time.Time // zero: applyNow

		want  error  // a refusal
		code  string // its API code
		field string // the field of an invalid_field refusal

		no       int // the attempt as the event leaves it
		score    int
		status   string
		passMark int // checked when set
		open     bool
		late     bool
		points   int
		booking  string   // the booking's result, "" while it stays confirmed
		feed     []string // the feed events' types
	}{
		// exam_started opens the first attempt, at 100 (SC-SCALE), with its pass mark (SC-PASS).
		{name: "exam_started/opens attempt 1", a: none, ev: ev(exam.ExamStarted), f: facts(examBooking(2)),
			no: 1, score: 100, status: inProgress, passMark: 80, open: true, feed: []string{"exam_started"}},
		{name: "exam_started/SC-PASS 90 for subject 2 of B2", a: none, ev: ev(exam.ExamStarted), f: facts(examBooking(2, class("B2"))),
			no: 1, score: 100, status: inProgress, passMark: 90, open: true, feed: []string{"exam_started"}},
		{name: "exam_started/SC-PASS 90 for subject 3", a: none, ev: ev(exam.ExamStarted), f: facts(examBooking(3)),
			no: 1, score: 100, status: inProgress, passMark: 90, open: true, feed: []string{"exam_started"}},
		{name: "exam_started/BK-RETAKE opens attempt 2 after a failed first", a: attempt(1, 70, failed), ev: ev(exam.ExamStarted), f: facts(examBooking(2)),
			no: 2, score: 100, status: inProgress, open: true, feed: []string{"exam_started"}},
		{name: "exam_started/BK-RETAKE on another car", a: otherCar(attempt(1, 70, failed)), ev: ev(exam.ExamStarted), f: facts(examBooking(2)),
			no: 2, score: 100, status: inProgress, open: true, feed: []string{"exam_started"}},
		{name: "exam_started/at the slot's start", a: none, ev: ev(exam.ExamStarted), f: facts(examBooking(2)), at: slotStart,
			no: 1, score: 100, status: inProgress, open: true, feed: []string{"exam_started"}},

		// The refusals of exam_started.
		{name: "exam_started/one second before the slot's start refused", a: none, ev: ev(exam.ExamStarted), f: facts(examBooking(2)), at: slotStart.Add(-time.Second),
			want: exam.ErrSlotNotStarted, code: "slot_not_started"},
		{name: "exam_started/the day before refused", a: none, ev: ev(exam.ExamStarted), f: facts(examBooking(2)), at: slotStart.AddDate(0, 0, -1),
			want: exam.ErrNotToday, code: "not_today"},
		{name: "exam_started/the day after refused", a: none, ev: ev(exam.ExamStarted), f: facts(examBooking(2)), at: slotStart.AddDate(0, 0, 1),
			want: exam.ErrNotToday, code: "not_today"},
		{name: "exam_started/other venue refused", a: none, ev: ev(exam.ExamStarted), f: facts(examBooking(2, func(b *scheduling.BookingForExam) { b.VenueID = 2 })),
			want: exam.ErrWrongVenue, code: "wrong_venue"},
		{name: "exam_started/cancelled booking refused", a: none, ev: ev(exam.ExamStarted), f: facts(examBooking(2, status(scheduling.StatusCancelled))),
			want: exam.ErrNotConfirmed, code: "not_confirmed"},
		{name: "exam_started/attempt in progress refused", a: running(95), ev: ev(exam.ExamStarted), f: facts(examBooking(2)),
			want: exam.ErrAttemptInProgress, code: "attempt_in_progress"},
		{name: "exam_started/BK-RETAKE after a failed retake refused", a: attempt(2, 60, failed), ev: ev(exam.ExamStarted), f: facts(examBooking(2, status(bookingFailed))),
			want: exam.ErrRetakeExhausted, code: "retake_exhausted"},
		{name: "exam_started/after a pass refused", a: attempt(1, 90, passed), ev: ev(exam.ExamStarted), f: facts(examBooking(2, status(bookingPassed))),
			want: exam.ErrAttemptFinished, code: "attempt_finished"},
		{name: "exam_started/for subject 4 refused", a: none, ev: ev(exam.ExamStarted), f: facts(examBooking(4)), field: "type"},

		// ED-ATTEMPT, PL-ACCESS: only a device that serves the booking's
		// subject and class, adapted when the candidate needs it, starts it.
		{name: "exam_started/subject 3 on a subject 2 car refused", a: none, ev: ev(exam.ExamStarted), f: on(examBooking(3), car, serving([]int64{2}, "C1")),
			want: exam.ErrWrongDevice, code: "wrong_device"},
		{name: "exam_started/subject 2 on a subject 2 car", a: none, ev: ev(exam.ExamStarted), f: on(examBooking(2), car, serving([]int64{2}, "C1")),
			no: 1, score: 100, status: inProgress, open: true, feed: []string{"exam_started"}},
		{name: "exam_started/subject 2 on a theory terminal refused", a: none, ev: ev(exam.ExamStarted), f: on(examBooking(2), terminal),
			want: exam.ErrWrongDevice, code: "wrong_device"},
		{name: "exam_started/C2 on a C1 car refused", a: none, ev: ev(exam.ExamStarted), f: on(examBooking(2, class("C2")), car, serving([]int64{2, 3}, "C1")),
			want: exam.ErrWrongDevice, code: "wrong_device"},
		{name: "exam_started/C2 on a C1 and C2 car", a: none, ev: ev(exam.ExamStarted), f: on(examBooking(2, class("C2")), car, serving([]int64{2, 3}, "C1", "C2")),
			no: 1, score: 100, status: inProgress, open: true, feed: []string{"exam_started"}},
		{name: "exam_started/a device of no class refused", a: none, ev: ev(exam.ExamStarted), f: on(examBooking(2), car, serving([]int64{2, 3})),
			want: exam.ErrWrongDevice, code: "wrong_device"},
		{name: "exam_started/PL-ACCESS adapted_vehicle on a C5 car not adapted refused", a: none, ev: ev(exam.ExamStarted),
			f:    on(examBooking(2, class("C5"), needs("step_free", "adapted_vehicle")), car, serving([]int64{2}, "C5")),
			want: exam.ErrWrongDevice, code: "wrong_device"},
		{name: "exam_started/PL-ACCESS adapted_vehicle on an adapted car", a: none, ev: ev(exam.ExamStarted),
			f:  on(examBooking(2, class("C5"), needs("step_free", "adapted_vehicle")), car, serving([]int64{2}, "C5"), adaptedCar),
			no: 1, score: 100, status: inProgress, open: true, feed: []string{"exam_started"}},
		{name: "exam_started/PL-ACCESS other needs on a car not adapted", a: none, ev: ev(exam.ExamStarted),
			f:  on(examBooking(2, class("C5"), needs("step_free", "sign_language")), car, serving([]int64{2}, "C5")),
			no: 1, score: 100, status: inProgress, open: true, feed: []string{"exam_started"}},
		{name: "exam_started/wrong device before the retake's rules", a: attempt(2, 60, failed), ev: ev(exam.ExamStarted), f: on(examBooking(3, status(bookingFailed)), car, serving([]int64{2}, "C1")),
			want: exam.ErrWrongDevice, code: "wrong_device"},
		{name: "exam_started/wrong venue before wrong device", a: none, ev: ev(exam.ExamStarted), f: on(examBooking(4, func(b *scheduling.BookingForExam) { b.VenueID = 2 }), car),
			want: exam.ErrWrongVenue, code: "wrong_venue"},

		// ED-ATTEMPT: one attempt in progress per device.
		{name: "exam_started/device busy refused", a: none, ev: ev(exam.ExamStarted), f: busy(facts(examBooking(2))),
			want: exam.ErrDeviceBusy, code: "device_busy"},
		{name: "exam_started/BK-RETAKE on a busy car refused", a: otherCar(attempt(1, 70, failed)), ev: ev(exam.ExamStarted), f: busy(facts(examBooking(2))),
			want: exam.ErrDeviceBusy, code: "device_busy"},
		{name: "exam_started/the booking's own attempt in progress says so, busy or not", a: running(95), ev: ev(exam.ExamStarted), f: busy(facts(examBooking(2))),
			want: exam.ErrAttemptInProgress, code: "attempt_in_progress"},
		{name: "deduction/on a busy car goes on", a: running(100), ev: deduct(rpStop), f: busy(with(rpStop, false)),
			no: 1, score: 95, status: inProgress, points: 5, feed: []string{"deduction"}},
		{name: "exam_finished/on a busy car ends it", a: running(80), ev: ev(exam.ExamFinished), f: busy(facts(examBooking(2))),
			no: 1, score: 80, status: passed, booking: bookingPassed, feed: []string{"exam_finished"}},

		// theory_result opens and ends a subject 4 attempt at once.
		{name: "theory_result/92 passes", a: none, ev: ev(exam.TheoryResult, score(92)), f: facts(examBooking(4)),
			no: 1, score: 92, status: passed, passMark: 90, open: true, points: 8, booking: bookingPassed, feed: []string{"theory_result"}},
		{name: "theory_result/90 passes", a: none, ev: ev(exam.TheoryResult, score(90)), f: facts(examBooking(4)),
			no: 1, score: 90, status: passed, open: true, points: 10, booking: bookingPassed, feed: []string{"theory_result"}},
		{name: "theory_result/89 fails and opens the retake", a: none, ev: ev(exam.TheoryResult, score(89)), f: facts(examBooking(4)),
			no: 1, score: 89, status: failed, open: true, points: 11, feed: []string{"theory_result", "retake_open"}},
		{name: "theory_result/BK-RETAKE failed retake fails the booking", a: attempt(1, 70, failed), ev: ev(exam.TheoryResult, score(60)), f: facts(examBooking(4)),
			no: 2, score: 60, status: failed, open: true, points: 40, booking: bookingFailed, feed: []string{"theory_result"}},
		{name: "theory_result/for subject 2 refused", a: none, ev: ev(exam.TheoryResult, score(95)), f: facts(examBooking(2)), field: "type"},
		{name: "theory_result/without a score refused", a: none, ev: ev(exam.TheoryResult), f: facts(examBooking(4)), field: "score"},
		{name: "theory_result/on an exam car refused", a: none, ev: ev(exam.TheoryResult, score(95)), f: on(examBooking(4), car),
			want: exam.ErrWrongDevice, code: "wrong_device"},
		{name: "theory_result/C2 on a C1 terminal refused", a: none, ev: ev(exam.TheoryResult, score(95)), f: on(examBooking(4, class("C2")), terminal),
			want: exam.ErrWrongDevice, code: "wrong_device"},
		{name: "theory_result/on a busy terminal refused", a: none, ev: ev(exam.TheoryResult, score(95)), f: busy(facts(examBooking(4))),
			want: exam.ErrDeviceBusy, code: "device_busy"},
		{name: "theory_result/before the slot's start refused", a: none, ev: ev(exam.TheoryResult, score(95)), f: facts(examBooking(4)), at: slotStart.Add(-time.Second),
			want: exam.ErrSlotNotStarted, code: "slot_not_started"},

		// item_started and item_finished are recorded; the score stays.
		{name: "item_started/recorded", a: running(95), ev: ev(exam.ItemStarted, item("hill_start")), f: facts(examBooking(2)),
			no: 1, score: 95, status: inProgress, feed: []string{"item_started"}},
		{name: "item_started/not an item of C2 refused", a: running(95), ev: ev(exam.ItemStarted, item("hill_start")), f: facts(examBooking(2, class("C2"))), field: "item"},
		{name: "item_started/without an item refused", a: running(95), ev: ev(exam.ItemStarted), f: facts(examBooking(2)), field: "item"},
		{name: "item_started/without an attempt refused", a: none, ev: ev(exam.ItemStarted, item("hill_start")), f: facts(examBooking(2)),
			want: exam.ErrNoAttempt, code: "no_attempt"},
		{name: "item_started/of an ended attempt refused", a: attempt(1, 70, failed), ev: ev(exam.ItemStarted, item("hill_start")), f: facts(examBooking(2)),
			want: exam.ErrAttemptFinished, code: "attempt_finished"},
		{name: "item_started/of a car the retake replaced refused", a: otherCar(retaking(100)), ev: ev(exam.ItemStarted, item("hill_start")), f: facts(examBooking(2)),
			want: exam.ErrAttemptFinished, code: "attempt_finished"},
		{name: "item_finished/recorded", a: running(95), ev: ev(exam.ItemFinished, item("hill_start")), f: facts(examBooking(2)),
			no: 1, score: 95, status: inProgress, feed: []string{"item_finished"}},
		{name: "item_finished/without an item recorded", a: running(95), ev: ev(exam.ItemFinished), f: facts(examBooking(2)),
			no: 1, score: 95, status: inProgress, feed: []string{"item_finished"}},
		{name: "item_finished/not an item of subject 2 refused", a: running(95), ev: ev(exam.ItemFinished, item("u_turn")), f: facts(examBooking(2)), field: "item"},
		{name: "item_finished/without an attempt refused", a: none, ev: ev(exam.ItemFinished), f: facts(examBooking(2)),
			want: exam.ErrNoAttempt, code: "no_attempt"},

		// instruction (PL-RELAY) is recorded.
		{name: "instruction/recorded", a: running(95), ev: ev(exam.Instruction, text("请倒车入库")), f: facts(examBooking(2)),
			no: 1, score: 95, status: inProgress, feed: []string{"instruction"}},
		{name: "instruction/without text refused", a: running(95), ev: ev(exam.Instruction), f: facts(examBooking(2)), field: "text"},
		{name: "instruction/of an ended attempt refused", a: attempt(1, 90, passed), ev: ev(exam.Instruction, text("请靠边停车")), f: facts(examBooking(2)),
			want: exam.ErrAttemptFinished, code: "attempt_finished"},

		// deduction: SC-SCALE, "each" and "once", SC-END.
		{name: "deduction/deducts", a: running(100), ev: deduct(rpStop), f: with(rpStop, false),
			no: 1, score: 95, status: inProgress, points: 5, feed: []string{"deduction"}},
		{name: "deduction/each: deducts again", a: running(95), ev: deduct(rpStop), f: with(rpStop, true),
			no: 1, score: 90, status: inProgress, points: 5, feed: []string{"deduction"}},
		{name: "deduction/once: first time deducts", a: running(100), ev: deduct(handbrake), f: with(handbrake, false),
			no: 1, score: 90, status: inProgress, points: 10, feed: []string{"deduction"}},
		{name: "deduction/once: again recorded, deducts nothing", a: running(90), ev: deduct(handbrake), f: with(handbrake, true),
			no: 1, score: 90, status: inProgress, points: 0, feed: []string{"deduction"}},
		{name: "deduction/SC-END at the pass mark goes on", a: running(90), ev: deduct(handbrake), f: with(handbrake, false),
			no: 1, score: 80, status: inProgress, points: 10, feed: []string{"deduction"}},
		{name: "deduction/SC-END below the pass mark fails at once, BK-RETAKE opens", a: running(85), ev: deduct(handbrake), f: with(handbrake, false),
			no: 1, score: 75, status: failed, points: 10, feed: []string{"deduction", "retake_open"}},
		{name: "deduction/SC-END fail outright", a: running(100), ev: deduct(bodyOut), f: with(bodyOut, false),
			no: 1, score: 0, status: failed, points: 100, feed: []string{"deduction", "retake_open"}},
		{name: "deduction/SC-END in the retake fails the booking", a: retaking(100), ev: deduct(bodyOut), f: with(bodyOut, true),
			no: 2, score: 0, status: failed, points: 100, booking: bookingFailed, feed: []string{"deduction"}},
		{name: "deduction/SC-END at 0 the score stays 0", a: running(5), ev: deduct(handbrake), f: with(handbrake, false),
			no: 1, score: 0, status: failed, points: 10, feed: []string{"deduction", "retake_open"}},
		{name: "deduction/not in the catalogue refused", a: running(100), ev: ev(exam.Deduction, rule("XX.NONE")), f: facts(examBooking(2)),
			want: exam.ErrUnknownRule, code: "unknown_rule"},
		{name: "deduction/rule of subject 3 refused", a: running(100), ev: deduct(lcNoLook), f: with(lcNoLook, false),
			want: exam.ErrUnknownRule, code: "unknown_rule"},
		{name: "deduction/hill start rule for C2 refused", a: running(100), ev: deduct(hsStall), f: func() exam.Facts {
			f := with(hsStall, false)
			f.Booking.LicenceClass = "C2"
			return f
		}(), want: exam.ErrUnknownRule, code: "unknown_rule"},
		{name: "deduction/without a rule refused", a: running(100), ev: ev(exam.Deduction), f: facts(examBooking(2)), field: "rule"},
		{name: "deduction/without an attempt refused", a: none, ev: deduct(rpStop), f: facts(examBooking(2)),
			want: exam.ErrNoAttempt, code: "no_attempt"},
		{name: "deduction/of an ended attempt refused", a: attempt(1, 75, failed), ev: deduct(rpStop), f: with(rpStop, false),
			want: exam.ErrAttemptFinished, code: "attempt_finished"},

		// exam_finished: passed at or above the pass mark (SC-PASS).
		{name: "exam_finished/at the pass mark passes the booking", a: running(80), ev: ev(exam.ExamFinished), f: facts(examBooking(2)),
			no: 1, score: 80, status: passed, booking: bookingPassed, feed: []string{"exam_finished"}},
		{name: "exam_finished/BK-RETAKE retake passed passes the booking", a: retaking(95), ev: ev(exam.ExamFinished), f: facts(examBooking(2)),
			no: 2, score: 95, status: passed, booking: bookingPassed, feed: []string{"exam_finished"}},
		{name: "exam_finished/late after SC-END changes nothing", a: attempt(1, 0, failed), ev: ev(exam.ExamFinished), f: facts(examBooking(2)),
			no: 1, score: 0, status: failed, late: true},
		{name: "exam_finished/late of a car the retake replaced changes nothing", a: otherCar(retaking(100)), ev: ev(exam.ExamFinished), f: facts(examBooking(2)),
			no: 2, score: 100, status: inProgress, late: true},
		{name: "exam_finished/without an attempt refused", a: none, ev: ev(exam.ExamFinished), f: facts(examBooking(2)),
			want: exam.ErrNoAttempt, code: "no_attempt"},
		{name: "exam_finished/booking cancelled meanwhile refused", a: running(90), ev: ev(exam.ExamFinished), f: facts(examBooking(2, status(scheduling.StatusCancelled))),
			want: exam.ErrNotConfirmed, code: "not_confirmed"},
		{name: "exam_finished/not today refused", a: running(90), ev: ev(exam.ExamFinished), f: facts(examBooking(2)), at: applyNow.AddDate(0, 0, 1),
			want: exam.ErrNotToday, code: "not_today"},

		{name: "unknown type refused", a: running(90), ev: ev("explode"), f: facts(examBooking(2)), field: "type"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			at := tt.at
			if at.IsZero() {
				at = applyNow
			}
			d, err := tt.a.Apply(tt.ev, tt.f, at)
			if tt.field != "" {
				if !errors.Is(err, refusal.Invalid(tt.field, "")) {
					t.Fatalf("got %v, want an invalid_field refusal of %s", err, tt.field)
				}
				return
			}
			if tt.want != nil {
				r, ok := refusal.As(err)
				if !errors.Is(err, tt.want) || !ok || r.Code != tt.code {
					t.Fatalf("got %v, want %v (%s)", err, tt.want, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			a := d.Attempt
			if a.AttemptNo != tt.no || a.Score != tt.score || a.Status != tt.status {
				t.Errorf("attempt: got no %d, %d %s; want no %d, %d %s", a.AttemptNo, a.Score, a.Status, tt.no, tt.score, tt.status)
			}
			if tt.passMark != 0 && a.PassMark != tt.passMark {
				t.Errorf("pass mark: got %d, want %d", a.PassMark, tt.passMark)
			}
			if d.Open != tt.open || d.Late != tt.late {
				t.Errorf("open, late: got %v %v, want %v %v", d.Open, d.Late, tt.open, tt.late)
			}
			if d.Late {
				return
			}
			if d.Record.Points != tt.points || d.Record.Score != tt.score || d.Record.Type != tt.ev.Type {
				t.Errorf("record: got %s -%d = %d, want %s -%d = %d", d.Record.Type, d.Record.Points, d.Record.Score, tt.ev.Type, tt.points, tt.score)
			}
			if d.Booking != tt.booking {
				t.Errorf("booking: got %q, want %q", d.Booking, tt.booking)
			}
			var types []string
			for _, e := range d.Feed() {
				types = append(types, e.Type)
			}
			if fmt.Sprint(types) != fmt.Sprint(tt.feed) {
				t.Errorf("feed: got %v, want %v", types, tt.feed)
			}
		})
	}
}

// TestAttemptApplyRecords: what the score sheet and the feed show of an
// event: the item, the rule and its text, the instruction, the device, the
// candidate masked.
func TestAttemptApplyRecords(t *testing.T) {
	running := attempt(1, 100, exam.InProgress)
	f := exam.Facts{Device: car, Booking: examBooking(2), Rule: &rpStop}
	d, err := running.Apply(exam.Event{EventID: "e1", BookingID: 11, Type: exam.Deduction, Rule: rpStop.Code, At: applyNow}, f, applyNow)
	if err != nil {
		t.Fatal(err)
	}
	r := d.Record
	if r.Rule == nil || *r.Rule != "RP.STOP" || r.RuleText == nil || *r.RuleText != rpStop.TextZh || r.Item == nil || *r.Item != "reverse_parking" {
		t.Errorf("record: got %+v", r)
	}
	feed := d.Feed()[0]
	if feed.Rule != "RP.STOP" || feed.Points != 5 || feed.Score != 95 || feed.PassMark != 80 || feed.AttemptID != running.ID ||
		feed.Device == nil || feed.Device.Plate != car.VehiclePlate || feed.Candidate.Name == "张伟" {
		t.Errorf("feed event: got %+v", feed)
	}

	d, err = running.Apply(exam.Event{EventID: "e2", BookingID: 11, Type: exam.Instruction, Text: "请倒车入库", At: applyNow}, exam.Facts{Device: car, Booking: examBooking(2)}, applyNow)
	if err != nil {
		t.Fatal(err)
	}
	if d.Record.Text == nil || *d.Record.Text != "请倒车入库" || d.Feed()[0].Text != "请倒车入库" {
		t.Errorf("instruction: got %+v", d.Record)
	}

	// The retake's screens learn it is open: attempt 2 of the booking.
	d, err = attempt(1, 100, exam.InProgress).Apply(exam.Event{EventID: "e3", BookingID: 11, Type: exam.Deduction, Rule: bodyOut.Code, At: applyNow},
		exam.Facts{Device: car, Booking: examBooking(2), Rule: &bodyOut}, applyNow)
	if err != nil {
		t.Fatal(err)
	}
	if feed := d.Feed(); len(feed) != 2 || feed[1].Type != exam.RetakeOpen || feed[1].AttemptNo != 2 || feed[1].BookingID != 11 {
		t.Errorf("retake_open: got %+v", feed)
	}
}
