package realtime

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/lib/pq"
)

const (
	// fetchPage bounds one read of new events from the table.
	fetchPage = 500
	// retryDelay is the wait before catching up again after a failed read.
	retryDelay = time.Second
	// queryTimeout bounds each read of the feed.
	queryTimeout = 10 * time.Second
	// drainMax bounds the notifications Run takes at once before it hands
	// them out: what queued while it was busy goes out in one batch per
	// topic.
	drainMax = 256
	// The listener reconnects after 100 ms, backing off to 5 s.
	minReconnect, maxReconnect = 100 * time.Millisecond, 5 * time.Second
)

// Hub fans the stored events out to the websocket clients of this process.
// Run listens for the feed's notifications; Serve adds clients; Close ends
// them. One goroutine, Run's, owns the topics and their clients, and never
// waits for a client: a client more than QueueBytes behind is dropped.
type Hub struct {
	// WriteWait bounds the write of a message to a screen: one that reads
	// no faster is closed with 4008, its close frame sent after what it was
	// sent already. NewHub sets 10 s.
	WriteWait time.Duration
	// QueueBytes bounds how far behind a screen may fall, in bytes of
	// events queued for it and not yet written: the next event beyond
	// closes it with 4008, its close frame sent after what it was sent
	// already. NewHub sets 1 MiB; set it before the hub serves.
	QueueBytes int
	// PingEvery is how often the hub pings every screen, below the minute
	// a screen may stay silent. NewHub sets 54 s; set it before Run.
	PingEvery time.Duration
	// MaxPerUser and MaxConns cap the live connections of one user and of
	// the hub (0: no cap); set them before the hub serves.
	MaxPerUser, MaxConns int

	feed        *Feed
	listenerURL string
	log         *slog.Logger
	upgrader    websocket.Upgrader

	register   chan registration
	unregister chan *client
	listening  chan struct{}   // closed once Run listens
	stopped    chan struct{}   // closed when Run has ended
	ctx        context.Context // canceled by Close: ends Run and the clients' reads
	cancel     context.CancelFunc

	mu      sync.Mutex
	running bool          // Run has started
	closed  bool          // Close has started
	conns   int           // live connections, counted from before the upgrade
	perUser map[int64]int // live connections by user
	pumps   sync.WaitGroup

	// topics, retry and pending belong to Run's goroutine.
	topics   map[string]*topic
	retry    *time.Timer // armed after a failed read, to catch up
	retrying bool        // retry is armed
	pending  []*topic    // topics with events taken from notifications, not yet handed out

	// reads counts the hub's reads of new events from the table, batches
	// the batches it handed out (for the tests).
	reads, batches atomic.Int64
}

// topic is a feed with clients in this process.
type topic struct {
	name    string
	last    int64     // the last seq handed to the clients, or pending for them
	pending []Message // events after those handed out, up to last, taken from notifications
	clients map[*client]struct{}
}

// registration asks Run to add a client; the reply is the seq from which
// the client's live events start.
type registration struct {
	c     *client
	reply chan<- registered
}

type registered struct {
	seq int64
	err error
}

// NewHub returns a hub for the events of feed. listenerURL is the lib/pq
// connection string of the connection that LISTENs; log receives the hub's
// warnings.
func NewHub(feed *Feed, listenerURL string, log *slog.Logger) *Hub {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Hub{
		WriteWait:   writeWait,
		QueueBytes:  defaultQueueBytes,
		PingEvery:   pingPeriod,
		perUser:     map[int64]int{},
		feed:        feed,
		listenerURL: listenerURL,
		log:         log,
		upgrader:    newUpgrader(),
		register:    make(chan registration),
		unregister:  make(chan *client),
		listening:   make(chan struct{}),
		stopped:     make(chan struct{}),
		ctx:         ctx,
		cancel:      cancel,
		topics:      map[string]*topic{},
	}
}

// Run listens for the feed's notifications and hands each new event to the
// clients of its topic as the notification carries it, at once; events that
// queued while it was busy go out together, one batch per topic. After a
// gap in a topic's seqs, for an event too big for its notification, and
// after the listening connection comes back from a loss, Run reads what it
// missed from the table, once for all the topic's clients. It returns nil
// when ctx is done or the hub is closed, having sent every client 1001
// going away, and an error when it cannot listen at all.
func (h *Hub) Run(ctx context.Context) error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	if h.running {
		h.mu.Unlock()
		return errors.New("realtime: Hub.Run called twice")
	}
	h.running = true
	h.mu.Unlock()
	defer close(h.stopped)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(h.ctx, cancel)()

	l := pq.NewListener(h.listenerURL, minReconnect, maxReconnect, h.listenerEvent)
	defer func() {
		l.Close()
		go func() {
			for range l.Notify { // until the listener's goroutine ends
			}
		}()
	}()
	// Listen waits until the listener connects; Close makes it give up.
	defer context.AfterFunc(ctx, func() { l.Close() })()
	if err := l.Listen(notifyChannel); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("listen for feed notifications: %w", err)
	}
	close(h.listening)
	h.loop(ctx, l)
	return nil
}

