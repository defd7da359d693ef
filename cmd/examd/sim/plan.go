package sim

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"examd/exam"
	"examd/scheduling"
)

// How exams turn out. Offices report road-test pass rates of roughly 80 to
// 90 %: here an attempt fails outright (不合格) or on points about 14 % of
// the time, and a passing candidate collects a small deduction or two at most.
const (
	failOutrightRate = 0.06 // SC-END through a fail-outright rule
	failOnPointsRate = 0.08 // SC-END through small deductions below the pass mark
	retakeRate       = 0.7  // BK-RETAKE: most take the same-day retake
	theoryMean       = 92.5 // subject 4 scores: about one in six below 90
	theorySD         = 3.0
)

// smallDeductions is the chance of 0, 1 and 2 small deductions in a passing attempt.
var smallDeductions = []float64{0.50, 0.35, 0.15}

// rule is a catalogue entry as GET /api/v1/rules lists it.
type rule struct {
	Code       string `json:"code"`
	Item       string `json:"item"` // an item, a comma-separated list, or "any"
	TextZh     string `json:"text_zh"`
	Points     int    `json:"points"`
	Repeatable bool   `json:"repeatable"`
}

// at lists the indices of the route's items where the rule can apply.
func (r rule) at(route []string) []int {
	var idx []int
	for i, item := range route {
		if r.Item == "any" || slices.Contains(strings.Split(r.Item, ","), item) {
			idx = append(idx, i)
		}
	}
	return idx
}

// deduction is a planned deduction: a rule, at the route's item number Item.
type deduction struct {
	Item int
	Rule rule
}

// route is the items of one exam in order (SC-ITEMS). Subject 3 has the
// night drive after dark and the simulated-lights sequence by day.
func route(subject int, class string, now time.Time) []string {
	skip := "night_driving"
	if h := now.In(scheduling.Shanghai).Hour(); h < 6 || h >= 19 {
		skip = "lights_simulation"
	}
	var items []string
	for _, it := range exam.Items(subject, class) {
		if it != skip {
			items = append(items, it)
		}
	}
	return items
}

// plan decides how an attempt goes before it starts: the outcome first, then
// deductions from the catalogue that produce it, in route order. passMark
// is SC-PASS's; the deductions a passing attempt gets never take it below.
func plan(rng *rand.Rand, route []string, rules []rule, passMark int) []deduction {
	var small, outright []rule
	for _, r := range rules {
		if len(r.at(route)) == 0 {
			continue // e.g. hill_start rules on a C2 course
		}
		if r.Points >= exam.FailOutright {
			outright = append(outright, r)
		} else if r.Points > 0 {
			small = append(small, r)
		}
	}
	margin := exam.FullScore - passMark
	var ds []deduction
	used := map[string]bool{}
	lost := 0
	// add plans one small deduction that keeps the lost points within limit;
	// once-only rules are not planned twice, since a repeat deducts nothing.
	add := func(limit int) bool {
		var fit []rule
		for _, r := range small {
			if (r.Repeatable || !used[r.Code]) && lost+r.Points <= limit {
				fit = append(fit, r)
			}
		}
		if len(fit) == 0 {
			return false
		}
		r := fit[rng.IntN(len(fit))]
		at := r.at(route)
		ds = append(ds, deduction{Item: at[rng.IntN(len(at))], Rule: r})
		used[r.Code], lost = true, lost+r.Points
		return true
	}

	u := rng.Float64()
	switch {
	case u < failOutrightRate && len(outright) > 0:
		if rng.IntN(3) == 0 {
			add(margin)
		}
		r := outright[rng.IntN(len(outright))]
		at := r.at(route)
		ds = append(ds, deduction{Item: at[rng.IntN(len(at))], Rule: r})
	case u < failOutrightRate+failOnPointsRate:
		for lost <= margin && add(math.MaxInt) {
		}
	default:
		k, x := 0, rng.Float64()
		for k < len(smallDeductions)-1 && x >= smallDeductions[k] {
			x -= smallDeductions[k]
			k++
		}
		for range k {
			add(margin)
		}
	}
	slices.SortStableFunc(ds, func(a, b deduction) int { return a.Item - b.Item })
	return ds
}

// theoryScore draws a subject 4 score.
func theoryScore(rng *rand.Rand) int {
	s := int(math.Round(theoryMean + theorySD*rng.NormFloat64()))
	return max(60, min(exam.FullScore, s))
}

// instructions are the judging system's spoken commands per item (PL-RELAY
// shows them as text): the first opens the item, the others may follow.
var instructions = map[string][]string{
	// Subject 2.
	"reverse_parking":  {"请进行倒车入库", "请倒车入库，注意观察两侧后视镜", "请驶出车库"},
	"hill_start":       {"请进行坡道定点停车和起步", "请在桩杆线处停车", "请起步，继续完成考试"},
	"parallel_parking": {"请进行侧方停车", "请倒入车库", "请开启左转向灯，驶出车库"},
	"curve_driving":    {"请进行曲线行驶", "请保持低速匀速行驶"},
	"right_angle_turn": {"请进行直角转弯", "请开启左转向灯", "转弯完成，请关闭转向灯"},
	// Subject 3.
	"vehicle_check":         {"请绕车一周，检查车辆外观及安全状况", "请系好安全带", "请调整座椅和后视镜"},
	"start":                 {"请起步，继续完成考试", "请开启左转向灯", "请松开驻车制动器"},
	"straight_driving":      {"请保持直线行驶", "请保持车速，不要偏离车道"},
	"gear_change":           {"请进行加减挡位操作", "请将挡位加到三挡", "请减挡至二挡"},
	"lane_change":           {"请变更车道", "请开启转向灯，观察后方交通情况"},
	"pull_over":             {"请靠边停车", "请开启右转向灯", "请拉紧驻车制动器，关闭发动机"},
	"intersection_straight": {"前方路口直行", "请减速慢行，注意观察路口"},
	"left_turn":             {"前方路口左转", "请开启左转向灯"},
	"right_turn":            {"前方路口右转", "请开启右转向灯"},
	"crosswalk":             {"前方通过人行横道", "请减速，注意避让行人"},
	"school_zone":           {"前方通过学校区域", "请减速慢行，注意观察"},
	"bus_stop":              {"前方通过公共汽车站", "请减速，注意观察行人"},
	"meeting":               {"前方会车", "请减速靠右行驶"},
	"overtaking":            {"请超越前方车辆", "请开启左转向灯，观察后方交通情况", "超车完成，请驶回原车道"},
	"u_turn":                {"请选择合适地点掉头", "请开启左转向灯"},
	"night_driving":         {"下面将进行夜间行驶考试，请开启前照灯", "请将前照灯变换为近光", "通过急弯，请交替使用远近光灯"},
	"lights_simulation": {"下面将进行模拟夜间灯光使用考试", "夜间在没有路灯、照明不良条件下行驶",
		"夜间与机动车会车", "夜间通过急弯、坡路、拱桥、人行横道", "请将前照灯变换成近光"},
}

// spoken picks the instructions given during item: its opening command and
// up to two of those that follow, in order.
func spoken(rng *rand.Rand, item string) []string {
	all := instructions[item]
	if len(all) == 0 {
		return []string{"请继续完成考试"}
	}
	n := 1 + rng.IntN(min(2, len(all)-1)+1)
	return all[:n]
}
