package realtime

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

const (
	// writeWait bounds the write of one message to a client, by default
	// (Hub.WriteWait).
	writeWait = 10 * time.Second
	// pongWait is how long a client may stay silent: it must answer pings.
	pongWait = 60 * time.Second
	// pingPeriod is how often the hub pings every client; below pongWait.
	pingPeriod = pongWait * 9 / 10
	// closeGrace bounds the close frame's write and the wait for the
	// client's reply to it.
	closeGrace = time.Second
	// slowCloseWait bounds the close of a screen that stopped reading: the
	// frames held back when its write timed out, then the 4008 close frame.
	slowCloseWait = 10 * time.Second
	// maxMessageSize bounds what a client may send: clients only answer
	// pings and close frames.
	maxMessageSize = 512
	// replayPage bounds one read of a replay.
	replayPage = 500
)

// Close codes, besides websocket.CloseGoingAway (1001) when the hub closes.
const (
	// CloseTooSlow (4008) closes a client that fell more than
	// Hub.QueueBytes behind, or whose write took longer than Hub.WriteWait;
	// the reason says from where to resume: "too slow: reconnect
	// with since=<the last seq sent>".
	CloseTooSlow = 4008
	// CloseFeedUnavailable (1011) closes a client whose events could not be
	// read; the reason is "feed unavailable: reconnect with since=<seq>".
	CloseFeedUnavailable = websocket.CloseInternalServerErr
)

// batch is events read at once, in order, handed to every client of their
// topic, each with its websocket frame prepared once for all of them.
type batch struct {
	msgs   []Message
	frames []*websocket.PreparedMessage
	size   int    // bytes of the events, counted against Hub.QueueBytes
	pong   []byte // a pong's data (pongBatch), nil for events
}

// newBatch prepares the frames of msgs.
func newBatch(msgs []Message) (*batch, error) {
	b := &batch{msgs: msgs, frames: make([]*websocket.PreparedMessage, len(msgs))}
	for i, m := range msgs {
		pm, err := websocket.NewPreparedMessage(websocket.TextMessage, m.Data)
		if err != nil {
			return nil, err
		}
		b.frames[i] = pm
		b.size += len(m.Data)
	}
	return b, nil
}

// pingBatch, queued like events, asks a writer to ping its client.
var pingBatch = &batch{}

// pongBatch, queued like events by the reader, asks the writer to answer a
// ping of the client's with data: every frame and every write deadline of
// a connection are the writer's (see armWrite).
func pongBatch(data string) *batch { return &batch{pong: []byte(data)} }

// client is one websocket connection: its writer sends what the hub queues
// on send, its reader reads pongs and the close frame.
type client struct {
	conn  *websocket.Conn
	topic string
	since int64         // -1: live events only
	send  sendQueue     // closed by the hub
	code  atomic.Int32  // the close code, set by the hub before it closes send
	wait  time.Duration // the write deadline of a message (Hub.WriteWait)
	user  int64         // whose connection it is (Serve's caller), 0 for nobody's
	// born is when the connection was served, and writeBy the write
	// deadline last set, as its distance from born (monotonic time; 0
	// before the first, see armWrite).
	born    time.Time
	writeBy time.Duration

	// mu is held by whoever writes to the connection: the writer for all
	// it writes, or the hub for an event it writes itself to an idle screen
	// (direct). last is the seq last sent, ready tells that hello and the
	// replay are sent; both, and born and writeBy, under mu.
	mu    sync.Mutex
	last  int64
	ready bool
}

// hello is the first message on every connection.
type hello struct {
	Type string `json:"type"`
	Seq  int64  `json:"seq"`
}

