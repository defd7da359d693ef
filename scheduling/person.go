package scheduling

import (
	"strings"
	"time"
	"unicode/utf8"
)

// idLen is the length of a second-generation resident ID number; the old
// 15-digit numbers are no longer issued and are not accepted for booking.
const idLen = 18

// GB 11643-1999 check character: ISO 7064 MOD 11-2 over the 17 body digits,
// with these weights (2^(17-i) mod 11) and this character per remainder.
var (
	idWeights = [idLen - 1]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	idChecks  = "10X98765432"
)

// ValidIDNumber reports whether s is a valid 18-character mainland resident
// ID number (GB 11643-1999): 17 digits whose first two are a real province
// code and whose digits 7-14 are a real birth date from 1900 on and not after
// today's calendar day, then the MOD 11-2 check character (X or x for 10).
// s is not trimmed: callers normalise with NormalizeIDNumber first.
func ValidIDNumber(s string, today time.Time) bool {
	birth, ok := BirthDate(s)
	if !ok {
		return false
	}
	// Compare calendar days, not instants, so that someone born today is
	// accepted whatever the clock time and location of today.
	y, m, d := today.Date()
	return !birth.After(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
}

// NormalizeIDNumber trims spaces and upper-cases the check character (x → X),
// the form in which ID numbers are stored and compared.
func NormalizeIDNumber(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "x") {
		s = s[:len(s)-1] + "X"
	}
	return s
}

// BirthDate returns the birth date encoded in a valid ID number (as a civil
// date at midnight UTC). ok is false when the number is not valid. It knows
// no clock, so it does not reject a birth date in the future: that check is
// ValidIDNumber's.
func BirthDate(id string) (time.Time, bool) {
	if len(id) != idLen {
		return time.Time{}, false
	}
	sum := 0
	for i := range idLen - 1 {
		c := id[i]
		if c < '0' || c > '9' {
			return time.Time{}, false
		}
		sum += int(c-'0') * idWeights[i]
	}
	check := id[idLen-1]
	if check == 'x' {
		check = 'X'
	}
	if check != idChecks[sum%11] {
		return time.Time{}, false
	}
	if !validProvince(int(id[0]-'0')*10 + int(id[1]-'0')) {
		return time.Time{}, false
	}
	// time.Parse rejects days that do not exist, such as 30 February or
	// 29 February in a common year, rather than normalising them.
	birth, err := time.Parse("20060102", id[6:14])
	if err != nil || birth.Year() < 1900 {
		return time.Time{}, false
	}
	return birth, true
}

// validProvince reports whether p is a province-level code of GB/T 2260,
// plus 83, which starts the numbers on Taiwan residents' residence permits.
func validProvince(p int) bool {
	switch {
	case p >= 11 && p <= 15, p >= 21 && p <= 23, p >= 31 && p <= 37, p >= 41 && p <= 46,
		p >= 50 && p <= 54, p >= 61 && p <= 65, p == 71, p == 81, p == 82, p == 83:
		return true
	}
	return false
}

// ValidPhone reports whether s is an 11-digit mainland mobile number: exactly
// 11 ASCII digits, starting with 1, second digit 3-9.
func ValidPhone(s string) bool {
	// Checking bytes rejects full-width digits, which are several bytes long.
	if len(s) != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9' {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MaskName masks a person's name for shared screens and logs: it keeps the
// first character and replaces every other one with "*", so 张三丰 becomes
// 张**. A one-character name becomes "*", so that it is not shown whole.
func MaskName(name string) string {
	n := utf8.RuneCountInString(name)
	if n <= 1 {
		return strings.Repeat("*", n)
	}
	_, size := utf8.DecodeRuneInString(name)
	return name[:size] + strings.Repeat("*", n-1)
}

// MaskIDNumber keeps the first 3 and last 4 characters of an ID number and
// stars the rest: 110101199003074518 → 110***********4518. An input shorter
// than 8 characters is all stars, since keeping 7 of them would hide too little.
func MaskIDNumber(id string) string { return maskMiddle(id, 3, 4) }

// MaskPhone keeps the first 3 and last 4 digits of a phone number and stars
// the rest: 13812345678 → 138****5678. An input shorter than 8 characters is
// all stars.
func MaskPhone(phone string) string { return maskMiddle(phone, 3, 4) }

// maskMiddle keeps head and tail characters (runes, so that stray non-ASCII
// input is not cut mid-character) and stars the rest, or stars everything
// when that would leave nothing hidden.
func maskMiddle(s string, head, tail int) string {
	r := []rune(s)
	if len(r) < head+tail+1 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:head]) + strings.Repeat("*", len(r)-head-tail) + string(r[len(r)-tail:])
}
