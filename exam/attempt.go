package exam

import (
	"fmt"
	"time"

	"examd/internal/refusal"
	"examd/scheduling"
)

// Attempt is one sitting of one subject on a booking (ED-ATTEMPT).
type Attempt struct {
	ID          int64      `db:"id" json:"id"`
	BookingID   int64      `db:"booking_id" json:"booking_id"`
	AttemptNo   int        `db:"attempt_no" json:"attempt_no"`
	DeviceID    int64      `db:"device_id" json:"device_id"`
	RuleVersion int        `db:"rule_version" json:"rule_version"`
	PassMark    int        `db:"pass_mark" json:"pass_mark"`
	Score       int        `db:"score" json:"score"`
	Status      string     `db:"status" json:"status"`
	StartedAt   time.Time  `db:"started_at" json:"started_at"`
	FinishedAt  *time.Time `db:"finished_at" json:"finished_at"`
	Deductions  []Recorded `db:"-" json:"deductions"`
}

// Recorded is an accepted event as the score sheet shows it.
type Recorded struct {
	Type       string    `db:"type" json:"type"`
	Item       *string   `db:"item" json:"item,omitempty"`
	Rule       *string   `db:"rule" json:"rule,omitempty"`
	RuleText   *string   `db:"rule_text" json:"rule_text,omitempty"`
	Points     int       `db:"points" json:"points"`
	Score      int       `db:"score" json:"score"`
	Text       *string   `db:"text" json:"text,omitempty"`
	At         time.Time `db:"at" json:"at"`
	ReceivedAt time.Time `db:"received_at" json:"received_at"`
	Seq        int64     `db:"seq" json:"seq,omitempty"` // in the feed; not in a device's answer
}

// inShanghai returns a with its instants and its deductions' in
// Asia/Shanghai, as every answer shows them; the database and the devices
// give them in any zone.
func (a Attempt) inShanghai() Attempt {
	a.StartedAt = a.StartedAt.In(scheduling.Shanghai)
	if a.FinishedAt != nil {
		f := a.FinishedAt.In(scheduling.Shanghai)
		a.FinishedAt = &f
	}
	a.Deductions = recordedInShanghai(a.Deductions)
	return a
}

// recordedInShanghai returns a copy of rs with their instants in Asia/Shanghai.
func recordedInShanghai(rs []Recorded) []Recorded {
	if rs == nil {
		return nil
	}
	out := make([]Recorded, len(rs))
	for i, r := range rs {
		r.At, r.ReceivedAt = r.At.In(scheduling.Shanghai), r.ReceivedAt.In(scheduling.Shanghai)
		out[i] = r
	}
	return out
}

// Feed event types besides the device's (and signature, no_show, failed).
const (
	RetakeOpen = "retake_open" // BK-RETAKE: attempt 1 failed, attempt 2 may start
	Released   = "released"    // BK-COMBINED-FAIL: the subject 3 half was cancelled
)

// FeedEvent is one message of a venue's live feed (the realtime package adds seq).
type FeedEvent struct {
	VenueID      int64         `json:"venue_id"`
	Type         string        `json:"type"`
	At           time.Time     `json:"at"`
	BookingID    int64         `json:"booking_id"`
	AttemptID    int64         `json:"attempt_id"`
	AttemptNo    int           `json:"attempt_no"`
	Subject      int           `json:"subject"`
	LicenceClass string        `json:"licence_class"`
	Candidate    FeedCandidate `json:"candidate"`
	// Device is the car (or terminal) that reported the event; nil on
	// events that no device reported (signatures, no-shows, releases).
	Device *FeedDevice `json:"device,omitempty"`
	// PassMark is the attempt's pass mark, on events about an attempt.
	PassMark int            `json:"pass_mark,omitempty"`
	Lane     string         `json:"lane"`
	Needs    []string       `json:"needs"`
	Item     string         `json:"item"`
	Rule     string         `json:"rule"`
	RuleText string         `json:"rule_text"`
	Points   int            `json:"points"`
	Score    int            `json:"score"`
	Status   string         `json:"status"`
	Text     string         `json:"text"`
	Extra    map[string]any `json:"extra,omitempty"`
}

// FeedCandidate is the candidate as shared screens show them: masked.
type FeedCandidate struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
}

// FeedDevice is the device as the examiners' screens show it: a tile per car.
type FeedDevice struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Plate string `json:"plate"`
}

