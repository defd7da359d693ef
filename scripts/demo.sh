#!/bin/sh
# demo.sh: start examd with its private PostgreSQL under ./.examd-demo and
# play a simulated exam day at it, so that live results show within a minute.
# Ctrl-C stops the simulator and examd. Run it through `make demo`.
set -eu

ADDR=${EXAMD_DEMO_ADDR:-127.0.0.1:8080}
SPEED=${EXAMD_DEMO_SPEED:-20}
DIR=.examd-demo
URL="http://$ADDR"
export EXAMD_ADMIN_PASSWORD=demo-admin-pw # used when the demo's database is created

command -v curl >/dev/null || { echo "demo: curl is needed to wait for examd" >&2; exit 1; }
if curl -fsS -o /dev/null "$URL/healthz" 2>/dev/null; then
	echo "demo: something already answers at $URL; stop it or set EXAMD_DEMO_ADDR" >&2
	exit 1
fi

mkdir -p "$DIR"
./bin/examd -addr "$ADDR" -data "$DIR" >"$DIR/examd.log" 2>&1 &
EXAMD=$!
# stop stops examd once. A Ctrl-C at the terminal reaches examd too (same
# process group), and examd takes a second signal as "die at once", which
# would leave its PostgreSQL behind: after Ctrl-C, only wait for it.
stop() {
	trap - EXIT INT TERM
	if kill -0 "$EXAMD" 2>/dev/null; then
		[ "${1:-}" = interrupted ] || kill -TERM "$EXAMD" 2>/dev/null || true
		wait "$EXAMD" 2>/dev/null || true
	fi
	echo "demo: examd stopped (its data stays in $DIR; delete the folder to start afresh)"
}
trap stop EXIT
trap 'stop interrupted; exit 130' INT
trap 'stop; exit 143' TERM

echo "demo: starting examd at $URL (log: $DIR/examd.log)"
i=0
until curl -fsS -o /dev/null "$URL/readyz" 2>/dev/null; do
	if ! kill -0 "$EXAMD" 2>/dev/null; then
		echo "demo: examd exited; the end of $DIR/examd.log:" >&2
		tail -n 20 "$DIR/examd.log" >&2
		exit 1
	fi
	i=$((i + 1))
	if [ "$i" -gt 120 ]; then
		echo "demo: examd is not ready after 60 s; see $DIR/examd.log" >&2
		exit 1
	fi
	sleep 0.5
done

./bin/examd simulate -seed -speed "$SPEED" -url "$URL" || echo "demo: the simulator stopped with an error" >&2
# A Ctrl-C that the simulator handled (it exits 0) does not run the INT trap
# in dash, but it reached examd too, which is shutting down: then only wait.
sleep 1
if curl -fsS -o /dev/null "$URL/readyz" 2>/dev/null; then
	echo "demo: the simulated day is over; examd keeps serving at $URL. Ctrl-C stops it."
fi
wait "$EXAMD" || true
