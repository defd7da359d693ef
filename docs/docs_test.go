package docs_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// ruleID is a rule id of docs/DOMAIN.md as code cites it: BK-WAIT,
// BK-COMBINED-FAIL, SC-END ...
var ruleID = regexp.MustCompile(`\b(?:BK|RA|PL|SC|ED|IS|SA)-[A-Z0-9]+(?:-[A-Z0-9]+)*\b`)

// TestRuleIDsResolve fails when the code, a migration, a template or the
// README cites a rule id that docs/DOMAIN.md does not define (as a heading
// "### ID"), or when a file still points at the DOMAIN.md outside the
// repository.
func TestRuleIDsResolve(t *testing.T) {
	const root = ".."
	domain, err := os.ReadFile(filepath.Join(root, "docs", "DOMAIN.md"))
	if err != nil {
		t.Fatal(err)
	}
	defined := map[string]bool{}
	for _, line := range strings.Split(string(domain), "\n") {
		if id, ok := strings.CutPrefix(line, "### "); ok && ruleID.MatchString(id) {
			if defined[id] {
				t.Errorf("docs/DOMAIN.md defines %s twice", id)
			}
			defined[id] = true
		}
	}
	if len(defined) < 30 {
		t.Fatalf("docs/DOMAIN.md defines %d rule ids as headings; is it read right?", len(defined))
	}

	cited := map[string][]string{} // id → the files citing it
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && path != root {
				return filepath.SkipDir // .git, .examd, ...
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".sql", ".html", ".tmpl", ".js", ".md":
		default:
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		if rel == filepath.Join("docs", "DOMAIN.md") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), "shared/"+"DOMAIN.md") {
			t.Errorf("%s points at the DOMAIN.md outside the repository: point at docs/DOMAIN.md", rel)
		}
		for _, id := range ruleID.FindAllString(string(b), -1) {
			if !slices.Contains(cited[id], rel) {
				cited[id] = append(cited[id], rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(cited) == 0 {
		t.Fatal("no rule id cited anywhere: is the repository walked?")
	}
	for id, files := range cited {
		if !defined[id] {
			t.Errorf("%s is cited (%s) but docs/DOMAIN.md has no heading ### %s", id, strings.Join(files, ", "), id)
		}
	}
}
