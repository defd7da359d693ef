package exam

import (
	"fmt"
	"time"
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
