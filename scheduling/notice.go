package scheduling

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"

	"examd/internal/refusal"
)

// NoticeItem is one thing a candidate must bring or do (IS-NOTICE,
// 一次性告知). AtIssuance marks what is needed only at the issuing desk.
type NoticeItem struct {
	Code       string `db:"code" json:"code"`
	TextZh     string `db:"text_zh" json:"text_zh"`
	TextEn     string `db:"text_en" json:"text_en"`
	AtIssuance bool   `db:"for_issuance" json:"at_issuance"`
}

// noticeJSON is the notice of licence class c.licence_class (c: the
// statement's candidate, or a row naming a class) as a JSON array of
// NoticeItem in order, '[]' for none: the one definition of which items a
// class gets, for every statement that reads a notice (the booking's read
// among them).
const noticeJSON = `(SELECT coalesce(json_agg(json_build_object('code', n.code, 'text_zh', n.text_zh, 'text_en', n.text_en,
		        'at_issuance', n.for_issuance) ORDER BY n.ord), '[]')
		FROM notice_items n WHERE n.classes IS NULL OR c.licence_class = ANY(n.classes))`

// Notice lists, once and completely, what a candidate of licence class
// must bring or do, from the exam day to the licence, so that nobody makes
// a second trip for a missing paper. feeYuan is the licence fee the office
// charges (it replaces {fee} in the texts).
func Notice(ctx context.Context, q sqlx.QueryerContext, class string, feeYuan int) ([]NoticeItem, error) {
	items, err := readNotice(ctx, q, `SELECT `+noticeJSON+` FROM (SELECT $1::text AS licence_class) c`, class)
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
	items, err := readNotice(ctx, s.db, `SELECT `+noticeJSON+` FROM candidates c WHERE c.id = $1`, candidateID)
	if errors.Is(err, sql.ErrNoRows) {
		err = refusal.ErrNotFound // no such candidate; a class without items has an empty notice
	}
	if err != nil {
		return nil, fmt.Errorf("notice for candidate %d: %w", candidateID, err)
	}
	withFee(items, feeYuan)
	return items, nil
}

// readNotice runs query, which selects one noticeJSON, and decodes it.
func readNotice(ctx context.Context, q sqlx.QueryerContext, query string, arg any) ([]NoticeItem, error) {
	var raw []byte
	if err := sqlx.GetContext(ctx, q, &raw, query, arg); err != nil {
		return nil, err
	}
	return decodeNotice(raw)
}

// decodeNotice decodes a noticeJSON: never nil, [] for none.
func decodeNotice(raw []byte) ([]NoticeItem, error) {
	items := []NoticeItem{}
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
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
