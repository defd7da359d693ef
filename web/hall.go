package web

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"examd/exam"
	"examd/internal/refusal"
	"examd/scheduling"
)

// The hall screen (大厅屏): a read-only board in a venue's waiting room,
// opened with the venue's display token, no login. It shows the exams under
// way, the results as they finish and the desk's calls, and nothing that
// identifies a person beyond the masked name. The venue's live feed carries
// masked ID numbers, so the board does not follow it: hall.js polls
// /hall/:token/board, built here from the database with only what the board
// shows, and the first page is rendered with the same data.

// hallCalls is how many of the latest calls the board lists (the history
// strip); those not served yet are also shown large as "now calling".
const hallCalls = 5

// hall serves the hall screen in the request's language; it keeps the
// catalogues to write the board's JSON in that language too.
type hall struct {
	h    Handler
	cats map[string]catalogue
}

func (h Handler) registerHall(e *echo.Echo, m []echo.MiddlewareFunc) {
	cats, err := loadCatalogues(files)
	if err != nil {
		panic(err) // embedded: Register has loaded them already
	}
	p := hall{h: h, cats: cats}
	// The token is a credential: the request log masks it (and any other
	// long segment) in every path it logs, matched or not.
	e.GET("/hall/:token", p.page, m...)
	// The board's data: no page errors (JSON, not a page), the same
	// language and headers (no-store) as the page.
	e.GET("/hall/:token/board", p.board, h.prefs)
}

// hallBoard is the board as shown: every text in the page's language.
type hallBoard struct {
	Venue   string       `json:"venue"`
	Date    string       `json:"date"`
	Clock   string       `json:"clock"`
	Now     time.Time    `json:"now"`
	Exams   []hallExam   `json:"exams"`
	Results []hallResult `json:"results"`
	Calls   []hallCall   `json:"calls"`
}

// hallExam is an exam under way.
type hallExam struct {
	Name    string `json:"name"` // masked
	Subject string `json:"subject"`
	Car     string `json:"car"`
	Item    string `json:"item"`
}

// hallResult is a finished exam. Key tells the script a result it has
// announced already; Say is the announcement.
type hallResult struct {
	Key     string `json:"key"`
	Name    string `json:"name"` // masked
	Subject string `json:"subject"`
	Passed  bool   `json:"passed"`
	Verdict string `json:"verdict"`
	Score   string `json:"score"`
	Say     string `json:"say"`
}

// hallCall is a ticket called to a desk. Key tells the script a call it
// has spoken already (a call again is a new key); Text is the call in the
// page's language, Say the Mandarin the board speaks; Served: the desk has
// taken a step for the ticket since, so it leaves "now calling".
type hallCall struct {
	Key    string `json:"key"`
	Ticket string `json:"ticket"`
	Desk   string `json:"desk"`
	Text   string `json:"text"`
	Say    string `json:"say"`
	Served bool   `json:"served"`
}

// hallSound is how the display speaks its calls, set on its URL
// (?volume=0.8&repeat=2): a setting of the screen, kept where its address
// is kept, with no table of its own.
type hallSound struct {
	Volume float64 // 0 (silent) to 1
	Repeat int     // how many times each call is spoken, 1 to 3
}

// soundOf reads the display's sound settings from the query; a value
// missing or out of range keeps its default (full volume, twice).
func soundOf(c echo.Context) hallSound {
	s := hallSound{Volume: 1, Repeat: 2}
	if v, err := strconv.ParseFloat(c.QueryParam("volume"), 64); err == nil && v >= 0 && v <= 1 {
		s.Volume = v
	}
	if n, err := strconv.Atoi(c.QueryParam("repeat")); err == nil && n >= 1 && n <= 3 {
		s.Repeat = n
	}
	return s
}

// hallView is the hall page's data: the board and the display's sound.
type hallView struct {
	hallBoard
	Sound hallSound
}

// Calling are the calls not served yet, latest first: the board shows them
// large.
func (b hallBoard) Calling() []hallCall {
	var out []hallCall
	for _, c := range b.Calls {
		if !c.Served {
			out = append(out, c)
		}
	}
	return out
}

