package web

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"path"
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
// in i18n/<lang>/*.json, one file per area of the pages, never in the
// templates.
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

// loadCatalogues reads i18n/<lang>/*.json for every language into one
// catalogue per language, and checks that no key is defined twice and that
// the languages hold the same files and keys: a text missing in one
// language is a bug.
func loadCatalogues(fsys fs.FS) (map[string]catalogue, error) {
	cats := map[string]catalogue{}
	var areas []string
	for _, lang := range languages {
		names, err := fs.Glob(fsys, "i18n/"+lang+"/*.json")
		if err != nil {
			return nil, err
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("i18n/%s: no catalogue", lang)
		}
		cat := catalogue{}
		for _, name := range names {
			b, err := fs.ReadFile(fsys, name)
			if err != nil {
				return nil, err
			}
			var part catalogue
			if err := json.Unmarshal(b, &part); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			for k, v := range part {
				if _, dup := cat[k]; dup {
					return nil, fmt.Errorf("%s: key %s is defined twice", name, k)
				}
				cat[k] = v
			}
		}
		base := make([]string, len(names))
		for i, n := range names {
			base[i] = path.Base(n)
		}
		if areas == nil {
			areas = base
		} else if !slices.Equal(areas, base) {
			return nil, fmt.Errorf("i18n/%s holds %v, i18n/%s %v", lang, base, langZh, areas)
		}
		cats[lang] = cat
	}
	want := slices.Sorted(maps.Keys(cats[langZh]))
	for _, lang := range languages[1:] {
		if got := slices.Sorted(maps.Keys(cats[lang])); !slices.Equal(got, want) {
			return nil, fmt.Errorf("i18n/%s and i18n/%s differ in keys: %v", lang, langZh, symmetricDiff(got, want))
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
