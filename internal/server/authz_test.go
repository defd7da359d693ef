package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"examd/internal/server"
)

// authzColumns are the callers, in the order of the columns of authzRows:
//
//	none      no credential: no Authorization header; on the pages a browser
//	          that opened the login page (its pre-session cookie and token)
//	expired   an admin's token and page session, expired (sessions.expires_at)
//	loggedout an admin's token and page session after POST /api/v1/logout and
//	          the page's logout
//	nocsrf    the admin's page session cookie alone: pages' forms without a
//	          CSRF token; the API with the cookie and no Authorization header
//	candidate the candidate who owns {booking}, {cancel}, {attempt}, {candidate}
//	other     another candidate, owning none of them
//	examiner  an examiner of {venue}
//	stranger  an examiner of another venue
//	scheduler, issuer, admin
//	device    a judging device's key (Authorization: Device <key>; on the
//	          pages also as the session cookie, as an attacker would)
//	display   a hall screen's token of {venue} (Bearer on the API, session
//	          cookie on the pages, and in /hall/{token})
//
// On a /hall/{token} row each caller puts its own credential in the path.
var authzColumns = []string{"none", "expired", "loggedout", "nocsrf", "candidate", "other", "examiner", "stranger", "scheduler", "issuer", "admin", "device", "display"}

// An expected answer is one of:
//
//	401    401 unauthorized
//	403    403 forbidden (a page's form without a valid CSRF token too)
//	404    404 not found
//	login  303 to the login page (/login or /login?next=…)
//	ok     allowed: any answer but 401, 403, a redirect to the login page or
//	       a 5xx (a POST's empty body or form is refused 422, say)
//	NNN    exactly that status
//
// Row paths name real objects: {venue}, {slot} (a slot of {venue} 20 days
// ahead), {candidate}, {booking} (the candidate's subject 2 today, with
// {attempt} passed), {cancel} (the candidate's subject 4 today), {issuance}
// (another candidate's, ready at the desk), {device} and {pagedevice}
// (spare devices, retired by their rows), {display} (a spare hall screen,
// revoked by its row), {lanerequest} (the candidate's lane request).
type authzRow struct {
	want  string // one answer per column of authzColumns
	route string // "METHOD /path" as registered
	path  string // the request's path
	// body is the API request's JSON body ({} when empty) or the form's
	// fields (URL-encoded, besides _csrf), for a row whose refusal comes
	// after the body is checked (an attempt of another venue).
	body string
	// spends: the request ends the caller's session (logout): each signed-in
	// caller sends it with a session of its own.
	spends bool
}

