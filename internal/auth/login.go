package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"golang.org/x/crypto/bcrypt"

	"examd/internal/admission"
	"examd/internal/secret"
)

// hasher runs bcrypt on a bounded number of workers, outside the database
// gate: a crowd of logins queues here, for the cores, not for the
// database's places.
type hasher struct {
	cost    int
	workers chan struct{}
}

// run runs f on a worker, having stepped out of the request's gate place.
func (h *hasher) run(ctx context.Context, f func()) error {
	var err error
	outErr := admission.Outside(ctx, func() {
		select {
		case h.workers <- struct{}{}:
		case <-ctx.Done():
			err = ctx.Err()
			return
		}
		defer func() { <-h.workers }()
		f()
	})
	if err != nil {
		return err
	}
	return outErr
}

// Hash hashes a password with the store's cost on a hashing worker.
func (s *Store) Hash(ctx context.Context, password string) (string, error) {
	var h []byte
	var herr error
	if err := s.hash.run(ctx, func() { h, herr = bcrypt.GenerateFromPassword([]byte(password), s.hash.cost) }); err != nil {
		return "", err
	}
	if herr != nil {
		return "", fmt.Errorf("hash password: %w", herr)
	}
	return string(h), nil
}

// matches reports whether password is hash's, on a hashing worker.
func (s *Store) matches(ctx context.Context, hash []byte, password string) (bool, error) {
	var ok bool
	err := s.hash.run(ctx, func() { ok = bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil })
	return ok, err
}

// maxUsername bounds the username a login may name: no account has a
// longer one (ValidUser), and the throttle keeps what it is given.
const maxUsername = 64

// Login checks a password and opens a session. addr is the client's
// address, which the throttle counts failures by (Throttle): a login of a
// blocked key is refused with a *Throttled before its password is looked
// at. The attempt is counted as failed before the password is checked, so
// that concurrent guesses cannot overtake the count, and taken back when
// it succeeds.
func (s *Store) Login(ctx context.Context, username, password, addr string) (Session, error) {
	if len(username) > maxUsername*4 {
		username = username[:maxUsername*4] // counted, and found by nobody
	}
	keys := throttleKeys(username, addr)
	before, claimed, err := s.claim(ctx, keys)
	if err != nil {
		return Session{}, err
	}
	var u struct {
		Principal
		PasswordHash string `db:"password_hash"`
	}
	// The new session goes into the session cache at once (its first
	// request, such as the booking of a candidate who just logged in, costs
	// no query), unless a revocation was announced since this read.
	gen := s.cache.generation()
	err = s.db.GetContext(ctx, &u, `
		SELECT id, role, venue_id, coalesce(desk, '') AS desk, password_hash FROM users WHERE username = $1`, username)
	if errors.Is(err, sql.ErrNoRows) {
		// As slow as a known user's login.
		if _, err := s.matches(ctx, s.dummy, password); err != nil {
			return Session{}, err
		}
		return Session{}, ErrBadCredentials
	}
	if err != nil {
		return Session{}, fmt.Errorf("find user: %w", err)
	}
	ok, err := s.matches(ctx, []byte(u.PasswordHash), password)
	if err != nil {
		return Session{}, err
	}
	if !ok {
		return Session{}, ErrBadCredentials
	}
	if err := s.succeeded(ctx, keys, before, claimed, username, addr); err != nil {
		return Session{}, err
	}
	tok, hash := secret.New()
	expires := s.now().Add(s.ttl).In(shanghai).Truncate(time.Second)
	if _, err := s.db.ExecContext(ctx, `
		WITH gone AS (DELETE FROM sessions WHERE user_id = $2 AND expires_at < $4)
		INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)`,
		hash, u.UserID, expires, s.now()); err != nil {
		return Session{}, fmt.Errorf("open session: %w", err)
	}
	s.cache.put([32]byte(hash), gen, u.Principal, expires)
	return Session{Token: tok, Role: u.Role, ExpiresAt: expires}, nil
}

// The throttle's scopes, in the order their rows are locked.
var scopes = [3]string{"address", "pair", "username"}

// throttleKeys are the keys of a login, in scopes' order: an address holds
// no space, so "address username" names one pair.
func throttleKeys(username, addr string) [3]string {
	return [3]string{addr, addr + " " + username, username}
}

