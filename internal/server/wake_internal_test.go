package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"examd/internal/pg/pgtest"
	"examd/realtime"
)

// TestWakeNumberingAfterAppend: a request that appended a feed event wakes
// the numberer once it has committed (the event numbered with no poll
// running); the mark comes from the request's context.
func TestWakeNumberingAfterAppend(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	feed := realtime.NewFeed(db)
	e := echo.New()
	e.Use(wakeNumbering(feed))
	e.POST("/append", func(c echo.Context) error {
		ctx := c.Request().Context()
		tx, err := db.BeginTxx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := feed.Append(ctx, tx, "venue:9", map[string]any{"type": "test"}); err != nil {
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/append", nil))
	if rec.Code != http.StatusNoContent {
		t.Fatalf("append: %d %s", rec.Code, rec.Body)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		var seq *int64
		if err := db.Get(&seq, `SELECT seq FROM feed_events WHERE topic = 'venue:9'`); err != nil {
			t.Fatal(err)
		}
		if seq != nil && *seq == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the request's event was not numbered: its wake was lost")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
