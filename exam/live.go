package exam

import (
	"strconv"

	"github.com/labstack/echo/v4"

	"examd/internal/auth"
	"examd/internal/refusal"
)

// Follower serves a live topic over a websocket, from the seq after the
// request's since when given (realtime.Hub).
type Follower interface {
	Follow(c echo.Context, topic string) error
}

// LiveVenue serves a venue's live feed over a websocket:
// GET …?venue_id=&since=. Examiners watch their own venue (venue_id may be
// left out), schedulers and admins any (venue_id required). It is the one
// handler of the feed for both front doors: the route authenticates the
// caller first, by bearer token or access_token (/api/v1/live) or by the
// session cookie (/examiner/live).
func LiveVenue(f Follower) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := auth.Caller(c)
		var venue int64
		if v := c.QueryParam("venue_id"); v != "" || p.Role != auth.RoleExaminer {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return refusal.Invalid("venue_id", "required: the venue to watch")
			}
			venue = n
		}
		if p.Role == auth.RoleExaminer {
			if p.VenueID == nil || venue != 0 && venue != *p.VenueID {
				return refusal.ErrForbidden
			}
			venue = *p.VenueID
		}
		return f.Follow(c, VenueTopic(venue))
	}
}
