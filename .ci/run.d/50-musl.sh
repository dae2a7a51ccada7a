#!/usr/bin/env bash
# Portability: build the library against musl (musl-gcc from musl-tools)
# and run what needs no Check (Debian's Check is built for glibc): the
# stress drivers in their quick mode and the examples with their scripts.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=build/musl
rm -rf "$B"
stress=$(ls tests/stress/*.c | sed "s|^tests/stress/\(.*\)\.c$|$B/stress/\1|")
examples=$(ls examples/*.c | sed "s|^examples/\(.*\)\.c$|$B/examples/\1|")
make BUILD=$B CC=musl-gcc CFLAGS='-O2 -g -Werror' all $stress $examples
# Make sure that is what we built: a static musl binary names no glibc.
for f in $stress $examples; do
	if ldd "$f" 2>/dev/null | grep -q 'libc\.so\.6'; then
		echo "$f is linked against glibc" >&2
		exit 1
	fi
done
BUILD=$B CC=musl-gcc sh tests/stress_quick.sh
for s in tests/example_*.sh; do
	[ -e "$s" ] || continue
	echo "== $s (musl)"
	BUILD=$B CC=musl-gcc sh "$s"
done
