#!/usr/bin/env bash
# The differential fuzzer (tests/fuzz/chan_fuzz.c: every call of one
# thread checked against a reference model) under clang's libFuzzer, ASan
# and UBSan, for FUZZ_SECONDS (40 unless set), from the committed corpus
# on: make check replays that corpus; this looks for new inputs, with a
# new random seed each run.  A failure prints the mismatch and the calls
# before it, and libFuzzer the input (in Base64, and in build/fuzz/) and
# its seed; `make fuzz FUZZ_FLAGS=-seed=N` repeats the run.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/lib.sh
need_packages clang libclang-rt-14-dev
make fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-40}"
