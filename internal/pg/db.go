package pg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq" // the "postgres" driver
)

// openRetry bounds how long Open waits for a server that is still starting.
const openRetry = 5 * time.Second

// Open opens a sqlx database on url (a lib/pq URL or key=value connection
// string) with at most maxOpen connections (10 when maxOpen <= 0), and pings
// it, retrying for up to 5 s while the server is not reachable yet.
func Open(ctx context.Context, url string, maxOpen int) (*sqlx.DB, error) {
	conn, err := pq.NewConnector(oneRoundTrip(url))
	if err != nil {
		return nil, fmt.Errorf("open the database: %w", err)
	}
	db := sqlx.NewDb(sql.OpenDB(CachingConnector(conn)), "postgres")
	if maxOpen <= 0 {
		maxOpen = 10
	}
	db.SetMaxOpenConns(maxOpen)
	db.SetMaxIdleConns(maxOpen)
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(time.Hour)

	ctx, cancel := context.WithTimeout(ctx, openRetry)
	defer cancel()
	for {
		pingErr := db.PingContext(ctx)
		if pingErr == nil {
			return db, nil
		}
		if err == nil || ctx.Err() == nil { // keep the reason rather than the timeout
			err = pingErr
		}
		if !transient(pingErr) || sleep(ctx, 100*time.Millisecond) != nil {
			db.Close()
			return nil, fmt.Errorf("connect to the database: %w", err)
		}
	}
}

// oneRoundTrip turns on lib/pq's binary_parameters, with which a query with
// arguments costs one round trip instead of two (parse, then execute).
func oneRoundTrip(url string) string {
	if strings.Contains(url, "binary_parameters") {
		return url
	}
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		if strings.Contains(url, "?") {
			return url + "&binary_parameters=yes"
		}
		return url + "?binary_parameters=yes"
	}
	return url + " binary_parameters=yes"
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// transient reports whether a failed connection may work on a retry: network
// errors (no socket yet, connection refused) and a server still starting or
// full, but not a refused login or a missing database.
func transient(err error) bool {
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) {
		return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
	}
	switch pqErr.Code {
	case "57P03", "57P01", "53300": // cannot_connect_now, admin_shutdown, too_many_connections
		return true
	}
	return false
}
