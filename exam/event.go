package exam

import (
	"examd/internal/api"
	"examd/internal/refusal"
	"examd/scheduling"
	"strings"
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

// Refusals of device events.
var (
	ErrUnknownRule = refusal.New("unknown_rule", "评判规则库中没有该科目的这条扣分规则")
	ErrWrongVenue  = refusal.New("wrong_venue", "该预约的考场不是本设备所在考场")
	ErrNotToday    = refusal.New("not_today", "该预约的考试日期不是今天")
	// ErrSlotNotStarted: an exam cannot start, nor its slot close, before
	// the slot starts.
	ErrSlotNotStarted    = refusal.New("slot_not_started", "该场次尚未开始")
	ErrNotConfirmed      = refusal.New("not_confirmed", "该预约未确认（已取消或已结束）")
	ErrAttemptInProgress = refusal.New("attempt_in_progress", "该预约有一次考试正在进行")
	ErrAttemptFinished   = refusal.New("attempt_finished", "该次考试已结束")
	ErrRetakeExhausted   = refusal.New("retake_exhausted", "该预约的考试和补考机会均已用完")
	ErrNoAttempt         = refusal.New("no_attempt", "该预约没有正在进行的考试：请先发送 exam_started")
	// ErrWrongDevice: the device does not serve the booking's subject or
	// licence class, or the candidate needs an adapted car and the
	// device's is not (ED-ATTEMPT, PL-ACCESS).
	ErrWrongDevice = refusal.New("wrong_device", "本设备不能进行该预约的考试：科目、准驾车型或无障碍改装车辆不符")
	// ErrDeviceBusy: the device already has an attempt in progress (ED-ATTEMPT).
	ErrDeviceBusy = refusal.New("device_busy", "本设备有一场考试正在进行，结束后才能开始下一场")
)

// Validate checks the fields each event type needs.
func (e Event) Validate() error {
	switch e.Type {
	case ExamStarted, ExamFinished, ItemFinished:
	case ItemStarted:
		if e.Item == "" {
			return refusal.Invalid("item", "required for item_started")
		}
	case Deduction:
		if e.Rule == "" {
			return refusal.Invalid("rule", "required for a deduction")
		}
	case TheoryResult:
		if e.Score == nil || *e.Score < 0 || *e.Score > FullScore {
			return refusal.Invalid("score", "0 to 100, required for theory_result")
		}
	case Instruction:
		if e.Text == "" || len([]rune(e.Text)) > eventTextSize {
			return refusal.Invalid("text", "the spoken instruction, 1 to 200 characters")
		}
	default:
		return refusal.Invalid("type", "one of exam_started, item_started, deduction, item_finished, exam_finished, theory_result, instruction")
	}
	if e.Score != nil && e.Type != TheoryResult {
		return refusal.Invalid("score", "only theory_result carries a score")
	}
	return nil
}

// DecodeEvent reads a device event's JSON body: its event_id (a UUID, kept
// in lower case), booking_id, type, the device's clock at, and the item,
// rule, text and score its type carries. Every refusal is a
// *refusal.Error; what the type requires is Event.Validate's.
func DecodeEvent(body []byte) (Event, error) {
	var req struct {
		EventID   *string `json:"event_id"`
		BookingID *int64  `json:"booking_id"`
		Type      *string `json:"type"`
		Item      *string `json:"item"`
		Rule      *string `json:"rule"`
		Score     *int    `json:"score"`
		Text      *string `json:"text"`
		At        *string `json:"at"`
	}
	if err := api.Decode(body, &req); err != nil {
		return Event{}, err
	}
	switch {
	case req.EventID == nil || !isUUID(*req.EventID):
		return Event{}, refusal.Invalid("event_id", "the device's UUID for the event")
	case req.BookingID == nil || *req.BookingID <= 0:
		return Event{}, refusal.Invalid("booking_id", "required")
	case req.Type == nil:
		return Event{}, refusal.Invalid("type", "required")
	case req.At == nil:
		return Event{}, refusal.Invalid("at", "required: the device's clock, RFC 3339")
	}
	at, err := scheduling.ParseInstant(*req.At)
	if err != nil {
		return Event{}, refusal.Invalid("at", "an RFC 3339 instant")
	}
	ev := Event{EventID: strings.ToLower(*req.EventID), BookingID: *req.BookingID, Type: *req.Type, At: at, Score: req.Score}
	for _, f := range []struct {
		name string
		src  *string
		dst  *string
	}{{"item", req.Item, &ev.Item}, {"rule", req.Rule, &ev.Rule}, {"text", req.Text, &ev.Text}} {
		if f.src != nil {
			if len(*f.src) > 600 {
				return Event{}, refusal.Invalid(f.name, "too long")
			}
			*f.dst = *f.src
		}
	}
	return ev, nil
}