// writePump sends hello, the replay after since, then the live events, one
// JSON object per message, and finally the close frame the hub asked for.
// Besides it only the hub writes events, to an idle screen (direct), both
// under c.mu.
func (c *client) writePump(h *Hub, helloSeq int64) {
	defer h.pumps.Done()
	c.mu.Lock() // stream lets go of it while it waits for the hub
	defer c.mu.Unlock()
	c.last = helloSeq
	if c.since >= 0 && c.since < helloSeq {
		c.last = c.since
	}
	// A since above helloSeq names events this hub has not read yet (the
	// client saw them on another replica), whose hello then says since and
	// whose live events follow it; or events the feed does not have (a feed
	// reset, or a made-up number): nothing is replayed or skipped, the live
	// events follow hello, and hello's seq below since tells the client.
	err := c.stream(h, helloSeq)
	if err != nil && c.since > c.last {
		c.last = c.since // a close's reason never asks for what the client has
	}
	code := int(c.code.Load())
	cork, _ := c.conn.NetConn().(*corkConn)
	var fe *feedError
	var ne net.Error
	switch {
	case errors.As(err, &fe):
		code = CloseFeedUnavailable
	case errors.As(err, &ne) && ne.Timeout() && cork != nil && cork.unsent() && code != websocket.CloseGoingAway:
		// The screen stopped reading: it was sent whole frames up to
		// last, and the close frame follows the rest of them. (When the
		// hub is closing, its deadline cut the write: the connection is
		// closed at once, below.)
		code = CloseTooSlow
		h.log.Warn("websocket client too slow: closing", "topic", c.topic, "remote", c.conn.RemoteAddr().String())
	case err != nil:
		code = 0 // the connection failed: no close frame goes through
	}
	grace := closeGrace
	if code == CloseTooSlow {
		grace = slowCloseWait // room for the frames held back before it
	}
	var reason string
	switch code {
	case 0: // the reader has gone, or the connection failed
		c.conn.Close()
		return
	case CloseTooSlow:
		reason = "too slow: reconnect with since=" + strconv.FormatInt(c.last, 10)
	case CloseFeedUnavailable:
		reason = "feed unavailable: reconnect with since=" + strconv.FormatInt(c.last, 10)
	default:
		reason = "server shutting down"
	}
	c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(grace))
	// The reader closes the connection on the client's reply, or soon.
	c.conn.SetReadDeadline(time.Now().Add(closeGrace))
}

// stream sends hello, the replay up to helloSeq, then what the hub queues,
// until the hub closes send or orders a close. It is called holding c.mu,
// and lets go of it only while it waits for the hub.
func (c *client) stream(h *Hub, helloSeq int64) error {
	// Every message goes through the cork when there is one: a write that
	// times out leaves whole frames behind, never half of one.
	cork, _ := c.conn.NetConn().(*corkConn)
	if cork != nil {
		cork.cork()
	}
	var err error
	if c.since > helloSeq {
		helloSeq, err = c.resumeAhead(h, helloSeq)
		c.last = helloSeq
	}
	if err == nil {
		err = c.writeJSON(hello{Type: "hello", Seq: helloSeq})
	}
	if err == nil {
		err = c.catchUp(h, helloSeq)
	}
	if cork != nil {
		if uerr := cork.uncork(); err == nil {
			err = uerr
		}
	}
	if err != nil {
		return err
	}
	c.ready = true
	// Woken, the writer takes everything queued since it last looked: one
	// event when it keeps up, what queued meanwhile when it was busy; or
	// sends what the hub's own write left behind (direct).
	var spare []*batch
	for {
		c.mu.Unlock()
		<-c.send.wake
		c.mu.Lock()
		bs, closed := c.send.take(spare)
		if len(bs) == 0 && cork != nil {
			if err := cork.uncork(); err != nil {
				return err
			}
		}
		if len(bs) > 0 {
			// What is taken leaves in one system call when the connection
			// can be corked.
			if cork != nil {
				cork.cork()
			}
			var err error
			size := 0
			for _, b := range bs {
				size += b.size
				if err == nil {
					err = c.sendBatch(h, b)
				}
			}
			if cork != nil {
				if uerr := cork.uncork(); err == nil {
					err = uerr
				}
			}
			c.send.done(size)
			if err != nil || c.code.Load() != 0 {
				return err
			}
		}
		// The slice taken is the next spare (the queue holds the last).
		clear(bs) // the batches are let go
		if spare = bs[:0]; cap(spare) > spareBatches {
			spare = nil
		}
		if closed {
			return nil
		}
	}
}