// loop is Run's work once it listens.
func (h *Hub) loop(ctx context.Context, l *pq.Listener) {
	defer h.dropAll(websocket.CloseGoingAway)
	ping := time.NewTicker(cmp.Or(h.PingEvery, pingPeriod))
	defer ping.Stop()
	h.retry = time.NewTimer(retryDelay)
	h.retry.Stop()
	defer h.retry.Stop()
	var pinging atomic.Bool
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-h.register:
			seq, err := h.add(ctx, r.c)
			r.reply <- registered{seq, err}
		case c := <-h.unregister:
			if t := h.topics[c.topic]; t != nil {
				if _, ok := t.clients[c]; ok {
					h.drop(t, c, 0)
				}
			}
		case n, ok := <-l.Notify:
			if !ok || !h.drain(ctx, l, n) {
				return
			}
		case <-h.retry.C:
			h.retrying = false
			h.catchUp(ctx)
		case <-ping.C:
			for _, t := range h.topics {
				h.deliver(t, pingBatch)
			}
			// A dead TCP connection shows only when written to.
			if pinging.CompareAndSwap(false, true) {
				go func() {
					defer pinging.Store(false)
					l.Ping()
				}()
			}
		}
	}
}

// add registers c with its topic and returns the seq its live events follow:
// the last seq handed to the topic's clients, or for a topic new to this
// process its current seq.
func (h *Hub) add(ctx context.Context, c *client) (int64, error) {
	t := h.topics[c.topic]
	if t == nil {
		ctx, cancel := context.WithTimeout(ctx, queryTimeout)
		defer cancel()
		seq, err := h.feed.Current(ctx, c.topic)
		if err != nil {
			return 0, err
		}
		t = &topic{name: c.topic, last: seq, clients: map[*client]struct{}{}}
		h.topics[c.topic] = t
	}
	t.clients[c] = struct{}{}
	return t.last, nil
}

// drop removes c from t and ends its writer; a code other than 0 is the
// close frame the writer sends.
func (h *Hub) drop(t *topic, c *client, code int) {
	c.code.Store(int32(code))
	delete(t.clients, c)
	c.send.close()
	if len(t.clients) == 0 {
		delete(h.topics, c.topic)
	}
}

// dropAll ends every client with code, and makes their writers finish soon:
// a writer stuck on a client that does not read gives up within closeGrace.
func (h *Hub) dropAll(code int) {
	deadline := time.Now().Add(closeGrace)
	for _, t := range h.topics {
		for c := range t.clients {
			if c.conn != nil { // the internal tests' clients have none
				c.conn.NetConn().SetWriteDeadline(deadline)
			}
			h.drop(t, c, code)
		}
	}
}

// deliver writes b to every idle client of t at once (client.direct) and
// queues it for the others, dropping the clients that would fall more than
// QueueBytes behind: a slow screen never delays the others.
func (h *Hub) deliver(t *topic, b *batch) {
	for c := range t.clients {
		if c.direct(b) {
			continue
		}
		if !c.send.push(b, h.QueueBytes) {
			h.log.Warn("websocket client too slow: closing", "topic", c.topic, "remote", c.conn.RemoteAddr().String(), "queue_bytes", h.QueueBytes)
			h.drop(t, c, CloseTooSlow)
		}
	}
}

// drain handles notification n and every one queued behind it (up to
// drainMax), then hands out the events they carried: at once when the hub
// was idle, and as one batch per topic for what queued while it was busy.
// No timer is involved. It returns false when the listener has ended.
func (h *Hub) drain(ctx context.Context, l *pq.Listener, n *pq.Notification) bool {
	defer h.flushPending()
	for i := 0; ; i++ {
		if n == nil { // reconnected: notifications may have been lost
			h.flushPending()
			h.log.Info("feed listener reconnected: catching up")
			h.catchUp(ctx)
		} else {
			h.notified(ctx, n.Extra)
		}
		if i+1 >= drainMax {
			return true
		}
		var ok bool
		select {
		case n, ok = <-l.Notify:
			if !ok {
				return false
			}
		default:
			return true
		}
	}
}