// claim counts a login as failed unless one of its keys is blocked, in
// which case it returns a *Throttled. It locks the keys' rows (in one
// order: no deadlock), lets the rule (Throttle) decide and count, and
// writes the counts back before the rows are let go: concurrent logins of
// a key are counted one after the other, and the limit's next one is
// refused. It returns the counts before and after.
func (s *Store) claim(ctx context.Context, keys [3]string) (before, after Counts, err error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return before, after, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	// Two statements: the second one's snapshot holds the rows that
	// concurrent logins inserted while the first waited for them.
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO login_throttle (scope, key)
		SELECT * FROM unnest($1::text[], $2::text[])
		ON CONFLICT (scope, key) DO NOTHING`, pq.Array(scopes[:]), pq.Array(keys[:])); err != nil {
		return before, after, fmt.Errorf("add login throttle keys: %w", err)
	}
	rows, err := tx.QueryxContext(ctx, `
		SELECT scope, failures, window_ends, blocked_until,
			EXISTS (SELECT 1 FROM login_addresses WHERE username = $3 AND address = $4) AS known
		FROM login_throttle
		WHERE (scope, key) IN (SELECT * FROM unnest($1::text[], $2::text[]))
		ORDER BY scope, key
		FOR UPDATE OF login_throttle`, pq.Array(scopes[:]), pq.Array(keys[:]), keys[2], keys[0])
	if err != nil {
		return before, after, fmt.Errorf("lock login throttle: %w", err)
	}
	defer rows.Close()
	known := false
	for rows.Next() {
		var r struct {
			Count
			Scope string `db:"scope"`
			Known bool   `db:"known"`
		}
		if err := rows.StructScan(&r); err != nil {
			return before, after, fmt.Errorf("read login throttle: %w", err)
		}
		*before.of(r.Scope) = r.Count
		known = r.Known
	}
	if err := rows.Err(); err != nil {
		return before, after, fmt.Errorf("read login throttle: %w", err)
	}
	rows.Close()
	before.KnownAddress = known
	now := s.now()
	if wait := s.Throttle.Wait(before, now); wait > 0 {
		return before, before, &Throttled{RetryAfter: wait}
	}
	after = s.Throttle.Failed(before, now)
	if err := upsertCounts(ctx, tx, keys, after); err != nil {
		return before, after, err
	}
	return before, after, tx.Commit()
}

// of is the count of scope.
func (c *Counts) of(scope string) *Count {
	switch scope {
	case "address":
		return &c.Address
	case "pair":
		return &c.Pair
	}
	return &c.Username
}

// upsertCounts writes the counts of keys.
func upsertCounts(ctx context.Context, tx sqlx.ExecerContext, keys [3]string, c Counts) error {
	var failures [3]int64
	var ends, blocked [3]time.Time
	for i, scope := range scopes {
		n := c.of(scope)
		failures[i], ends[i], blocked[i] = int64(n.Failures), n.WindowEnds, n.BlockedUntil
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO login_throttle (scope, key, failures, window_ends, blocked_until)
		SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::timestamptz[])
		ON CONFLICT (scope, key) DO UPDATE SET failures = excluded.failures,
			window_ends = excluded.window_ends, blocked_until = excluded.blocked_until`,
		pq.Array(scopes[:]), pq.Array(keys[:]), pq.Array(failures[:]), pq.Array(ends[:]), pq.Array(blocked[:]))
	if err != nil {
		return fmt.Errorf("count login: %w", err)
	}
	return nil
}

// succeeded takes back the failure claim counted: the pair's count is
// reset, the address's and (when it counted) the username's lose the
// claimed failure, and the block it began unless another login has moved
// it since; the address becomes one the username is known at.
func (s *Store) succeeded(ctx context.Context, keys [3]string, before, claimed Counts, username, addr string) error {
	scopes, ks := []string{"address"}, []string{keys[0]}
	was, is := []time.Time{before.Address.BlockedUntil}, []time.Time{claimed.Address.BlockedUntil}
	if !claimed.KnownAddress {
		scopes, ks = append(scopes, "username"), append(ks, keys[2])
		was, is = append(was, before.Username.BlockedUntil), append(is, claimed.Username.BlockedUntil)
	}
	_, err := s.db.ExecContext(ctx, `
		WITH pair AS (
			DELETE FROM login_throttle WHERE scope = 'pair' AND key = $1),
		known AS (
			INSERT INTO login_addresses (username, address, last_login) VALUES ($2, $3, $4)
			ON CONFLICT (username, address) DO UPDATE SET last_login = excluded.last_login)
		UPDATE login_throttle t SET failures = greatest(t.failures - 1, 0),
			blocked_until = CASE WHEN t.blocked_until = v.claimed THEN v.before ELSE t.blocked_until END
		FROM unnest($5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[]) v(scope, key, claimed, before)
		WHERE t.scope = v.scope AND t.key = v.key`,
		keys[1], username, addr, s.now(), pq.Array(scopes), pq.Array(ks), pq.Array(is), pq.Array(was))
	if err != nil {
		return fmt.Errorf("reset login throttle: %w", err)
	}
	return nil
}

// PruneThrottle forgets the counts whose window ended before now, and the
// known addresses not logged in from for a year; it returns how many rows
// it deleted.
func (s *Store) PruneThrottle(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `
		WITH old AS (DELETE FROM login_addresses WHERE last_login < $2)
		DELETE FROM login_throttle WHERE window_ends < $1`, now, now.AddDate(-1, 0, 0))
	if err != nil {
		return 0, fmt.Errorf("prune login throttle: %w", err)
	}
	return res.RowsAffected()
}