var authzRows = []authzRow{
	//      none  expd  out   nocsr cand  other exmnr strgr sched issr  admin dev   disp
	{want: "200   200   200   200   200   200   200   200   200   200   200   200   200", route: "GET /healthz", path: "/healthz"},
	{want: "200   200   200   200   200   200   200   200   200   200   200   200   200", route: "GET /readyz", path: "/readyz"},
	{want: "200   200   200   200   200   200   200   200   200   200   200   200   200", route: "GET /metrics", path: "/metrics"},
	{want: "200   200   200   200   200   200   200   200   200   200   200   200   200", route: "GET /static/*", path: "/static/app.css"},
	{want: "200   200   200   200   200   200   200   200   200   200   200   200   200", route: "GET /api/v1/openapi.yaml", path: "/api/v1/openapi.yaml"},

	// internal/auth
	//      none  expd  out   nocsr cand  other exmnr strgr sched issr  admin dev   disp
	{want: "ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok", route: "POST /api/v1/login", path: "/api/v1/login"},
	{want: "401   401   401   401   204   204   204   204   204   204   204   401   401", route: "POST /api/v1/logout", path: "/api/v1/logout", spends: true},
	{want: "401   401   401   401   403   403   403   403   403   403   ok    401   401", route: "POST /api/v1/users", path: "/api/v1/users"},
	{want: "401   401   401   401   422   422   422   422   422   422   422   401   401", route: "POST /api/v1/me/password", path: "/api/v1/me/password"},

	// scheduling
	//      none  expd  out   nocsr cand  other exmnr strgr sched issr  admin dev   disp
	{want: "401   401   401   401   403   403   403   403   ok    403   ok    401   401", route: "POST /api/v1/venues", path: "/api/v1/venues"},
	{want: "401   401   401   401   ok    ok    ok    ok    ok    ok    ok    401   401", route: "GET /api/v1/venues", path: "/api/v1/venues"},
	{want: "401   401   401   401   403   403   403   403   ok    403   ok    401   401", route: "POST /api/v1/candidates", path: "/api/v1/candidates"},
	{want: "401   401   401   401   403   403   403   403   ok    ok    ok    401   401", route: "GET /api/v1/candidates/:id", path: "/api/v1/candidates/{candidate}"},
	{want: "401   401   401   401   403   403   403   403   ok    403   ok    401   401", route: "POST /api/v1/candidates/:id/priority", path: "/api/v1/candidates/{candidate}/priority"},
	{want: "401   401   401   401   403   403   403   403   ok    403   ok    401   401", route: "DELETE /api/v1/candidates/:id/priority", path: "/api/v1/candidates/{candidate}/priority"},
	{want: "401   401   401   401   403   403   403   403   ok    403   ok    401   401", route: "POST /api/v1/candidates/:id/package", path: "/api/v1/candidates/{candidate}/package"},
	{want: "401   401   401   401   403   403   403   403   ok    403   ok    401   401", route: "DELETE /api/v1/candidates/:id/package", path: "/api/v1/candidates/{candidate}/package"},
	{want: "401   401   401   401   403   403   ok    ok    ok    ok    ok    401   401", route: "GET /api/v1/candidates/:id/bookings", path: "/api/v1/candidates/{candidate}/bookings"},
	{want: "401   401   401   401   403   403   403   403   ok    403   ok    401   401", route: "POST /api/v1/slots", path: "/api/v1/slots"},
	{want: "401   401   401   401   403   403   403   403   ok    403   ok    401   401", route: "POST /api/v1/slots/week", path: "/api/v1/slots/week"},
	{want: "401   401   401   401   ok    ok    ok    ok    ok    ok    ok    401   401", route: "GET /api/v1/slots", path: "/api/v1/slots"},
	{want: "401   401   401   401   ok    ok    ok    ok    ok    ok    ok    401   401", route: "GET /api/v1/slots/:id", path: "/api/v1/slots/{slot}"},
	{want: "401   401   401   401   403   403   403   403   ok    403   ok    401   401", route: "PATCH /api/v1/slots/:id", path: "/api/v1/slots/{slot}"},
	{want: "401   401   401   401   403   403   ok    ok    ok    ok    ok    401   401", route: "GET /api/v1/slots/:id/roster", path: "/api/v1/slots/{slot}/roster"},
	{want: "401   401   401   401   ok    ok    403   403   ok    403   ok    401   401", route: "POST /api/v1/slots/:id/waitlist", path: "/api/v1/slots/{slot}/waitlist"},
	{want: "401   401   401   401   ok    ok    403   403   ok    403   ok    401   401", route: "DELETE /api/v1/slots/:id/waitlist", path: "/api/v1/slots/{slot}/waitlist"},
	{want: "401   401   401   401   403   403   403   403   ok    403   ok    401   401", route: "GET /api/v1/slots/:id/waitlist", path: "/api/v1/slots/{slot}/waitlist"},
	{want: "401   401   401   401   ok    ok    403   403   ok    403   ok    401   401", route: "POST /api/v1/bookings", path: "/api/v1/bookings"},
	{want: "401   401   401   401   200   404   ok    ok    ok    ok    ok    401   401", route: "GET /api/v1/bookings/:id", path: "/api/v1/bookings/{booking}"},
	{want: "401   401   401   401   ok    404   403   403   ok    403   ok    401   401", route: "DELETE /api/v1/bookings/:id", path: "/api/v1/bookings/{cancel}"},
	{want: "401   401   401   401   403   403   403   403   ok    403   ok    401   401", route: "POST /api/v1/bookings/:id/move", path: "/api/v1/bookings/{cancel}/move"},
	{want: "401   401   401   401   409   404   403   403   403   403   403   401   401", route: "POST /api/v1/bookings/:id/decline", path: "/api/v1/bookings/{cancel}/decline"},
	{want: "401   401   401   401   409   404   403   403   403   403   403   401   401", route: "POST /api/v1/bookings/:id/keep", path: "/api/v1/bookings/{cancel}/keep"},
	{want: "401   401   401   401   200   200   403   403   403   403   403   401   401", route: "GET /api/v1/me/bookings", path: "/api/v1/me/bookings"},
	{want: "401   401   401   401   200   200   403   403   403   403   403   401   401", route: "GET /api/v1/me/package", path: "/api/v1/me/package"},
	{want: "401   401   401   401   ok    ok    403   403   ok    403   ok    401   401", route: "DELETE /api/v1/applications/:id", path: "/api/v1/applications/999999"},
	{want: "401   401   401   401   403   403   403   403   ok    403   ok    401   401", route: "POST /api/v1/slots/:id/allocate", path: "/api/v1/slots/{slot}/allocate"},
	{want: "401   401   401   401   403   403   403   403   200   403   200   401   401", route: "GET /api/v1/slots/:id/applications", path: "/api/v1/slots/{slot}/applications"},
	{want: "401   401   401   401   200   200   403   403   403   403   403   401   401", route: "GET /api/v1/me/waitlist", path: "/api/v1/me/waitlist"},

	// internal/notify
	//      none  expd  out   nocsr cand  other exmnr strgr sched issr  admin dev   disp
	{want: "401   401   401   401   200   200   403   403   403   403   403   401   401", route: "GET /api/v1/me/notifications", path: "/api/v1/me/notifications"},
	{want: "401   401   401   401   ok    ok    403   403   403   403   403   401   401", route: "POST /api/v1/me/notifications/read", path: "/api/v1/me/notifications/read"},
	{want: "401   401   401   401   ok    ok    403   403   403   403   403   401   401", route: "GET /api/v1/me/notifications/live", path: "/api/v1/me/notifications/live"},

	// exam
	//      none  expd  out   nocsr cand  other exmnr strgr sched issr  admin dev   disp
	{want: "401   401   401   401   403   403   403   403   403   403   ok    401   401", route: "POST /api/v1/devices", path: "/api/v1/devices"},
	{want: "401   401   401   401   403   403   403   403   403   403   ok    401   401", route: "DELETE /api/v1/devices/:id", path: "/api/v1/devices/{device}"},
	{want: "401   401   401   401   200   200   200   200   200   200   200   200   401", route: "GET /api/v1/rules", path: "/api/v1/rules"},
	{want: "401   401   401   401   401   401   401   401   401   401   401   ok    401", route: "POST /api/v1/exam/events", path: "/api/v1/exam/events"},
	{want: "401   401   401   401   200   404   ok    ok    ok    ok    ok    401   401", route: "GET /api/v1/attempts/:id", path: "/api/v1/attempts/{attempt}"},
	{want: "401   401   401   401   200   404   ok    ok    ok    ok    ok    401   401", route: "GET /api/v1/bookings/:id/attempts", path: "/api/v1/bookings/{booking}/attempts"},
	{want: "401   401   401   401   ok    404   ok    404   403   403   403   401   401", route: "POST /api/v1/attempts/:id/signatures", path: "/api/v1/attempts/{attempt}/signatures", body: `{"signer":"candidate"}`},
	{want: "401   401   401   401   403   403   ok    404   403   403   ok    401   401", route: "POST /api/v1/attempts/:id/corrections", path: "/api/v1/attempts/{attempt}/corrections", body: `{"score":90,"reason":"复核更正"}`},
	{want: "401   401   401   401   403   403   ok    404   ok    403   ok    401   401", route: "POST /api/v1/slots/:id/close", path: "/api/v1/slots/{slot}/close"},
	{want: "401   401   401   401   ok    ok    403   403   403   403   403   401   401", route: "GET /api/v1/me/queue", path: "/api/v1/me/queue"},

	// issuance
	//      none  expd  out   nocsr cand  other exmnr strgr sched issr  admin dev   disp
	{want: "401   401   401   401   403   403   403   403   403   200   200   401   401", route: "GET /api/v1/issuance/queue", path: "/api/v1/issuance/queue"},
	{want: "401   401   401   401   403   403   403   403   403   ok    403   401   401", route: "POST /api/v1/issuance/:id/call", path: "/api/v1/issuance/{issuance}/call"},
	{want: "401   401   401   401   403   403   403   403   403   ok    403   401   401", route: "POST /api/v1/issuance/:id/steps", path: "/api/v1/issuance/{issuance}/steps"},
	{want: "401   401   401   401   200   200   403   403   403   403   403   401   401", route: "GET /api/v1/me/journey", path: "/api/v1/me/journey"},
	{want: "401   401   401   401   403   403   403   403   ok    ok    ok    401   401", route: "GET /api/v1/reports/daily", path: "/api/v1/reports/daily"},
	{want: "401   401   401   401   ok    ok    403   403   403   403   403   401   401", route: "POST /api/v1/feedback", path: "/api/v1/feedback"},
	{want: "401   401   401   401   403   403   403   403   403   403   ok    401   401", route: "GET /api/v1/reports/satisfaction", path: "/api/v1/reports/satisfaction"},

	// internal/server
	//      none  expd  out   nocsr cand  other exmnr strgr sched issr  admin dev   disp
	{want: "401   401   401   401   403   403   403   403   403   403   200   401   401", route: "GET /api/v1/audit", path: "/api/v1/audit"},
	{want: "401   401   401   401   403   403   ok    403   ok    403   ok    401   401", route: "GET /api/v1/live", path: "/api/v1/live?venue_id={venue}"},
	{want: "401   401   401   401   403   403   403   403   403   ok    ok    401   401", route: "GET /api/v1/live/issuance", path: "/api/v1/live/issuance"},

	// web: sign-in
	//      none  expd  out   nocsr cand  other exmnr strgr sched issr  admin dev   disp
	{want: "login login login ok    ok    ok    ok    ok    ok    ok    ok    login login", route: "GET /", path: "/"},
	{want: "200   200   200   303   303   303   303   303   303   303   303   200   200", route: "GET /login", path: "/login"},
	{want: "422   422   422   403   422   422   422   422   422   422   422   422   422", route: "POST /login", path: "/login"},
	{want: "303   303   303   403   303   303   303   303   303   303   303   303   303", route: "POST /logout", path: "/logout", spends: true},
	{want: "login login login 200   200   200   200   200   200   200   200   login login", route: "GET /account/password", path: "/account/password"},
	{want: "login login login 403   422   422   422   422   422   422   422   login login", route: "POST /account/password", path: "/account/password"},

	// web: candidate
	//      none  expd  out   nocsr cand  other exmnr strgr sched issr  admin dev   disp
	{want: "login login login 403   200   200   403   403   403   403   403   login login", route: "GET /candidate", path: "/candidate"},
	{want: "login login login 403   200   200   403   403   403   403   403   login login", route: "GET /candidate/slots", path: "/candidate/slots"},
	{want: "login login login 403   ok    ok    403   403   403   403   403   login login", route: "POST /candidate/slots", path: "/candidate/slots"},
	{want: "login login login 403   ok    ok    403   403   403   403   403   login login", route: "GET /candidate/apply", path: "/candidate/apply?slot={slot}"},
	{want: "login login login 403   ok    ok    403   403   403   403   403   login login", route: "POST /candidate/apply", path: "/candidate/apply"},
	{want: "login login login 403   ok    ok    403   403   403   403   403   login login", route: "GET /candidate/apply/combined", path: "/candidate/apply/combined"},
	{want: "login login login 403   ok    ok    403   403   403   403   403   login login", route: "POST /candidate/apply/combined", path: "/candidate/apply/combined"},
	{want: "login login login 403   ok    ok    403   403   403   403   403   login login", route: "POST /candidate/applications/:id/withdraw", path: "/candidate/applications/999999/withdraw"},
	{want: "login login login 403   ok    ok    403   403   403   403   403   login login", route: "POST /candidate/slots/:id/waitlist", path: "/candidate/slots/{slot}/waitlist"},
	{want: "login login login 403   ok    ok    403   403   403   403   403   login login", route: "POST /candidate/slots/:id/waitlist/leave", path: "/candidate/slots/{slot}/waitlist/leave"},
	{want: "login login login 403   200   200   403   403   403   403   403   login login", route: "GET /candidate/bookings", path: "/candidate/bookings"},
	{want: "login login login 403   200   404   403   403   403   403   403   login login", route: "GET /candidate/bookings/:id", path: "/candidate/bookings/{booking}"},
	{want: "login login login 403   200   404   403   403   403   403   403   login login", route: "GET /candidate/bookings/:id/calendar.ics", path: "/candidate/bookings/{booking}/calendar.ics"},
	{want: "login login login 403   200   404   403   403   403   403   403   login login", route: "GET /candidate/bookings/:id/cancel", path: "/candidate/bookings/{cancel}/cancel"},
	{want: "login login login 403   ok    404   403   403   403   403   403   login login", route: "POST /candidate/bookings/:id/cancel", path: "/candidate/bookings/{cancel}/cancel"},
	{want: "login login login 403   ok    404   403   403   403   403   403   login login", route: "POST /candidate/bookings/:id/decline", path: "/candidate/bookings/{cancel}/decline", body: "confirm=yes"},
	{want: "login login login 403   ok    404   403   403   403   403   403   login login", route: "POST /candidate/bookings/:id/keep", path: "/candidate/bookings/{cancel}/keep"},
	{want: "login login login 403   409   409   403   403   403   403   403   login login", route: "GET /candidate/feedback", path: "/candidate/feedback?booking_id={cancel}"},
	{want: "login login login 403   ok    ok    403   403   403   403   403   login login", route: "POST /candidate/feedback", path: "/candidate/feedback"},
	{want: "login login login 403   200   200   403   403   403   403   403   login login", route: "GET /candidate/priority", path: "/candidate/priority"},
	{want: "login login login 403   ok    ok    403   403   403   403   403   login login", route: "POST /candidate/priority", path: "/candidate/priority"},
	{want: "login login login 403   200   200   403   403   403   403   403   login login", route: "GET /candidate/notifications", path: "/candidate/notifications"},
	{want: "login login login 403   ok    ok    403   403   403   403   403   login login", route: "POST /candidate/notifications/read", path: "/candidate/notifications/read"},
	{want: "login login login 403   ok    ok    403   403   403   403   403   login login", route: "GET /candidate/notifications/live", path: "/candidate/notifications/live"},

	// web: examiner
	//      none  expd  out   nocsr cand  other exmnr strgr sched issr  admin dev   disp
	{want: "login login login 200   403   403   200   200   200   403   200   login login", route: "GET /examiner", path: "/examiner"},
	{want: "login login login ok    403   403   ok    ok    ok    403   ok    login login", route: "GET /examiner/roster", path: "/examiner/roster"},
	{want: "login login login 200   403   403   200   404   200   403   200   login login", route: "GET /examiner/attempts/:id", path: "/examiner/attempts/{attempt}"},
	{want: "login login login 200   403   403   200   404   200   403   200   login login", route: "GET /examiner/attempts/:id/count", path: "/examiner/attempts/{attempt}/count"},
	{want: "login login login 403   403   403   ok    404   403   403   403   login login", route: "POST /examiner/attempts/:id/sign", path: "/examiner/attempts/{attempt}/sign"},
	{want: "login login login ok    403   403   ok    403   ok    403   ok    login login", route: "GET /examiner/live", path: "/examiner/live?venue_id={venue}"},

	// web: desk
	//      none  expd  out   nocsr cand  other exmnr strgr sched issr  admin dev   disp
	{want: "login login login 200   403   403   403   403   403   200   200   login login", route: "GET /desk", path: "/desk"},
	{want: "login login login ok    403   403   403   403   403   ok    ok    login login", route: "GET /desk/live", path: "/desk/live"},
	{want: "login login login 403   403   403   403   403   403   ok    403   login login", route: "POST /desk/:id/call", path: "/desk/{issuance}/call"},
	{want: "login login login 403   403   403   403   403   403   ok    403   login login", route: "POST /desk/:id/step", path: "/desk/{issuance}/step"},
	{want: "login login login ok    403   403   403   403   403   ok    ok    login login", route: "GET /desk/:id/receipt", path: "/desk/{issuance}/receipt"},
	{want: "login login login 200   403   403   403   403   200   200   200   login login", route: "GET /desk/report", path: "/desk/report"},
	{want: "login login login 200   403   403   403   403   200   200   200   login login", route: "GET /desk/report.csv", path: "/desk/report.csv"},
	{want: "login login login 200   403   403   403   403   403   403   200   login login", route: "GET /desk/satisfaction", path: "/desk/satisfaction"},

	// web: planning
	//      none  expd  out   nocsr cand  other exmnr strgr sched issr  admin dev   disp
	{want: "login login login 200   403   403   403   403   200   403   200   login login", route: "GET /admin/venues", path: "/admin/venues"},
	{want: "login login login 403   403   403   403   403   ok    403   ok    login login", route: "POST /admin/venues", path: "/admin/venues"},
	{want: "login login login 200   403   403   403   403   200   403   200   login login", route: "GET /admin/slots", path: "/admin/slots"},
	{want: "login login login 403   403   403   403   403   ok    403   ok    login login", route: "POST /admin/slots", path: "/admin/slots"},
	{want: "login login login 200   403   403   403   403   200   403   200   login login", route: "GET /admin/slots/:id/applications", path: "/admin/slots/{slot}/applications"},
	{want: "login login login 403   403   403   403   403   ok    403   ok    login login", route: "POST /admin/slots/:id/allocate", path: "/admin/slots/{slot}/allocate"},
	{want: "login login login 403   403   403   403   403   ok    403   ok    login login", route: "POST /admin/slots/:id/allocation", path: "/admin/slots/{slot}/allocation"},
	{want: "login login login 200   403   403   403   403   200   403   200   login login", route: "GET /admin/slots/week", path: "/admin/slots/week"},
	{want: "login login login 403   403   403   403   403   ok    403   ok    login login", route: "POST /admin/slots/week", path: "/admin/slots/week"},
	{want: "login login login 200   403   403   200   404   200   403   200   login login", route: "GET /admin/slots/:id", path: "/admin/slots/{slot}"},
	{want: "login login login 200   403   403   403   403   200   403   200   login login", route: "GET /admin/candidates", path: "/admin/candidates"},
	{want: "login login login 403   403   403   403   403   ok    403   ok    login login", route: "POST /admin/candidates", path: "/admin/candidates"},
	{want: "login login login 200   403   403   403   403   200   403   200   login login", route: "GET /admin/candidates/:id", path: "/admin/candidates/{candidate}"},
	{want: "login login login 403   403   403   403   403   ok    403   ok    login login", route: "POST /admin/candidates/:id/priority", path: "/admin/candidates/{candidate}/priority"},
	{want: "login login login 403   403   403   403   403   ok    403   ok    login login", route: "POST /admin/candidates/:id/priority/revoke", path: "/admin/candidates/{candidate}/priority/revoke"},
	{want: "login login login 403   403   403   403   403   ok    403   ok    login login", route: "POST /admin/candidates/:id/package", path: "/admin/candidates/{candidate}/package"},
	{want: "login login login 403   403   403   403   403   ok    403   ok    login login", route: "POST /admin/candidates/:id/package/revoke", path: "/admin/candidates/{candidate}/package/revoke"},
	{want: "login login login 403   403   403   403   403   ok    403   ok    login login", route: "POST /admin/lane-requests/:id/grant", path: "/admin/lane-requests/{lanerequest}/grant"},
	{want: "login login login 403   403   403   403   403   ok    403   ok    login login", route: "POST /admin/lane-requests/:id/decline", path: "/admin/lane-requests/{lanerequest}/decline"},

	// web: counter service
	//      none  expd  out   nocsr cand  other exmnr strgr sched issr  admin dev   disp
	{want: "login login login 403   403   403   403   403   ok    403   ok    login login", route: "POST /admin/candidates/:id/book", path: "/admin/candidates/{candidate}/book"},
	{want: "login login login 403   403   403   403   403   ok    403   ok    login login", route: "POST /admin/slots/:id/book", path: "/admin/slots/{slot}/book"},
	{want: "login login login 403   403   403   ok    404   ok    403   ok    login login", route: "POST /admin/slots/:id/close", path: "/admin/slots/{slot}/close"},
	{want: "login login login 403   403   403   403   403   ok    403   ok    login login", route: "POST /admin/bookings/:id/cancel", path: "/admin/bookings/{cancel}/cancel"},
	{want: "login login login 403   403   403   403   403   ok    403   ok    login login", route: "POST /admin/bookings/:id/move", path: "/admin/bookings/{cancel}/move"},
	{want: "login login login 200   403   403   403   403   200   403   200   login login", route: "GET /admin/bookings/:id/slip", path: "/admin/bookings/{booking}/slip"},

	// web: accounts and hall screens (admin)
	//      none  expd  out   nocsr cand  other exmnr strgr sched issr  admin dev   disp
	{want: "login login login 200   403   403   403   403   403   403   200   login login", route: "GET /admin/users", path: "/admin/users"},
	{want: "login login login 403   403   403   403   403   403   403   ok    login login", route: "POST /admin/users", path: "/admin/users"},
	{want: "login login login 200   403   403   403   403   403   403   200   login login", route: "GET /admin/devices", path: "/admin/devices"},
	{want: "login login login 403   403   403   403   403   403   403   ok    login login", route: "POST /admin/devices", path: "/admin/devices"},
	{want: "login login login 403   403   403   403   403   403   403   ok    login login", route: "POST /admin/devices/:id/retire", path: "/admin/devices/{pagedevice}/retire"},
	{want: "login login login 200   403   403   403   403   403   403   200   login login", route: "GET /admin/audit", path: "/admin/audit"},
	{want: "login login login 200   403   403   403   403   403   403   200   login login", route: "GET /admin/displays", path: "/admin/displays"},
	{want: "login login login 403   403   403   403   403   403   403   ok    login login", route: "POST /admin/displays", path: "/admin/displays"},
	{want: "login login login 403   403   403   403   403   403   403   ok    login login", route: "POST /admin/displays/:id/revoke", path: "/admin/displays/{display}/revoke"},

	// web: the hall screen, opened by its display token alone
	//      none  expd  out   nocsr cand  other exmnr strgr sched issr  admin dev   disp
	{want: "404   404   404   404   404   404   404   404   404   404   404   404   200", route: "GET /hall/:token", path: "/hall/{token}"},
	{want: "404   404   404   404   404   404   404   404   404   404   404   404   200", route: "GET /hall/:token/board", path: "/hall/{token}/board"},
}

