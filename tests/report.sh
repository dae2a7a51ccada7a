#!/bin/sh
# report: bench/report.py turns a run of the benchmark driver into
# RESULTS.md with every issue-3 target read, and with --history reads the
# same targets off each earlier version of the CSV in git history.  The
# run is a quick one (its numbers mean nothing); the history is two
# commits of that CSV in a scratch repository and a third in its working
# tree, with libchan's spsc rate set so that the target is met in the
# first and third and missed in the second.
# Run by make check with BUILD set.  Skipped without python3 or git, which
# only the benchmark needs (CI installs both), and in sanitizer builds, as
# it runs no library code of theirs.
set -eu
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
case $BUILD in
*/asan|*/tsan|*/ubsan)
	echo "report: skipped for BUILD=$BUILD (sanitizer build)"
	exit 0 ;;
esac
for tool in python3 git; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "report: skipped, $tool is not installed"
		exit 0
	fi
done

top=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# git must not find a repository above the scratch one (a TMPDIR inside
# a checkout), or the run "outside git" would be inside one.
GIT_CEILING_DIRECTORIES=$(dirname "$tmp")
export GIT_CEILING_DIRECTORIES
fail() {
	echo "report: $*" >&2
	exit 1
}

mkdir "$tmp/bench"
BENCH_QUICK=1 "$BUILD/bench/bench" -o "$tmp/quick.csv" -m "$tmp/meta" \
    >/dev/null
printf 'commit: feed001\ndate: 2026-01-01 00:00 UTC\n' >> "$tmp/meta"

# The quick CSV with libchan's spsc rate at capacity 1024 set to $1.
spsc_at() {
	awk -F, -v OFS=, -v rate="$1" \
	    'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i }
	     $col["workload"] == "spsc" && $col["cap"] == 1024 &&
	     $col["contender"] == "libchan" { $col["msgs_per_s"] = rate }
	     { print }' "$tmp/quick.csv" > "$tmp/bench/results.csv"
}
render() {
	python3 "$top/bench/report.py" --csv "$tmp/bench/results.csv" \
	    --meta "$tmp/meta" --dat "$tmp/sweep.dat" \
	    --out "$tmp/bench/RESULTS.md" "$@"
}
target() {
	grep "^| $1 |" "$tmp/bench/RESULTS.md" ||
	    fail "no row for $1 in $2"
}

# One run: every target read (a quick run has every workload).
spsc_at 1e15
render
grep -q '^## Issue 3 targets$' "$tmp/bench/RESULTS.md" || fail "no targets"
n=$(sed -n '/^## Issue 3 targets$/,/^†/p' "$tmp/bench/RESULTS.md" |
    grep -c '\*\*\(pass\|MISS\)\*\* |$' || true)
[ "$n" -ge 27 ] || fail "$n targets read, want 27"
target 'spsc (1→1)' "the targets" |
    grep -q '(rounds [0-9.]*–[0-9.]*; in 1 of 1) | ≥ 0.8× | \*\*pass\*\*' ||
    fail "spsc at 1e15 msgs/s not met in its round"

# A ping-pong run of Vyukov's queue that did not finish is left out, not
# read as 0 ns (which failed every pair and divided by zero).
awk -F, -v OFS=, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i }
     $col["workload"] == "pingpong" && $col["contender"] == "vyukov" {
	$col["status"] = "timeout"; $col["rtt_ns"] = 0 }
     { print }' "$tmp/quick.csv" > "$tmp/bench/results.csv"
render
for cap in 0 1; do
	target "ping-pong round trip, cap $cap (Vyukov at cap 1)" "a DNF" |
	    grep -q '| – |' || fail "ping-pong read a run that did not finish"
done
grep -q '^| pingpong | 1 | vyukov | – | – | – | †1 |$' \
    "$tmp/bench/RESULTS.md" || fail "the ping-pong table shows a DNF as 0"

