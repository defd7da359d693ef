// Package audit keeps the audit log: one entry per state change that
// matters (a booking made, an attempt confirmed, a device key retired ...),
// recorded with Record in the transaction of the change, so that the log
// holds what happened, and only that.
//
// The log is append-only (triggers refuse UPDATE, DELETE and TRUNCATE) and
// hash-chained, off the commit path: Record only inserts the entry,
// unchained, and a Chainer (one at a time across replicas, under an
// advisory lock) links committed entries in batches, giving each the next
// chain_seq (1, 2, 3 ... gap-free, in the order it saw them committed), the
// previous entry's hash as prev_hash, and hash = SHA-256(content ||
// prev_hash), where content is the canonical form of the entry's fields (see
// content). The triggers let the chain columns of an unchained row be set
// only to the next link of the chain. Verify recomputes the chain in Go: an
// entry edited, removed or inserted behind the triggers' back (a superuser
// can disable them) breaks it; an entry left unchained for long is reported.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"examd/internal/pg"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Kinds of actor.
const (
	KindUser   = "user"
	KindDevice = "device"
	KindSystem = "system"
)

// Actor is who made a change: a user, a judging device, or examd itself
// (Kind "system", ID 0).
type Actor struct {
	Kind string `json:"kind"`
	ID   int64  `json:"id,omitempty"`
}

// User is the actor users.id = id.
func User(id int64) Actor { return Actor{Kind: KindUser, ID: id} }

// Device is the actor devices.id = id.
func Device(id int64) Actor { return Actor{Kind: KindDevice, ID: id} }

// System is examd acting on its own, e.g. closing an ended exam day.
var System = Actor{Kind: KindSystem}

// String returns the actor as the API's actor filter writes it: "user:3",
// "device:5" or "system".
func (a Actor) String() string {
	if a.Kind == KindSystem {
		return KindSystem
	}
	return a.Kind + ":" + strconv.FormatInt(a.ID, 10)
}

// ParseActor parses what String returns.
func ParseActor(s string) (Actor, error) {
	if s == KindSystem {
		return System, nil
	}
	kind, id, _ := strings.Cut(s, ":")
	n, err := strconv.ParseInt(id, 10, 64)
	a := Actor{Kind: kind, ID: n}
	if err != nil || a.validate() != nil || kind == KindSystem {
		return Actor{}, fmt.Errorf("actor %q: want user:<id>, device:<id> or system", s)
	}
	return a, nil
}

func (a Actor) validate() error {
	switch {
	case a.Kind == KindSystem && a.ID != 0:
		return fmt.Errorf("the system actor has no id, not %d", a.ID)
	case a.Kind == KindSystem:
		return nil
	case a.Kind != KindUser && a.Kind != KindDevice:
		return fmt.Errorf("unknown actor kind %q", a.Kind)
	case a.ID <= 0:
		return fmt.Errorf("actor %s: the id must be positive", a)
	}
	return nil
}

// Entry is a change to record. Before and After are the subject's state
// around the change, marshalled to JSON; nil (or JSON null) records none,
// as for a creation's Before.
type Entry struct {
	Actor   Actor
	Action  string // what happened, e.g. "booking.created"
	Subject string // what it happened to, e.g. "booking:12"
	Before  any
	After   any
}

// Record appends e to the audit log inside the caller's transaction tx, one
// INSERT that takes no lock shared with other writers; it vanishes if tx
// rolls back, and a Chainer links it once tx has committed.
func Record(ctx context.Context, tx sqlx.ExtContext, e Entry) error {
	b, err := NewEntries(e)
	if err != nil {
		return err
	}
	q, args := b.Insert(1, "true")
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("audit %s of %s: %w", e.Action, e.Subject, err)
	}
	return nil
}

// Entries is entries made ready for an INSERT that a caller puts in a
// statement of its own (a data-modifying CTE beside the change it records),
// so that the change and its entries take one round trip.
type Entries struct {
	kinds, actions, subjects []string
	actorIDs                 []sql.NullInt64
	befores, afters          []sql.NullString
}

