package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"examd/bench/benchkit"
	"examd/internal/testkit"
)

// bareBuffer is how many messages a bare connection may fall behind before
// it is dropped.
const bareBuffer = 256

// bare is the floor: a bare gorilla/websocket broadcast with no storage. A
// POST of an event broadcasts at once, to every connection, the feed
// message examd would have sent for it; one writer goroutine per
// connection drains a buffered channel.
type bare struct {
	tmpl     template
	upgrader websocket.Upgrader
	srv      *http.Server
	addr     string

	mu    sync.Mutex
	seq   int64
	conns map[*bareConn]struct{}
}

// bareConn is one connection of the bare broadcast.
type bareConn struct {
	conn *websocket.Conn
	send chan []byte // closed when the connection leaves
}

// startBare serves the bare broadcast on a free port of 127.0.0.1:
// websockets on /live, events on POST /post.
func startBare(tmpl template) (*bare, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &bare{
		tmpl: tmpl, addr: ln.Addr().String(), conns: map[*bareConn]struct{}{},
		// The buffers of examd's upgrader.
		upgrader: websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 4096, WriteBufferPool: &sync.Pool{}},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /live", b.live)
	mux.HandleFunc("POST /post", b.post)
	b.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go b.srv.Serve(ln)
	return b, nil
}

// bareTarget is the bare broadcast at addr as a target, posted to through c.
func bareTarget(addr string, c *benchkit.Client) target {
	return target{
		name:   "bare",
		wsURLs: []string{"ws://" + addr + "/live"},
		post: func(_ int, text string) error {
			ev := deviceEvent{EventID: testkit.UUID(), BookingID: 1, Type: "instruction", Text: text, At: time.Now().Format(time.RFC3339Nano)}
			return c.Must(http.StatusCreated, "POST", "/post", "", ev, nil)
		},
	}
}

func (b *bare) live(w http.ResponseWriter, r *http.Request) {
	conn, err := b.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	bc := &bareConn{conn: conn, send: make(chan []byte, bareBuffer)}
	b.mu.Lock()
	bc.send <- fmt.Appendf(nil, `{"type":"hello","seq":%d}`, b.seq)
	b.conns[bc] = struct{}{}
	b.mu.Unlock()
	go func() { // the writer
		defer conn.Close()
		for m := range bc.send {
			conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := conn.WriteMessage(websocket.TextMessage, m); err != nil {
				return
			}
		}
	}()
	go func() { // the reader: pongs and the close frame
		for {
			if _, _, err := conn.NextReader(); err != nil {
				break
			}
		}
		b.mu.Lock()
		b.leave(bc)
		b.mu.Unlock()
		conn.Close()
	}()
}

// leave drops bc, under mu.
func (b *bare) leave(bc *bareConn) {
	if _, ok := b.conns[bc]; ok {
		delete(b.conns, bc)
		close(bc.send)
	}
}

func (b *bare) post(w http.ResponseWriter, r *http.Request) {
	var ev deviceEvent
	if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	b.seq++
	m := b.tmpl.render(b.seq, ev.Text)
	for bc := range b.conns {
		select {
		case bc.send <- m:
		default: // too slow: dropped, as examd drops it
			b.leave(bc)
		}
	}
	b.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	w.Write([]byte(`{"seq":` + strconv.FormatInt(b.seq, 10) + `}`))
}

func (b *bare) close() {
	b.srv.Close()
	b.mu.Lock()
	for bc := range b.conns {
		b.leave(bc)
	}
	b.mu.Unlock()
}

// serveBare is the child process of spawnBare: it serves the bare
// broadcast of the feed message in the file path, prints its address, and
// returns when its standard input closes.
func serveBare(path string) error {
	msg, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	tmpl, err := newTemplate(msg)
	if err != nil {
		return err
	}
	b, err := startBare(tmpl)
	if err != nil {
		return err
	}
	defer b.close()
	fmt.Println(b.addr)
	_, err = io.Copy(io.Discard, os.Stdin)
	return err
}

// spawnBare runs the bare broadcast of msg in a child process, this
// program run with -serve-bare, so that it has the machine to share as
// examd has: a process of its own beside the screens'. It returns the
// child's address and process, and a function that stops it.
func spawnBare(dir string, msg []byte) (string, *os.Process, func(), error) {
	path := filepath.Join(dir, "feed-message.json")
	if err := os.WriteFile(path, msg, 0o644); err != nil {
		return "", nil, nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return "", nil, nil, err
	}
	cmd := exec.Command(exe, "-serve-bare", path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, nil, fmt.Errorf("start the bare broadcast: %w", err)
	}
	stop := func() {
		stdin.Close()
		cmd.Wait()
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stop()
		return "", nil, nil, fmt.Errorf("the bare broadcast's address: %w", err)
	}
	return strings.TrimSpace(line), cmd.Process, stop, nil
}

// template is a real feed message with its seq and its text cut out.
type template struct {
	parts     [3][]byte // before the first, between, after the second
	textFirst bool      // the text comes before the seq
}

// newTemplate cuts the seq's value and the text's value (inside its
// quotes) out of msg.
func newTemplate(msg []byte) (template, error) {
	var t template
	seqAt := bytes.Index(msg, []byte(`"seq":`))
	textAt := bytes.Index(msg, []byte(`"text":`))
	if seqAt < 0 || textAt < 0 {
		return t, errors.New("feed message without seq or text: " + string(msg))
	}
	// The seq's digits.
	s0 := seqAt + len(`"seq":`)
	for s0 < len(msg) && msg[s0] == ' ' {
		s0++
	}
	s1 := s0
	for s1 < len(msg) && msg[s1] >= '0' && msg[s1] <= '9' {
		s1++
	}
	// The text's characters, between its quotes (the text has no escapes).
	t0 := bytes.IndexByte(msg[textAt+len(`"text":`):], '"') + textAt + len(`"text":`) + 1
	t1 := bytes.IndexByte(msg[t0:], '"') + t0
	if s1 == s0 || t1 < t0 {
		return t, errors.New("feed message not understood: " + string(msg))
	}
	a0, a1, b0, b1 := s0, s1, t0, t1
	if t.textFirst = textAt < seqAt; t.textFirst {
		a0, a1, b0, b1 = t0, t1, s0, s1
	}
	t.parts = [3][]byte{msg[:a0], msg[a1:b0], msg[b1:]}
	return t, nil
}

// render is the message with seq and text.
func (t template) render(seq int64, text string) []byte {
	first, second := strconv.FormatInt(seq, 10), text
	if t.textFirst {
		first, second = second, first
	}
	m := make([]byte, 0, len(t.parts[0])+len(t.parts[1])+len(t.parts[2])+len(first)+len(second))
	m = append(append(m, t.parts[0]...), first...)
	m = append(append(m, t.parts[1]...), second...)
	return append(m, t.parts[2]...)
}
