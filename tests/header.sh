#!/bin/sh
# header: <chan.h> compiles on its own, warning-free with -Wpedantic
# -Werror, in every language mode a user may build in: C99, C11 and C17,
# strict (no POSIX feature macro, so <time.h> need not declare struct
# timespec) or GNU, and C++ where a C++ compiler is installed.
# Run by make check with CC set.
set -eu
cd "$(dirname "$0")/.."

CC=${CC:-cc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

cat > "$work/use.c" <<'EOF2'
#include <chan.h>

/* Every timed prototype must name the struct timespec of <time.h>. */
int
use(chan_t *ch, void *elem, const struct timespec *abstime)
{
	return chan_timedrecv(ch, elem, abstime);
}
EOF2
cp "$work/use.c" "$work/use.cc"

n=0
# compile COMPILER STANDARD SOURCE: fails the test if the header does not.
compile() {
	$1 -std=$2 -Wall -Wextra -Wpedantic -Werror -Iinclude \
	    -c -o "$work/use.o" "$3" || {
		echo "header: <chan.h> fails with $1 -std=$2" >&2
		exit 1
	}
	n=$((n + 1))
}
for std in c99 c11 c17 gnu99 gnu17; do
	compile "$CC" $std "$work/use.c"
done
CXX=${CXX:-c++}
if command -v "$CXX" >/dev/null 2>&1; then
	for std in c++11 c++17; do
		compile "$CXX" $std "$work/use.cc"
	done
else
	echo "header: no $CXX, C++ modes not checked"
fi
echo "header: ok ($n language modes)"
