package pg_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"

	"examd/internal/pg"
	"examd/internal/pg/pgtest"
)

func TestUnavailable(t *testing.T) {
	dial := &net.OpError{Op: "dial", Net: "unix", Err: &net.AddrError{Err: "no such file or directory"}}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"Nil", nil, false},
		{"Other", errors.New("boom"), false},
		{"Canceled", fmt.Errorf("find slot: %w", context.Canceled), false},
		{"UniqueViolation", &pq.Error{Code: "23505"}, false},
		{"Deadlock", &pq.Error{Code: "40P01"}, false},
		{"QueryCanceled", &pq.Error{Code: "57014"}, false},
		{"AdminShutdown", &pq.Error{Code: "57P01"}, true},
		{"CrashShutdown", &pq.Error{Code: "57P02"}, true},
		{"CannotConnectNow", fmt.Errorf("book: %w", &pq.Error{Code: "57P03", Message: "the database system is starting up"}), true},
		{"ConnectionFailure", &pq.Error{Code: "08006"}, true},
		{"BadConn", fmt.Errorf("book: %w", driver.ErrBadConn), true},
		{"EOF", fmt.Errorf("read: %w", io.EOF), true},
		{"UnexpectedEOF", io.ErrUnexpectedEOF, true},
		{"Refused", fmt.Errorf("connecting: %w", syscall.ECONNREFUSED), true},
		{"Reset", syscall.ECONNRESET, true},
		{"BrokenPipe", syscall.EPIPE, true},
		{"Dial", errors.Join(errors.New("pq: could not connect"), dial), true},
		{"DialTimeout", &net.OpError{Op: "dial", Net: "tcp", Err: timeoutError{}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := pg.Unavailable(tc.err); got != tc.want {
				t.Errorf("Unavailable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

type timeoutError struct{}

func (timeoutError) Error() string { return "i/o timeout" }
func (timeoutError) Timeout() bool { return true }

// TestUnavailableOnAStoppedServer reads the errors of a real outage: each
// query while the server is stopped fails with an error that Unavailable
// recognises, and the same pool works again once the server is back.
func TestUnavailableOnAStoppedServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := pgtest.NewCluster(t)
	db, err := pg.Open(ctx, c.URL("examd"), 4)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	query := func() error {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		var n int
		return db.GetContext(ctx, &n, `SELECT 1`)
	}
	for _, mode := range []string{"fast", "immediate"} {
		t.Run(mode, func(t *testing.T) {
			if err := query(); err != nil {
				t.Fatalf("before the outage: %v", err)
			}
			c.Stop(mode)
			for i := range 3 {
				err := query()
				t.Logf("query %d: %v", i, err)
				if !pg.Unavailable(err) {
					t.Errorf("query %d during the outage: Unavailable(%v) = false", i, err)
				}
			}
			c.Start()
			if err := query(); err != nil {
				t.Errorf("after the restart: %v", err)
			}
		})
	}
}
