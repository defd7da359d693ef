package scheduling_test

import (
	"testing"
	"time"

	"examd/scheduling"
)

// withCheck appends the GB 11643 check character to a 17-digit body. It is
// computed differently from the package (weights as 2^(17-i) mod 11, check as
// (12 - sum mod 11) mod 11) so that the test does not just repeat the code.
func withCheck(t *testing.T, body string) string {
	t.Helper()
	if len(body) != 17 {
		t.Fatalf("withCheck(%q): body is %d characters, want 17", body, len(body))
	}
	sum, weight := 0, 1
	for i := 16; i >= 0; i-- {
		weight = weight * 2 % 11
		sum += int(body[i]-'0') * weight
	}
	check := (12 - sum%11) % 11
	if check == 10 {
		return body + "X"
	}
	return body + string(rune('0'+check))
}

// wrongCheck appends a check digit that is certainly wrong for body.
func wrongCheck(t *testing.T, body string) string {
	t.Helper()
	right := withCheck(t, body)
	if right[17] == '0' {
		return body + "1"
	}
	return body + "0"
}

func TestWithCheckAgreesWithPublishedExamples(t *testing.T) {
	// Numbers whose check characters were verified independently of both the
	// package and withCheck; 11010519491231002X is the standard's own example.
	for _, want := range []string{"11010519491231002X", "110101199003074514", "440304200002290014"} {
		if got := withCheck(t, want[:17]); got != want {
			t.Errorf("withCheck(%q) = %q, want %q", want[:17], got, want)
		}
	}
}

