package web

import (
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"examd/internal/auth"
	"examd/scheduling"
)

// renderer is Echo's renderer for the pages: each page's template set, once
// per language, so that the template func t speaks the request's language.
type renderer struct {
	pages map[string]map[string]*template.Template // language → page → template
}

// newRenderer parses templates/layout.html and templates/parts.html with
// each other file of templates/ into a page named after that file.
func newRenderer(fsys fs.FS) (*renderer, error) {
	cats, err := loadCatalogues(fsys)
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		return nil, err
	}
	r := &renderer{pages: map[string]map[string]*template.Template{}}
	for _, lang := range languages {
		r.pages[lang] = map[string]*template.Template{}
		for _, name := range names {
			page := strings.TrimSuffix(path.Base(name), ".html")
			if page == "layout" || page == "parts" {
				continue
			}
			t, err := template.New(page).Funcs(funcs(cats[lang])).
				ParseFS(fsys, "templates/layout.html", "templates/parts.html", name)
			if err != nil {
				return nil, err
			}
			r.pages[lang][page] = t
		}
	}
	return r, nil
}

// Render writes page name, a *view, in the request's language; a name
// "page#part" writes only the template part of the page, without the layout.
func (r *renderer) Render(w io.Writer, name string, data any, c echo.Context) error {
	page, part, ok := strings.Cut(name, "#")
	if !ok {
		part = "layout"
	}
	t, ok := r.pages[language(c)][page]
	if !ok {
		return fmt.Errorf("no page %q", page)
	}
	return t.ExecuteTemplate(w, part, data)
}

// funcs are the template funcs in the language of cat.
func funcs(cat catalogue) template.FuncMap {
	return template.FuncMap{
		// t is the message of a catalogue key, formatted with args.
		"t": cat.text,
		// date and clock show an instant's day and time of day in Asia/Shanghai.
		"date":  func(t time.Time) string { return t.In(scheduling.Shanghai).Format(time.DateOnly) },
		"clock": func(t time.Time) string { return t.In(scheduling.Shanghai).Format("15:04") },
		// longDate shows a day with its weekday ("2026年12月9日 星期三"): an
		// instant's day in Asia/Shanghai, a calendar day (midnight UTC, as
		// the stores return them) or a YYYY-MM-DD text as it is.
		"longDate": func(v any) string { return longDate(v, cat["lang.code"] == langEn) },
		// day shows a calendar day (midnight UTC, as the stores return them).
		"day": func(t time.Time) string { return t.Format(time.DateOnly) },
		// pick returns the text of the page's language from a domain pair.
		"pick": func(zh, en string) string {
			if cat["lang.code"] == langEn {
				return en
			}
			return zh
		},
		"maskID":    scheduling.MaskIDNumber,
		"maskName":  scheduling.MaskName,
		"maskPhone": scheduling.MaskPhone,
		// texts maps keys to their messages: the texts a page's script shows.
		"texts": func(keys []string) map[string]string {
			m := make(map[string]string, len(keys))
			for _, k := range keys {
				m[k] = cat.text(k)
			}
			return m
		},
		// has reports whether the catalogue has a text for key.
		"has": func(key string) bool { _, ok := cat[key]; return ok },
	}
}

// view is what every page template gets: the page's own Data and what the
// layout needs.
type view struct {
	// Page is the template's name, on <body data-page> for tests and styles.
	Page  string
	Lang  string
	Title string // catalogue key of the page title
	// CSRF is the token every form sends back in the field _csrf.
	CSRF   string
	Caller auth.Principal
	// Name is the person shown in the header: a candidate's own name.
	Name string
	Nav  []navItem
	// SwitchLang and SwitchSize are this page's URL with the other language,
	// or the other text size, chosen.
	SwitchLang, SwitchSize string
	Large                  bool
	// Flash is the catalogue key of a result to announce (role=status).
	Flash string
	Data  any
	// NotifySeq is a candidate's notifications feed seq at rendering,
	// from which the layout's script follows it; nil for others.
	NotifySeq *int64
}

// navItem is a link of the main navigation.
type navItem struct {
	Href, Key string
	Current   bool
	// Badge shows Count, the candidate's unread notifications, live.
	Badge bool
	Count int
}

