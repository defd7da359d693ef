package server

import (
	"bytes"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"examd/docs"
)

// openapiDoc is the part of docs/openapi.yaml the tests read.
type openapiDoc struct {
	OpenAPI string `yaml:"openapi"`
	Servers []struct {
		URL string `yaml:"url"`
	} `yaml:"servers"`
	Paths      map[string]map[string]yaml.Node `yaml:"paths"`
	Components struct {
		Parameters map[string]openapiParam    `yaml:"parameters"`
		Responses  map[string]openapiResponse `yaml:"responses"`
	} `yaml:"components"`
}

type openapiParam struct {
	Ref  string `yaml:"$ref"`
	Name string `yaml:"name"`
	In   string `yaml:"in"`
}

type openapiResponse struct {
	Ref         string `yaml:"$ref"`
	Description string `yaml:"description"`
}

type openapiOperation struct {
	Parameters []openapiParam             `yaml:"parameters"`
	Security   *[]map[string][]string     `yaml:"security"`
	Responses  map[string]openapiResponse `yaml:"responses"`
}

// httpMethods are the keys of an OpenAPI path item that are operations.
var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func loadOpenAPI(t *testing.T) openapiDoc {
	t.Helper()
	var doc openapiDoc
	if err := yaml.Unmarshal(docs.OpenAPI, &doc); err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("docs/openapi.yaml: openapi %q, want 3.1.x", doc.OpenAPI)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "/api/v1" {
		t.Fatalf("docs/openapi.yaml: servers %+v, want the one url /api/v1", doc.Servers)
	}
	return doc
}

// echoParam is an Echo path parameter, :id; OpenAPI writes it {id}.
var echoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// registeredAPIRoutes returns "METHOD /path" (OpenAPI's spelling, without
// /api/v1) of every route the server registers under /api/v1.
func registeredAPIRoutes(t *testing.T) []string {
	t.Helper()
	// The routes are registered whatever the dependencies: none is used
	// until a request comes.
	e := newServer(deps{cfg: Config{DBMaxConns: 1}, log: slog.New(slog.DiscardHandler)})
	var routes []string
	for _, r := range e.Routes() {
		path, ok := strings.CutPrefix(r.Path, "/api/v1/")
		// Echo adds catch-all "route not found" entries for groups with
		// middleware; they are not routes.
		if !ok || !slices.Contains(httpMethods, strings.ToLower(r.Method)) || strings.HasSuffix(path, "*") {
			continue
		}
		routes = append(routes, r.Method+" /"+echoParam.ReplaceAllString(path, "{$1}"))
	}
	slices.Sort(routes)
	return slices.Compact(routes)
}

// TestOpenAPIMatchesRoutes fails when a route registered under /api/v1 has
// no entry in docs/openapi.yaml, or an entry has no route.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	registered := registeredAPIRoutes(t)
	if len(registered) < 30 {
		t.Fatalf("only %d routes under /api/v1: is the route list read right? %v", len(registered), registered)
	}
	var documented []string
	for path, item := range doc.Paths {
		for key := range item {
			if slices.Contains(httpMethods, key) {
				documented = append(documented, strings.ToUpper(key)+" "+path)
			}
		}
	}
	slices.Sort(documented)
	for _, r := range registered {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s /api/v1%s is registered but not in docs/openapi.yaml", strings.Fields(r)[0], strings.Fields(r)[1])
		}
	}
	for _, d := range documented {
		if !slices.Contains(registered, d) {
			t.Errorf("docs/openapi.yaml describes %s, which is not a registered route", d)
		}
	}
}

// TestOpenAPIOperations checks each operation's form: its path parameters
// declared, answers listed, and a 401 wherever it needs a credential.
func TestOpenAPIOperations(t *testing.T) {
	doc := loadOpenAPI(t)
	param := func(p openapiParam) openapiParam {
		if name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
			return doc.Components.Parameters[name]
		}
		return p
	}
	placeholder := regexp.MustCompile(`\{([^}]+)\}`)
	for path, item := range doc.Paths {
		var shared []openapiParam
		if n, ok := item["parameters"]; ok {
			if err := n.Decode(&shared); err != nil {
				t.Fatalf("%s parameters: %v", path, err)
			}
		}
		for key, n := range item {
			if !slices.Contains(httpMethods, key) {
				continue
			}
			op := strings.ToUpper(key) + " " + path
			var o openapiOperation
			if err := n.Decode(&o); err != nil {
				t.Fatalf("%s: %v", op, err)
			}
			declared := map[string]bool{}
			for _, p := range append(shared, o.Parameters...) {
				if p = param(p); p.In == "path" {
					declared[p.Name] = true
				}
			}
			for _, m := range placeholder.FindAllStringSubmatch(path, -1) {
				if !declared[m[1]] {
					t.Errorf("%s: path parameter %s is not declared", op, m[1])
				}
			}
			if len(o.Responses) == 0 {
				t.Errorf("%s: no responses", op)
			}
			open := o.Security != nil && len(*o.Security) == 0
			if _, ok := o.Responses["401"]; !open && !ok {
				t.Errorf("%s: needs a credential but lists no 401", op)
			}
		}
	}
}

// TestOpenAPIErrorCodesExist fails when docs/openapi.yaml names an error
// code (`code` in an error answer's description) that no Go source holds.
func TestOpenAPIErrorCodesExist(t *testing.T) {
	doc := loadOpenAPI(t)
	src := goSources(t, "../..")
	quoted := regexp.MustCompile("`([a-z][a-z0-9_]*)`")
	check := func(where, description string) {
		for _, m := range quoted.FindAllStringSubmatch(description, -1) {
			code := m[1]
			inCode := bytes.Contains(src, []byte(`"`+code+`"`))
			if !inCode {
				t.Errorf("%s names error code %s, which no Go source holds", where, code)
			}
		}
	}
	for name, r := range doc.Components.Responses {
		check("components.responses."+name, r.Description)
	}
	for path, item := range doc.Paths {
		for key, n := range item {
			if !slices.Contains(httpMethods, key) {
				continue
			}
			var o openapiOperation
			if err := n.Decode(&o); err != nil {
				t.Fatalf("%s %s: %v", key, path, err)
			}
			for status, r := range o.Responses {
				if status >= "400" {
					check(strings.ToUpper(key)+" "+path+" "+status, r.Description)
				}
			}
		}
	}
}

// goSources returns the text of every non-test Go file under root.
func goSources(t *testing.T, root string) []byte {
	t.Helper()
	var all bytes.Buffer
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != root:
			return filepath.SkipDir
		case d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go"):
			return nil
		}
		b, err := os.ReadFile(path)
		all.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return all.Bytes()
}
