#!/usr/bin/env bash
# i386: build libchan as a 32-bit program (gcc -m32) and run make check, the
# portable lock, and ASan+UBSan and UBSan there.  No TSan: Debian ships no
# 32-bit libtsan.  Concurrency Kit (for bench/) comes unpacked from
# libck-dev:i386, since libck0 is not Multi-Arch and installing the i386
# one would remove the amd64 one that the 64-bit bench links.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/lib.sh
add_arch i386
need_packages gcc-multilib libc6-dev-i386 check:i386 libsubunit-dev:i386
ck=$(mktemp -d)
trap 'rm -rf "$ck"' EXIT
(cd "$ck" && apt-get download -qq libck-dev:i386 libck0:i386 2>/dev/null &&
    for d in *.deb; do dpkg -x "$d" root; done)
rm -f "$ck"/root/usr/lib/i386-linux-gnu/libck.so*	# link libck.a
export CC="gcc -m32"
export CPATH="$ck/root/usr/include"
export LIBRARY_PATH="$ck/root/usr/lib/i386-linux-gnu"
B=build/m32
rm -rf "$B"
make BUILD=$B CFLAGS='-O2 -g -Werror' check
make BUILD=$B CFLAGS='-O2 -g -Werror' portable
make BUILD=$B asan
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 make BUILD=$B ubsan
echo "== i386 passed"
