# examd: the two commands a newcomer needs are `make run` and `make test`.
GO ?= go

.PHONY: run build test vet bench-rush bench-fanout demo screenshots clean

## run: build examd and start it with its private PostgreSQL under ./.examd (Ctrl-C stops both)
run: build
	./bin/examd

build:
	$(GO) build -o bin/examd ./cmd/examd

## test: every test, against real PostgreSQL clusters the tests start themselves
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

## screenshots: refresh docs/screenshots: every page at desktop and phone width, in headless Chromium
screenshots:
	EXAMD_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -count=1 -run 'TestBrowserScreenshots' ./cmd/examd

## demo: start examd under ./.examd-demo and play a simulated exam day at it (see README, Demo)
demo: build
	./scripts/demo.sh

## bench-rush: the rush-hour booking benchmark (see BENCHMARKS.md)
bench-rush: build
	$(GO) run ./bench/rush -examd ./bin/examd

## bench-fanout: the live-feed fan-out benchmark (see BENCHMARKS.md)
bench-fanout: build
	$(GO) run ./bench/fanout -examd ./bin/examd

clean:
	rm -rf bin
