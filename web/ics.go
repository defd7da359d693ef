package web

import (
	"strings"
	"time"
	"unicode/utf8"
)

// calendar writes the slip v as an iCalendar file (RFC 5545): one event
// from the arrival time to the end of the last exam, its instants in UTC,
// lines ended by CRLF and folded at 75 octets.
func calendar(v slipView, en bool, now time.Time) string {
	last := v.Bookings[len(v.Bookings)-1]
	summary := subjectNames(v.Bookings, en) + "考试（预约号 " + v.Number + "）"
	desc := "请于 " + v.Arrival.Format("15:04") + " 前到达考场，携带："
	if en {
		summary = subjectNames(v.Bookings, en) + " exam (booking " + v.Number + ")"
		desc = "Arrive by " + v.Arrival.Format("15:04") + " and bring:"
	}
	for _, n := range v.Notice {
		if en {
			desc += "\n- " + n.TextEn
		} else {
			desc += "\n- " + n.TextZh
		}
	}
	const stamp = "20060102T150405Z"
	var b strings.Builder
	for _, l := range []string{
		"BEGIN:VCALENDAR",
		"VERSION:2.0",
		"PRODID:-//examd//booking slip//ZH",
		"CALSCALE:GREGORIAN",
		"METHOD:PUBLISH",
		"BEGIN:VEVENT",
		"UID:" + v.Number + "@examd",
		"DTSTAMP:" + now.UTC().Format(stamp),
		"DTSTART:" + v.Arrival.UTC().Format(stamp),
		"DTEND:" + last.EndsAt.UTC().Format(stamp),
		"SUMMARY:" + icsText(summary),
		"LOCATION:" + icsText(v.Venue.Name+", "+v.Venue.Address),
		"DESCRIPTION:" + icsText(desc),
		"END:VEVENT",
		"END:VCALENDAR",
	} {
		b.WriteString(icsFold(l))
	}
	return b.String()
}

// icsText escapes a TEXT value (RFC 5545 §3.3.11): backslash, semicolon,
// comma and newline.
func icsText(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`).Replace(s)
}

// icsFold ends a content line with CRLF, folding it so that no line is
// longer than 75 octets (RFC 5545 §3.1), never inside a UTF-8 character;
// a continuation line begins with a space.
func icsFold(l string) string {
	var b strings.Builder
	limit := 75
	for len(l) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(l[cut]) {
			cut--
		}
		b.WriteString(l[:cut] + "\r\n ")
		l = l[cut:]
		limit = 74 // the leading space counts
	}
	b.WriteString(l + "\r\n")
	return b.String()
}
