package notify

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
	"examd/realtime"
)

// Follower serves a live topic over a websocket, from the seq after the
// request's since when given (realtime.Hub).
type Follower interface {
	Follow(c echo.Context, topic string) error
}

// Handler serves a candidate's notifications: their list, marking them
// read, and their live channel.
type Handler struct {
	Inbox *Inbox
	Live  Follower
	Authn echo.MiddlewareFunc
	// LiveAuthn authenticates the websocket, whose browser clients pass
	// their token in the query.
	LiveAuthn []echo.MiddlewareFunc
	Now       func() time.Time
}

// Register adds the routes under g (/api/v1).
func (h Handler) Register(g *echo.Group) {
	me := auth.Require(auth.RoleCandidate)
	g.GET("/me/notifications", h.list, h.Authn, me)
	g.POST("/me/notifications/read", h.markRead, h.Authn, me)
	g.GET("/me/notifications/live", Live(h.Live), append(h.LiveAuthn, me)...)
}

// Live serves the caller's own notifications live over a websocket, with
// the feed's hello, replay from since and seq contract: the topic is the
// authenticated candidate's, never one the request names. The route
// authenticates the caller and requires a candidate first.
func Live(f Follower) echo.HandlerFunc {
	return func(c echo.Context) error { return f.Follow(c, Topic(auth.Caller(c).UserID)) }
}

// list answers GET /me/notifications[?since=N].
func (h Handler) list(c echo.Context) error {
	since, err := realtime.ParseSince(c)
	if err != nil {
		return err
	}
	items, err := h.Inbox.List(c.Request().Context(), auth.Caller(c).UserID, since)
	if err != nil {
		return err
	}
	unread, _, err := h.Inbox.Summary(c.Request().Context(), auth.Caller(c).UserID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"notifications": items, "unread": unread})
}

// markRead answers POST /me/notifications/read {"up_to": seq, "ids": [...]}.
func (h Handler) markRead(c echo.Context) error {
	var req struct {
		UpTo *int64  `json:"up_to"`
		IDs  []int64 `json:"ids"`
	}
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	var upTo int64
	switch {
	case req.UpTo == nil && len(req.IDs) == 0:
		return refusal.Invalid("up_to", "give up_to (a seq) or ids")
	case req.UpTo != nil && *req.UpTo < 0:
		return refusal.Invalid("up_to", "a seq: 0 or more")
	case len(req.IDs) > MaxList:
		return refusal.Invalid("ids", "at most 200 ids")
	case req.UpTo != nil:
		upTo = *req.UpTo
	}
	marked, unread, err := h.Inbox.MarkRead(c.Request().Context(), auth.Caller(c).UserID, upTo, req.IDs, h.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int{"marked": marked, "unread": unread})
}