func TestValidIDNumber(t *testing.T) {
	today := time.Date(2026, time.November, 28, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		id   string
		want bool
	}{
		{"standard example with X", "11010519491231002X", true},
		{"standard example with lower-case x", "11010519491231002x", true},
		{"valid digit check", "110101199003074514", true},
		{"wrong check digit", "110101199003074518", false},
		{"X where a digit is due", "11010119900307451X", false},
		{"computed valid", withCheck(t, "44030419990101001"), true},
		{"computed wrong check", wrongCheck(t, "44030419990101001"), false},
		{"17 characters", "11010519491231002", false},
		{"19 characters", "11010519491231002X0", false},
		{"letter in the body", "1101051949123100AX", false},
		{"X in the body", "X10105194912310020", false},
		{"space-padded", " 11010519491231002X", false},
		{"empty", "", false},
		{"full-width digit", "１10105194912310020", false},
		{"province 99", withCheck(t, "99010119900101001"), false},
		{"province 00", withCheck(t, "00010119900101001"), false},
		{"province 16", withCheck(t, "16010119900101001"), false},
		{"province 71 Taiwan", withCheck(t, "71000019800101001"), true},
		{"province 81 Hong Kong", withCheck(t, "81000019800101001"), true},
		{"province 83 Taiwan residence permit", withCheck(t, "83000019800101001"), true},
		{"province 65", withCheck(t, "65010119900101001"), true},
		{"province 66", withCheck(t, "66010119900101001"), false},
		{"30 February", withCheck(t, "11010119900230001"), false},
		{"month 13", withCheck(t, "11010119901301001"), false},
		{"month 00", withCheck(t, "11010119900001001"), false},
		{"day 00", withCheck(t, "11010119900100001"), false},
		{"day 32", withCheck(t, "11010119900132001"), false},
		{"31 April", withCheck(t, "11010119900431001"), false},
		{"29 February in a leap year", withCheck(t, "44030420000229001"), true},
		{"29 February in 2024", withCheck(t, "11010120240229001"), true},
		{"29 February in a common year", withCheck(t, "11010120230229001"), false},
		{"29 February 1900, not a leap year", withCheck(t, "11010119000229001"), false},
		{"1 January 1900", withCheck(t, "11010119000101001"), true},
		{"year 1899", withCheck(t, "11010118991231001"), false},
		{"born today", withCheck(t, "11010120261128001"), true},
		{"born tomorrow", withCheck(t, "11010120261129001"), false},
		{"born next year", withCheck(t, "11010120270101001"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scheduling.ValidIDNumber(tt.id, today); got != tt.want {
				t.Errorf("ValidIDNumber(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}

func TestValidIDNumberTodayIsACalendarDay(t *testing.T) {
	born := withCheck(t, "11010120261128001")
	tests := []struct {
		name  string
		today time.Time
		want  bool
	}{
		{"midnight UTC", time.Date(2026, time.November, 28, 0, 0, 0, 0, time.UTC), true},
		{"late the same day", time.Date(2026, time.November, 28, 23, 59, 0, 0, time.UTC), true},
		{"early the same day in Shanghai", time.Date(2026, time.November, 28, 1, 0, 0, 0, scheduling.Shanghai), true},
		{"the day before", time.Date(2026, time.November, 27, 23, 59, 0, 0, time.UTC), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scheduling.ValidIDNumber(born, tt.today); got != tt.want {
				t.Errorf("ValidIDNumber(%q, %v) = %v, want %v", born, tt.today, got, tt.want)
			}
		})
	}
}

func TestNormalizeIDNumber(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"already normal", "11010519491231002X", "11010519491231002X"},
		{"lower-case x", "11010519491231002x", "11010519491231002X"},
		{"spaces around", "  11010519491231002x \t", "11010519491231002X"},
		{"ideographic space", "\u3000110101199003074514\u3000", "110101199003074514"},
		{"digit check untouched", "110101199003074514", "110101199003074514"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scheduling.NormalizeIDNumber(tt.in); got != tt.want {
				t.Errorf("NormalizeIDNumber(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestBirthDate(t *testing.T) {
	tests := []struct {
		name   string
		id     string
		want   time.Time
		wantOK bool
	}{
		{"standard example", "11010519491231002X", time.Date(1949, time.December, 31, 0, 0, 0, 0, time.UTC), true},
		{"lower-case x", "11010519491231002x", time.Date(1949, time.December, 31, 0, 0, 0, 0, time.UTC), true},
		{"leap day", withCheck(t, "44030420000229001"), time.Date(2000, time.February, 29, 0, 0, 0, 0, time.UTC), true},
		{"future date still decoded", withCheck(t, "11010120991231001"), time.Date(2099, time.December, 31, 0, 0, 0, 0, time.UTC), true},
		{"wrong check digit", "110101199003074518", time.Time{}, false},
		{"bad province", withCheck(t, "99010119900101001"), time.Time{}, false},
		{"impossible date", withCheck(t, "11010119900230001"), time.Time{}, false},
		{"year 1899", withCheck(t, "11010118991231001"), time.Time{}, false},
		{"too short", "11010519491231", time.Time{}, false},
		{"empty", "", time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := scheduling.BirthDate(tt.id)
			if ok != tt.wantOK || !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("BirthDate(%q) = %v, %v, want %v, %v", tt.id, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestValidPhone(t *testing.T) {
	tests := []struct {
		name  string
		phone string
		want  bool
	}{
		{"valid 138", "13812345678", true},
		{"valid 199", "19912345678", true},
		{"valid 130", "13000000000", true},
		{"10 digits", "1381234567", false},
		{"12 digits", "138123456789", false},
		{"starts with 2", "23812345678", false},
		{"second digit 2", "12812345678", false},
		{"second digit 0", "10812345678", false},
		{"letter", "1381234567a", false},
		{"dash", "138-1234567", false},
		{"plus sign", "+8613812345", false},
		{"space-padded", " 13812345678", false},
		{"full-width digits", "１３８１２３４５６７８", false},
		{"one full-width digit", "1381234567８", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scheduling.ValidPhone(tt.phone); got != tt.want {
				t.Errorf("ValidPhone(%q) = %v, want %v", tt.phone, got, tt.want)
			}
		})
	}
}

func TestMaskName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"two characters", "张三", "张*"},
		{"three characters", "张三丰", "张**"},
		{"compound surname", "欧阳娜娜", "欧***"},
		{"Latin", "Li", "L*"},
		{"one character", "张", "*"},
		{"one Latin letter", "L", "*"},
		{"empty", "", ""},
		{"ethnic name with dot", "阿依·木", "阿***"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scheduling.MaskName(tt.in); got != tt.want {
				t.Errorf("MaskName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMaskIDNumber(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"18 characters", "110101199003074518", "110***********4518"},
		{"with X", "11010519491231002X", "110***********002X"},
		{"8 characters", "12345678", "123*5678"},
		{"7 characters", "1234567", "*******"},
		{"one character", "1", "*"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scheduling.MaskIDNumber(tt.in); got != tt.want {
				t.Errorf("MaskIDNumber(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMaskPhone(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"11 digits", "13812345678", "138****5678"},
		{"8 digits", "12345678", "123*5678"},
		{"7 digits", "1234567", "*******"},
		{"empty", "", ""},
		{"full-width digits counted as characters", "１３８１２３４５６７８", "１３８****５６７８"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scheduling.MaskPhone(tt.in); got != tt.want {
				t.Errorf("MaskPhone(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
