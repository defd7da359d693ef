package realtime

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"examd/internal/pg/pgtest"
)

// TestClientFillsGaps hands a client's writer a batch that skips seqs, as
// a broken hub would: the writer reads the missing events from the feed
// and sends them first, so that a real websocket client still receives
// every seq once, in order.
func TestClientFillsGaps(t *testing.T) {
	t.Parallel()
	db, url := pgtest.NewDB(t)
	feed := NewFeed(db)
	h := NewHub(feed, url, nil)
	ctx := context.Background()
	for i := 1; i <= 5; i++ {
		tx, err := db.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := feed.Append(ctx, tx, "gap", map[string]int{"n": i}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := feed.Number(ctx); err != nil {
			t.Fatal(err)
		}
	}
	fifth, err := feed.Since(ctx, "gap", 4, 1)
	if err != nil || len(fifth) != 1 || fifth[0].Seq != 5 {
		t.Fatalf("the fifth event: %v %v", fifth, err)
	}
	gapped, err := newBatch(fifth)
	if err != nil {
		t.Fatal(err)
	}

	upgrader := newUpgrader()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c := &client{conn: conn, topic: "gap", since: 0, send: newSendQueue()}
		c.send.push(gapped, defaultQueueBytes) // seqs 2 to 4 never come from the hub
		c.send.close()
		h.pumps.Add(1)
		c.writePump(h, 1) // hello at seq 1: the replay sends 1, then the batch
	}))
	defer srv.Close()

	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var got []int64
	for {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, data, err := conn.ReadMessage()
		if err != nil {
			break // the writer closes the connection after the batch
		}
		var m struct {
			Type string `json:"type"`
			Seq  int64  `json:"seq"`
		}
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("not JSON: %s", data)
		}
		if m.Type != "hello" {
			got = append(got, m.Seq)
		}
	}
	if want := []int64{1, 2, 3, 4, 5}; !slices.Equal(got, want) {
		t.Errorf("seqs received: got %v, want %v", got, want)
	}
}
