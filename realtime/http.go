package realtime

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
)

// Refusals of Serve, before the connection becomes a websocket.
var (
	errNotWebsocket = refusal.New("websocket_required", "该地址只接受 websocket 连接")
	errOrigin       = refusal.New("origin_forbidden", "拒绝来自其他网站页面的 websocket 连接")
	errUnavailable  = refusal.New("feed_unavailable", "实时推送暂不可用，请稍后重试")
	errHandshake    = refusal.New("bad_handshake", "不是有效的 websocket 握手请求")
	// ErrTooManyConnections refuses a websocket beyond the caps of one
	// user's connections or of the process's (Hub.MaxPerUser, MaxConns).
	ErrTooManyConnections = refusal.New("too_many_connections", "实时连接数已达上限，请关闭不用的页面后重试")
)

// newUpgrader returns the upgrader of a hub's connections, sized so that an
// idle connection holds little memory: a 1 KiB read buffer (clients send
// only pongs and close frames), and a write buffer borrowed from a pool
// only while a message is written.
func newUpgrader() websocket.Upgrader {
	return websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   1024,
		WriteBufferSize:  4096,
		WriteBufferPool:  &sync.Pool{},
		CheckOrigin:      sameOrigin,
		Error:            upgradeError,
	}
}

// Serve upgrades the request to a websocket that streams topic: first
// {"type":"hello","seq":S}, S being the topic's current seq, then when since
// is given every stored event with a seq above *since up to S, in order,
// then the live events after S as they are committed, each exactly once.
// A since above S that the feed has committed (a screen coming from another
// replica, whose hub read the newest events first) is taken as S: hello
// says since, and the events after it follow, each once. A since above the
// feed's seq is taken as no since (the client learns from hello that the
// feed does not have the events it names).
// Each message is one JSON object carrying its "seq". The caller's route
// authorizes the request before calling Serve, and Serve returns once the
// connection runs on its own reader and writer goroutines.
//
// Requests that are not websocket handshakes, or that come from a browser
// page of another site (an Origin header whose host is not the request's
// Host), are refused before the upgrade with a refusal, as is every
// request while the hub is not listening, and every one beyond the caps of
// live connections: of the caller (auth.Caller's user) and of the hub.
func (h *Hub) Serve(c echo.Context, topic string, since *int64) error {
	r := c.Request()
	if !websocket.IsWebSocketUpgrade(r) {
		return errNotWebsocket
	}
	if !sameOrigin(r) {
		return errOrigin
	}
	if topic == "" {
		return refusal.Invalid("topic", "the topic must not be empty")
	}
	if since != nil && *since < 0 {
		return refusal.Invalid("since", "since must be a whole number, 0 or more")
	}
	user := auth.Caller(c).UserID
	h.mu.Lock()
	ready := !h.closed && isClosed(h.listening) && !isClosed(h.stopped)
	full := h.MaxConns > 0 && h.conns >= h.MaxConns || user != 0 && h.MaxPerUser > 0 && h.perUser[user] >= h.MaxPerUser
	if ready && !full {
		h.pumps.Add(2) // under mu, so that Close waits for them
		h.conns++
		if user != 0 {
			h.perUser[user]++
		}
	}
	h.mu.Unlock()
	switch {
	case !ready:
		return errUnavailable
	case full:
		return ErrTooManyConnections
	}

	conn, err := h.upgrader.Upgrade(c.Response(), r, nil)
	if err != nil {
		h.pumps.Add(-2)
		h.release(user)
		return nil // the upgrader has answered, or the connection is gone
	}
	c.Response().Status, c.Response().Committed = http.StatusSwitchingProtocols, true
	cl := &client{conn: conn, topic: topic, since: -1, send: newSendQueue(), wait: h.WriteWait, user: user, born: time.Now()}
	if since != nil {
		cl.since = *since
	}
	reply := make(chan registered, 1)
	select {
	case h.register <- registration{cl, reply}:
	case <-h.stopped:
		h.refuse(conn, user, websocket.CloseGoingAway, "server shutting down")
		return nil
	}
	res := <-reply
	if res.err != nil {
		h.log.Warn("websocket client refused", "topic", topic, "err", res.err.Error())
		resume := ""
		if since != nil {
			resume = " with since=" + strconv.FormatInt(*since, 10)
		}
		h.refuse(conn, user, CloseFeedUnavailable, "feed unavailable: reconnect"+resume)
		return nil
	}
	go cl.writePump(h, res.seq)
	go cl.readPump(h)
	return nil
}

// refuse closes a connection of user that never started its pumps.
func (h *Hub) refuse(conn *websocket.Conn, user int64, code int, reason string) {
	conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(closeGrace))
	conn.Close()
	h.pumps.Add(-2)
	h.release(user)
}

// Conns is the number of live websocket connections of the hub, counted
// from before the upgrade until the connection's reader has ended.
func (h *Hub) Conns() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.conns
}

// release counts a connection of user as gone.
func (h *Hub) release(user int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.conns--
	if user != 0 {
		if h.perUser[user]--; h.perUser[user] <= 0 {
			delete(h.perUser, user)
		}
	}
}

// leave has Run drop c, unless Run has ended and dropped everyone.
func (h *Hub) leave(c *client) {
	select {
	case h.unregister <- c:
	case <-h.stopped:
	}
}

// Follow serves topic to the request over a websocket (Serve), from the
// seq after its query parameter since when given (ParseSince): the one
// reading of a live door's request, whoever authenticated it.
func (h *Hub) Follow(c echo.Context, topic string) error {
	since, err := ParseSince(c)
	if err != nil {
		return err
	}
	return h.Serve(c, topic, since)
}

// ParseSince reads the optional query parameter since=N, a seq (0 or more)
// after which the client wants the events replayed. Without it, it returns
// nil: the client wants the live events only.
func ParseSince(c echo.Context) (*int64, error) {
	return parseSince(c.QueryParam("since"))
}

// parseSince reads since's value: empty (live events only) or a whole
// number, 0 or more, in decimal digits.
func parseSince(s string) (*int64, error) {
	if s == "" {
		return nil, nil
	}
	if strings.TrimLeft(s, "0123456789") != "" {
		// ParseInt would take "+5" and "-0"; a seq is digits.
		return nil, refusal.Invalid("since", "since must be a whole number, 0 or more")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return nil, refusal.Invalid("since", "since must be a whole number, 0 or more")
	}
	return &n, nil
}

// sameOrigin allows requests without an Origin header (devices, tools) and
// those of browser pages served by this host.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// upgradeError answers a failed handshake with the API's error envelope.
func upgradeError(w http.ResponseWriter, _ *http.Request, status int, _ error) {
	e := errHandshake
	switch {
	case status == http.StatusForbidden:
		e = errOrigin
	case status >= 500:
		e = api.ErrInternal
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(api.Envelope{Error: e})
}

// isClosed reports whether ch is closed.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
