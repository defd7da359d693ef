// Package benchkit is what the benchmarks share: a JSON client for examd, and
// an examd binary started on a private PostgreSQL of its own.
package benchkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Client talks JSON to a server over kept-alive connections.
type Client struct {
	// Base is the server's address, http://host:port.
	Base string
	http *http.Client
}

// NewClient returns a client of the server at base (http://host:port).
func NewClient(base string) *Client {
	t := &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}
	return &Client{Base: base, http: &http.Client{Timeout: 30 * time.Second, Transport: t}}
}

// Do sends body as JSON with the Authorization header authz (if any) and
// decodes a successful answer into out. It returns the status and, for a
// refusal, the error code of examd's envelope.
func (c *Client) Do(method, path, authz string, body any, out any) (int, string, error) {
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			return 0, "", err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.Base+path, rd)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, "", err
	}
	if res.StatusCode >= 400 {
		var e struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		return res.StatusCode, e.Error.Code, nil
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return res.StatusCode, "", fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return res.StatusCode, "", nil
}

// Must is Do that wants the status want.
func (c *Client) Must(want int, method, path, authz string, body any, out any) error {
	status, code, err := c.Do(method, path, authz, body, out)
	if err != nil {
		return err
	}
	if status != want {
		return fmt.Errorf("%s %s: got %d %s, want %d", method, path, status, code, want)
	}
	return nil
}

// WaitReady waits until examd answers /readyz.
func (c *Client) WaitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if status, _, err := c.Do("GET", "/readyz", "", nil, nil); err == nil && status == http.StatusOK {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("examd at %s not ready within %s", c.Base, limit)
}

// Login returns the bearer token of user.
func (c *Client) Login(user, password string) (string, error) {
	var s struct {
		Token string `json:"token"`
	}
	err := c.Must(http.StatusOK, "POST", "/api/v1/login", "", map[string]string{"username": user, "password": password}, &s)
	return s.Token, err
}

// Raw sends body as JSON with the headers given and hands the answer's
// status and bytes to check.
func (c *Client) Raw(method, path string, headers map[string]string, body []byte, check func(status int, answer []byte) error) error {
	req, err := http.NewRequest(method, c.Base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	return check(res.StatusCode, raw)
}
