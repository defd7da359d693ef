package audit

import (
	"bytes"
	"crypto/sha256"
	"testing"
	"time"
)

func TestContent(t *testing.T) {
	seq, user := int64(1), int64(3)
	slot := `{"slot": 4}`
	at := time.Date(2026, 1, 1, 8, 0, 0, 0, time.FixedZone("Asia/Shanghai", 8*3600))
	cases := []struct {
		name string
		row  stored
		want string
	}{
		{"Booking", stored{ChainSeq: &seq, At: at, ActorKind: "user", ActorID: &user, Action: "booking.created", Subject: "booking:12", After: &slot},
			`1:1,16:1767225600000000,4:user,1:3,15:booking.created,10:booking:12,0:,11:{"slot": 4},`},
		{"SystemMicroseconds", stored{ChainSeq: &seq, At: at.Add(1500 * time.Nanosecond), ActorKind: "system", Action: "day.closed", Subject: "day:2026-01-01"},
			`1:1,16:1767225600000001,6:system,0:,10:day.closed,14:day:2026-01-01,0:,0:,`},
		// Lengths count bytes, not characters.
		{"UTF8", stored{ChainSeq: &seq, At: at, ActorKind: "user", ActorID: &user, Action: "x", Subject: "考生:7", Before: &slot},
			`1:1,16:1767225600000000,4:user,1:3,1:x,8:考生:7,11:{"slot": 4},0:,`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := string(c.row.content()); got != c.want {
				t.Errorf("content:\n got %s\nwant %s", got, c.want)
			}
			c.row.PrevHash = bytes.Repeat([]byte{7}, 32)
			want := sha256.Sum256(append([]byte(c.want), c.row.PrevHash...))
			if got := c.row.hash(); !bytes.Equal(got, want[:]) {
				t.Errorf("hash %x, want %x", got, want)
			}
		})
	}

	t.Run("FieldsCannotShift", func(t *testing.T) {
		a := stored{ChainSeq: &seq, At: at, ActorKind: "system", Action: "a|b", Subject: "c"}
		b := stored{ChainSeq: &seq, At: at, ActorKind: "system", Action: "a", Subject: "b|c"}
		c := stored{ChainSeq: &seq, At: at, ActorKind: "system", Action: "a,1:b", Subject: "c"}
		d := stored{ChainSeq: &seq, At: at, ActorKind: "system", Action: "a", Subject: "b,1:c"}
		for _, p := range [][2]stored{{a, b}, {c, d}} {
			if bytes.Equal(p[0].content(), p[1].content()) {
				t.Errorf("%q/%q and %q/%q have the same content", p[0].Action, p[0].Subject, p[1].Action, p[1].Subject)
			}
		}
	})
}

func TestParseActor(t *testing.T) {
	good := map[string]Actor{"user:3": User(3), "device:15": Device(15), "system": System}
	for s, want := range good {
		if got, err := ParseActor(s); err != nil || got != want || got.String() != s {
			t.Errorf("ParseActor(%q) = %+v, %v; want %+v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "user", "user:", "user:0", "user:-1", "user:x", "device:1.5", "robot:1", "system:1", "system:0", "User:3", "user:3 "} {
		if got, err := ParseActor(s); err == nil {
			t.Errorf("ParseActor(%q) = %+v, want an error", s, got)
		}
	}
}