// navFor lists the pages of a role.
func navFor(role, current string) []navItem {
	var items []navItem
	switch role {
	case auth.RoleCandidate:
		items = []navItem{
			{Href: "/candidate", Key: "nav.journey"},
			{Href: "/candidate/slots", Key: "nav.slots"},
			{Href: "/candidate/bookings", Key: "nav.bookings"},
			{Href: "/candidate/priority", Key: "nav.priority"},
			{Href: "/candidate/notifications", Key: "nav.notifications", Badge: true},
		}
	case auth.RoleExaminer:
		items = []navItem{{Href: "/examiner", Key: "nav.examiner"}}
	case auth.RoleIssuer:
		items = []navItem{{Href: "/desk", Key: "nav.desk"}, {Href: "/desk/report", Key: "nav.report"}}
	case auth.RoleScheduler:
		items = []navItem{
			{Href: "/admin/slots", Key: "nav.admin_slots"},
			{Href: "/admin/candidates", Key: "nav.candidates"},
			{Href: "/admin/venues", Key: "nav.venues"},
			{Href: "/examiner", Key: "nav.examiner"},
			{Href: "/desk/report", Key: "nav.report"},
		}
	case auth.RoleAdmin:
		items = []navItem{
			{Href: "/admin/slots", Key: "nav.admin_slots"},
			{Href: "/admin/candidates", Key: "nav.candidates"},
			{Href: "/admin/venues", Key: "nav.venues"},
			{Href: "/admin/users", Key: "nav.users"},
			{Href: "/admin/devices", Key: "nav.devices"},
			{Href: "/admin/displays", Key: "nav.displays"},
			{Href: "/admin/audit", Key: "nav.audit"},
			{Href: "/examiner", Key: "nav.examiner"},
			{Href: "/desk", Key: "nav.desk"},
			{Href: "/desk/report", Key: "nav.report"},
			{Href: "/desk/satisfaction", Key: "nav.satisfaction"},
		}
	default:
		return nil
	}
	for i := range items {
		items[i].Current = items[i].Href == current
	}
	return items
}

// withQuery returns u's path and query with name set to value.
func withQuery(u *url.URL, name, value string) string {
	q := u.Query()
	q.Set(name, value)
	return u.Path + "?" + q.Encode()
}

// errorView is the error page's data.
type errorView struct {
	Key       string
	RequestID string
}

// render renders a page with the layout's data filled in.
func (h Handler) render(c echo.Context, status int, page, title string, data any) error {
	v := &view{
		Page: page, Lang: language(c), Title: title, CSRF: csrfToken(c), Caller: auth.Caller(c),
		Large: c.Get(largeKey) == true, Data: data,
		Flash: flashKey(c.QueryParam("done")),
	}
	// A page rendered for a form (a refusal) links to where it is read
	// with GET: the switches must not repeat the form's POST.
	u := c.Request().URL
	if c.Request().Method != http.MethodGet {
		u = &url.URL{Path: pagePaths[page]}
		if u.Path == "" {
			u.Path = "/"
		}
	}
	v.Nav = navFor(v.Caller.Role, u.Path)
	if v.Caller.Role == auth.RoleCandidate && h.Notifications != nil {
		unread, seq, err := h.Notifications.Summary(c.Request().Context(), v.Caller.UserID)
		if err != nil {
			return err
		}
		for i := range v.Nav {
			if v.Nav[i].Badge {
				v.Nav[i].Count = unread
			}
		}
		v.NotifySeq = &seq
	}
	other := langEn
	if v.Lang == langEn {
		other = langZh
	}
	v.SwitchLang = withQuery(u, "lang", other)
	size := "large"
	if v.Large {
		size = "normal"
	}
	v.SwitchSize = withQuery(u, "size", size)
	if n, ok := c.Get(nameKey).(string); ok {
		v.Name = n
	}
	return c.Render(status, page, v)
}

// renderPart renders the template part of page alone, without the layout: a
// section that the page's script refreshes.
func (h Handler) renderPart(c echo.Context, page, part string, data any) error {
	v := &view{Page: page, Lang: language(c), CSRF: csrfToken(c), Caller: auth.Caller(c), Large: c.Get(largeKey) == true, Data: data}
	return c.Render(http.StatusOK, page+"#"+part, v)
}

// pagePaths is where each page is read with GET.
var pagePaths = map[string]string{
	"login":                   "/login",
	"candidate_journey":       "/candidate",
	"candidate_slots":         "/candidate/slots",
	"candidate_bookings":      "/candidate/bookings",
	"candidate_lane":          "/candidate/priority",
	"candidate_notifications": "/candidate/notifications",
	"candidate_cancel":        "/candidate/bookings",
	"candidate_feedback":      "/candidate", // its form's page needs the service's id
	"account_password":        "/account/password",
	"examiner":                "/examiner", "examiner_sheet": "/examiner",
	"desk": "/desk", "desk_report": "/desk/report",
	"admin_venues": "/admin/venues", "admin_slots": "/admin/slots", "admin_candidates": "/admin/candidates", "admin_candidate": "/admin/candidates",
	"admin_users":    "/admin/users",
	"admin_devices":  "/admin/devices",
	"admin_displays": "/admin/displays",
}

// nameKey holds the name the header shows, set by pages that loaded it.
const nameKey = "examd.name"

// flashKey is the message of a finished action named by ?done= after a
// redirect: the catalogue key flash.<done>. The layout shows it only when
// the catalogue has it, so that an unknown value shows nothing.
func flashKey(done string) string {
	if done == "" || len(done) > 40 || strings.Trim(done, "abcdefghijklmnopqrstuvwxyz_") != "" {
		return ""
	}
	return "flash." + done
}