// direct writes b to the screen from the hub itself, when its writer is idle
// with nothing queued and b follows what it was sent: the frames leave in
// one write(2) that does not wait, and what the socket cannot take at once
// is left to the writer, woken. So a busy venue's events reach most screens
// without waking a goroutine per screen, and the devices' requests, which
// wait on the network, are not queued behind a thousand writers. It reports
// false, having written nothing, when the writer must send b: busy, not
// ready yet, closing, something queued, a gap to read first, or a ping.
func (c *client) direct(b *batch) bool {
	if c.conn == nil || b == pingBatch || b.pong != nil || !c.mu.TryLock() {
		return false
	}
	defer c.mu.Unlock()
	cork, _ := c.conn.NetConn().(*corkConn)
	if cork == nil || !c.ready || c.code.Load() != 0 || !c.send.empty() {
		return false
	}
	i := 0
	for i < len(b.msgs) && b.msgs[i].Seq <= c.last {
		i++ // sent with the replay
	}
	for j, next := i, c.last+1; j < len(b.msgs); j, next = j+1, next+1 {
		if b.msgs[j].Seq != next {
			return false // a gap: the writer reads what is missing first
		}
	}
	// Never waiting: not while the reader writes (a close frame) to a full
	// socket, nor behind what a full socket left unsent last time.
	if !cork.tryCork() {
		return false
	}
	for ; i < len(b.msgs); i++ {
		c.armWrite()
		if err := c.conn.WritePreparedMessage(b.frames[i]); err != nil {
			break // the connection has failed: the writer finds out
		}
		c.last = b.msgs[i].Seq
	}
	if !cork.tryUncork() {
		c.send.signal()
	}
	return true
}

// sendBatch writes the events of b after c.last, or the ping or pong it asks
// for.
func (c *client) sendBatch(h *Hub, b *batch) error {
	if b == pingBatch || b.pong != nil {
		// A control frame sets the connection's deadline to its own: the
		// writer's, moved now, so that the frames after it have it too.
		by := c.deadline()
		c.setWriteBy(by)
		if b.pong != nil {
			return c.conn.WriteControl(websocket.PongMessage, b.pong, by)
		}
		return c.conn.WriteControl(websocket.PingMessage, nil, by)
	}
	for i := range b.msgs {
		m := &b.msgs[i]
		if c.code.Load() != 0 {
			return nil
		}
		if m.Seq <= c.last {
			continue // sent with the replay
		}
		// The hub hands out every seq in order, so this reads nothing
		// unless that promise is broken.
		if err := c.catchUp(h, m.Seq-1); err != nil {
			return err
		}
		c.armWrite()
		if err := c.conn.WritePreparedMessage(b.frames[i]); err != nil {
			return err
		}
		c.last = m.Seq
	}
	return nil
}

