package scheduling

import (
	"strings"
	"time"
	"unicode/utf8"
)

// GB 11643-1999: weights of the 17 digits and the check characters by remainder.
var (
	idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	idChecks  = "10X98765432"
)

// NormalizeIDNumber trims spaces and upper-cases the check character (x → X).
func NormalizeIDNumber(s string) string {
	return strings.ToUpper(strings.TrimSpace(s))
}

// ValidIDNumber reports whether s is a valid 18-character resident ID number
// (GB 11643-1999): a real province, a real birth date not after today, and
// the ISO 7064 MOD 11-2 check character.
func ValidIDNumber(s string, today time.Time) bool {
	if len(s) != 18 {
		return false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		sum += int(s[i]-'0') * idWeights[i]
	}
	if check := s[17]; check != idChecks[sum%11] && !(check == 'x' && idChecks[sum%11] == 'X') {
		return false
	}
	if !validProvince((s[0]-'0')*10 + (s[1] - '0')) {
		return false
	}
	birth, ok := BirthDate(s)
	return ok && !birth.After(today)
}

func validProvince(p byte) bool {
	switch {
	case p >= 11 && p <= 15, p >= 21 && p <= 23, p >= 31 && p <= 37, p >= 41 && p <= 46,
		p >= 50 && p <= 54, p >= 61 && p <= 65, p == 71, p == 81, p == 82, p == 83:
		return true
	}
	return false
}

// BirthDate returns the birth date in an ID number's digits 7-14, at
// midnight UTC; ok is false when it is no real date from 1900 on.
func BirthDate(id string) (time.Time, bool) {
	if len(id) < 14 {
		return time.Time{}, false
	}
	d, err := time.Parse("20060102", id[6:14])
	if err != nil || d.Year() < 1900 {
		return time.Time{}, false
	}
	return d, true
}

// ValidPhone reports whether s is an 11-digit mainland mobile number.
func ValidPhone(s string) bool {
	if len(s) != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MaskName keeps a name's first character and stars the rest, for shared
// screens and logs: 张三丰 → 张**. A one-character name becomes *.
func MaskName(name string) string {
	n := utf8.RuneCountInString(name)
	if n <= 1 {
		return strings.Repeat("*", n)
	}
	first, _ := utf8.DecodeRuneInString(name)
	return string(first) + strings.Repeat("*", n-1)
}

// MaskIDNumber keeps the first 3 and last 4 characters of an ID number.
func MaskIDNumber(id string) string { return maskMiddle(id, 3, 4) }

// MaskPhone keeps the first 3 and last 4 digits of a phone number.
func MaskPhone(phone string) string { return maskMiddle(phone, 3, 4) }

func maskMiddle(s string, head, tail int) string {
	if len(s) < head+tail+1 {
		return strings.Repeat("*", len(s))
	}
	return s[:head] + strings.Repeat("*", len(s)-head-tail) + s[len(s)-tail:]
}
