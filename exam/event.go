package exam

import (
	"errors"
	"time"
)

// Device event types.
const (
	ExamStarted   = "exam_started"
	ItemStarted   = "item_started"
	Deduction     = "deduction"
	ItemFinished  = "item_finished"
	ExamFinished  = "exam_finished"
	TheoryResult  = "theory_result"
	Instruction   = "instruction" // PL-RELAY: the spoken command, shown as text
	eventTextSize = 200
)

// Event is what a judging device reports.
type Event struct {
	EventID   string // the device's UUID for the event
	BookingID int64
	Type      string
	Item      string
	Rule      string
	Score     *int // theory_result only
	Text      string
	At        time.Time // the device's clock
}

// Refusal is an event refused by the exam rules; Code is the API code.
type Refusal struct {
	Status  int // 409 or 422
	Code    string
	Message string
}

func (r *Refusal) Error() string { return r.Code + ": " + r.Message }

// Refusals of device events.
var (
	ErrUnknownRule = &Refusal{422, "unknown_rule", "no such rule in the catalogue for this subject"}
	ErrWrongVenue  = &Refusal{409, "wrong_venue", "the booking is at another venue than the device"}
	ErrNotToday    = &Refusal{409, "not_today", "the booking's exam is not today"}
	// ErrSlotNotStarted: an exam cannot start, nor its slot close, before the slot starts.
	ErrSlotNotStarted    = &Refusal{409, "slot_not_started", "the slot has not started yet"}
	ErrNotConfirmed      = &Refusal{409, "not_confirmed", "the booking is not confirmed"}
	ErrAttemptInProgress = &Refusal{409, "attempt_in_progress", "an attempt of this booking is in progress"}
	ErrAttemptFinished   = &Refusal{409, "attempt_finished", "the attempt has ended"}
	ErrRetakeExhausted   = &Refusal{409, "retake_exhausted", "the booking's exam and its retake have been used"}
	ErrNoAttempt         = &Refusal{409, "no_attempt", "no attempt of this booking is in progress: send exam_started first"}
)

// FieldError is an event with a missing or invalid field.
type FieldError struct{ Field, Message string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// ErrNotFound means the object does not exist or is not the caller's to see.
var ErrNotFound = errors.New("not found")

// Validate checks the fields each event type needs.
func (e Event) Validate() error {
	switch e.Type {
	case ExamStarted, ExamFinished, ItemFinished:
	case ItemStarted:
		if e.Item == "" {
			return &FieldError{"item", "required for item_started"}
		}
	case Deduction:
		if e.Rule == "" {
			return &FieldError{"rule", "required for a deduction"}
		}
	case TheoryResult:
		if e.Score == nil || *e.Score < 0 || *e.Score > FullScore {
			return &FieldError{"score", "0 to 100, required for theory_result"}
		}
	case Instruction:
		if e.Text == "" || len([]rune(e.Text)) > eventTextSize {
			return &FieldError{"text", "the spoken instruction, 1 to 200 characters"}
		}
	default:
		return &FieldError{"type", "one of exam_started, item_started, deduction, item_finished, exam_finished, theory_result, instruction"}
	}
	if e.Score != nil && e.Type != TheoryResult {
		return &FieldError{"score", "only theory_result carries a score"}
	}
	return nil
}
