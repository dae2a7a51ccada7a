#!/bin/sh
# example_server: examples/worker_pool_server answers concurrent HTTP clients,
# stops on SIGTERM while connections are still queued, and serves every
# connection it accepted; its --demo load generator still runs.
set -eu

bin=${BUILD:-build}/examples/worker_pool_server
tmp=$(mktemp -d)
srv=
cli=
cleanup() {
	for p in $srv $cli; do kill -KILL "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "example_server: $*" >&2
	for f in "$tmp"/*; do [ -f "$f" ] && sed "s|^|  $f: |" "$f" >&2; done
	exit 1
}

# wait_for file pattern: wait (10 s at most) for a line of file to match.
wait_for() {
	n=0
	until grep -q "$2" "$1"; do
		n=$((n + 1))
		[ $n -le 1000 ] || fail "no \"$2\" after 10 s"
		sleep 0.01
	done
}

# start_server out args...: start the server, set srv and port.
start_server() {
	out=$1
	shift
	"$bin" --port 0 "$@" >"$out" 2>&1 &
	srv=$!
	wait_for "$out" '^listening on 127\.0\.0\.1:[0-9]'
	port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$out")
}

# stop_server out: SIGTERM, expect exit 0; set accepted served requests.
stop_server() {
	kill -TERM "$srv"
	rc=0
	wait "$srv" || rc=$?
	srv=
	[ $rc -eq 0 ] || fail "server exited $rc after SIGTERM"
	grep -q '^caught SIGTERM, shutting down$' "$1" || fail "no shutdown line"
	line=$(grep '^stopped: ' "$1") || fail "no stopped line"
	set -- $line
	[ "$2 $4 $6" = "accepted served requests" ] || fail "bad line: $line"
	accepted=$3 served=$5 requests=$7
}

# 1. Every request of 16 concurrent keep-alive clients gets a 200.
start_server "$tmp/server1" --workers 4 --queue 4
"$bin" --client "$port" --conns 16 --requests 50 >"$tmp/client1" 2>&1 ||
    fail "client failed"
grep -q '^client: ok 800 failed 0 connections 16$' "$tmp/client1" ||
    fail "not every request was answered 200"
stop_server "$tmp/server1"
[ "$accepted $served $requests" = "16 16 800" ] ||
    fail "server counted accepted $accepted served $served requests $requests"

# 2. SIGTERM while the queue is full: 2 busy workers (100 ms a request), 4
# connections queued, one more in the acceptor's hands, the rest in the
# listen backlog.  Every accepted connection must get its answer; those
# never accepted are reset, which the client tolerates.
start_server "$tmp/server2" --workers 2 --queue 4 --work-ms 100
"$bin" --client "$port" --conns 12 --requests 1 --tolerant \
    >"$tmp/client2" 2>&1 &
cli=$!
wait_for "$tmp/server2" '^queue full'
stop_server "$tmp/server2"
rc=0
wait "$cli" || rc=$?
cli=
[ $rc -eq 0 ] || fail "client exited $rc"
set -- $(cat "$tmp/client2")
[ "$1 $2 $4" = "client: ok failed" ] || fail "bad client output"
ok=$3 failed=$5
[ "$accepted" -eq "$served" ] ||
    fail "accepted $accepted connections but served $served"
[ "$accepted" -ge 5 ] || fail "only $accepted accepted: nothing was queued"
[ "$requests" -eq "$accepted" ] && [ "$ok" -eq "$requests" ] ||
    fail "accepted $accepted, answered $requests, client got $ok"
[ $((ok + failed)) -eq 12 ] || fail "client: ok $ok + failed $failed != 12"

# 3. Bad arguments are refused.
rc=0
"$bin" --workers 0 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "--workers 0 exited $rc, not 2"

# 4. The demo, quickly: one line per pool size, exit 0.
"$bin" --demo --quick >"$tmp/demo" 2>&1 || fail "--demo --quick failed"
for w in ' 1' ' 4' 16; do
	grep -q "^workers $w: .* req/s  latency us: p50 " "$tmp/demo" ||
	    fail "no demo line for $w workers"
done
echo "example_server: ok (shutdown: $accepted accepted and served," \
    "$failed never accepted)"
