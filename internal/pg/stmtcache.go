package pg

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
	"reflect"

	"github.com/lib/pq"
)

// stmtCacheSize bounds the statements a connection keeps prepared; the
// least recently used one goes first. examd sends a few hundred distinct
// statements with arguments, most of them rarely.
const stmtCacheSize = 128

// cachingConnector opens lib/pq connections that keep every statement run
// with arguments prepared, per connection, as pgx's statement cache does:
// PostgreSQL parses and plans a statement once per connection (its plan
// cache then decides, after five custom plans, whether a generic plan
// serves) instead of once per call. Measured in the rush before this
// (pg_stat_statements): a one-row session lookup spent 0.14 ms being
// planned against 0.04 ms running, and a device event's seven statements
// 0.85 ms planning against 0.45 ms running.
//
// Statements without arguments run as before, by the simple protocol (a
// migration's many statements in one string stay possible); so do
// statements prepared explicitly (COPY through pq.CopyIn among them).
// examd connects to PostgreSQL directly: a pooler in transaction mode, or
// DISCARD ALL, would take the prepared statements from under the cache.
type cachingConnector struct {
	driver.Connector
	size int
}

// CachingConnector returns c (lib/pq's connector, or one wrapping it),
// its connections keeping their statements prepared, as pg.Open connects.
func CachingConnector(c driver.Connector) driver.Connector {
	return cachingConnector{Connector: c, size: stmtCacheSize}
}

func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	cn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pc, ok := cn.(pqConn)
	if !ok {
		_ = cn.Close()
		return nil, errors.New("pg: a connection that cannot prepare, query and begin with a context")
	}
	return &cachingConn{conn: pc, max: c.size, lru: list.New(), byQuery: map[string]*list.Element{}}, nil
}

// pqConn is what the cache needs of a lib/pq connection.
type pqConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.QueryerContext
	driver.ExecerContext
}

// cachingConn is a lib/pq connection with its prepared statements. Like
// the connection, it is used by one goroutine at a time.
type cachingConn struct {
	conn    pqConn
	max     int
	lru     *list.List // of *cached, the most recently used first
	byQuery map[string]*list.Element
	// reading is set while a cached statement's rows are open: a
	// connection runs one statement at a time, and a second one sent
	// meanwhile would break the protocol (lib/pq checks only on its own
	// plain path), so it is refused with errReading.
	reading bool
	// bad is set when a cached statement's context ended while it ran:
	// lib/pq then sent, or may still send, a cancel request, which must
	// not land on the next statement of whoever uses the connection
	// next. lib/pq's own path drops such a connection; so does this one.
	bad bool
}

type cached struct {
	query string
	stmt  pqStmt
}

// pqStmt is what the cache needs of a lib/pq prepared statement.
type pqStmt interface {
	driver.Stmt
	driver.StmtQueryContext
	driver.StmtExecContext
}

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) { return c.conn.Prepare(query) }
func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if c.reading {
		return nil, errReading
	}
	return c.conn.PrepareContext(ctx, query)
}
func (c *cachingConn) Close() error              { return c.conn.Close() } // the server forgets its statements
func (c *cachingConn) Begin() (driver.Tx, error) { return c.conn.Begin() } //nolint:staticcheck // driver.Conn asks for it
func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.conn.BeginTx(ctx, opts)
}

// lib/pq's optional interfaces, passed on when the connection has them.

func (c *cachingConn) Ping(ctx context.Context) error {
	if p, ok := c.conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *cachingConn) ResetSession(ctx context.Context) error {
	if c.bad {
		return driver.ErrBadConn
	}
	if r, ok := c.conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *cachingConn) IsValid() bool {
	if c.bad {
		return false
	}
	if v, ok := c.conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *cachingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// errReading refuses a statement sent while rows are open, as lib/pq does.
var errReading = errors.New("pq: there is already a query being processed")

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if c.reading {
		return nil, errReading
	}
	if len(args) == 0 {
		return c.conn.QueryContext(ctx, query, args)
	}
	st, err := c.stmt(ctx, query)
	if err != nil {
		c.ended(ctx)
		return nil, err
	}
	rows, err := st.stmt.QueryContext(ctx, args)
	if err != nil {
		c.check(st, err)
		c.ended(ctx)
		return nil, err
	}
	c.reading = true
	return &cachedRows{Rows: rows, c: c, ctx: ctx}, nil
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.reading {
		return nil, errReading
	}
	if len(args) == 0 {
		return c.conn.ExecContext(ctx, query, args)
	}
	st, err := c.stmt(ctx, query)
	if err != nil {
		c.ended(ctx)
		return nil, err
	}
	res, err := st.stmt.ExecContext(ctx, args)
	c.check(st, err)
	c.ended(ctx)
	return res, err
}

// ended marks the connection bad when ctx ended while a cached statement
// ran (see bad).
func (c *cachingConn) ended(ctx context.Context) {
	if ctx.Err() != nil {
		c.bad = true
	}
}

// cachedRows are a cached statement's rows, lib/pq's, with their optional
// column types.
type cachedRows struct {
	driver.Rows
	c   *cachingConn
	ctx context.Context
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	if r.c.reading {
		r.c.reading = false
		r.c.ended(r.ctx)
	}
	return err
}

func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *cachedRows) ColumnTypeLength(i int) (int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *cachedRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

// stmt returns query prepared on this connection, preparing it (and
// closing the least recently used statement when full) the first time.
func (c *cachingConn) stmt(ctx context.Context, query string) (*cached, error) {
	if e, ok := c.byQuery[query]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*cached), nil
	}
	if c.lru.Len() >= c.max {
		c.forget(c.lru.Back())
	}
	ds, err := c.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st, ok := ds.(pqStmt)
	if !ok { // not lib/pq's statement: never cached
		_ = ds.Close()
		return nil, errors.New("pg: the driver's statement cannot run with a context")
	}
	e := c.lru.PushFront(&cached{query: query, stmt: st})
	c.byQuery[query] = e
	return e.Value.(*cached), nil
}

// check forgets st after err says that its plan no longer fits the tables
// (a column changed under it), so that the next use prepares it afresh.
func (c *cachingConn) check(st *cached, err error) {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "0A000" { // feature_not_supported: "cached plan must not change result type"
		if e, ok := c.byQuery[st.query]; ok {
			c.forget(e)
		}
	}
}

func (c *cachingConn) forget(e *list.Element) {
	st := c.lru.Remove(e).(*cached)
	delete(c.byQuery, st.query)
	_ = st.stmt.Close() // an error marks the connection bad, and database/sql drops it
}
