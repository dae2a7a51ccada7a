#!/usr/bin/env bash
# UndefinedBehaviorSanitizer over the whole suite: make check, rebuilt under
# build/ubsan with -fsanitize=undefined and no recovery (any report fails).
# With clang, whose UBSan checks more than gcc's: arithmetic on a null
# pointer, even adding 0 (ring_put did that for a channel of elem_size 0
# and was caught only by the fuzzer).  gcc's UBSan still runs, with ASan,
# in make asan.
set -euo pipefail
cd "$(dirname "$0")/../.."
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
make ubsan CC=clang
