package web

import "strconv"

// The day's report draws its charts as plain SVG in the page (no script):
// horizontal bars, each with its figure written beside it, under a <title>
// and <desc> that screen readers read; the table under each chart holds the
// same figures.

// Chart geometry, in SVG user units.
const (
	chartWidth  = 680
	chartLabelW = 190 // the labels' column
	chartBarMax = 400 // the longest bar
	chartRowH   = 26  // one bar
	chartGap    = 10  // between two groups
)

// chartBar is one bar of a chart, placed.
type chartBar struct {
	Label string // catalogue key of a group's first bar's label, else ""
	Class string // passed, failed, minutes
	Text  string // the figure written beside the bar
	Y     int
	TextY int // the baseline of its texts
	W     int
	TextX int
}

// chart is a bar chart: its height and its bars.
type chart struct {
	Height int
	Bars   []chartBar
}

// SubjectResult is one subject's results of the day, over every class.
type SubjectResult struct {
	Subject        int
	Passed, Failed int
}

// Results adds up the day's exams per subject.
func (v reportView) Results() []SubjectResult {
	var out []SubjectResult
	if v.Report == nil {
		return out
	}
	for _, e := range v.Report.Exams {
		if len(out) == 0 || out[len(out)-1].Subject != e.Subject {
			out = append(out, SubjectResult{Subject: e.Subject})
		}
		out[len(out)-1].Passed += e.Passed
		out[len(out)-1].Failed += e.Failed
	}
	return out
}

// ResultsChart is the passed and failed bars of each subject.
func (v reportView) ResultsChart() chart {
	rs := v.Results()
	most := 1
	for _, r := range rs {
		most = max(most, r.Passed, r.Failed)
	}
	var c chart
	y := chartGap
	for _, r := range rs {
		for i, b := range []struct {
			class string
			n     int
		}{{"passed", r.Passed}, {"failed", r.Failed}} {
			w := b.n * chartBarMax / most
			bar := chartBar{Class: b.class, Text: strconv.Itoa(b.n), Y: y, TextY: y + 15, W: w, TextX: chartLabelW + w + 6}
			if i == 0 {
				bar.Label = "subject." + strconv.Itoa(r.Subject)
			}
			c.Bars = append(c.Bars, bar)
			y += chartRowH
		}
		y += chartGap
	}
	c.Height = y
	return c
}

// MinutesChart is the bars of the minutes from ready to issued: the median,
// the 90th percentile and the longest.
func (v reportView) MinutesChart() chart {
	var c chart
	if v.Report == nil || v.Report.ReadyToIssued.Max == nil {
		return c
	}
	m := v.Report.ReadyToIssued
	most := max(*m.Max, 1)
	y := chartGap
	for _, b := range []struct {
		label string
		v     *float64
	}{{"dayreport.p50", m.P50}, {"dayreport.p90", m.P90}, {"dayreport.max", m.Max}} {
		w := int(*b.v * chartBarMax / most)
		c.Bars = append(c.Bars, chartBar{Label: b.label, Class: "minutes", Text: minutes(b.v), Y: y, TextY: y + 15, W: w, TextX: chartLabelW + w + 6})
		y += chartRowH + chartGap
	}
	c.Height = y
	return c
}

// ChartWidth, ChartLabelW and ChartRowH give the templates the geometry.
func (reportView) ChartWidth() int { return chartWidth }

// ChartLabelX is where the labels end (they are anchored at their end).
func (reportView) ChartLabelX() int { return chartLabelW - 8 }

// ChartLabelW is the width of the labels' column.
func (reportView) ChartLabelW() int { return chartLabelW }

// ChartBarH is the height of a bar.
func (reportView) ChartBarH() int { return chartRowH - 6 }
