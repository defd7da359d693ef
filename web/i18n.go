package web

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// The languages of the pages. zh-CN is the default: the people at the hall
// read Chinese; English is one click away.
const (
	langZh = "zh-CN"
	langEn = "en"
)

var languages = []string{langZh, langEn}

// catalogue maps a message key to its text in one language. The texts live
// in i18n/<lang>.json, never in the templates.
type catalogue map[string]string

// text returns the message for key, formatted with args (fmt verbs) when
// there are any. A missing key shows as itself, so that it is seen and fixed;
// a test keeps the catalogues complete.
func (c catalogue) text(key string, args ...any) string {
	s, ok := c[key]
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// loadCatalogues reads i18n/<lang>.json for every language and checks that
// they hold the same keys: a text missing in one language is a bug.
func loadCatalogues(fsys fs.FS) (map[string]catalogue, error) {
	cats := map[string]catalogue{}
	for _, lang := range languages {
		b, err := fs.ReadFile(fsys, "i18n/"+lang+".json")
		if err != nil {
			return nil, err
		}
		var c catalogue
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("i18n/%s.json: %w", lang, err)
		}
		cats[lang] = c
	}
	want := slices.Sorted(maps.Keys(cats[langZh]))
	for _, lang := range languages[1:] {
		if got := slices.Sorted(maps.Keys(cats[lang])); !slices.Equal(got, want) {
			return nil, fmt.Errorf("i18n/%s.json and i18n/%s.json differ in keys: %v", lang, langZh, symmetricDiff(got, want))
		}
	}
	return cats, nil
}

func symmetricDiff(a, b []string) []string {
	var d []string
	for _, k := range a {
		if !slices.Contains(b, k) {
			d = append(d, k)
		}
	}
	for _, k := range b {
		if !slices.Contains(a, k) {
			d = append(d, k)
		}
	}
	return d
}

// pickLanguage chooses the page language: the switch's cookie, then the
// browser's Accept-Language, then Chinese.
func pickLanguage(cookie, acceptLanguage string) string {
	if slices.Contains(languages, cookie) {
		return cookie
	}
	if l := fromAcceptLanguage(acceptLanguage); l != "" {
		return l
	}
	return langZh
}

// fromAcceptLanguage returns the language of ours that the header ranks
// highest, "" when it names neither. Any zh variant reads the Simplified
// Chinese pages, any en variant the English ones.
func fromAcceptLanguage(header string) string {
	best, bestQ := "", 0.0
	for part := range strings.SplitSeq(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		lang := ""
		switch primary {
		case "zh":
			lang = langZh
		case "en":
			lang = langEn
		}
		if lang != "" && q > bestQ {
			best, bestQ = lang, q
		}
	}
	return best
}
