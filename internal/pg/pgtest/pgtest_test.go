package pgtest_test

import (
	"context"
	"sync"
	"testing"

	"examd/internal/pg/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestNewDBGivesEachTestItsOwnMigratedDatabase(t *testing.T) {
	var mu sync.Mutex
	names := map[string]string{} // database name -> test
	t.Run("group", func(t *testing.T) {
		for _, name := range []string{"a", "b"} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				db, url := pgtest.NewDB(t)
				if url == "" {
					t.Error("empty URL")
				}
				var dbname string
				if err := db.GetContext(ctx, &dbname, `SELECT current_database()`); err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				names[dbname] = name
				mu.Unlock()

				var version int64
				if err := db.GetContext(ctx, &version, `SELECT max(version_id) FROM goose_db_version`); err != nil {
					t.Fatalf("migrations: %v", err)
				}
				if version < 1 {
					t.Errorf("goose version %d, want migrations applied", version)
				}
				// The same table in both: fails if they shared a database.
				if _, err := db.ExecContext(ctx, `CREATE TABLE mine (v int)`); err != nil {
					t.Fatal(err)
				}
			})
		}
	})
	if len(names) != 2 {
		t.Fatalf("databases %v, want two distinct ones", names)
	}
}
