#!/usr/bin/env bash
# One CPU: the README's test command again, pinned to one CPU with
# taskset(1).  The library counts the CPUs its affinity mask allows, and on
# one it yields where it would otherwise spin; this runs every suite, the
# stress drivers and the examples through those paths.
set -euo pipefail
cd "$(dirname "$0")/../.."
taskset -c 0 make check CFLAGS='-O2 -g -Werror'
