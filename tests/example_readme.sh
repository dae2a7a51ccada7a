#!/bin/sh
# Keeps README.md true:
#   - its C example is examples/readme_example.c, byte for byte, and that
#     program (built by make check in $BUILD/examples) prints "sum = 55";
#   - its API table has a row for every function chan.h declares, and no
#     other;
#   - every relative link in it names a file or directory of the tree;
#   - the make targets its commands use exist.
# Run by make check (and by CI's musl build, as an example_*.sh) with
# BUILD set.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
problem() {
	echo "example_readme.sh: $*" >&2
	fail=1
}

# 1. The first ```c block is the example program.
awk '/^```c$/ { on = 1; next } on && /^```$/ { exit } on' README.md \
    > "$tmp/block.c"
if ! diff -u examples/readme_example.c "$tmp/block.c" > "$tmp/diff"; then
	problem "README.md's C block differs from examples/readme_example.c:"
	cat "$tmp/diff" >&2
fi
prog=$BUILD/examples/readme_example
if [ ! -x "$prog" ]; then
	problem "$prog not built"
elif ! out=$("$prog"); then
	problem "$prog failed (printed '$out')"
elif [ "$out" != "sum = 55" ]; then
	problem "$prog printed '$out', want 'sum = 55'"
fi

# 2. The API table: rows start with | `chan_name(.
sed -n 's/.*\<\(chan_[a-z_]*\)(.*/\1/p' include/chan.h | sort -u \
    > "$tmp/declared"
sed -n 's/^| `\(chan_[a-z_]*\)(.*/\1/p' README.md | sort > "$tmp/table"
missing=$(comm -23 "$tmp/declared" "$tmp/table")
extra=$(comm -13 "$tmp/declared" "$tmp/table")
dups=$(uniq -d "$tmp/table")
[ -z "$missing" ] || problem "API table lacks:" $missing
[ -z "$extra" ] || problem "API table has functions chan.h lacks:" $extra
[ -z "$dups" ] || problem "API table lists twice:" $dups

# 3. Relative links: ](path) or ](path#anchor), not http(s) or mailto.
grep -o '](\([^)]*\))' README.md | sed 's/^](\(.*\))$/\1/; s/#.*//' |
    sort -u > "$tmp/links"
while read -r l; do
	case $l in
	''|http://*|https://*|mailto:*) continue ;;
	esac
	[ -e "$l" ] || problem "README.md links to $l, which does not exist"
done < "$tmp/links"

# 4. make targets named in `make TARGET` commands exist in the Makefile.
for t in $(grep -o '^make [a-z]*' README.md | sed 's/^make //' | sort -u); do
	grep -q "^\([a-z ]* \)*$t\( [a-z ]*\)*:" Makefile ||
	    problem "README.md runs make $t; the Makefile has no such target"
done

if [ "$fail" -ne 0 ]; then
	echo "example_readme.sh: FAILED" >&2
	exit 1
fi
echo "example_readme.sh: example, API table, links, make targets: OK"
