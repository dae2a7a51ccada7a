#!/usr/bin/env bash
# The differential fuzzer (tests/fuzz/chan_fuzz.c: every call of one
# thread checked against a reference model) under clang's libFuzzer, ASan
# and UBSan, for FUZZ_SECONDS (40 unless set), from the committed corpus
# on: make check replays that corpus; this looks for new inputs.  The seed
# comes from the commit (its first seven hex digits; FUZZ_SEED overrides
# it): each commit explores from a seed of its own, and CI run again on
# the same commit searches the same way, so a failure is the commit's and
# not a draw.  A failure prints the mismatch and the calls before it, and
# libFuzzer the input (in Base64, and in build/fuzz/);
# `make fuzz FUZZ_FLAGS=-seed=N` repeats the run.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/lib.sh
need_packages clang libclang-rt-14-dev
if [ -z "${FUZZ_SEED:-}" ] &&
    rev=$(git rev-parse HEAD 2>/dev/null); then
	FUZZ_SEED=$((16#${rev:0:7}))
fi
echo "fuzz seed: ${FUZZ_SEED:-random (not a git checkout)}"
make fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-40}" \
    FUZZ_FLAGS="${FUZZ_SEED:+-seed=$FUZZ_SEED}"
