# examd: the two commands a newcomer needs are `make run` and `make test`.
GO ?= go

.PHONY: run build test axe test-faults vet fuzz bench-rush bench-fanout bench-allocate bench-smoke demo screenshots clean

## run: build examd and start it with its private PostgreSQL under ./.examd (Ctrl-C stops both)
run: build
	./bin/examd

build:
	$(GO) build -o bin/examd ./cmd/examd

## test: every test, against real PostgreSQL clusters the tests start themselves, then
## both benchmarks at tiny sizes. Every websocket read in the tests has a deadline of
## seconds, so a broken feed fails its test at once; -timeout only backs that up.
test: axe
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 10m ./...
	$(MAKE) bench-smoke

## axe: axe-core, the accessibility checker the browser tests inject into every page, from npm
## into .cache/npm (once; skipped with a note when npm is missing: the browser tests then skip
## their accessibility checks, or fail under CI)
AXE_VERSION ?= 4.11.0
axe:
	@if [ -f .cache/npm/node_modules/axe-core/axe.min.js ]; then :; \
	elif command -v npm >/dev/null 2>&1; then npm install --no-audit --no-fund --silent --prefix .cache/npm axe-core@$(AXE_VERSION); \
	else echo "npm not found: the browser tests cannot check accessibility (apt-get install npm)"; fi

## test-faults: the fault tests on real processes (see RELIABILITY.md): PostgreSQL stopped (fast,
## then immediate) and restarted under exam cars and screens; the examd binary killed (SIGKILL)
## mid-rush of bookings and restarted; one of two replicas killed under screens and cars; SIGTERM
## under booking load (in-flight bookings whole, screens closed 1001); dead and stalled screens
## dropped within the pong wait while the others' latency holds. All but the last are part of
## `make test`; TestFaultDeadScreens waits out the 60 s pong wait, so it runs only with
## EXAMD_TEST_FAULTS=1, which this target sets.
test-faults:
	EXAMD_TEST_FAULTS=1 $(GO) test -race -count=1 -timeout 10m -v -run '^TestFault' ./internal/server

## screenshots: refresh docs/screenshots: every page at desktop and phone width, in headless Chromium
screenshots:
	EXAMD_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -count=1 -run 'TestBrowserScreenshots|TestBrowserPrintables$$' ./web

## demo: start examd under ./.examd-demo and play a simulated exam day at it (see README, Demo)
demo: build
	./scripts/demo.sh

## fuzz: each fuzz target for FUZZTIME inputs (default 300000x): the ID-number validator, the
## booking request and device-event decoders, since; their committed seed corpora (testdata/fuzz)
## run in make test. A count, not a duration: Go 1.26's fuzz coordinator can fail a target with a
## bare "context deadline exceeded" and no crasher when a -fuzztime duration ends
## (golang/go#75804, fixed in Go 1.27); a count sets no deadline.
FUZZTIME ?= 300000x
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzValidIDNumber$$' -fuzztime $(FUZZTIME) ./scheduling
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeBookRequest$$' -fuzztime $(FUZZTIME) ./scheduling
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeEvent$$' -fuzztime $(FUZZTIME) ./exam
	$(GO) test -run '^$$' -fuzz '^FuzzParseSince$$' -fuzztime $(FUZZTIME) ./realtime

## bench-rush: the rush-hour booking benchmark (see BENCHMARKS.md); flags in ARGS, e.g.
## make bench-rush ARGS=-replicas=2
bench-rush: build
	$(GO) run ./bench/rush -examd ./bin/examd $(ARGS)

## bench-fanout: the live-feed fan-out benchmark beside Centrifugo (installed into .cache/bin
## on first use) and a bare broadcast (see BENCHMARKS.md); flags in ARGS, e.g.
## make bench-fanout ARGS="-replicas=2 -centrifugo=false"
bench-fanout: build
	$(GO) run ./bench/fanout -examd ./bin/examd -cache .cache/bin $(ARGS)

## bench-allocate: the ranked-allocation benchmark: 100,000 applications over 200 ranked slots
## with 20,000 seats, allocated by examd through POST /api/v1/slots/{id}/allocate
bench-allocate: build
	$(GO) run ./bench/allocate -examd ./bin/examd $(ARGS)

## bench-smoke: both benchmarks at tiny sizes (well under a minute), so that they keep up with
## the API, the fan-out once with two replicas; no Centrifugo (it would need the network);
## fails on an overbooked seat, a half pair or a missed or repeated seq
bench-smoke: build
	$(GO) run ./bench/rush -examd ./bin/examd -candidates 60 -slots 3 -clients 8 -pgbench-time 1s -replicas 2
	$(GO) run ./bench/fanout -examd ./bin/examd -screens 20 -rate 50 -duration 2s -ramp=false -posters 8 -bookings 16 -centrifugo=false
	$(GO) run ./bench/fanout -examd ./bin/examd -screens 20 -rate 50 -duration 1s -ramp=false -posters 8 -bookings 16 -centrifugo=false -replicas 2
	$(GO) run ./bench/allocate -examd ./bin/examd -applications 500 -days 2 -seats 20

clean:
	rm -rf bin
