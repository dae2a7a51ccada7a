#!/bin/sh
# fuzz_replay: the fuzzer's committed corpus and 1000 inputs of random
# bytes, replayed through its decoder and reference model
# (tests/fuzz/chan_fuzz.c) without libFuzzer, so that every build of make
# check (gcc, clang, the sanitizers, m32, arm64) runs them.  In
# tests/fuzz/corpus/, the cover-* files are inputs make fuzz found, put
# end to end, that together reach every line of src/ the fuzzer reaches;
# each of the others is the input the fuzzer found against a mutant of the
# library, named for the behaviour the mutant broke.  A mismatch prints
# the input that failed; `$BUILD/fuzz/replay FILE` repeats it.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
"$BUILD/fuzz/replay" -r 1000 tests/fuzz/corpus
