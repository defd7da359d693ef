// Package web serves examd's pages: server-rendered HTML for the people at
// the hall, in Simplified Chinese with English one click away. Pages call the
// domain stores directly; browsers hold their session in an HttpOnly cookie
// (the same tokens as the API's bearer tokens), and every form carries a
// CSRF token derived from the session (csrf.go). Templates, static files and message catalogues are embedded.
package web

import (
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"examd/exam"
	"examd/internal/audit"
	"examd/internal/auth"
	"examd/internal/notify"
	"examd/issuance"
	"examd/realtime"
	"examd/scheduling"
)

//go:embed templates static i18n
var files embed.FS

// Handler serves the pages.
type Handler struct {
	Accounts   *auth.Store
	Scheduling *scheduling.Store
	Issuing    *issuance.Store
	Exams      *exam.Store
	// Hub serves the live feeds the examiner's and the desk's pages follow;
	// Feed tells the examiner's screen where today's events begin.
	Hub  *realtime.Hub
	Feed *realtime.Feed
	// Audit is the audit log the admin's page lists and verifies.
	Audit *audit.Log
	Now   func() time.Time
	Log   *slog.Logger
	// SecureCookies marks the session, CSRF and preference cookies Secure
	// and names them __Host-…: set it when examd is reached over HTTPS
	// (EXAMD_COOKIE_SECURE).
	SecureCookies bool
	// Outcomes, when set, counts booking requests by result, as the API does.
	Outcomes *prometheus.CounterVec
	// LicenceFeeYuan is the production fee the desk charges at review.
	LicenceFeeYuan int
	// Notifications are the candidates' notes: the 通知 page and the unread
	// count of their navigation.
	Notifications *notify.Inbox
}

// Register mounts every page route on e and makes the pages' renderer e's.
// Routes get their middleware one by one rather than through a group: an
// Echo group with middleware catches every path under its prefix, and the
// pages' prefix is "/".
func (h Handler) Register(e *echo.Echo) {
	r, err := newRenderer(files)
	if err != nil {
		panic(err) // the templates are embedded: a broken one fails every test
	}
	e.Renderer = r

	static, _ := fs.Sub(files, "static")
	e.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static)))))

	open := []echo.MiddlewareFunc{h.prefs, h.pageErrors, h.csrf, textOnly}
	// signedIn is the chain of a page for the roles given (any role when
	// none are): open's, then the session cookie, then the role check.
	signedIn := func(roles ...string) []echo.MiddlewareFunc {
		m := append(open[:len(open):len(open)], h.requireLogin)
		if len(roles) > 0 {
			m = append(m, auth.Require(roles...))
		}
		return m
	}

	e.GET("/", h.home, signedIn()...)
	e.GET("/login", h.loginPage, open...)
	e.POST("/login", h.login, open...)
	e.POST("/logout", h.logout, open...)
	e.GET("/account/password", h.passwordPage, signedIn()...)
	e.POST("/account/password", h.changePassword, signedIn()...)

	candidate := signedIn(auth.RoleCandidate)
	e.GET("/candidate", h.journey, candidate...)
	e.GET("/candidate/slots", h.slots, candidate...)
	e.POST("/candidate/slots", h.book, candidate...)
	e.POST("/candidate/slots/:id/waitlist", h.joinWaitlist, candidate...)
	e.POST("/candidate/slots/:id/waitlist/leave", h.leaveWaitlist, candidate...)
	e.GET("/candidate/bookings", h.bookings, candidate...)
	e.GET("/candidate/bookings/:id", h.bookingSlip, candidate...)
	e.GET("/candidate/bookings/:id/calendar.ics", h.bookingCalendar, candidate...)
	e.GET("/candidate/bookings/:id/cancel", h.cancelPage, candidate...)
	e.POST("/candidate/bookings/:id/cancel", h.cancel, candidate...)
	e.POST("/candidate/bookings/:id/decline", h.declineOffer, candidate...)
	e.POST("/candidate/bookings/:id/keep", h.keepOffer, candidate...)
	e.GET("/candidate/feedback", h.feedbackPage, candidate...)
	e.POST("/candidate/feedback", h.rate, candidate...)
	e.GET("/candidate/priority", h.lane, candidate...)
	e.POST("/candidate/priority", h.askForLane, candidate...)
	e.GET("/candidate/notifications", h.notifications, candidate...)
	e.POST("/candidate/notifications/read", h.readNotifications, candidate...)
	e.GET("/candidate/notifications/live", notify.Live(h.Hub), candidate...) // /api/v1/me/notifications/live's door, by cookie

	// The staff's pages, one area each.
	watchers := []string{auth.RoleExaminer, auth.RoleScheduler, auth.RoleAdmin}
	h.registerExaminer(e, signedIn(watchers...),
		[]echo.MiddlewareFunc{h.prefs, h.pageErrors, textOnly, h.requireLogin, auth.Require(watchers...)})
	h.registerDesk(e, signedIn(auth.RoleIssuer, auth.RoleAdmin), signedIn(auth.RoleIssuer), signedIn(auth.RoleIssuer, auth.RoleScheduler, auth.RoleAdmin),
		signedIn(auth.RoleAdmin))
	h.registerPlanning(e, signedIn(auth.RoleScheduler, auth.RoleAdmin))
	h.registerRanked(e, signedIn(auth.RoleCandidate), signedIn(auth.RoleScheduler, auth.RoleAdmin))
	h.registerCounter(e, signedIn(auth.RoleScheduler, auth.RoleAdmin), signedIn(watchers...))
	h.registerAccounts(e, signedIn(auth.RoleAdmin))
	h.registerHall(e, []echo.MiddlewareFunc{h.prefs, h.pageErrors, textOnly}) // no forms, no CSRF
	h.registerDisplays(e, signedIn(auth.RoleAdmin))
}

// cacheStatic lets browsers keep the static files for an hour.
func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}