// NewEntries checks and encodes es as Record would.
func NewEntries(es ...Entry) (Entries, error) {
	var b Entries
	for _, e := range es {
		if err := e.Actor.validate(); err != nil {
			return Entries{}, fmt.Errorf("audit %s: %w", e.Action, err)
		}
		if strings.TrimSpace(e.Action) == "" || strings.TrimSpace(e.Subject) == "" {
			return Entries{}, fmt.Errorf("audit %q of %q: the action and the subject are required", e.Action, e.Subject)
		}
		before, err := jsonText(e.Before)
		if err != nil {
			return Entries{}, fmt.Errorf("audit %s of %s: before: %w", e.Action, e.Subject, err)
		}
		after, err := jsonText(e.After)
		if err != nil {
			return Entries{}, fmt.Errorf("audit %s of %s: after: %w", e.Action, e.Subject, err)
		}
		b.kinds = append(b.kinds, e.Actor.Kind)
		b.actorIDs = append(b.actorIDs, sql.NullInt64{Int64: e.Actor.ID, Valid: e.Actor.Kind != KindSystem})
		b.actions = append(b.actions, e.Action)
		b.subjects = append(b.subjects, e.Subject)
		b.befores = append(b.befores, nullString(before))
		b.afters = append(b.afters, nullString(after))
	}
	return b, nil
}

func nullString(s *string) sql.NullString {
	if s == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: *s, Valid: true}
}

// Insert returns the INSERT of b's entries, inserted only where the SQL
// condition where holds ("true" for always), with its parameters numbered
// from $first, and their arguments.
func (b Entries) Insert(first int, where string) (string, []any) {
	n := func(i int) string { return "$" + strconv.Itoa(first+i) }
	// JSON goes as text: lib/pq sends []byte parameters in binary, which
	// jsonb would refuse.
	q := `INSERT INTO audit_log (actor_kind, actor_id, action, subject, before, after)
		SELECT e.kind, e.actor_id, e.action, e.subject, e.before::jsonb, e.after::jsonb
		FROM unnest(` + n(0) + `::text[], ` + n(1) + `::bigint[], ` + n(2) + `::text[], ` + n(3) + `::text[], ` +
		n(4) + `::text[], ` + n(5) + `::text[]) AS e (kind, actor_id, action, subject, before, after)
		WHERE ` + where
	return q, []any{pq.Array(b.kinds), pq.Array(b.actorIDs), pq.Array(b.actions), pq.Array(b.subjects),
		pq.Array(b.befores), pq.Array(b.afters)}
}

// jsonText marshals v, returning nil for nil or JSON null.
func jsonText(v any) (*string, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if string(b) == "null" {
		return nil, nil
	}
	s := string(b)
	return &s, nil
}

// Row is a recorded entry, as the API lists it.
type Row struct {
	ID       int64           `json:"id"`
	ChainSeq int64           `json:"chain_seq"`
	At       time.Time       `json:"at"`
	Actor    Actor           `json:"actor"`
	Action   string          `json:"action"`
	Subject  string          `json:"subject"`
	Before   json.RawMessage `json:"before"` // null when none
	After    json.RawMessage `json:"after"`
	PrevHash string          `json:"prev_hash"` // hex
	Hash     string          `json:"hash"`      // hex
}

// stored is an audit_log row as scanned; jsonb comes as its text.
type stored struct {
	ID        int64     `db:"id"`
	ChainSeq  *int64    `db:"chain_seq"`
	At        time.Time `db:"at"`
	ActorKind string    `db:"actor_kind"`
	ActorID   *int64    `db:"actor_id"`
	Action    string    `db:"action"`
	Subject   string    `db:"subject"`
	Before    *string   `db:"before"`
	After     *string   `db:"after"`
	PrevHash  []byte    `db:"prev_hash"`
	Hash      []byte    `db:"hash"`
}

const storedColumns = `id, chain_seq, at, actor_kind, actor_id, action, subject,
	before::text AS before, after::text AS after, prev_hash, hash`

func (s stored) row() Row {
	r := Row{ID: s.ID, At: s.At.In(shanghai), Actor: Actor{Kind: s.ActorKind}, Action: s.Action, Subject: s.Subject,
		PrevHash: hex.EncodeToString(s.PrevHash), Hash: hex.EncodeToString(s.Hash)}
	if s.ChainSeq != nil {
		r.ChainSeq = *s.ChainSeq
	}
	if s.ActorID != nil {
		r.Actor.ID = *s.ActorID
	}
	if s.Before != nil {
		r.Before = json.RawMessage(*s.Before)
	}
	if s.After != nil {
		r.After = json.RawMessage(*s.After)
	}
	return r
}

