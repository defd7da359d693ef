package notify

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lib/pq"
)

// Batch is notes to insert inside a statement of the caller's (data-modifying
// CTEs), for a transaction on a measured path that cannot afford Add's two
// statements (the booking's write). The notes and their feed events are
// written by the statement; the feed's numberer finds the events on its
// next poll.
type Batch struct {
	cands                []int64
	kinds, zh, en, links []string
}

// NewBatch checks notes and returns them ready to insert.
func NewBatch(notes ...Note) (Batch, error) {
	var b Batch
	for _, nt := range notes {
		if nt.CandidateID == 0 || nt.Kind == "" || nt.ZH == "" || nt.EN == "" {
			return Batch{}, fmt.Errorf("notify: incomplete note %+v", nt)
		}
		b.cands = append(b.cands, nt.CandidateID)
		b.kinds = append(b.kinds, nt.Kind)
		b.zh = append(b.zh, nt.ZH)
		b.en = append(b.en, nt.EN)
		b.links = append(b.links, nt.Link)
	}
	return b, nil
}

// Insert returns the CTEs (", name AS (…), …", to follow the caller's own
// CTEs) that insert b's notes and put them on their candidates' feeds, only
// where the SQL condition where holds ("true" for always), with parameters
// numbered from $first, and their arguments. name prefixes the CTEs' names.
// The events are those Add sends: {"type":"notification","id",…}.
func (b Batch) Insert(name string, first int, where string) (string, []any) {
	n := func(i int) string { return "$" + strconv.Itoa(first+i) }
	q := `, ` + name + ` AS (
			INSERT INTO notifications (candidate_id, kind, text_zh, text_en, link)
			SELECT n.candidate_id, n.kind, n.text_zh, n.text_en, nullif(n.link, '')
			FROM unnest(` + n(0) + `::bigint[], ` + n(1) + `::text[], ` + n(2) + `::text[], ` + n(3) + `::text[], ` + n(4) + `::text[])
			     WITH ORDINALITY AS n (candidate_id, kind, text_zh, text_en, link, ord)
			WHERE ` + where + `
			ORDER BY n.ord
			RETURNING id, 'candidate:' || candidate_id AS topic, kind, text_zh, text_en, link, created_at),
		NAME_topics AS (
			INSERT INTO feed_topics (topic)
			SELECT DISTINCT t.topic FROM NAME t
			WHERE NOT EXISTS (SELECT FROM feed_topics ft WHERE ft.topic = t.topic)
			ORDER BY 1
			ON CONFLICT (topic) DO NOTHING),
		NAME_events AS (
			INSERT INTO feed_events (topic, body)
			SELECT t.topic, jsonb_strip_nulls(jsonb_build_object('type', 'notification', 'id', t.id, 'kind', t.kind,
			       'text_zh', t.text_zh, 'text_en', t.text_en, 'link', t.link, 'at', t.created_at))
			FROM NAME t ORDER BY t.id)`
	q = strings.ReplaceAll(q, "NAME", name)
	return q, []any{pq.Array(b.cands), pq.Array(b.kinds), pq.Array(b.zh), pq.Array(b.en), pq.Array(b.links)}
}