// TestAuthorizationMatrix sends every registered route, API and pages, as
// every kind of caller, and checks each answer against authzRows: who may,
// who is refused, and how. A route registered without a row fails it, as
// does a row whose route is gone.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	registered := server.RegisteredRoutes()
	var rows []string
	for _, r := range authzRows {
		rows = append(rows, r.route)
		if !slices.Contains(registered, r.route) {
			t.Errorf("row %s names no registered route", r.route)
		}
		if n := len(strings.Fields(r.want)); n != len(authzColumns) {
			t.Errorf("row %s has %d answers, want %d (one per caller)", r.route, n, len(authzColumns))
		}
	}
	for _, r := range registered {
		if !slices.Contains(rows, r) {
			t.Errorf("route %s has no row in authzRows: write who may call it", r)
		}
		if n := strings.Count(strings.Join(rows, "\n")+"\n", r+"\n"); n > 1 {
			t.Errorf("route %s has %d rows", r, n)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	w := newAuthzWorld(t)
	// requests maps each request's id to the route its row names: examd's
	// log says which route answered it.
	requests := map[string]string{}
	for _, r := range authzRows {
		want := strings.Fields(r.want)
		for i, c := range w.callers {
			if r.spends {
				c = w.fresh(c)
			}
			path := strings.ReplaceAll(r.path, "{token}", c.hall)
			for k, v := range w.ids {
				path = strings.ReplaceAll(path, k, v)
			}
			method := strings.Fields(r.route)[0]
			res, body := w.send(c, method, path, r.body)
			requests[res.Header.Get("X-Request-Id")] = r.route
			if got := answer(res, want[i]); got != "" {
				if len(body) > 200 {
					body = body[:200]
				}
				t.Errorf("%s %s as %s: got %s, want %s: %s", method, path, c.name, got, want[i], strings.TrimSpace(body))
			}
		}
	}
	checkRoutes(t, w, requests)

	// What the rows retired and revoked opens nothing any more.
	retired := &authzCaller{name: "retired device", header: "Device " + w.retiredKey}
	revoked := &authzCaller{name: "revoked display"}
	for _, r := range []struct {
		c            *authzCaller
		method, path string
		want         int
	}{
		{retired, "POST", "/api/v1/exam/events", http.StatusUnauthorized},
		{retired, "GET", "/api/v1/rules", http.StatusUnauthorized},
		{revoked, "GET", "/hall/" + w.revokedHall, http.StatusNotFound},
		{revoked, "GET", "/hall/" + w.revokedHall + "/board", http.StatusNotFound},
	} {
		if res, _ := w.send(r.c, r.method, r.path, ""); res.StatusCode != r.want {
			t.Errorf("%s %s as a %s: got %d, want %d", r.method, strings.Split(r.path, "/")[1], r.c.name, res.StatusCode, r.want)
		}
	}
}

// answer is "" when res is the expected answer want, else what res was.
func answer(res *http.Response, want string) string {
	loc := res.Header.Get("Location")
	toLogin := res.StatusCode == http.StatusSeeOther && (loc == "/login" || strings.HasPrefix(loc, "/login?next="))
	got := fmt.Sprint(res.StatusCode)
	if loc != "" {
		got += " to " + loc
	}
	var ok bool
	switch want {
	case "login":
		ok = toLogin
	case "ok":
		ok = res.StatusCode != http.StatusUnauthorized && res.StatusCode != http.StatusForbidden && !toLogin && res.StatusCode < 500
	default:
		ok = fmt.Sprint(res.StatusCode) == want && !toLogin
	}
	if ok {
		return ""
	}
	return got
}

// checkRoutes fails unless examd's log says each request was answered by
// the route of its row: a path that missed its route (a 404 of no route)
// proves nothing about the route.
func checkRoutes(t *testing.T, w *authzWorld, requests map[string]string) {
	t.Helper()
	seen := map[string]string{}
	for deadline := time.Now().Add(5 * time.Second); len(seen) < len(requests) && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, line := range w.a.Logs() {
			var l struct {
				Msg       string `json:"msg"`
				RequestID string `json:"request_id"`
				Route     string `json:"route"`
				Method    string `json:"method"`
			}
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "request" {
				if _, ok := requests[l.RequestID]; ok {
					seen[l.RequestID] = l.Method + " " + l.Route
				}
			}
		}
	}
	for id, route := range requests {
		if got := seen[id]; got != route {
			t.Errorf("request %s of row %s was answered by route %q", id, route, got)
		}
	}
}
