package web

import "testing"

// TestExaminerTexts: every text the examiner's script shows is in both
// catalogues.
func TestExaminerTexts(t *testing.T) {
	cats, err := loadCatalogues(files)
	if err != nil {
		t.Fatal(err)
	}
	keys := append(screenTexts(), "flash.signed")
	for _, lang := range languages {
		for _, k := range keys {
			if cats[lang][k] == "" {
				t.Errorf("%s: no text for %s", lang, k)
			}
		}
	}
}
