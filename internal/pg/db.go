package pg

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the "postgres" driver
)

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

// Open opens a database on url (a lib/pq URL or key=value string) with at
// most maxOpen connections, retrying the first ping for a few seconds so that
// a server that has just started can finish starting.
func Open(ctx context.Context, url string, maxOpen int) (*sqlx.DB, error) {
	db, err := sqlx.Open("postgres", oneRoundTrip(url))
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	db.SetMaxOpenConns(maxOpen)
	db.SetMaxIdleConns(maxOpen)
	db.SetConnMaxIdleTime(5 * time.Minute)
	deadline := time.Now().Add(5 * time.Second)
	for {
		err = db.PingContext(ctx)
		if err == nil {
			return db, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			db.Close()
			return nil, fmt.Errorf("reach database: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
