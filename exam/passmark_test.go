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

func TestRuleFitsExam(t *testing.T) {
	hill := exam.Rule{Code: "HS.ROLLBACK_10_30CM", Item: "hill_start", Points: 10}
	pedestrian := exam.Rule{Code: "S3.PEDESTRIAN", Item: "crosswalk,school_zone,bus_stop", Points: 100}
	anywhere := exam.Rule{Code: "GEN.STALL", Item: "any", Points: 10}
	cases := []struct {
		name    string
		r       exam.Rule
		subject int
		class   string
		want    bool
	}{
		{"SC-ITEMS/C1 has a hill start", hill, 2, "C1", true},
		{"SC-ITEMS/C2 has none", hill, 2, "C2", false},
		{"SC-ITEMS/C5 has none", hill, 2, "C5", false},
		{"SC-ITEMS/several items", pedestrian, 3, "C1", true},
		{"SC-ITEMS/any", anywhere, 2, "C2", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := exam.RuleFitsExam(tc.r, tc.subject, tc.class); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}
