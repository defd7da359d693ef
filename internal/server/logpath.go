package server

import "strings"

// maxLoggedSegment is the longest path segment the request log keeps.
// examd's secrets (session tokens, device keys, hall-screen tokens) are 43
// characters long.
const maxLoggedSegment = 24

// loggedPath is a request's path as the request log keeps it: each segment
// that could be a secret or a person's data is replaced by "*". A segment is
// kept only when it is short, made of lower-case ASCII letters, digits and
// ".-_~", and holds at most 10 digits: the route's own words, file names
// and the ids of rows. A token (long, mixed case), an ID number (18
// characters, 17 digits) or a phone number (11 digits) is never kept, in
// a matched route (/hall/:token, /api/v1/bookings/:id) or in an unmatched
// path (/hall/<token>/x).
func loggedPath(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if !loggable(s) {
			segs[i] = "*"
		}
	}
	return strings.Join(segs, "/")
}

func loggable(seg string) bool {
	if len(seg) > maxLoggedSegment {
		return false
	}
	digits := 0
	for i := 0; i < len(seg); i++ {
		switch b := seg[i]; {
		case b >= '0' && b <= '9':
			digits++
		case b >= 'a' && b <= 'z', b == '.', b == '-', b == '_', b == '~':
		default:
			return false
		}
	}
	return digits <= 10
}
