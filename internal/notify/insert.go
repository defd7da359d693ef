package notify

import (
	"fmt"
	"strconv"

	"github.com/lib/pq"
)

// Batch is notes to insert inside a statement of the caller's (data-modifying
// CTEs), for a transaction on a measured path that cannot afford a round
// trip more (the booking's write).
type Batch struct {
	cands                []int64
	kinds, zh, en, links []string
}

// NewBatch checks notes and returns them ready to insert.
func NewBatch(notes ...Note) (Batch, error) {
	var b Batch
	for _, nt := range notes {
		if err := nt.check(); err != nil {
			return Batch{}, err
		}
		b.cands = append(b.cands, nt.CandidateID)
		b.kinds = append(b.kinds, nt.Kind)
		b.zh = append(b.zh, nt.ZH)
		b.en = append(b.en, nt.EN)
		b.links = append(b.links, nt.Link)
	}
	return b, nil
}

// Insert returns the CTE (", name AS (…)", to follow the caller's own
// CTEs) that inserts b's notes, only where the SQL condition where holds
// ("true" for always), with parameters numbered from $first, and their
// arguments. The feeder (feeder.go) puts them on their candidates' feeds
// once the statement's transaction has committed.
func (b Batch) Insert(name string, first int, where string) (string, []any) {
	n := func(i int) string { return "$" + strconv.Itoa(first+i) }
	q := `, ` + name + ` AS (
			INSERT INTO notifications (candidate_id, kind, text_zh, text_en, link)
			SELECT n.candidate_id, n.kind, n.text_zh, n.text_en, nullif(n.link, '')
			FROM unnest(` + n(0) + `::bigint[], ` + n(1) + `::text[], ` + n(2) + `::text[], ` + n(3) + `::text[], ` + n(4) + `::text[])
			     AS n (candidate_id, kind, text_zh, text_en, link)
			WHERE ` + where + `)`
	return q, []any{pq.Array(b.cands), pq.Array(b.kinds), pq.Array(b.zh), pq.Array(b.en), pq.Array(b.links)}
}

// check refuses a note lacking its candidate, kind or either text.
func (nt Note) check() error {
	if nt.CandidateID == 0 || nt.Kind == "" || nt.ZH == "" || nt.EN == "" {
		return fmt.Errorf("notify: incomplete note %+v", nt)
	}
	return nil
}
