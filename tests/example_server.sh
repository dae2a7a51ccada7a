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
# Killed (make check's timeout): exit, so that cleanup kills the server.
trap 'exit 143' INT TERM

fail() {
	echo "example_server: $*" >&2
	for f in "$tmp"/*; do [ -f "$f" ] && sed "s|^|  $f: |" "$f" >&2; done
	exit 1
}

# wait_for file pattern: wait (10 s at most) for a line of file to match.
wait_for() {
	n=0
	until grep -qs "$2" "$1"; do
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

# nfds: how many descriptors the server holds (Linux /proc; else "-").
nfds() {
	if [ -d "/proc/$srv/fd" ]; then ls "/proc/$srv/fd" | wc -l; else echo -; fi
}

# 1. Every request of 16 concurrent keep-alive clients gets a 200, and the
# server closes every connection it served (no descriptor leaks).
start_server "$tmp/server1" --workers 4 --queue 4
fds0=$(nfds)
"$bin" --client "$port" --conns 16 --requests 50 >"$tmp/client1" 2>&1 ||
    fail "client failed"
grep -q '^client: ok 800 failed 0 connections 16$' "$tmp/client1" ||
    fail "not every request was answered 200"
n=0
until [ "$(nfds)" = "$fds0" ]; do	# a worker closes just after the client
	n=$((n + 1))
	[ $n -le 500 ] || fail "server holds $(nfds) descriptors, $fds0 before"
	sleep 0.01
done
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
shut="$accepted accepted and served, $failed never accepted"

# 3. Out of descriptors (12: about six connections at once), the acceptor
# backs off and accepts again as workers close: all 20 clients answered,
# and the server still up for its SIGTERM (it used to stop on EMFILE,
# answer 5 and exit 0).
(ulimit -n 12 && exec "$bin" --port 0 --workers 2 --queue 8 --work-ms 20) \
    >"$tmp/server3" 2>&1 &
srv=$!
wait_for "$tmp/server3" '^listening on 127\.0\.0\.1:[0-9]'
port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/server3")
"$bin" --client "$port" --conns 20 --requests 1 --tolerant \
    >"$tmp/client3" 2>&1 || fail "client failed"
grep -q '^client: ok 20 failed 0 connections 20$' "$tmp/client3" ||
    fail "out of descriptors, not every client was answered"
grep -q '^accept: ' "$tmp/server3" || fail "never ran out of descriptors"
stop_server "$tmp/server3"
[ "$accepted $served" = "20 20" ] ||
    fail "out of descriptors: accepted $accepted served $served"

# 4. A client trickling its request a byte every 100 ms gets the grace
# period (1 s) once the server stops, not a fresh one per byte: the server
# exits within 3 s of SIGTERM though the trickle goes on for 6.  (Needs
# python3 for the client; skipped without it.)
if command -v python3 >/dev/null 2>&1; then
	start_server "$tmp/server4" --workers 1 --queue 1
	python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
for i in range(60):
    try:
        s.send(b"G")
    except OSError:
        break
    time.sleep(0.1)
' "$port" 2>/dev/null &
	cli=$!
	sleep 0.3
	t0=$(date +%s%N)
	kill -TERM "$srv"
	wait "$srv" || true
	srv=
	ms=$((($(date +%s%N) - t0) / 1000000))
	kill "$cli" 2>/dev/null || true
	wait "$cli" 2>/dev/null || true
	cli=
	[ $ms -lt 3000 ] ||
	    fail "a trickling client held the shutdown $ms ms (grace 1 s)"
fi

# 5. Bad arguments are refused.
rc=0
"$bin" --workers 0 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "--workers 0 exited $rc, not 2"

# 6. The demo, quickly: one line per pool size, exit 0.
"$bin" --demo --quick >"$tmp/demo" 2>&1 || fail "--demo --quick failed"
for w in ' 1' ' 4' 16; do
	grep -q "^workers $w: .* req/s  latency us: p50 " "$tmp/demo" ||
	    fail "no demo line for $w workers"
done
# 7. A request with a body the server does not serve (a POST, answered 405
# and closed) gets its answer and then the end of the stream, not a reset:
# with a body that fits in the socket buffers (32 KB), and with one that
# does not (512 KB, the client's send buffer held at 4 KB), sent whole
# before the client reads, as simple HTTP clients do.  The first client
# then keeps its connection open, which may hold the one worker for 2 s
# (LINGER_MS), not until the second client's send times out (10 s).  A
# server that closes with the body unread makes Linux answer with a reset:
# the first client read its 405, then the reset where the end should be;
# the second one's send failed, and it never read the 405.  (Needs python3
# for the client; skipped without it.)
if command -v python3 >/dev/null 2>&1; then
	start_server "$tmp/server7" --workers 1 --queue 4
	python3 -c '
import socket, sys
post = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n"

def request(size, sndbuf):
    s = socket.socket()
    s.settimeout(10)
    if sndbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    s.connect(("127.0.0.1", int(sys.argv[1])))
    got = b""
    try:
        s.sendall(post % size + b"x" * size)
        while True:     # the answer, then the end of the stream
            more = s.recv(4096)
            if not more:
                break
            got += more
    except OSError as e:
        return s, "%s after %d bytes" % (type(e).__name__, len(got))
    return s, got.split(b"\r\n")[0].decode()

held, answer = request(32768, 0)
print("32 KB:", answer)
s, answer = request(524288, 4096)
print("512 KB:", answer)
' "$port" >"$tmp/client7" 2>&1 || fail "POST client failed"
	printf '%s\n' "32 KB: HTTP/1.1 405 Method Not Allowed" \
	    "512 KB: HTTP/1.1 405 Method Not Allowed" | cmp -s - "$tmp/client7" ||
	    fail "a POST was not answered 405 and closed in order"
	stop_server "$tmp/server7"
	[ "$accepted $served $requests" = "2 2 2" ] ||
	    fail "POSTs: accepted $accepted served $served requests $requests"
fi
echo "example_server: ok (shutdown: $shut)"