// catchUp sends the stored events after c.last up to upTo, unless the hub
// orders a close meanwhile. On a corked connection it sends each page of
// them at once, and leaves the connection corked.
func (c *client) catchUp(h *Hub, upTo int64) error {
	cork, _ := c.conn.NetConn().(*corkConn)
	for c.last < upTo && c.code.Load() == 0 {
		ms, err := c.read(h, c.last, int(min(upTo-c.last, replayPage)))
		if err != nil {
			return err
		}
		for i := range ms {
			if err := c.write(ms[i].Data); err != nil {
				return err
			}
			c.last = ms[i].Seq
		}
		if cork != nil {
			err := cork.uncork()
			cork.cork()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// resumeAhead is the seq from which a client whose since is above helloSeq,
// the last seq this hub handed out, follows the feed: since itself when the
// feed has committed it (the client saw it on a replica whose hub read it
// first: the events up to since that this hub hands out later are not sent
// again), else helloSeq.
func (c *client) resumeAhead(h *Hub, helloSeq int64) (int64, error) {
	ctx, cancel := context.WithTimeout(h.ctx, queryTimeout)
	defer cancel()
	seq, err := h.feed.Current(ctx, c.topic)
	if err != nil {
		return helloSeq, &feedError{err}
	}
	if c.since <= seq {
		return c.since, nil
	}
	return helloSeq, nil
}

// feedError is a failed read of the feed, as opposed to a failed write.
type feedError struct{ err error }

func (e *feedError) Error() string { return e.err.Error() }
func (e *feedError) Unwrap() error { return e.err }

// read reads up to limit events after the seq after, which must exist.
func (c *client) read(h *Hub, after int64, limit int) ([]Message, error) {
	ctx, cancel := context.WithTimeout(h.ctx, queryTimeout)
	defer cancel()
	ms, err := h.feed.Since(ctx, c.topic, after, limit)
	if err == nil && len(ms) == 0 {
		err = errors.New("events missing from the feed")
	}
	if err != nil {
		if h.ctx.Err() == nil {
			h.log.Warn("websocket replay failed", "topic", c.topic, "after", after, "err", err.Error())
		}
		return nil, &feedError{err}
	}
	return ms, nil
}

// deadline is the write deadline of a message written now.
func (c *client) deadline() time.Time { return time.Now().Add(c.waitFor()) }

// waitFor is how long a message may take to write: Hub.WriteWait, or
// writeWait for a client without one.
func (c *client) waitFor() time.Duration {
	if c.wait <= 0 {
		return writeWait
	}
	return c.wait
}

// armWrite sets the write deadline of a message written now, unless the one
// set is still nine tenths of the wait away or more: a message gets from
// 0.9 to 1 times Hub.WriteWait, and under a busy feed the deadline moves
// about once every tenth of the wait instead of at every message (see
// corkConn).
func (c *client) armWrite() {
	by := c.deadline()
	if c.writeBy != 0 && by.Sub(c.born)-c.writeBy <= c.waitFor()/10 {
		return
	}
	c.setWriteBy(by)
}

// setWriteBy makes by the write deadline of the frames written from now on.
func (c *client) setWriteBy(by time.Time) {
	c.writeBy = by.Sub(c.born)
	c.conn.SetWriteDeadline(by)
}

// ping answers the client's ping: the writer sends the pong, after what it
// has queued (gorilla/websocket's own handler would write it from the
// reader, with a deadline of its own cutting the writer's short).
func (c *client) ping(h *Hub) func(string) error {
	return func(data string) error {
		c.send.push(pongBatch(data), h.QueueBytes) // a screen too far behind is being dropped
		return nil
	}
}

// write sends one text message.
func (c *client) write(data []byte) error {
	c.armWrite()
	return c.conn.WriteMessage(websocket.TextMessage, data)
}

// writeJSON sends v as one text message.
func (c *client) writeJSON(v any) error {
	c.armWrite()
	return c.conn.WriteJSON(v)
}

// readPump reads until the connection fails or closes: pongs extend the
// read deadline, and the client's messages are discarded. It then has the
// hub drop the client and closes the connection.
func (c *client) readPump(h *Hub) {
	defer h.pumps.Done()
	defer h.release(c.user)
	defer c.conn.Close()
	defer h.leave(c)
	c.conn.SetReadLimit(maxMessageSize)
	c.conn.SetReadDeadline(time.Now().Add(pongWait))
	c.conn.SetPingHandler(c.ping(h))
	c.conn.SetPongHandler(func(string) error {
		return c.conn.SetReadDeadline(time.Now().Add(pongWait))
	})
	for {
		if _, _, err := c.conn.NextReader(); err != nil {
			return
		}
	}
}
