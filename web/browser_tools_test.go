package web_test

// Tools the browser tests share beyond driving a page: printing a page to
// PDF and reading the text back (pdftotext, Debian's poppler-utils), and an
// accessibility audit by axe-core (the npm package, which `make test`
// installs under .cache/npm). Without either tool the tests that need it skip,
// except under CI (the variable CI set), where they fail: .ci/run installs
// both.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// need finds a tool for a test: the path, or a skip (a failure under CI).
func need(t *testing.T, what, path, install string) string {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s not found at %s: in CI the browser tests must run; %s", what, path, install)
	}
	t.Skipf("%s not found at %s: %s", what, path, install)
	return ""
}

// Paper sizes in inches, as Chromium's print-to-PDF takes them.
type paper struct {
	name          string
	width, height float64
}

var (
	a4      = paper{"A4", 8.27, 11.69}
	receipt = paper{"80mm", 3.15, 11.69} // an 80 mm thermal roll; a page as long as A4
)

// pdf prints the page to PDF on the paper given (the page's own @page size
// wins where it sets one), with its backgrounds.
func (tb *tab) pdf(p paper, name string) []byte {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	yes := true
	res, err := chromedp.Call(ctx, page.PrintToPDF, page.PrintToPDFParams{
		PaperWidth: p.width, PaperHeight: p.height,
		PrintBackground: &yes, PreferCSSPageSize: &yes,
	})
	if err != nil {
		tb.t.Fatalf("print %s to PDF: %v", name, err)
	}
	return res.Data
}

// poppler is the path of one of poppler-utils' commands (a skip, or a
// failure under CI, without it).
func poppler(t *testing.T, command string) string {
	t.Helper()
	if p, err := exec.LookPath(command); err == nil {
		return p
	}
	return need(t, command, "/usr/bin/"+command, "install Debian's poppler-utils")
}

// runPoppler runs a poppler-utils command with the PDF on its stdin.
func runPoppler(t *testing.T, pdf []byte, command string, args ...string) []byte {
	t.Helper()
	var out, stderr bytes.Buffer
	cmd := exec.Command(poppler(t, command), args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(pdf), &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v: %s", command, err, stderr.String())
	}
	return out.Bytes()
}

// printed prints the page to PDF on paper p, keeps the PDF in the test's
// artifact directory as name.pdf, and returns its text with runs of white
// space folded into one space.
func (tb *tab) printed(p paper, name string) string {
	tb.t.Helper()
	poppler(tb.t, "pdftotext")
	data := tb.pdf(p, name)
	if err := os.WriteFile(filepath.Join(tb.t.ArtifactDir(), name+".pdf"), data, 0o644); err != nil {
		tb.t.Fatal(err)
	}
	return strings.Join(strings.Fields(string(runPoppler(tb.t, data, "pdftotext", "-enc", "UTF-8", "-", "-"))), " ")
}

// axeScript is where `make test` installs axe-core; $EXAMD_AXE overrides it.
func axeScript(t *testing.T) string {
	t.Helper()
	path := os.Getenv("EXAMD_AXE")
	if path == "" {
		path = filepath.Join("..", ".cache", "npm", "node_modules", "axe-core", "axe.min.js")
	}
	return need(t, "axe-core", path, "run `make axe` (npm install axe-core under .cache/npm)")
}

// checkAxe runs axe-core on the page as it stands (WCAG 2.1 A and AA rules)
// and fails the test on every serious or critical violation, naming the rule
// and the first elements it found.
func (tb *tab) checkAxe() {
	tb.t.Helper()
	src, err := os.ReadFile(axeScript(tb.t))
	if err != nil {
		tb.t.Fatal(err)
	}
	if eval[bool](tb, `typeof window.axe === "object"`) == false {
		eval[bool](tb, string(src)+"\n;true")
	}
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	type node struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	}
	type violation struct {
		ID     string `json:"id"`
		Impact string `json:"impact"`
		Help   string `json:"help"`
		Nodes  []node `json:"nodes"`
	}
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]violation](`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, resultTypes: ["violations"]})
		.then(r => r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
		.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => ({target: n.target, html: n.html.slice(0, 160)}))})))`,
		chromedp.EvalAsValue, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("axe-core: %v", err)
	}
	path := eval[string](tb, `location.pathname`)
	for _, v := range found {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprintf("%v %s", n.Target, n.HTML))
		}
		tb.t.Errorf("%s: axe %s (%s): %s: %s", path, v.ID, v.Impact, v.Help, strings.Join(where, " | "))
	}
}

// shootPrinted prints the page to PDF on paper p and saves its first page
// as dir/name (a PNG at 96 dpi, by pdftoppm): the printed slips in the
// README are what the printer gets.
func (tb *tab) shootPrinted(dir, name string, p paper) {
	tb.t.Helper()
	poppler(tb.t, "pdftoppm")
	out := filepath.Join(dir, strings.TrimSuffix(name, ".png"))
	runPoppler(tb.t, tb.pdf(p, name), "pdftoppm", "-png", "-r", "96", "-f", "1", "-l", "1", "-singlefile", "-", out)
}
