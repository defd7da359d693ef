package server

import (
	"log/slog"
	"slices"
	"strings"
)

// LoggedPath exports loggedPath to the tests.
var LoggedPath = loggedPath

// RegisteredRoutes returns "METHOD /path" of every route the server
// registers, API and pages, in Echo's spelling (/slots/:id), sorted; Echo's
// own "route not found" entries are left out.
func RegisteredRoutes() []string {
	// The routes are registered whatever the dependencies: none is used
	// until a request comes.
	e := newServer(deps{cfg: Config{DBMaxConns: 1}, log: slog.New(slog.DiscardHandler)})
	var routes []string
	for _, r := range e.Routes() {
		if slices.Contains(httpMethods, strings.ToLower(r.Method)) {
			routes = append(routes, r.Method+" "+r.Path)
		}
	}
	slices.Sort(routes)
	return slices.Compact(routes)
}