// content is the canonical form of a chained row, which its hash covers
// with its prev_hash: the concatenation of these fields, each as a netstring
// (its length in bytes in decimal, ':', its UTF-8 bytes, ','), NULL as the
// empty string:
//
//	chain_seq, at as integer microseconds since the Unix epoch, actor_kind,
//	actor_id, action, subject, before as jsonb text, after as jsonb text
//
// The migration's audit_content builds the same bytes in SQL.
func (s stored) content() []byte {
	field := func(b []byte, v string) []byte {
		b = strconv.AppendInt(b, int64(len(v)), 10)
		b = append(b, ':')
		b = append(b, v...)
		return append(b, ',')
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	num := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	b := make([]byte, 0, 128+len(s.Action)+len(s.Subject)+len(str(s.Before))+len(str(s.After)))
	b = field(b, num(s.ChainSeq))
	b = field(b, strconv.FormatInt(s.At.UnixMicro(), 10))
	b = field(b, s.ActorKind)
	b = field(b, num(s.ActorID))
	b = field(b, s.Action)
	b = field(b, s.Subject)
	b = field(b, str(s.Before))
	return field(b, str(s.After))
}

// hash is what the row's hash must be: SHA-256(content || prev_hash).
func (s stored) hash() []byte {
	h := sha256.New()
	h.Write(s.content())
	h.Write(s.PrevHash)
	return h.Sum(nil)
}

// Report is the outcome of Verify.
type Report struct {
	Rows     int64  // chained rows found sound, in chain order
	BrokenAt int64  // chain_seq of the first row that breaks the chain; 0 when intact
	Reason   string // why it breaks; empty when intact
	Head     string // hex hash of the last row when intact: record it elsewhere to catch a rewritten tail

	// The committed rows the chainer has not linked yet: how many, and the
	// age of the oldest. Those older than Verify's staleAfter are stale: no
	// chainer is linking them (no examd runs, or its chainer fails).
	Unchained   int64
	OldestAge   time.Duration
	Stale       int64
	OldestStale int64 // id of the oldest stale row; 0 when none
	StaleAfter  time.Duration
}

// Intact reports whether the chain holds.
func (r Report) Intact() bool { return r.Reason == "" }

// Sound reports whether the chain holds and no row waits to be chained
// longer than the threshold.
func (r Report) Sound() bool { return r.Intact() && r.Stale == 0 }

// DefaultStaleAfter is the age past which Verify counts an unchained row as
// stale: the chainers link rows within a second or so.
const DefaultStaleAfter = time.Minute

// verifyPage is how many rows Verify reads at a time.
const verifyPage = 256

// zeroHash is the prev_hash of the first row.
var zeroHash = make([]byte, sha256.Size)

// Verify walks the chain from chain_seq 1 in one snapshot, a page at a time,
// recomputing every hash in Go, and reports the first row that breaks it: a
// chain_seq missing, a prev_hash that is not the previous row's hash, a hash
// that does not match the row's content, or a head that does not end the
// chain. It also counts the committed rows not chained yet, and those of
// them older than staleAfter (DefaultStaleAfter when 0). It changes nothing.
// An error means the walk could not be done, not that the log is broken.
func Verify(ctx context.Context, db *sqlx.DB, staleAfter time.Duration) (Report, error) {
	if staleAfter <= 0 {
		staleAfter = DefaultStaleAfter
	}
	tx, err := db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return Report{}, fmt.Errorf("verify the audit log: %w", err)
	}
	defer tx.Rollback()
	rep := Report{StaleAfter: staleAfter}
	var pending struct {
		N           int64    `db:"n"`
		OldestAge   *float64 `db:"oldest_age"`
		Stale       int64    `db:"stale"`
		OldestStale *int64   `db:"oldest_stale"`
	}
	if err := tx.GetContext(ctx, &pending, `SELECT count(*) AS n,
			extract(epoch FROM clock_timestamp() - min(at))::double precision AS oldest_age,
			count(*) FILTER (WHERE at < clock_timestamp() - $1 * interval '1 microsecond') AS stale,
			min(id) FILTER (WHERE at < clock_timestamp() - $1 * interval '1 microsecond') AS oldest_stale
		FROM audit_log WHERE chain_seq IS NULL`, staleAfter.Microseconds()); err != nil {
		return Report{}, verifyError(err)
	}
	rep.Unchained, rep.Stale = pending.N, pending.Stale
	if pending.OldestAge != nil {
		rep.OldestAge = max(time.Duration(*pending.OldestAge*float64(time.Second)), 0)
	}
	if pending.OldestStale != nil {
		rep.OldestStale = *pending.OldestStale
	}
	broken := func(seq int64, format string, args ...any) (Report, error) {
		rep.BrokenAt, rep.Reason = seq, fmt.Sprintf(format, args...)
		return rep, nil
	}
	prev := zeroHash
	for last := int64(0); ; {
		var page []stored
		err := tx.SelectContext(ctx, &page, `SELECT `+storedColumns+` FROM audit_log
			WHERE chain_seq > $1 ORDER BY chain_seq LIMIT $2`, last, verifyPage)
		if err != nil {
			return Report{}, verifyError(err)
		}
		for _, s := range page {
			seq := *s.ChainSeq
			switch want := s.hash(); {
			case seq != last+1 && last == 0:
				return broken(1, "row 1 is missing: the chain starts at row %d", seq)
			case seq != last+1:
				return broken(last+1, "row %d is missing: the row after row %d is row %d", last+1, last, seq)
			case !bytes.Equal(s.PrevHash, prev):
				return broken(seq, "its prev_hash is not the hash of row %d (id %d)", last, s.ID)
			case !bytes.Equal(s.Hash, want):
				return broken(seq, "its hash does not match its content (id %d)", s.ID)
			}
			prev, last = s.Hash, seq
			rep.Rows++
		}
		if len(page) < verifyPage {
			break
		}
	}

	var head struct {
		Seq  int64  `db:"seq"`
		Hash []byte `db:"hash"`
	}
	if err := tx.GetContext(ctx, &head, `SELECT seq, hash FROM audit_head WHERE id = 1`); err != nil {
		return Report{}, verifyError(err)
	}
	switch n := rep.Rows; {
	case head.Seq > n:
		return broken(n+1, "row %d is missing: the head counts %d rows, the chain ends at row %d", n+1, head.Seq, n)
	case head.Seq < n:
		return broken(head.Seq+1, "the head counts %d rows, yet row %d follows", head.Seq, head.Seq+1)
	case !bytes.Equal(head.Hash, prev):
		return broken(max(n, 1), "the head's hash is not the hash of row %d", n)
	}
	rep.Head = hex.EncodeToString(prev)
	return rep, nil
}

