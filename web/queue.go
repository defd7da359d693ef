package web

import (
	"context"
	"errors"
	"time"

	"examd/exam"
	"examd/internal/refusal"
)

// queueOf is the candidate's place in today's queue (exam.Store.MyQueue,
// as GET /api/v1/me/queue answers it), nil without an exam today still to
// sit.
func (h Handler) queueOf(ctx context.Context, candidateID int64, now time.Time) (*exam.MyQueue, error) {
	q, err := h.Exams.MyQueue(ctx, candidateID, now)
	if errors.Is(err, refusal.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &q, nil
}
