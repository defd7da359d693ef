package issuance

import "github.com/labstack/echo/v4"

// Follower serves a live topic over a websocket, from the seq after the
// request's since when given (realtime.Hub).
type Follower interface {
	Follow(c echo.Context, topic string) error
}

// LiveQueue serves the issuance queue's live feed (ready, call, step,
// issued) over a websocket: GET …?since=. It is the one handler of the feed
// for both front doors: the route authenticates the caller first, by bearer
// token or access_token (/api/v1/live/issuance) or by the session cookie
// (/desk/live).
func LiveQueue(f Follower) echo.HandlerFunc {
	return func(c echo.Context) error { return f.Follow(c, Topic) }
}
