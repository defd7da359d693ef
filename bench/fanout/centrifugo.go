package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"examd/bench/benchkit"
)

// centrifugoVersion is the Centrifugo the bench compares examd with.
const centrifugoVersion = "v6.9.1"

// centrifugoChannel is the one channel the screens subscribe to.
const centrifugoChannel = "venue"

// centrifugoAPIKey is the HTTP API's key in the bench.
const centrifugoAPIKey = "fanout-bench-api-key"

// installCentrifugo returns the Centrifugo binary in dir, installing it
// there with go install on first use (a Go module: it needs the network
// once, and a minute or two to build).
func installCentrifugo(out io.Writer, dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(abs, "centrifugo")
	marker := bin + "." + centrifugoVersion
	if _, err := os.Stat(marker); err == nil {
		return bin, nil
	}
	fmt.Fprintf(out, "installing Centrifugo %s into %s (once)…\n", centrifugoVersion, abs)
	cmd := exec.Command("go", "install", "github.com/centrifugal/centrifugo/v6@"+centrifugoVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+abs)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install centrifugo: %w", err)
	}
	return bin, os.WriteFile(marker, nil, 0o644)
}

// centrifugoConfig is Centrifugo v6's configuration for the bench (v6's
// option names, checked with centrifugo defaultconfig): the memory engine,
// the HTTP API with a key, and anonymous clients, connecting without a
// token, allowed to subscribe to channels without a namespace, such as the
// one channel (v6 wants allow_subscribe_for_client and
// allow_subscribe_for_anonymous both, or refuses with 103), whose history (size and TTL) gives every publication an
// offset the screens check as their seq.
func centrifugoConfig(port int) ([]byte, error) {
	return json.MarshalIndent(map[string]any{
		"log":         map[string]any{"level": "error"},
		"http_server": map[string]any{"address": "127.0.0.1", "port": port},
		"engine":      map[string]any{"type": "memory"},
		"health":      map[string]any{"enabled": true},  // the bench waits for /health
		"usage_stats": map[string]any{"disabled": true}, // no reports home from a bench
		"http_api":    map[string]any{"key": centrifugoAPIKey},
		"client": map[string]any{
			"allow_anonymous_connect_without_token": true,
			"allowed_origins":                       []string{"*"},
		},
		"channel": map[string]any{
			"without_namespace": map[string]any{
				"allow_subscribe_for_client":    true, // any client may subscribe …
				"allow_subscribe_for_anonymous": true, // … anonymous ones too
				"history_size":                  1000,
				"history_ttl":                   "300s",
			},
		},
	}, "", "  ")
}

// centrifugo is a Centrifugo process.
type centrifugo struct {
	addr string
	cmd  *exec.Cmd
}

// startCentrifugo runs the binary with the bench's configuration, written
// into dir, on a free port, and waits until it answers.
func startCentrifugo(bin, dir string) (*centrifugo, error) {
	addr, err := benchkit.FreeAddr()
	if err != nil {
		return nil, err
	}
	var port int
	fmt.Sscanf(addr[strings.LastIndexByte(addr, ':')+1:], "%d", &port)
	conf, err := centrifugoConfig(port)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "centrifugo.json")
	if err := os.WriteFile(path, conf, 0o644); err != nil {
		return nil, err
	}
	c := &centrifugo{addr: addr, cmd: exec.Command(bin, "--config", path)}
	c.cmd.Dir = dir
	c.cmd.Stdout, c.cmd.Stderr = os.Stderr, os.Stderr
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start centrifugo: %w", err)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if res, err := http.Get("http://" + addr + "/health"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return c, nil
			}
		}
	}
	c.stop()
	return nil, fmt.Errorf("centrifugo at %s not ready within 30 s", addr)
}

func (c *centrifugo) stop() {
	_ = c.cmd.Process.Signal(os.Interrupt)
	_ = c.cmd.Wait()
}

// centrifugoTarget publishes, through Centrifugo's HTTP API, the feed
// message of the template with the event's text, as the bare broadcast
// sends it (its seq left 0: the screens check Centrifugo's offsets).
func centrifugoTarget(addr string, tmpl template) target {
	hc := benchkit.NewClient("http://" + addr)
	return target{
		name:       "centrifugo",
		wsURLs:     []string{"ws://" + addr + "/connection/websocket"},
		centrifugo: true,
		post: func(_ int, text string) error {
			body := append(append([]byte(`{"channel":"`+centrifugoChannel+`","data":`), tmpl.render(0, text)...), '}')
			return hc.Raw("POST", "/api/publish", map[string]string{"X-API-Key": centrifugoAPIKey}, body, func(status int, answer []byte) error {
				if status != http.StatusOK || bytes.Contains(answer, []byte(`"error"`)) {
					return fmt.Errorf("centrifugo publish: %d %.200s", status, answer)
				}
				return nil
			})
		},
	}
}

// printCentrifugoConfig prints the configuration, for the record.
func printCentrifugoConfig(w io.Writer) {
	conf, _ := centrifugoConfig(0)
	sc := bufio.NewScanner(bytes.NewReader(conf))
	var lines []string
	for sc.Scan() {
		lines = append(lines, strings.TrimSpace(sc.Text()))
	}
	fmt.Fprintf(w, "centrifugo %s configuration: %s\n", centrifugoVersion, strings.Join(lines, " "))
}
