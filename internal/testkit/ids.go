package testkit

import (
	"crypto/rand"
	"fmt"
	"time"
)

// idWeights are GB 11643's weights of the first 17 digits (MOD 11-2).
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// IDNumber returns a valid resident ID number (GB 11643, with its check
// character), different for each n below 1,000,000: area 110101, a birth
// date from 1990-01-01 on, n's last three digits as the sequence.
func IDNumber(n int) string {
	birth := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n/1000)
	body := fmt.Sprintf("110101%s%03d", birth.Format("20060102"), n%1000)
	sum := 0
	for i, w := range idWeights {
		sum += int(body[i]-'0') * w
	}
	return body + string("10X98765432"[sum%11])
}

// UUID returns a random UUID (version 4), e.g. a device event's event_id.
func UUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
