package scheduling

import (
	"context"
	"fmt"
	"strings"
)

// CandidatesPerPage is the number of candidates a page of the list holds.
const CandidatesPerPage = 50

// CandidateRow is a candidate as the staff's list shows them.
type CandidateRow struct {
	ID           int64  `db:"id"`
	IDNumber     string `db:"id_number"`
	Name         string `db:"name"`
	Phone        string `db:"phone"`
	LicenceClass string `db:"licence_class"`
	OnLane       bool   `db:"on_lane"`
}

// CandidatePage is one page of the candidates that match a search.
type CandidatePage struct {
	Candidates []CandidateRow
	// Page is the page shown, from 1; Pages the number of pages (at least
	// 1); Total the number of matching candidates.
	Page, Pages, Total int
}

// SearchCandidates lists the candidates whose ID number, name or phone
// holds text (a lower-case x of an ID number matches X), or whose candidate
// number is text; all of them when text is empty. Newest registrations
// first, CandidatesPerPage to a page; a page past the last shows the last.
func (s *Store) SearchCandidates(ctx context.Context, text string, page int) (CandidatePage, error) {
	text = strings.TrimSpace(text)
	pattern := "%" + escapeLike(text) + "%"
	idPattern := "%" + escapeLike(strings.ToUpper(text)) + "%"
	if page < 1 {
		page = 1
	}
	for {
		var rows []struct {
			CandidateRow
			Total int `db:"total"`
		}
		err := s.db.SelectContext(ctx, &rows, `
			SELECT c.id, c.id_number, c.name, c.phone, c.licence_class,
			       EXISTS (SELECT 1 FROM priority_grants g WHERE g.candidate_id = c.id AND g.revoked_at IS NULL) AS on_lane,
			       count(*) OVER () AS total
			FROM candidates c
			WHERE $1 = '' OR c.id::text = $1 OR c.name LIKE $2 OR c.phone LIKE $2 OR c.id_number LIKE $3
			ORDER BY c.id DESC
			LIMIT $4 OFFSET $5`, text, pattern, idPattern, CandidatesPerPage, (page-1)*CandidatesPerPage)
		if err != nil {
			return CandidatePage{}, fmt.Errorf("search candidates: %w", err)
		}
		if len(rows) == 0 && page > 1 {
			// Past the end (the list shrank, or a hand-made link): count
			// them and show the last page.
			var total int
			err := s.db.GetContext(ctx, &total, `
				SELECT count(*) FROM candidates c
				WHERE $1 = '' OR c.id::text = $1 OR c.name LIKE $2 OR c.phone LIKE $2 OR c.id_number LIKE $3`,
				text, pattern, idPattern)
			if err != nil {
				return CandidatePage{}, fmt.Errorf("count candidates: %w", err)
			}
			page = max(1, (total+CandidatesPerPage-1)/CandidatesPerPage)
			if total == 0 {
				return CandidatePage{Candidates: []CandidateRow{}, Page: 1, Pages: 1}, nil
			}
			continue
		}
		p := CandidatePage{Candidates: make([]CandidateRow, len(rows)), Page: page, Pages: 1}
		for i, r := range rows {
			p.Candidates[i] = r.CandidateRow
			p.Total = r.Total
		}
		p.Pages = max(1, (p.Total+CandidatesPerPage-1)/CandidatesPerPage)
		return p, nil
	}
}

// escapeLike escapes LIKE's wildcards and its escape character in s.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
