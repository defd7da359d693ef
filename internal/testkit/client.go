package testkit

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Client is a JSON client of examd's API for tests: every failure to talk
// to examd fails the test.
type Client struct {
	T   testing.TB
	URL string // http://host:port
}

// Response is a decoded JSON answer.
type Response struct {
	Status int
	Body   map[string]any
	Raw    []byte
}

// Code is the error code of a refusal, "" for a success.
func (r Response) Code() string {
	e, _ := r.Body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// Field is the field a refusal names.
func (r Response) Field() string {
	e, _ := r.Body["error"].(map[string]any)
	s, _ := e["field"].(string)
	return s
}

// ID is the answer's "id".
func (r Response) ID() int64 {
	v, _ := r.Body["id"].(float64)
	return int64(v)
}

// Do sends a request with an optional bearer token; body is JSON-encoded
// unless it is a string, which is sent as it is. header holds name, value
// pairs.
func (c *Client) Do(method, path, token string, body any, header ...string) Response {
	c.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.T.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.URL+path, rd)
	if err != nil {
		c.T.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := Response{Status: res.StatusCode, Raw: raw}
	_ = json.Unmarshal(raw, &r.Body)
	return r
}

// Must is Do that fails the test unless the status is want.
func (c *Client) Must(want int, method, path, token string, body any, header ...string) Response {
	c.T.Helper()
	r := c.Do(method, path, token, body, header...)
	if r.Status != want {
		c.T.Fatalf("%s %s: got %d %s, want %d", method, path, r.Status, r.Raw, want)
	}
	return r
}

// Login logs in and returns the bearer token.
func (c *Client) Login(user, password string) string {
	c.T.Helper()
	r := c.Must(http.StatusOK, "POST", "/api/v1/login", "", map[string]any{"username": user, "password": password})
	return r.Body["token"].(string)
}