// VenueTopic is the live feed of a venue's exams.
func VenueTopic(venueID int64) string { return fmt.Sprintf("venue:%d", venueID) }

// Facts is what the store looked up for an event before applying it.
type Facts struct {
	Device  Device                    // the device that reports the event, with its capabilities
	Booking scheduling.BookingForExam // the event's booking, locked
	// DeviceBusy: the device has an attempt in progress (looked up for the
	// events that start one: exam_started, theory_result).
	DeviceBusy bool
	// Rule is a deduction's rule in the attempt's catalogue version; nil
	// when the catalogue has no rule of that code.
	Rule *Rule
	// DeductedBefore: the rule has deducted earlier in this attempt.
	DeductedBefore bool
}

// Decision is what an event does, decided by Apply without a database.
type Decision struct {
	// Attempt is the attempt as the event leaves it. When Open, the store
	// inserts it (and sets its ID, rule version and start).
	Attempt Attempt
	Open    bool
	// Late is a late exam_finished: it changes nothing and is answered with
	// the device's own attempt as it stands.
	Late bool
	// Record is the event as the score sheet records it.
	Record Recorded
	// Booking is the booking's result when the event ends it: passed or
	// failed (BK-RETAKE: a failed retake); "" while it stays confirmed.
	Booking string
	// RetakeOpen: attempt 1 failed, the same-day retake may start (BK-RETAKE).
	RetakeOpen bool

	facts Facts
	now   time.Time
}

// Finished reports whether the event ended the attempt.
func (d Decision) Finished() bool { return d.Attempt.Status != InProgress }

// Feed is what the event appends to its venue's feed, in order: the event
// itself with the attempt as it left it, then retake_open when BK-RETAKE
// opens the retake.
func (d Decision) Feed() []FeedEvent {
	a, r, b := d.Attempt, d.Record, d.facts.Booking
	ev := bookingEvent(b, r.Type, r.At)
	ev.Device = &FeedDevice{ID: d.facts.Device.ID, Name: d.facts.Device.Name, Plate: d.facts.Device.VehiclePlate}
	ev.AttemptID, ev.AttemptNo, ev.Score, ev.Status, ev.Points = a.ID, a.AttemptNo, a.Score, a.Status, r.Points
	ev.PassMark = a.PassMark
	ev.Item, ev.Rule, ev.RuleText, ev.Text = deref(r.Item), deref(r.Rule), deref(r.RuleText), deref(r.Text)
	feed := []FeedEvent{ev}
	if d.RetakeOpen {
		retake := bookingEvent(b, RetakeOpen, d.now)
		retake.AttemptNo = 2
		feed = append(feed, retake)
	}
	return feed
}

// Apply decides what event ev does to a, the booking's latest attempt (the
// zero Attempt before the first), at now: the refusals, the next attempt
// state and score, the booking's result and the feed. It needs no database.
func (a Attempt) Apply(ev Event, f Facts, now time.Time) (Decision, error) {
	b := f.Booking
	d := Decision{facts: f, now: now, Record: Recorded{Type: ev.Type, At: ev.At, ReceivedAt: now}}
	if err := ev.Validate(); err != nil {
		return d, err
	}
	if b.VenueID != f.Device.VenueID {
		return d, ErrWrongVenue
	}
	if !b.ExamDay.Equal(scheduling.Day(now)) {
		return d, ErrNotToday
	}
	none := a.AttemptNo == 0
	var err error
	switch ev.Type {
	case ExamStarted, TheoryResult:
		if (ev.Type == TheoryResult) != (b.Subject == 4) {
			return d, refusal.Invalid("type", "subject 4 reports theory_result; subjects 2 and 3 start with exam_started")
		}
		// ED-ATTEMPT, PL-ACCESS: the device must be able to run this exam,
		// and run one at a time.
		if err := f.Device.Fits(b); err != nil {
			return d, err
		}
		if d.Attempt, err = a.next(f, now); err != nil {
			return d, err
		}
		if f.DeviceBusy {
			return d, ErrDeviceBusy
		}
		d.Open = true
		if ev.Type == TheoryResult {
			sc := Theory(*ev.Score)
			d.Attempt.Score, d.Attempt.Status = sc.Points, sc.Status
			d.Record.Points = FullScore - sc.Points
		}
	case ExamFinished:
		if none {
			return d, ErrNoAttempt
		}
		if a.Status != InProgress || a.DeviceID != f.Device.ID {
			// A late exam_finished: this device's attempt already ended
			// (SC-END), and a retake may be under way on another car.
			d.Late, d.Attempt = true, a
			return d, nil
		}
		d.Attempt = a
		sc := Score{Points: a.Score, PassMark: a.PassMark, Status: a.Status}
		sc.Finish()
		d.Attempt.Status = sc.Status
	default:
		if none {
			return d, ErrNoAttempt
		}
		if a.Status != InProgress || a.DeviceID != f.Device.ID {
			// A late event of an ended attempt, or of a device whose attempt
			// the retake on another car has replaced.
			return d, ErrAttemptFinished
		}
		d.Attempt = a
		if err := d.during(ev, f); err != nil {
			return d, err
		}
	}
	return d, d.end()
}

