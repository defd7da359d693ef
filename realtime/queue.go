package realtime

import "sync"

const (
	// defaultQueueBytes is Hub.QueueBytes unless set: how far behind, in
	// bytes of events, a screen may fall before it is closed with 4008.
	defaultQueueBytes = 1 << 20
	// spareBatches bounds the slice a writer keeps between wakes: a
	// bigger one, left by a burst, is let go.
	spareBatches = 64
)

// sendQueue is what the hub handed to one client and its writer has not
// written yet. It is bounded by bytes, not by batches: a batch is often a
// single event now that the hub sends each event at once when a venue is
// idle, so a count of batches would drop a screen after a stall of a
// fraction of a second under a busy feed, and a byte bound lets it through
// however its events were batched (as Centrifugo's client_queue_max_size).
// The hub pushes and never waits; the writer, woken, takes everything
// queued at once and writes it in one system call. An idle client holds an
// empty slice and a one-slot channel.
type sendQueue struct {
	mu      sync.Mutex
	batches []*batch
	// bytes counts the events queued and those the writer took and has not
	// written yet.
	bytes  int
	closed bool
	wake   chan struct{} // one slot: a batch was pushed, or the queue closed
}

func newSendQueue() sendQueue { return sendQueue{wake: make(chan struct{}, 1)} }

// push queues b unless the client is more than limit bytes behind already.
// A batch is taken whole however big it is: one read of the table after a
// gap may hold hundreds of events at once, and a client that keeps up must
// not be dropped for it. It reports false when b was refused.
func (q *sendQueue) push(b *batch, limit int) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return true
	}
	if q.bytes > limit {
		q.mu.Unlock()
		return false
	}
	q.batches = append(q.batches, b)
	q.bytes += b.size
	q.mu.Unlock()
	q.signal()
	return true
}

// empty reports whether nothing is queued and the queue is open.
func (q *sendQueue) empty() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.batches) == 0 && !q.closed
}

// close tells the writer that nothing more comes: it writes what is queued,
// unless the hub ordered a close frame, and ends.
func (q *sendQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

func (q *sendQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default: // the writer has a wake-up pending already
	}
}

// take returns every batch queued, in order, and whether the queue is
// closed; spare, emptied, becomes the queue's slice. The batches' bytes
// count until done.
func (q *sendQueue) take(spare []*batch) ([]*batch, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	bs := q.batches
	q.batches = spare[:0]
	return bs, q.closed
}

// done tells the queue that the writer is through with n bytes it took.
func (q *sendQueue) done(n int) {
	q.mu.Lock()
	q.bytes -= n
	q.mu.Unlock()
}