// windowDesk matches a desk named by its window's number (3号窗口).
var windowDesk = regexp.MustCompile(`^([0-9]+)\s*号窗口$`)

// callText is the call of ticket to desk in cat's language: "请 A001 号到
// 3 号窗口办理", the window's number apart so that it is read as a number.
func callText(cat catalogue, ticket, desk string) string {
	if desk == "" {
		return cat.text("hall.call_no_desk", ticket)
	}
	if m := windowDesk.FindStringSubmatch(desk); m != nil {
		return cat.text("hall.call_window", ticket, m[1])
	}
	return cat.text("hall.call", ticket, desk)
}

// load builds the board of the token's venue, or refusal.ErrNotFound for a
// token unknown or revoked.
func (p hall) load(c echo.Context) (hallBoard, error) {
	ctx := c.Request().Context()
	v, err := p.h.Exams.DisplayVenue(ctx, c.Param("token"))
	if errors.Is(err, refusal.ErrNotFound) {
		return hallBoard{}, refusal.ErrNotFound
	}
	if err != nil {
		return hallBoard{}, err
	}
	now := p.h.Now()
	today := scheduling.Day(now)
	b, err := p.h.Exams.HallBoard(ctx, v.ID, today)
	if err != nil {
		return hallBoard{}, err
	}
	calls, err := p.h.Issuing.Called(ctx, today, hallCalls)
	if err != nil {
		return hallBoard{}, err
	}
	cat := p.cats[language(c)]
	local := now.In(scheduling.Shanghai)
	board := hallBoard{
		Venue: v.Name, Now: now,
		Date:  local.Format(cat.text("hall.date_layout")) + " " + cat.text(fmt.Sprintf("hall.weekday.%d", local.Weekday())),
		Clock: local.Format("15:04"),
		Exams: []hallExam{}, Results: []hallResult{}, Calls: []hallCall{},
	}
	for _, e := range b.Exams {
		x := hallExam{Name: e.Name, Subject: cat.text(fmt.Sprintf("subject.%d", e.Subject)), Car: e.Car}
		if e.Item != nil {
			x.Item = cat.text("item." + *e.Item)
		}
		board.Exams = append(board.Exams, x)
	}
	for _, r := range b.Results {
		x := hallResult{
			// The instant a result finished and its subject tell results
			// apart without an id of the candidate or the booking.
			Key:  fmt.Sprintf("%d-%d", r.FinishedAt.UnixMicro(), r.Subject),
			Name: r.Name, Subject: cat.text(fmt.Sprintf("subject.%d", r.Subject)),
			Passed: r.Status == exam.Passed, Verdict: cat.text("status." + r.Status),
			Score: cat.text("hall.score", r.Score),
		}
		x.Say = cat.text("hall.say_result", x.Name, x.Subject, x.Verdict, x.Score)
		board.Results = append(board.Results, x)
	}
	for _, k := range calls {
		board.Calls = append(board.Calls, hallCall{
			Key: fmt.Sprintf("%s-%d", k.Ticket, k.CalledAt.UnixMicro()), Ticket: k.Ticket, Desk: k.Desk,
			Text: callText(cat, k.Ticket, k.Desk), Say: callText(p.cats[langZh], k.Ticket, k.Desk), Served: k.Served,
		})
	}
	return board, nil
}

// page is the hall screen, rendered with the board's data so that it works
// before (and without) the script.
func (p hall) page(c echo.Context) error {
	b, err := p.load(c)
	if errors.Is(err, refusal.ErrNotFound) {
		return p.h.render(c, http.StatusNotFound, "error", "error.title", errorView{Key: "hall.unknown"})
	}
	if err != nil {
		return err
	}
	return p.h.render(c, http.StatusOK, "hall", "hall.title", hallView{hallBoard: b, Sound: soundOf(c)})
}

// board is the board's data for hall.js.
func (p hall) board(c echo.Context) error {
	b, err := p.load(c)
	if err != nil {
		return err // the API's error handler: 404 not_found, or 500
	}
	return c.JSON(http.StatusOK, b)
}
