package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/bcrypt"

	"examd/internal/audit"
	"examd/internal/pg"
	"examd/internal/refusal"
	"examd/internal/secret"
)

// Errors of the account store.
var (
	ErrBadCredentials = refusal.New("invalid_credentials", "用户名或密码错误")
	ErrDuplicateUser  = &refusal.Error{Code: "duplicate_username", Message: "该用户名已被使用，请换一个。", Field: "username"}
	ErrUnknownVenue   = refusal.Invalid("venue_id", "no such venue")
)

// Store keeps users and sessions in PostgreSQL.
type Store struct {
	db   *sqlx.DB
	hash *hasher
	ttl  time.Duration
	now  func() time.Time
	// dummy keeps a login for an unknown user as slow as one for a known user.
	dummy []byte
	// Throttle is the login throttle's rule; NewStore sets the defaults.
	Throttle Throttle
	// cache answers Lookup from memory while ListenRevocations runs.
	cache *sessionCache
}

// NewStore returns a store hashing with bcrypt cost (bcrypt.DefaultCost in
// production) on as many workers as there are cores, and issuing tokens
// that live for ttl.
func NewStore(db *sqlx.DB, cost int, ttl time.Duration, now func() time.Time) (*Store, error) {
	dummy, err := bcrypt.GenerateFromPassword([]byte("examd-dummy-password"), cost)
	if err != nil {
		return nil, fmt.Errorf("bcrypt cost %d: %w", cost, err)
	}
	s := &Store{db: db, hash: &hasher{cost: cost}, ttl: ttl, now: now, dummy: dummy, Throttle: DefaultThrottle(),
		cache: newSessionCache(CacheTTL, CacheSize)}
	s.SetHashWorkers(runtime.NumCPU())
	return s, nil
}

// SetHashWorkers sets how many passwords are hashed or checked at once (at
// least 1); call it before the store is used.
func (s *Store) SetHashWorkers(n int) {
	s.hash = &hasher{cost: s.hash.cost, workers: make(chan struct{}, max(1, n))}
}

// InsertUser creates a user inside the caller's transaction, so that a
// candidate and their account are made together. passwordHash comes from Hash.
func InsertUser(ctx context.Context, tx sqlx.QueryerContext, u NewUser, passwordHash string) (int64, error) {
	var desk *string
	if u.Desk != "" {
		desk = &u.Desk
	}
	// ON CONFLICT rather than a unique violation: PostgreSQL would write the
	// username (a candidate's ID number) into its log.
	var id int64
	err := sqlx.GetContext(ctx, tx, &id, `
		INSERT INTO users (username, password_hash, role, venue_id, desk)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (username) DO NOTHING
		RETURNING id`, u.Username, passwordHash, u.Role, u.VenueID, desk)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrDuplicateUser
	}
	if v, ok := pg.Violated(err); ok && v.Constraint == "users_venue_id_fkey" {
		return 0, ErrUnknownVenue
	}
	if err != nil {
		return 0, fmt.Errorf("insert user: %w", err)
	}
	return id, nil
}

// CreateUser creates a staff account.
// by is the admin who creates it, recorded in the audit log.
func (s *Store) CreateUser(ctx context.Context, u NewUser, by int64) (int64, error) {
	hash, err := s.Hash(ctx, u.Password)
	if err != nil {
		return 0, err
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	id, err := InsertUser(ctx, tx, u, hash)
	if err != nil {
		return 0, err
	}
	if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.User(by), Action: "user.created",
		Subject: fmt.Sprintf("user:%d", id),
		After:   map[string]any{"username": u.Username, "role": u.Role, "venue_id": u.VenueID, "desk": u.Desk}}); err != nil {
		return 0, err
	}
	return id, tx.Commit()
}

// User is a staff account as the admin's list shows it: never its password.
type User struct {
	ID        int64     `db:"id"`
	Username  string    `db:"username"`
	Role      string    `db:"role"`
	VenueID   *int64    `db:"venue_id"`
	Desk      string    `db:"desk"`
	CreatedAt time.Time `db:"created_at"`
}

// StaffUsers lists the staff accounts by username. Candidates' accounts
// are left out: their usernames are ID numbers, and they are listed with
// the candidates.
func (s *Store) StaffUsers(ctx context.Context) ([]User, error) {
	users := []User{}
	err := s.db.SelectContext(ctx, &users, `
		SELECT id, username, role, venue_id, coalesce(desk, '') AS desk, created_at
		FROM users WHERE role <> 'candidate'
		ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("list staff users: %w", err)
	}
	return users, nil
}

// EnsureAdmin creates user admin with password when the database has no
// user at all. It reports whether it created one; several replicas starting
// together create at most one.
func (s *Store) EnsureAdmin(ctx context.Context, password string) (bool, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM users`); err != nil {
		return false, fmt.Errorf("count users: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	hash, err := s.Hash(ctx, password)
	if err != nil {
		return false, err
	}
	res, err := s.db.ExecContext(ctx, `
		INSERT INTO users (username, password_hash, role)
		SELECT 'admin', $1, 'admin'
		WHERE NOT EXISTS (SELECT 1 FROM users)
		ON CONFLICT (username) DO NOTHING`, hash)
	if err != nil {
		return false, fmt.Errorf("create admin: %w", err)
	}
	created, _ := res.RowsAffected()
	return created == 1, nil
}

// Lookup finds the caller behind a token that has neither expired nor been
// revoked: from the session cache when it holds the token (no query), else
// from the database.
func (s *Store) Lookup(ctx context.Context, token string) (Principal, error) {
	key := [32]byte(secret.Hash(token))
	now := s.now()
	if p, ok := s.cache.get(key, now); ok {
		return p, nil
	}
	gen := s.cache.generation()
	var row struct {
		Principal
		ExpiresAt time.Time `db:"expires_at"`
	}
	err := s.db.GetContext(ctx, &row, `
		SELECT u.id, u.role, u.venue_id, coalesce(u.desk, '') AS desk, s.expires_at
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires_at > $2`, key[:], now)
	if errors.Is(err, sql.ErrNoRows) {
		return Principal{}, refusal.ErrUnauthorized
	}
	if err != nil {
		return Principal{}, fmt.Errorf("look up session: %w", err)
	}
	s.cache.put(key, gen, row.Principal, row.ExpiresAt)
	return row.Principal, nil
}

// Logout revokes a token. Migration 00020's trigger announces it to every
// replica's cache; this one's forgets it at once.
func (s *Store) Logout(ctx context.Context, token string) error {
	key := [32]byte(secret.Hash(token))
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, key[:]); err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	s.cache.dropToken(key)
	return nil
}
