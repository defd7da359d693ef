package main

import (
	"bufio"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// lagSampler reads examd's audit chain lag (the gauge
// examd_audit_chain_lag_seconds of GET /metrics: the age of the oldest
// audit row left unchained when the chainer last looked) every 100 ms,
// from the first booking until stopped.
type lagSampler struct {
	stop    chan struct{}
	done    chan []float64
	metrics []string // the examd processes' /metrics addresses
}

func sampleLag(bases []string) *lagSampler {
	s := &lagSampler{stop: make(chan struct{}), done: make(chan []float64, 1)}
	for _, b := range bases {
		s.metrics = append(s.metrics, b+"/metrics")
	}
	go func() {
		var lags []float64
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		client := &http.Client{Timeout: 2 * time.Second}
		for {
			select {
			case <-s.stop:
				s.done <- lags
				return
			case <-tick.C:
			}
			worst := -1.0
			for _, m := range s.metrics {
				if v, ok := chainLag(client, m); ok {
					worst = max(worst, v)
				}
			}
			if worst >= 0 {
				lags = append(lags, worst)
			}
		}
	}()
	return s
}

// end stops the sampling and returns the samples' p99 and maximum, in
// seconds, and their number.
func (s *lagSampler) end() (p99, most float64, n int) {
	close(s.stop)
	lags := <-s.done
	if len(lags) == 0 {
		return 0, 0, 0
	}
	slices.Sort(lags)
	i := max(int(float64(len(lags))*0.99+0.999999)-1, 0)
	return lags[i], lags[len(lags)-1], len(lags)
}

// chainLag reads the gauge from one examd's /metrics.
func chainLag(c *http.Client, url string) (float64, bool) {
	res, err := c.Get(url)
	if err != nil {
		return 0, false
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "examd_audit_chain_lag_seconds "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f, err == nil
		}
	}
	return 0, false
}
