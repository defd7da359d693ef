package pg_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/internal/pg"
	"examd/internal/pg/pgtest"
)

// TestStatementCache: on a connection of pg.Open, a statement with
// arguments is prepared the first time and reused after; a statement
// without them runs as before (several in one string); at most
// StmtCacheSize stay prepared; and a statement whose table changed under
// its plan works again.
func TestStatementCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := pgtest.NewCluster(t)
	db, err := pg.Open(ctx, c.URL("examd"), 1) // one connection: every query sees its statements
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	prepared := func(like string) int {
		t.Helper()
		var n int
		// No arguments: by the simple protocol, itself never prepared.
		if err := db.GetContext(ctx, &n, `SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '`+like+`'`); err != nil {
			t.Fatal(err)
		}
		return n
	}

	for i := range 3 {
		var got int
		if err := db.GetContext(ctx, &got, `SELECT $1::int + 1 AS cached`, i); err != nil || got != i+1 {
			t.Fatalf("run %d: got %d, %v; want %d", i, got, err, i+1)
		}
	}
	if n := prepared(`SELECT $1::int + 1 AS cached`); n != 1 {
		t.Fatalf("after three runs the statement is prepared %d times, want 1", n)
	}
	if n := prepared(`SELECT count(*) FROM pg_prepared_statements%`); n != 0 {
		t.Fatalf("a statement without arguments was prepared (%d)", n)
	}

	// Several statements in one string, without arguments (as migrations).
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (a int); INSERT INTO t VALUES (1)`); err != nil {
		t.Fatalf("two statements in one string: %v", err)
	}

	// Bounded: the least recently used statements are closed.
	for i := range pg.StmtCacheSize + 20 {
		var got int
		if err := db.GetContext(ctx, &got, fmt.Sprintf(`SELECT $1::int AS n%d`, i), i); err != nil || got != i {
			t.Fatalf("statement %d: got %d, %v", i, got, err)
		}
	}
	if n := prepared(`SELECT $1::int AS n%`); n > pg.StmtCacheSize {
		t.Fatalf("%d statements prepared, want at most %d", n, pg.StmtCacheSize)
	}
	if n := prepared(`SELECT $1::int AS n0`); n != 0 {
		t.Fatalf("the least recently used statement is still prepared")
	}
	if n := prepared(fmt.Sprintf(`SELECT $1::int AS n%d`, pg.StmtCacheSize+19)); n != 1 {
		t.Fatalf("the most recent statement is not prepared")
	}

	// A column added under a prepared SELECT *: PostgreSQL refuses the old
	// plan once at most, and the statement is prepared afresh.
	read := func(db *sqlx.DB) (map[string]any, error) {
		row := map[string]any{}
		err := db.QueryRowxContext(ctx, `SELECT * FROM t WHERE a = $1`, 1).MapScan(row)
		return row, err
	}
	if _, err := read(db); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `ALTER TABLE t ADD COLUMN b int`); err != nil {
		t.Fatal(err)
	}
	row, err := read(db)
	if err != nil {
		t.Logf("first read after the change: %v", err)
		row, err = read(db)
	}
	if err != nil || len(row) != 2 {
		t.Fatalf("read after the change: %v, %v; want both columns", row, err)
	}
}

// TestStatementCacheOneAtATime: a statement sent while a cached
// statement's rows are still open is refused cleanly (as lib/pq refuses
// it) and the rows and the transaction go on; a statement whose context
// ends while it runs costs its connection, so that a late cancel request
// cannot reach the next user's statement.
func TestStatementCacheOneAtATime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := pgtest.NewCluster(t)
	db, err := pg.Open(ctx, c.URL("examd"), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT generate_series(1, $1::int)`, 5000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		if n++; n == 1 {
			var x int
			if err := tx.QueryRowContext(ctx, `SELECT $1::int`, 7).Scan(&x); err == nil {
				t.Fatal("a second statement while rows are open: no error")
			}
		}
	}
	if err := rows.Err(); err != nil || n != 5000 {
		t.Fatalf("read %d rows, %v; want 5000", n, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("commit after the refused statement: %v", err)
	}

	var before, after int
	if err := db.GetContext(ctx, &before, `SELECT pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := db.ExecContext(short, `SELECT pg_sleep($1)`, 5); err == nil {
		t.Fatal("a statement past its deadline: no error")
	}
	if err := db.GetContext(ctx, &after, `SELECT pg_backend_pid()`); err != nil {
		t.Fatalf("after a cancelled statement: %v", err)
	}
	if after == before {
		t.Fatalf("the cancelled statement's connection (backend %d) was used again", before)
	}
}
