package scheduling

import (
	"context"
	"examd/internal/refusal"
	"fmt"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
)

// NoticeItem is one thing a candidate must bring or do (IS-NOTICE,
// 一次性告知). AtIssuance marks what is needed only at the issuing desk.
type NoticeItem struct {
	Code       string `db:"code" json:"code"`
	TextZh     string `db:"text_zh" json:"text_zh"`
	TextEn     string `db:"text_en" json:"text_en"`
	AtIssuance bool   `db:"for_issuance" json:"at_issuance"`
}

// Notice lists, once and completely, what a candidate of licence class
// must bring or do, from the exam day to the licence, so that nobody makes
// a second trip for a missing paper. feeYuan is the licence fee the office
// charges (it replaces {fee} in the texts).
func Notice(ctx context.Context, q sqlx.QueryerContext, class string, feeYuan int) ([]NoticeItem, error) {
	items := []NoticeItem{}
	err := sqlx.SelectContext(ctx, q, &items, `
		SELECT code, text_zh, text_en, for_issuance FROM notice_items
		WHERE classes IS NULL OR $1 = ANY(classes)
		ORDER BY ord`, class)
	if err != nil {
		return nil, fmt.Errorf("notice for class %s: %w", class, err)
	}
	withFee(items, feeYuan)
	return items, nil
}

// CandidateNotice is Notice for the licence class of the candidate, in one
// statement (for the booking slip; a booking's answer has it from the
// booking's own read, Booked.Notice).
func (s *Store) CandidateNotice(ctx context.Context, candidateID int64, feeYuan int) ([]NoticeItem, error) {
	items := []NoticeItem{}
	err := s.db.SelectContext(ctx, &items, `
		SELECT n.code, n.text_zh, n.text_en, n.for_issuance
		FROM candidates c JOIN notice_items n ON n.classes IS NULL OR c.licence_class = ANY(n.classes)
		WHERE c.id = $1
		ORDER BY n.ord`, candidateID)
	if err != nil {
		return nil, fmt.Errorf("notice for candidate %d: %w", candidateID, err)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("notice for candidate %d: %w", candidateID, refusal.ErrNotFound)
	}
	withFee(items, feeYuan)
	return items, nil
}

// withFee puts the licence fee in place of {fee} in the items' texts.
func withFee(items []NoticeItem, feeYuan int) {
	fee := strconv.Itoa(feeYuan)
	for i := range items {
		items[i].TextZh = strings.ReplaceAll(items[i].TextZh, "{fee}", fee)
		items[i].TextEn = strings.ReplaceAll(items[i].TextEn, "{fee}", fee)
	}
}
