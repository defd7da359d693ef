package issuance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"

	"examd/internal/refusal"
	"examd/scheduling"
)

// Receipt is what the desk prints for the candidate (受理回执, 缴费凭证): the
// ticket, the candidate with their ID number masked, each step done with
// its time, staff member and desk, the fee and its payment, and the file
// number once the licence is printed.
type Receipt struct {
	CandidateID  int64     `db:"candidate_id"`
	Ticket       string    `db:"ticket"`
	Day          Date      `db:"day"`
	Name         string    `db:"name"`
	IDNumber     string    `db:"id_number"` // masked (scheduling.MaskIDNumber)
	LicenceClass string    `db:"licence_class"`
	PriorityLane bool      `db:"priority_lane"`
	Step         string    `db:"step"`
	ReadyAt      time.Time `db:"-"`
	// Steps are the steps done, in order.
	Steps     []ReceiptStep  `db:"-"`
	Checklist pq.StringArray `db:"accepted_checklist"`
	// Paid: 审核缴费 is done; FeeYuan, PaymentMethod and ReceiptNumber are
	// its (the last two "" for a fee taken before the desk recorded them).
	Paid                         bool   `db:"-"`
	FeeYuan                      int    `db:"-"`
	PaymentMethod, ReceiptNumber string `db:"-"`
	// FileNumber is the licence's 档案编号, "" before it is printed.
	FileNumber string `db:"-"`
}

// ReceiptStep is one step of a receipt.
type ReceiptStep struct {
	Step  string // StepAccept, StepReviewFee or StepPrint
	At    time.Time
	Staff string // the staff member's username
	Desk  string // "" when none was recorded
}

// Receipt loads the desk's receipt of the candidate; refusal.ErrNotFound
// when they have no issuance.
func (s *Store) Receipt(ctx context.Context, candidateID int64) (Receipt, error) {
	var r struct {
		Receipt
		ReadyAt       time.Time  `db:"ready_at"`
		FeeYuan       *int       `db:"fee_yuan"`
		PaymentMethod *string    `db:"payment_method"`
		ReceiptNumber *string    `db:"receipt_number"`
		FileNumber    *string    `db:"file_number"`
		AcceptedAt    *time.Time `db:"accepted_at"`
		AcceptedBy    *string    `db:"accepted_by"`
		AcceptedDesk  *string    `db:"accepted_desk"`
		ReviewedAt    *time.Time `db:"reviewed_at"`
		ReviewedBy    *string    `db:"reviewed_by"`
		ReviewedDesk  *string    `db:"reviewed_desk"`
		IssuedAt      *time.Time `db:"issued_at"`
		IssuedBy      *string    `db:"issued_by"`
		IssuedDesk    *string    `db:"issued_desk"`
	}
	err := s.db.GetContext(ctx, &r, `
		SELECT i.candidate_id, i.ticket, i.day, c.name, c.id_number, c.licence_class, i.priority_lane, i.step,
		       i.ready_at, i.accepted_checklist, i.fee_yuan, i.payment_method, i.receipt_number, i.file_number,
		       i.accepted_at, ua.username AS accepted_by, i.accepted_desk,
		       i.reviewed_at, ur.username AS reviewed_by, i.reviewed_desk,
		       i.issued_at, ui.username AS issued_by, i.issued_desk
		FROM issuances i
		JOIN candidates c ON c.id = i.candidate_id
		LEFT JOIN users ua ON ua.id = i.accepted_by
		LEFT JOIN users ur ON ur.id = i.reviewed_by
		LEFT JOIN users ui ON ui.id = i.issued_by
		WHERE i.candidate_id = $1`, candidateID)
	if errors.Is(err, sql.ErrNoRows) {
		return Receipt{}, refusal.ErrNotFound
	}
	if err != nil {
		return Receipt{}, fmt.Errorf("receipt of candidate %d: %w", candidateID, err)
	}
	rc := r.Receipt
	rc.IDNumber = scheduling.MaskIDNumber(rc.IDNumber)
	rc.ReadyAt = r.ReadyAt.In(scheduling.Shanghai)
	if r.FeeYuan != nil {
		rc.Paid, rc.FeeYuan = true, *r.FeeYuan
	}
	for _, f := range []struct {
		to   *string
		from *string
	}{{&rc.PaymentMethod, r.PaymentMethod}, {&rc.ReceiptNumber, r.ReceiptNumber}, {&rc.FileNumber, r.FileNumber}} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
	for _, st := range []struct {
		step     string
		at       *time.Time
		by, desk *string
	}{
		{StepAccept, r.AcceptedAt, r.AcceptedBy, r.AcceptedDesk},
		{StepReviewFee, r.ReviewedAt, r.ReviewedBy, r.ReviewedDesk},
		{StepPrint, r.IssuedAt, r.IssuedBy, r.IssuedDesk},
	} {
		if st.at == nil {
			continue
		}
		s := ReceiptStep{Step: st.step, At: st.at.In(scheduling.Shanghai)}
		if st.by != nil {
			s.Staff = *st.by
		}
		if st.desk != nil {
			s.Desk = *st.desk
		}
		rc.Steps = append(rc.Steps, s)
	}
	return rc, nil
}