// notified handles the notification payload "<topic> <seq>\n<event>", or
// "<topic> <seq>" for an event too big for a notification. The next event
// of a topic with clients, when carried, is kept for flushPending; after a
// gap in seq, or without the event, the topic's events are read from the
// table instead, once for all its clients.
func (h *Hub) notified(ctx context.Context, payload string) {
	header, body := payload, ""
	if i := strings.LastIndexByte(payload, '\n'); i >= 0 {
		header, body = payload[:i], payload[i+1:]
	}
	i := strings.LastIndexByte(header, ' ')
	if i < 0 {
		h.log.Warn("feed notification not understood", "payload", header)
		return
	}
	seq, err := strconv.ParseInt(header[i+1:], 10, 64)
	if err != nil {
		h.log.Warn("feed notification not understood", "payload", header)
		return
	}
	name := header[:i]
	t := h.topics[name]
	if t == nil || seq <= t.last {
		return
	}
	if seq == t.last+1 && strings.HasPrefix(body, "{") {
		if len(t.pending) == 0 {
			h.pending = append(h.pending, t)
		}
		t.pending = append(t.pending, Message{Seq: seq, Data: []byte(body)})
		t.last = seq
		return
	}
	// A gap, or an event the notification could not carry: what came
	// before goes out first, then the table's.
	h.handOut(t)
	h.fetch(ctx, name, t)
	if t.last < seq && len(t.clients) > 0 {
		h.retryLater() // not visible yet, which PostgreSQL should not allow
	}
}

// flushPending hands out the events taken from notifications, one batch per
// topic.
func (h *Hub) flushPending() {
	for _, t := range h.pending {
		if h.topics[t.name] == t {
			h.handOut(t)
		}
		t.pending = nil // a topic dropped meanwhile
	}
	clear(h.pending)
	h.pending = h.pending[:0]
}

// handOut delivers t's pending events to its clients in one batch.
func (h *Hub) handOut(t *topic) {
	if len(t.pending) == 0 {
		return
	}
	ms := t.pending
	t.pending = nil
	b, err := newBatch(ms)
	if err != nil { // only for a message type gorilla does not know
		h.log.Error("websocket frames not prepared", "topic", t.name, "err", err.Error())
		return
	}
	h.batches.Add(1)
	h.deliver(t, b)
}

// catchUp reads the events that every topic with clients missed.
func (h *Hub) catchUp(ctx context.Context) {
	if len(h.topics) == 0 {
		return
	}
	names := make([]string, 0, len(h.topics))
	for name := range h.topics {
		names = append(names, name)
	}
	qctx, cancel := context.WithTimeout(ctx, queryTimeout)
	seqs, err := h.feed.currents(qctx, names)
	cancel()
	if err != nil {
		h.log.Warn("feed catch-up failed: retrying", "err", err.Error())
		h.retryLater()
		return
	}
	for name, seq := range seqs {
		if t := h.topics[name]; t != nil && seq > t.last {
			h.fetch(ctx, name, t)
		}
	}
}

// fetch reads topic's events after t.last, once for all its clients, and
// delivers them in order.
func (h *Hub) fetch(ctx context.Context, name string, t *topic) {
	for len(t.clients) > 0 {
		h.reads.Add(1)
		qctx, cancel := context.WithTimeout(ctx, queryTimeout)
		ms, err := h.feed.Since(qctx, name, t.last, fetchPage)
		cancel()
		if err != nil {
			h.log.Warn("feed read failed: retrying", "topic", name, "err", err.Error())
			h.retryLater()
			return
		}
		if len(ms) > 0 {
			b, err := newBatch(ms)
			if err != nil { // only for a message type gorilla does not know
				h.log.Error("websocket frames not prepared", "topic", name, "err", err.Error())
				return
			}
			t.last = ms[len(ms)-1].Seq
			h.batches.Add(1)
			h.deliver(t, b)
		}
		if len(ms) < fetchPage {
			return
		}
	}
}

// retryLater arms the catch-up timer.
func (h *Hub) retryLater() {
	if !h.retrying {
		h.retrying = true
		h.retry.Reset(retryDelay)
	}
}

// listenerEvent logs the listening connection's losses and returns.
func (h *Hub) listenerEvent(ev pq.ListenerEventType, err error) {
	switch ev {
	case pq.ListenerEventDisconnected:
		h.log.Warn("feed listener disconnected", "err", errText(err))
	case pq.ListenerEventConnectionAttemptFailed:
		h.log.Warn("feed listener cannot connect", "err", errText(err))
	}
}

// errText is err's text, "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Close sends every client a close frame (1001 going away), ends Run and
// waits for the clients' pumps: about a second, or up to writeWait (10 s)
// for a client stuck in a write at that very moment. Serve refuses new
// clients from then on. An HTTP server's Shutdown leaves websockets open:
// call Close after it.
func (h *Hub) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	running := h.running
	h.mu.Unlock()
	h.cancel()
	if running {
		<-h.stopped
	}
	h.pumps.Wait()
}
