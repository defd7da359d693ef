package scheduling

import (
	"context"
	"fmt"
	"sync"

	"github.com/jmoiron/sqlx"
)

// prepared keeps the booking's two statements prepared on the store's pool:
// PostgreSQL parses and plans them once per connection instead of once per
// booking (their CTEs cost more to plan than to run: measured with pgbench,
// examd's booking transaction ran 0.31× the minimal one's tps as plain
// statements and 0.59× prepared). database/sql prepares a statement on a
// connection the first time a transaction on it uses the statement, and
// keeps it for the connection's life.
type prepared struct {
	db *sqlx.DB
	mu sync.Mutex
	m  map[string]*sqlx.Stmt
}

// get runs query in tx, prepared when warm prepared it (else as a plain
// statement: preparing now would wait for a second connection of the pool
// while tx holds one), and scans its one row into dest.
func (p *prepared) get(ctx context.Context, tx *sqlx.Tx, dest any, query string, args ...any) error {
	p.mu.Lock()
	st, ok := p.m[query]
	p.mu.Unlock()
	if !ok {
		return tx.GetContext(ctx, dest, query, args...)
	}
	return tx.StmtxContext(ctx, st).GetContext(ctx, dest, args...)
}

func (p *prepared) stmt(ctx context.Context, query string) (*sqlx.Stmt, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st, ok := p.m[query]; ok {
		return st, nil
	}
	st, err := p.db.PreparexContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if p.m == nil {
		p.m = map[string]*sqlx.Stmt{}
	}
	p.m[query] = st
	return st, nil
}
