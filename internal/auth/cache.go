package auth

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"
)

// Session cache defaults.
const (
	// CacheTTL is how long a looked-up session is answered from memory: a
	// bound on staleness should a revocation ever go unheard.
	CacheTTL = 30 * time.Second
	// CacheSize bounds the cached sessions; beyond it an arbitrary entry
	// makes room.
	CacheSize = 20000
	// revocations is the NOTIFY channel of migration 00020's triggers.
	revocations = "examd_auth"
	// listenerPing is how often the listening connection is checked: a
	// dead TCP connection shows only when written to.
	listenerPing = 15 * time.Second
)

// sessionCache keeps recently looked-up sessions, keyed by the SHA-256 of
// their token (never the token itself), so that a request costs no query.
// It holds entries only while its store listens for revocations
// (Store.ListenRevocations): a revocation (logout, a change of role, venue,
// desk or password, a deleted user) is announced by PostgreSQL to every
// replica, which drops the entry at once; when the listening connection is
// lost, announcements may be missed, so the cache empties and stays empty
// until it listens again.
type sessionCache struct {
	ttl time.Duration
	max int

	mu sync.Mutex
	on bool
	// gen changes at every drop, so that a lookup that read the database
	// before a revocation does not cache what it read after the drop.
	gen     uint64
	entries map[[32]byte]cachedSession
}

type cachedSession struct {
	p       Principal
	expires time.Time // the session's expiry, on the store's clock
	until   time.Time // the entry's end, on the monotonic clock
}

func newSessionCache(ttl time.Duration, size int) *sessionCache {
	return &sessionCache{ttl: ttl, max: size, entries: map[[32]byte]cachedSession{}}
}

// get returns the cached caller of the token hashed to key, if any and if
// the session has not expired at now.
func (c *sessionCache) get(key [32]byte, now time.Time) (Principal, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return Principal{}, false
	}
	if !now.Before(e.expires) || !time.Now().Before(e.until) {
		delete(c.entries, key)
		return Principal{}, false
	}
	return e.p, true
}

// generation is the generation to give put after the database read.
func (c *sessionCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put caches p for key unless the cache is off or something was dropped
// since gen.
func (c *sessionCache) put(key [32]byte, gen uint64, p Principal, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on || gen != c.gen {
		return
	}
	if len(c.entries) >= c.max {
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	c.entries[key] = cachedSession{p: p, expires: expires, until: time.Now().Add(c.ttl)}
}

// dropToken drops the session of the token hashed to key.
func (c *sessionCache) dropToken(key [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, key)
}

// dropUser drops every session of user id.
func (c *sessionCache) dropUser(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k, e := range c.entries {
		if e.p.UserID == id {
			delete(c.entries, k)
		}
	}
}

// reset empties the cache and turns it on (listening) or off.
func (c *sessionCache) reset(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.on = on
	clear(c.entries)
}

// revoked applies a notification's payload: "s" and a token's hex SHA-256,
// or "u" and a user id. An unreadable one empties the cache.
func (c *sessionCache) revoked(payload string) {
	switch {
	case strings.HasPrefix(payload, "s"):
		var key [32]byte
		if b, err := hex.DecodeString(payload[1:]); err == nil && len(b) == len(key) {
			copy(key[:], b)
			c.dropToken(key)
			return
		}
	case strings.HasPrefix(payload, "u"):
		if id, err := strconv.ParseInt(payload[1:], 10, 64); err == nil {
			c.dropUser(id)
			return
		}
	}
	c.reset(c.isOn())
}

func (c *sessionCache) isOn() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.on
}

// ListenRevocations listens, on a connection of its own to url, for the
// revocations PostgreSQL announces (migration 00020), and keeps the
// store's session cache on while it does: until ctx is done. Without it the
// store caches nothing. It returns an error when it cannot listen at all.
func (s *Store) ListenRevocations(ctx context.Context, url string, log *slog.Logger) error {
	c := s.cache
	defer c.reset(false)
	l := pq.NewListener(url, 100*time.Millisecond, 5*time.Second, func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventDisconnected:
			// Announcements may be missed from now on.
			c.reset(false)
			log.Warn("session revocations: listener lost, cache emptied", "err", fmt.Sprint(err))
		case pq.ListenerEventReconnected:
			c.reset(true)
			log.Info("session revocations: listening again")
		}
	})
	defer l.Close()
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	if err := l.Listen(revocations); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("listen for session revocations: %w", err)
	}
	c.reset(true)
	ping := time.NewTicker(listenerPing)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case n, ok := <-l.Notify:
			switch {
			case !ok:
				return nil
			case n == nil: // reconnected: announcements may have been missed
				c.reset(true)
			default:
				c.revoked(n.Extra)
			}
		case <-ping.C:
			_ = l.Ping() // a failure makes the listener reconnect, emptying the cache
		}
	}
}
