#!/usr/bin/env bash
# UndefinedBehaviorSanitizer over the whole suite: make check, rebuilt under
# build/ubsan with -fsanitize=undefined and no recovery (any report fails).
set -euo pipefail
cd "$(dirname "$0")/../.."
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
make ubsan
