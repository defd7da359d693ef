package issuance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"examd/internal/refusal"
	"examd/scheduling"
)

// Journey is the candidate's path to the licence: each subject, the next
// step, what to bring (IS-NOTICE) and, once ready, the issuing desk's step.
type Journey struct {
	scheduling.Journey
	Notice   []scheduling.NoticeItem `json:"notice"`
	Issuance *DeskState              `json:"issuance"`
}

// DeskState is where the candidate stands at the issuing desk.
type DeskState struct {
	ID         int64     `db:"id" json:"id"` // what the candidate rates (POST /feedback)
	Ticket     string    `db:"ticket" json:"ticket"`
	Step       string    `db:"step" json:"step"`
	ReadyAt    time.Time `db:"ready_at" json:"ready_at"`
	CalledDesk *string   `db:"called_desk" json:"called_desk"`
	Licence    *Licence  `db:"-" json:"licence,omitempty"`
}

// Journey tells the candidate where they stand at now.
func (s *Store) Journey(ctx context.Context, candidateID int64, now time.Time) (Journey, error) {
	c, err := scheduling.LoadCandidate(ctx, s.db, candidateID)
	if errors.Is(err, refusal.ErrNotFound) {
		return Journey{}, refusal.ErrNotFound
	}
	if err != nil {
		return Journey{}, err
	}
	j := Journey{Journey: scheduling.JourneyOf(c, now)}
	if j.Notice, err = scheduling.Notice(ctx, s.db, c.LicenceClass.Code, s.FeeYuan); err != nil {
		return Journey{}, err
	}
	var d DeskState
	err = s.db.GetContext(ctx, &d, `
		SELECT id, ticket, step, ready_at, called_desk FROM issuances WHERE candidate_id = $1`, candidateID)
	if errors.Is(err, sql.ErrNoRows) {
		return j, nil
	}
	if err != nil {
		return Journey{}, fmt.Errorf("issuance of candidate %d: %w", candidateID, err)
	}
	d.ReadyAt = d.ReadyAt.In(scheduling.Shanghai)
	j.Issuance = &d
	switch d.Step {
	case StateIssued:
		var l Licence
		if err := s.db.GetContext(ctx, &l, `
			SELECT licence_number, file_number, issued_at, valid_from, valid_until, probation_until
			FROM issuances WHERE candidate_id = $1`, candidateID); err != nil {
			return Journey{}, fmt.Errorf("licence of candidate %d: %w", candidateID, err)
		}
		l.IssuedAt = l.IssuedAt.In(scheduling.Shanghai)
		d.Licence = &l
		j.Next = scheduling.NextStep{Code: "licence_issued",
			TextZh: "驾驶证已核发，档案编号 " + l.FileNumber + "；实习期至 " + l.ProbationUntil.Format(time.DateOnly),
			TextEn: "Your licence is issued, file number " + l.FileNumber + "; probation until " + l.ProbationUntil.Format(time.DateOnly)}
	case StateReady:
		j.Next = scheduling.NextStep{Code: "issuing_desk",
			TextZh: "请到制证窗口办理领证，您的号码 " + d.Ticket + "，请留意叫号",
			TextEn: "Go to the issuing desk with ticket " + d.Ticket + " and watch for your number"}
	default:
		j.Next = scheduling.NextStep{Code: "issuing_desk",
			TextZh: "正在制证窗口办理（号码 " + d.Ticket + "），请在窗口等候",
			TextEn: "Your licence is being prepared (ticket " + d.Ticket + "): please wait at the desk"}
	}
	return j, nil
}
