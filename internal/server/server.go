package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"examd/docs"
	"examd/exam"
	"examd/internal/admission"
	"examd/internal/api"
	"examd/internal/audit"
	"examd/internal/auth"
	"examd/internal/notify"
	"examd/internal/pg"
	"examd/internal/refusal"
	"examd/issuance"
	"examd/realtime"
	"examd/scheduling"
	"examd/web"
)

// deps is what the routes are built on.
type deps struct {
	db       *sqlx.DB
	cfg      Config
	accounts *auth.Store
	exams    *exam.Store
	sched    *scheduling.Store
	issuing  *issuance.Store
	hub      *realtime.Hub
	feed     *realtime.Feed
	chainer  *audit.Chainer
	inbox    *notify.Inbox
	log      *slog.Logger
}

// newServer wires the Echo application: middleware, metrics and every route.
func newServer(d deps) *echo.Echo {
	db, log := d.db, d.log
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(log)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "examd_http_requests_total", Help: "HTTP requests by route, method and status.",
	}, []string{"route", "method", "status"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "examd_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route", "method"})
	bookings := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "examd_bookings_total", Help: "Booking requests by result: confirmed, replayed, or the refusal's code.",
	}, []string{"result"})
	websockets := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "examd_websocket_connections", Help: "Live websocket connections (screens) of this process.",
	}, func() float64 { return float64(d.hub.Conns()) })
	chainLag := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "examd_audit_chain_lag_seconds",
		Help: "Age of the oldest audit log row not chained yet, 0 when none, as this process's chainer last saw it.",
	}, d.chainer.Lag)
	reg.MustRegister(requests, latency, bookings, websockets, chainLag)
	if d.feed != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "examd_feed_numbering_lag_seconds",
			Help: "Age of the oldest feed event not numbered yet, 0 when none, as this process's numberer last saw it.",
		}, d.feed.NumberingLag))
	}

	reg.MustRegister(&outboxCollector{db: db, now: d.cfg.Now})

	e.Use(middleware.RequestID())
	e.Use(observe(log, requests, latency))
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, DisablePrintStack: true}))
	e.Use(readBody(bodyLimit, d.cfg.BodyTimeout))
	e.Use(wakeNumbering(d.feed))
	e.IPExtractor = clientIP(d.cfg.TrustedProxies)

	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	e.GET("/readyz", func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		if err := db.PingContext(ctx); err != nil {
			return api.ErrUnavailable
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
	})
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))

	accountsAPI := auth.Handler{Store: d.accounts}
	v1 := e.Group("/api/v1", admit(admission.NewGate(d.cfg.DBMaxConns), accountsAPI))
	v1.GET("/openapi.yaml", func(c echo.Context) error { return c.Blob(http.StatusOK, "application/yaml", docs.OpenAPI) })
	accountsAPI.Register(v1)
	scheduling.Handler{
		Store:    d.sched,
		Accounts: d.accounts,
		Authn:    accountsAPI.Authenticate,
		Now:      d.cfg.Now,
		Outcomes: bookings,
		// The one-time notice names the fee the desk charges.
		LicenceFeeYuan: d.cfg.LicenceFeeYuan,
	}.Register(v1)
	exam.Handler{Store: d.exams, Authn: accountsAPI.Authenticate, Now: d.cfg.Now}.Register(v1)
	issuance.Handler{Store: d.issuing, Authn: accountsAPI.Authenticate, Now: d.cfg.Now}.Register(v1)
	notify.Handler{Inbox: d.inbox, Live: d.hub, Authn: accountsAPI.Authenticate, Now: d.cfg.Now,
		LiveAuthn: []echo.MiddlewareFunc{tokenFromQuery, accountsAPI.Authenticate}}.Register(v1)
	v1.GET("/audit", audit.Handler{DB: db}.List, accountsAPI.Authenticate, auth.Require(auth.RoleAdmin))
	v1.GET("/live", exam.LiveVenue(d.hub), tokenFromQuery, accountsAPI.Authenticate,
		auth.Require(auth.RoleExaminer, auth.RoleScheduler, auth.RoleAdmin))
	v1.GET("/live/issuance", issuance.LiveQueue(d.hub), tokenFromQuery, accountsAPI.Authenticate,
		auth.Require(auth.RoleIssuer, auth.RoleAdmin))

	// --- web pages (package web): HTML for browsers, cookie sessions, CSRF on forms ---
	web.Handler{
		Accounts: d.accounts, Scheduling: d.sched, Issuing: d.issuing, Audit: audit.NewLog(db),
		Exams: d.exams, Hub: d.hub, Feed: d.feed, Now: d.cfg.Now, Log: log, SecureCookies: d.cfg.CookieSecure,
		Outcomes: bookings, LicenceFeeYuan: d.cfg.LicenceFeeYuan, Notifications: d.inbox,
	}.Register(e)
	// --- end web pages ---
	return e
}

// tokenFromQuery lets browsers, which cannot set headers on a websocket,
// pass their token as access_token.
func tokenFromQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if tok := c.QueryParam("access_token"); tok != "" && c.Request().Header.Get("Authorization") == "" {
			c.Request().Header.Set("Authorization", "Bearer "+tok)
		}
		return next(c)
	}
}

