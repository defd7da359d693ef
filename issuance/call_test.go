package issuance_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"examd/internal/notify"
	"examd/internal/pg/pgtest"
	"examd/issuance"
	"examd/realtime"
	"examd/scheduling"
)

// TestCallAnswersTheRow: a call answers the candidate's queue row as it
// stands: the ready time (not a zero one) in Asia/Shanghai, the minutes
// waited, the ticket, the desk; a licence issued is refused.
func TestCallAnswersTheRow(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	ctx := context.Background()
	store := issuance.NewStore(db, realtime.NewFeed(db), notify.New(realtime.NewFeed(db)))
	readyAt := time.Date(2026, 6, 15, 9, 0, 0, 123456000, time.UTC)
	now := readyAt.Add(25*time.Minute + 10*time.Second)

	var staff, id int64
	if err := db.Get(&staff, `INSERT INTO users (username, password_hash, role, desk) VALUES ('desk', 'x', 'issuer', '2号窗口') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	if err := db.Get(&id, `INSERT INTO users (username, password_hash, role) VALUES ('c1', 'x', 'candidate') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`
		INSERT INTO candidates (id, id_number, name, phone, licence_class, permit_issued_on, permit_expires_on)
		VALUES ($1, '110101199001010011', '张三', '13800138000', 'C1', '2020-01-01', '2099-01-01')`, id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO issuances (candidate_id, day, ticket, priority_lane, ready_at) VALUES ($1, $2, 'P007', true, $3)`,
		id, scheduling.Day(readyAt), readyAt); err != nil {
		t.Fatal(err)
	}

	t.Run("Ready", func(t *testing.T) {
		got, err := store.Call(ctx, id, issuance.Staff{UserID: staff, Desk: "2号窗口"}, now)
		if err != nil {
			t.Fatal(err)
		}
		if !got.ReadyAt.Equal(readyAt) || got.ReadyAt.Location() != scheduling.Shanghai {
			t.Errorf("ready_at %s, want %s in Asia/Shanghai", got.ReadyAt, readyAt)
		}
		if got.WaitingMinutes != 25 {
			t.Errorf("waiting %d minutes, want 25", got.WaitingMinutes)
		}
		if got.CandidateID != id || got.Ticket != "P007" || got.Name != "张三" || got.LicenceClass != "C1" ||
			!got.PriorityLane || got.Step != issuance.StateReady || got.CalledDesk == nil || *got.CalledDesk != "2号窗口" || got.IssuedAt != nil {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("Issued", func(t *testing.T) {
		if _, err := db.Exec(`
			UPDATE issuances SET step = 'issued', accepted_at = $2, accepted_by = $3, reviewed_at = $2, reviewed_by = $3,
			       fee_yuan = 10, issued_at = $2, issued_by = $3, licence_number = '110101199001010011',
			       file_number = '000000000001', valid_from = '2026-06-15', valid_until = '2032-06-15',
			       probation_until = '2027-06-15'
			WHERE candidate_id = $1`, id, now, staff); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Call(ctx, id, issuance.Staff{UserID: staff}, now); !errors.Is(err, issuance.ErrInvalidStep) {
			t.Errorf("got %v, want ErrInvalidStep", err)
		}
	})
	t.Run("NotQueued", func(t *testing.T) {
		if _, err := store.Call(ctx, staff, issuance.Staff{UserID: staff}, now); !errors.Is(err, issuance.ErrNotReady) {
			t.Errorf("got %v, want ErrNotReady", err)
		}
	})
}
