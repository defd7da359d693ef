package server_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"examd/docs"
	"examd/internal/pg/pgtest"
	"examd/internal/server/servertest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestOpenAPIServed: GET /api/v1/openapi.yaml answers the description, to
// anyone, as YAML.
func TestOpenAPIServed(t *testing.T) {
	a := servertest.Start(t)
	resp, err := http.Get(a.URL + "/api/v1/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := resp.StatusCode, http.StatusOK; got != want {
		t.Fatalf("status %d, want %d: %s", got, want, body)
	}
	if got, want := resp.Header.Get("Content-Type"), "application/yaml"; got != want {
		t.Errorf("Content-Type %q, want %q", got, want)
	}
	if !bytes.Equal(body, docs.OpenAPI) {
		t.Errorf("the answer is not docs/openapi.yaml (%d bytes, want %d)", len(body), len(docs.OpenAPI))
	}
}