// observe logs one JSON line per request, with its request id, and records
// the request's route, status and latency. It logs the path with every
// segment that could be a secret masked (loggedPath), without the query and
// never the body: those may carry tokens and personal data.
func observe(log *slog.Logger, requests *prometheus.CounterVec, latency *prometheus.HistogramVec) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err) // write the response now, so that its status is known
			}
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			status := c.Response().Status
			elapsed := time.Since(start)
			requests.WithLabelValues(route, c.Request().Method, strconv.Itoa(status)).Inc()
			latency.WithLabelValues(route, c.Request().Method).Observe(elapsed.Seconds())
			log.LogAttrs(c.Request().Context(), slog.LevelInfo, "request",
				slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
				slog.String("method", c.Request().Method),
				slog.String("path", loggedPath(c.Request().URL.Path)),
				slog.String("route", route),
				slog.Int("status", status),
				slog.Duration("latency", elapsed),
				slog.Int64("user_id", auth.Caller(c).UserID),
			)
			return nil
		}
	}
}

// errorHandler is the one place where errors become HTTP responses. A
// refusal goes out with the status of its code (api.Status); a database
// that cannot be reached answers 503 unavailable, whichever handler met it;
// anything unknown is a 500 whose text stays in the log. Every 503 tells the
// client when to retry (Retry-After).
func errorHandler(log *slog.Logger) func(error, echo.Context) {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		r, ok := refusal.As(err)
		var he *echo.HTTPError
		switch {
		case ok:
		case errors.As(err, &he):
			r = fromEcho(he)
		case errors.Is(err, context.Canceled):
			r = api.ErrClientClosed
		case pg.Unavailable(err):
			log.Warn("database unavailable", "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
				"route", c.Path(), "err", err.Error())
			r = api.ErrUnavailable
		default:
			log.Error("internal error", "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
				"route", c.Path(), "err", err.Error())
			r = api.ErrInternal
		}
		status := api.Status(r.Code)
		if status == http.StatusServiceUnavailable {
			c.Response().Header().Set("Retry-After", api.RetryAfter)
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		_ = c.JSON(status, api.Envelope{Error: r})
	}
}

// fromEcho turns Echo's own refusals (no route, wrong method, body too large)
// into the API's.
func fromEcho(he *echo.HTTPError) *refusal.Error {
	switch {
	case he.Code == http.StatusNotFound:
		return refusal.ErrNotFound
	case he.Code == http.StatusRequestEntityTooLarge:
		return refusal.ErrTooLarge
	case he.Code == http.StatusMethodNotAllowed:
		return api.ErrMethodNotAllowed
	case he.Code == http.StatusUnauthorized:
		return refusal.ErrUnauthorized
	case he.Code == http.StatusForbidden:
		return refusal.ErrForbidden
	case he.Code >= 500:
		return api.ErrInternal
	}
	return api.ErrBadRequest
}

// wakeNumbering wakes the feeds' numberer after each request that appended
// events (any but GET and HEAD may: its context carries a
// realtime.AppendMark), once its transactions have committed: the screens
// get its events at once, without the commit taking a lock (the numberer's
// poll finds the events of other replicas). The
// notes' feeder is not woken per request: it polls (notify.FeedPoll), so
// that a rush of bookings puts its notes live in a few large rounds rather
// than one small round per booking.
func wakeNumbering(feed *realtime.Feed) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if feed == nil { // a server built for its routes alone
			return next
		}
		return func(c echo.Context) error {
			if m := c.Request().Method; m == http.MethodGet || m == http.MethodHead {
				return next(c)
			}
			ctx, mark := realtime.MarkAppends(c.Request().Context())
			c.SetRequest(c.Request().WithContext(ctx))
			err := next(c)
			if mark.Appended() {
				feed.Wake()
			}
			return err
		}
	}
}

// outboxCollector reports the notifications' outbox: the unsent rows, and
// the age of the oldest. With no gateway set they grow, and counting them
// reads them all: a scrape reads the outbox at most once a second (outboxEvery),
// and scrapes in between, such as a benchmark's sampling of another gauge ten
// times a second, get that reading.
type outboxCollector struct {
	db  *sqlx.DB
	now func() time.Time
	// every is the least time between two readings (0: outboxEvery).
	every time.Duration

	mu     sync.Mutex
	readAt time.Time // when the reading below was taken (zero: never)
	n      int
	age    float64
}

// outboxEvery is the least time between two readings of the outbox.
const outboxEvery = time.Second

var (
	outboxDesc = prometheus.NewDesc("examd_notify_outbox",
		"Notifications not yet delivered to the SMS gateway.", nil, nil)
	outboxAgeDesc = prometheus.NewDesc("examd_notify_outbox_oldest_seconds",
		"Age of the oldest notification not yet delivered, 0 when none.", nil, nil)
)

func (o *outboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- outboxDesc; ch <- outboxAgeDesc }

func (o *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	o.mu.Lock()
	defer o.mu.Unlock()
	every := o.every
	if every == 0 {
		every = outboxEvery
	}
	if o.readAt.IsZero() || time.Since(o.readAt) >= every {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		now := time.Now
		if o.now != nil {
			now = o.now
		}
		n, age, err := notify.Outbox(ctx, o.db, now())
		if err != nil {
			ch <- prometheus.NewInvalidMetric(outboxDesc, err)
			return
		}
		o.readAt, o.n, o.age = time.Now(), n, age
	}
	ch <- prometheus.MustNewConstMetric(outboxDesc, prometheus.GaugeValue, float64(o.n))
	ch <- prometheus.MustNewConstMetric(outboxAgeDesc, prometheus.GaugeValue, o.age)
}