// next opens the booking's next attempt: the first, or the same-day retake
// after a failed first (BK-RETAKE).
func (a Attempt) next(f Facts, now time.Time) (Attempt, error) {
	b := f.Booking
	no := 1
	switch {
	case a.AttemptNo == 0:
	case a.Status == InProgress:
		return Attempt{}, ErrAttemptInProgress
	case a.AttemptNo == 2:
		return Attempt{}, ErrRetakeExhausted
	case a.Status == Passed:
		return Attempt{}, ErrAttemptFinished
	default:
		no = 2
	}
	if b.Status != scheduling.StatusConfirmed {
		return Attempt{}, ErrNotConfirmed
	}
	// The day is checked by Apply; nobody starts before the slot does.
	if now.Before(b.StartsAt) {
		return Attempt{}, ErrSlotNotStarted
	}
	return Attempt{BookingID: b.ID, AttemptNo: no, DeviceID: f.Device.ID, PassMark: PassMark(b.Subject, b.LicenceClass),
		Score: FullScore, Status: InProgress}, nil
}

// during applies an event of an attempt in progress: items, instructions
// and deductions (SC-SCALE, SC-END).
func (d *Decision) during(ev Event, f Facts) error {
	b := f.Booking
	switch ev.Type {
	case ItemStarted, ItemFinished:
		if ev.Item == "" {
			return nil // item_finished may leave the item out
		}
		if !ValidItem(b.Subject, b.LicenceClass, ev.Item) {
			return refusal.Invalid("item", fmt.Sprintf("not an item of subject %d for %s", b.Subject, b.LicenceClass))
		}
		d.Record.Item = &ev.Item
	case Instruction:
		d.Record.Text = &ev.Text
	case Deduction:
		r := f.Rule
		if r == nil || r.Code != ev.Rule || !r.AppliesTo(b.Subject) || !RuleFitsExam(*r, b.Subject, b.LicenceClass) {
			return ErrUnknownRule
		}
		sc := Score{Points: d.Attempt.Score, PassMark: d.Attempt.PassMark, Status: d.Attempt.Status}
		d.Record.Points = sc.Deduct(*r, f.DeductedBefore)
		d.Attempt.Score, d.Attempt.Status = sc.Points, sc.Status
		d.Record.Rule, d.Record.RuleText, d.Record.Item = &r.Code, &r.TextZh, &r.Item
	}
	return nil
}

// end records the score and decides what an ended attempt does to its
// booking: a pass ends it passed; a failed first attempt opens the retake;
// a failed retake ends it failed (BK-RETAKE).
func (d *Decision) end() error {
	a := d.Attempt
	d.Record.Score = a.Score
	switch {
	case a.Status == InProgress:
		return nil
	case a.Status == Failed && a.AttemptNo == 1:
		d.RetakeOpen = true
		return nil
	case a.Status == Passed:
		d.Booking = scheduling.StatusPassed
	default:
		d.Booking = scheduling.StatusFailed
	}
	// A booking that is not confirmed any more takes no result.
	if d.facts.Booking.Status != scheduling.StatusConfirmed {
		return ErrNotConfirmed
	}
	return nil
}

// bookingEvent is an event about booking b for its venue's feed, the
// candidate masked.
func bookingEvent(b scheduling.BookingForExam, typ string, at time.Time) FeedEvent {
	return FeedEvent{
		VenueID: b.VenueID, Type: typ, At: at.In(scheduling.Shanghai), BookingID: b.ID, Subject: b.Subject,
		LicenceClass: b.LicenceClass, Lane: b.Lane, Needs: []string(b.Needs),
		Candidate: FeedCandidate{Name: scheduling.MaskName(b.Name), IDNumber: scheduling.MaskIDNumber(b.IDNumber)},
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
