package exam_test

import (
	"fmt"
	"testing"

	"examd/exam"
)

func TestPassMark(t *testing.T) {
	cases := []struct {
		subject int
		class   string
		want    int
	}{
		{2, "C1", 80}, {2, "C2", 80}, {2, "C5", 80}, {2, "D", 80},
		{2, "A1", 90}, {2, "A2", 90}, {2, "A3", 90}, {2, "B1", 90}, {2, "B2", 90}, {2, "C6", 90},
		{3, "C1", 90}, {3, "C5", 90}, {3, "B2", 90},
		{4, "C1", 90}, {4, "A1", 90},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("SC-PASS/subject%d/%s", tc.subject, tc.class), func(t *testing.T) {
			if got := exam.PassMark(tc.subject, tc.class); got != tc.want {
				t.Fatalf("got %d, want %d", got, tc.want)
			}
		})
	}
}
