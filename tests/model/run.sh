#!/bin/sh
# The SPIN model of the waiter hand-off protocol (protocol.pml and the
# scenarios beside it), for make model and make model-mutants.
#
#   sh tests/model/run.sh            every scenario, exhaustively: fails on
#                                    any error pan reports, and on a search
#                                    that was cut short
#   sh tests/model/run.sh mutants    each mutant (MUT_* in protocol.pml)
#                                    on the scenario that shows it: fails
#                                    if pan finds nothing wrong
#   sh tests/model/run.sh progress   every scenario, for a cycle that no
#                                    call returns from (a livelock): SPIN's
#                                    non-progress search, about 4x longer,
#                                    with no end-state check
#
# Each run builds in $BUILD/model/<scenario>[-<mutant>]/, with a copy of
# the model, so that a failing run leaves its trail there: cd into it and
# run 'spin -t [-DMUT_...] <scenario>.pml' to replay it (the printed lines
# are the model's events; -p adds every step).  MODEL_FLAGS goes to spin
# (MODEL_FLAGS=-DMUT_NO_BATON: the scenarios with that mutant compiled in).
# MODEL_JOBS verifiers run at once (the number of CPUs unless set): each
# is a job of its own, so their lines come in the list's order once all
# have finished.  Needs spin, a C compiler and xargs -P.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-build}
CC=${MODEL_CC:-cc}
JOBS=${MODEL_JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)}

SCENARIOS="unbuf ring select cancel cancel_select cancel_send
close_unbuf close_ring close_retry close_select drop slide"

# mutant:scenario, the scenario that shows each mutant.
MUTANTS="
MUT_NO_SECOND_LOOK:ring
MUT_LOOK_BEFORE_LINK:ring
MUT_NO_PUBLISHED:ring
MUT_NO_BATON:ring
MUT_UNLINK_BEFORE_CLAIM:ring
MUT_LOAD_STORE_CLAIM:unbuf
MUT_SIGNAL_UNLOCKED:unbuf
MUT_TIMEOUT_WINS:unbuf
MUT_SELECT_NO_SERVE:select
MUT_SELECT_NO_UNLINK:select
MUT_CANCEL_NO_PASS:cancel
MUT_CANCEL_BLIND_ABORT:cancel_send
MUT_CLOSE_NO_WAKE_RECV:close_ring
MUT_CLOSE_DROP_QUEUE:close_ring
MUT_CLOSE_MARK_LATE:close_ring
MUT_CLOSE_EPIPE_REST:close_retry
MUT_EPIPE_BEFORE_DRAIN:close_ring
MUT_SEND_AFTER_CLOSE:close_ring
MUT_SLIDE_SPLIT:slide
MUT_SLIDE_NO_RECHECK:slide
MUT_SLIDE_NO_PUBLISHED:slide
"

command -v spin >/dev/null 2>&1 || {
	echo "run.sh: spin is not installed (apt-get install spin)" >&2
	exit 2
}

# pan scenario [mutant]: builds and runs the verifier; its output in $out.
# PANFLAGS, PANRUN: more flags for cc and for pan.
pan() {
	dir=$BUILD/model/$1${2:+-$2}
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$here"/*.pml "$dir"
	# shellcheck disable=SC2086 # the flags are words
	(
		cd "$dir"
		spin -a ${MODEL_FLAGS:-} ${2:+-D$2} "$1.pml" >spin.out 2>&1 ||
		    { cat spin.out >&2; exit 1; }
		# -O0: gcc -O2 spends 15 s on pan.c's one large switch (ring
		# here, against 1.6 s) to save 1.5 s of a 2.8 s search.
		$CC -O0 ${PANFLAGS:--DSAFETY} -DCOLLAPSE -o pan pan.c
		# -n: no list of unreached statements (each scenario leaves
		# parts of the model unused); -m: deeper than any scenario.
		./pan -m100000 -n ${PANRUN:-} >pan.out 2>&1 || true
	) || return 1
	out=$dir/pan.out
}

# What pan said, on one line.
summary() {
	states=$(sed -n 's/^ *\([0-9][0-9]*\) states, stored.*/\1/p' "$out")
	secs=$(sed -n 's/^pan: elapsed time \([0-9.e+-]*\) seconds.*/\1/p' "$out")
	echo "$states states, ${secs:-0} s"
}

# job mode item: one verifier (mode model or progress: item a scenario;
# mutants: mutant:scenario), whose verdict goes on a line (or more, for a
# failure) to <its directory>/verdict.
job() {
	if [ "$1" = progress ]; then
		PANFLAGS=-DNP
		PANRUN=-l
	fi
	if [ "$1" != mutants ]; then
		s=$2
		v=$BUILD/model/$s/verdict
		pan "$s" || { echo "FAIL: $s: no verifier" >"$v"; return; }
		cut="depth too small|out of memory|search not completed"
		if grep -q "errors: 0" "$out" && ! grep -qiE "$cut" "$out"; then
			echo "== model${PANRUN:+ progress} $s: $(summary): ok"
		else
			echo "FAIL: model $s ($BUILD/model/$s):"
			grep -E "^pan|errors:|depth|memory" "$out" | head -5
		fi >"$v"
		return
	fi
	m=${2%%:*}
	s=${2#*:}
	v=$BUILD/model/$s-$m/verdict
	pan "$s" "$m" || { echo "FAIL: $m: no verifier" >"$v"; return; }
	if grep -qE "errors: [1-9]" "$out"; then
		echo "== mutant $m on $s: $(grep -m1 '^pan:1:' "$out" |
		    sed 's/^pan:1: //')" >"$v"
	else
		echo "FAIL: mutant $m survived $s ($(summary))" >"$v"
	fi
}

if [ "${1:-}" = job ]; then
	job "$2" "$3"
	exit 0
fi

mode=${1:-model}
case $mode in
mutants)	items=$MUTANTS ;;
*)		items=$SCENARIOS ;;
esac
# shellcheck disable=SC2086 # one item a word
printf '%s\n' $items | xargs -P "$JOBS" -I{} sh "$0" job "$mode" {} || true
status=0
for it in $items; do
	case $mode in
	mutants)	d=$BUILD/model/${it#*:}-${it%%:*} ;;
	*)		d=$BUILD/model/$it ;;
	esac
	if [ -f "$d/verdict" ]; then
		cat "$d/verdict"
		! grep -q '^FAIL' "$d/verdict" || status=1
	else
		echo "FAIL: $it: no verdict"
		status=1
	fi
done
exit $status
