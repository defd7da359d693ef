package server_test

import (
	"testing"

	"examd/internal/server"
)

// TestLoggedPath: the request log keeps a route's words and rows' ids, and
// replaces anything that could be a token or a person's data.
func TestLoggedPath(t *testing.T) {
	token := "DM_LEjM0qHmOgtNR6tQSPK-l31B_hZ7flcdWcRVJq8Y"
	for _, tc := range []struct{ path, want string }{
		{"/", "/"},
		{"/api/v1/bookings/42/attempts", "/api/v1/bookings/42/attempts"},
		{"/admin/lane-requests/7/grant", "/admin/lane-requests/7/grant"},
		{"/static/app.css", "/static/app.css"},
		{"/api/v1/openapi.yaml", "/api/v1/openapi.yaml"},
		{"/api/v1/slots/9223372036", "/api/v1/slots/9223372036"},
		{"/api/v1/slots/92233720368", "/api/v1/slots/*"},
		{"/hall/" + token, "/hall/*"},
		{"/hall/" + token + "/", "/hall/*/"},
		{"/hall/" + token + "/board.json/x", "/hall/*/board.json/x"},
		{"/api/v1/candidates/110101199001010066", "/api/v1/candidates/*"},
		{"/api/v1/candidates/11010119900101006x", "/api/v1/candidates/*"},
		{"/u/13800138000", "/u/*"},
		{"/hall/abcdefghijklmnopqrstuvwxy", "/hall/*"},
		{"/hall/Secret", "/hall/*"},
		{"/考场/x", "/*/x"},
		{"/a\xffb", "/*"},
	} {
		if got := server.LoggedPath(tc.path); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.path, got, tc.want)
		}
	}
}