# run.sh in a scratch repository (rs), with a quick run of one cell.
mkdir -p "$tmp/rs/bench" "$tmp/out"
cp bench/run.sh bench/report.py bench/sweep.gp bench/MISSES.md "$tmp/rs/bench"
echo old > "$tmp/rs/bench/sweep.svg"
echo old > "$tmp/rs/bench/results.csv"
echo old > "$tmp/rs/bench/RESULTS.md"
git -C "$tmp/rs" init -q
git -C "$tmp/rs" add bench
git -C "$tmp/rs" -c user.name=t -c user.email=t@t -c commit.gpgsign=false \
    -c core.hooksPath=/dev/null commit -qm rs
run_sh() {
	BENCH_QUICK=1 BENCH_ARGS="-w spsc -C 1 -c libchan" BUILD="$top/$BUILD" \
	    BENCH_OUT="$tmp/out" sh "$tmp/rs/bench/run.sh" > "$tmp/rs.log" 2>&1 ||
	    fail "run.sh: $(cat "$tmp/rs.log")"
}
# Without the sweep it keeps the committed plot (it used to redraw it from
# an earlier run's sweep.dat, or leave it empty); its own outputs, changed
# since the commit, do not make the run "plus uncommitted changes".
echo "1 2 3" > "$tmp/out/sweep.dat"
echo changed >> "$tmp/rs/bench/RESULTS.md"
run_sh
[ "$(cat "$tmp/rs/bench/sweep.svg")" = old ] ||
    fail "run.sh without the sweep redrew sweep.svg"
grep -q '^| spsc 1→1 | 1 |' "$tmp/rs/bench/RESULTS.md" ||
    fail "run.sh without the sweep wrote no RESULTS.md"
grep -q '^commit: [0-9a-f]*$' "$tmp/out/meta.txt" ||
    fail "a run changing only its outputs: $(grep '^commit' "$tmp/out/meta.txt")"
# A changed benchmark source does.
echo '# changed' >> "$tmp/rs/bench/report.py"
run_sh
grep -q '^commit: [0-9a-f]* plus uncommitted' "$tmp/out/meta.txt" ||
    fail "a changed report.py: $(grep '^commit' "$tmp/out/meta.txt")"
spsc_at 1e15

# Outside git, --history says there is none.
render --history yes
grep -q '^(No git history here' "$tmp/bench/RESULTS.md" ||
    fail "no word of the missing history"

# Commits what the scratch repository's working tree holds, whatever the
# user's git configuration asks of commits (signing, hooks).
commit() {
	git -C "$tmp" add bench
	git -C "$tmp" -c user.name=t -c user.email=t@t -c commit.gpgsign=false \
	    -c core.hooksPath=/dev/null commit -qm "$1"
}
# Run $2 (commit feed00$2) with libchan's spsc rate at $1, rendered.
run() {
	spsc_at "$1"
	sed -i "s/^commit: .*/commit: feed00$2/" "$tmp/meta"
	render --history yes
}
# The history's spsc row reads $1 (met, of runs measured, and marks).
history_is() {
	target 'spsc (1→1)' "the history" | grep -q "| $1 |" ||
	    fail "spsc's history is not $1: $(target 'spsc (1→1)' history)"
}

# Run 1 committed (met), then run 2 (missed) in the working tree.
git -C "$tmp" init -q
commit run1
run 1 2
history_is '1 of 2 | ✓✗'
target 'spsc (1→1)' "run 2" | grep -q 'in 0 of 1) | ≥ 0.8× | \*\*MISS\*\*' ||
    fail "spsc at 1 msg/s met in its round"
grep -q '^| 1 | 2026-01-01 00:00 UTC | feed001 | 1 |' \
    "$tmp/bench/RESULTS.md" || fail "run 1 not listed with its commit"
grep -q '^| 2 | 2026-01-01 00:00 UTC (this run) | feed002 | 1 |' \
    "$tmp/bench/RESULTS.md" || fail "this run not listed last"

# Run 2 committed, run 3 (met) in the working tree: oldest first.
commit run2
run 1e15 3
history_is '2 of 3 | ✓✗✓'
grep -q '^| 2 | 2026-01-01 00:00 UTC | feed002 | 1 |' \
    "$tmp/bench/RESULTS.md" || fail "run 2 not second"

# Committed, run 3 is this run, not also an earlier one.
commit run3
render --history yes
history_is '2 of 3 | ✓✗✓'
echo "report: ok"