func verifyError(err error) error {
	if pg.UndefinedTable(err) {
		return errors.New("verify the audit log: the database has no audit log; run examd migrate")
	}
	return fmt.Errorf("verify the audit log: %w", err)
}

// Filter selects entries for List. Zero fields select everything.
type Filter struct {
	Action  string // e.g. "user.created"
	Actor   *Actor
	Subject string
	From    time.Time // at >= From
	To      time.Time // at < To
	After   int64     // the cursor: a previous page's next; entries with a lower chain_seq
	Limit   int       // 1 to 1000; 0 means 100
}

// List limits.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// List returns the chained entries that f selects (Flush first to list every
// committed one), newest (highest chain_seq) first, at most f.Limit of them,
// and the cursor of the next page (f.After for the next call), 0 when this
// page is the last.
func List(ctx context.Context, db sqlx.QueryerContext, f Filter) ([]Row, int64, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where := []string{"chain_seq IS NOT NULL"}
	if f.After > 0 {
		where = append(where, "chain_seq < "+arg(f.After))
	}
	if f.Actor != nil {
		where = append(where, "actor_kind = "+arg(f.Actor.Kind))
		if f.Actor.Kind == KindSystem {
			where = append(where, "actor_id IS NULL")
		} else {
			where = append(where, "actor_id = "+arg(f.Actor.ID))
		}
	}
	if f.Action != "" {
		where = append(where, "action = "+arg(f.Action))
	}
	if f.Subject != "" {
		where = append(where, "subject = "+arg(f.Subject))
	}
	if !f.From.IsZero() {
		where = append(where, "at >= "+arg(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "at < "+arg(f.To))
	}
	var page []stored
	err := sqlx.SelectContext(ctx, db, &page, `SELECT `+storedColumns+` FROM audit_log
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY chain_seq DESC LIMIT `+arg(limit+1), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list the audit log: %w", err)
	}
	rows := make([]Row, 0, min(len(page), limit))
	for _, s := range page[:min(len(page), limit)] {
		rows = append(rows, s.row())
	}
	var next int64
	if len(page) > limit {
		next = rows[limit-1].ChainSeq
	}
	return rows, next, nil
}
