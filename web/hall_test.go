package web

import (
	"fmt"
	"testing"

	"examd/exam"
)

// TestHallCatalogue: the board builds keys from data: every exam item of
// subjects 2 (each class's course) and 3, every weekday, every subject and
// result it shows has a text in each language.
func TestHallCatalogue(t *testing.T) {
	cats, err := loadCatalogues(files)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"status." + exam.Passed, "status." + exam.Failed}
	for _, class := range []string{"C1", "C2", "C5"} {
		for _, it := range exam.Items(2, class) {
			keys = append(keys, "item."+it)
		}
	}
	for _, it := range exam.Items(3, "C1") {
		keys = append(keys, "item."+it)
	}
	for d := range 7 {
		keys = append(keys, fmt.Sprintf("hall.weekday.%d", d))
	}
	for s := 2; s <= 4; s++ {
		keys = append(keys, fmt.Sprintf("subject.%d", s))
	}
	for lang, cat := range cats {
		for _, k := range keys {
			if _, ok := cat[k]; !ok {
				t.Errorf("%s: no text for %s", lang, k)
			}
		}
	}
}
