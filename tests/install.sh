#!/bin/sh
# Installs into a scratch DESTDIR with PREFIX=/usr, as a package build would,
# and checks what a user of the installed copy relies on:
#   - the header, both libraries, the soname links, chan.pc, every man page
#     and every MLINKS link are there (and the soname is libchan.so.1);
#   - the shared library exports chan_* symbols only, and every function of
#     chan.h;
#   - a program builds from nothing but `pkg-config --cflags --libs chan`,
#     against the shared library (run with LD_LIBRARY_PATH) and statically
#     (pkg-config --static, -l:libchan.a), and runs;
#   - man renders an installed page through one of its links;
#   - make uninstall removes every file and link the install made.
# Run by make check with BUILD and CC set.  Sanitizer builds (BUILD is
# build/asan, ...) skip it: installing their instrumented libraries proves
# nothing the plain build does not.
set -eu
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
if [ "$BUILD" != build ]; then
	echo "install.sh: skipped for BUILD=$BUILD (only the plain build is installed)"
	exit 0
fi
CC=${CC:-cc}
for tool in make pkg-config readelf nm; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "install.sh: $tool not found" >&2
		exit 1
	fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
dest=$work/root
mkdir "$dest"
fail=0
problem() {
	echo "install.sh: $*" >&2
	fail=1
}
# Stops at once: later checks need what failed here.
die() {
	echo "install.sh: $*" >&2
	exit 1
}

lib=$dest/usr/lib
inc=$dest/usr/include
man=$dest/usr/share/man

# The parent make's MAKEFLAGS (CFLAGS, -j) pass through, so the sub-make
# sees the same build as make check did.
if ! make --no-print-directory install PREFIX=/usr DESTDIR="$dest" \
    BUILD="$BUILD" > "$work/install.log" 2>&1; then
	cat "$work/install.log" >&2
	die "make install PREFIX=/usr DESTDIR=$dest failed"
fi

# 1. Files and links.
for f in "$inc/chan.h" "$lib/libchan.a" "$lib/libchan.so.1.0.0" \
    "$lib/pkgconfig/chan.pc" "$man/man7/chan.7"; do
	if [ ! -f "$f" ] || [ -L "$f" ]; then
		problem "missing regular file ${f#"$dest"}"
	fi
done
cmp -s include/chan.h "$inc/chan.h" ||
    problem "installed chan.h differs from include/chan.h"
link_is() {	# link_is path target
	if [ ! -L "$1" ]; then
		problem "${1#"$dest"} is not a symbolic link"
	elif [ "$(readlink "$1")" != "$2" ]; then
		problem "${1#"$dest"} -> $(readlink "$1"), want -> $2"
	elif [ ! -e "$1" ]; then
		problem "${1#"$dest"} -> $2 dangles"
	fi
}
link_is "$lib/libchan.so.1" libchan.so.1.0.0
link_is "$lib/libchan.so" libchan.so.1
soname=$(readelf -d "$lib/libchan.so.1.0.0" |
    sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[ "$soname" = libchan.so.1 ] ||
    problem "soname of libchan.so.1.0.0 is '$soname', want libchan.so.1"

for page in man/man3/*.3; do
	cmp -s "$page" "$man/man3/${page##*/}" ||
	    problem "${page##*/} not installed (or differs) in /usr/share/man/man3"
done
# MLINKS, as page:link words of the Makefile's continued assignment.
mlinks=$(awk '
/^MLINKS[ \t]*[:+]?=/ { on = 1; sub(/^MLINKS[ \t]*[:+]?=/, "") }
on { cont = sub(/\\$/, ""); print; if (!cont) on = 0 }
' Makefile)
[ -n "$mlinks" ] || problem "no MLINKS found in the Makefile"
for l in $mlinks; do
	link_is "$man/man3/${l#*:}" "${l%%:*}"
done

# 2. Exports: chan_* only, and every function chan.h declares.
nm -D --defined-only "$lib/libchan.so.1.0.0" | awk '{ print $NF }' |
    sort > "$work/exports"
others=$(grep -v '^chan_' "$work/exports" || true)
[ -z "$others" ] ||
    problem "libchan.so exports symbols outside chan_*:" $others
sed -n 's/.*\<\(chan_[a-z_]*\)(.*/\1/p' include/chan.h | sort -u \
    > "$work/declared"
[ -s "$work/declared" ] || problem "found no function in include/chan.h"
missing=$(comm -23 "$work/declared" "$work/exports")
[ -z "$missing" ] || problem "libchan.so does not export:" $missing

# 3. Build against the installed copy, with pkg-config and nothing else:
#    no -I or -L of our own, and the source tree's include/ not on the path.
PKG_CONFIG_PATH=$lib/pkgconfig
PKG_CONFIG_SYSROOT_DIR=$dest
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
grep -q '^prefix=/usr$' "$lib/pkgconfig/chan.pc" ||
    problem "chan.pc does not say prefix=/usr:" \
    "$(grep '^prefix=' "$lib/pkgconfig/chan.pc")"
# Relative to ${prefix}, so that pkg-config --define-prefix relocates it.
for v in 'libdir=${prefix}/lib' 'includedir=${prefix}/include'; do
	grep -qxF "$v" "$lib/pkgconfig/chan.pc" ||
	    problem "chan.pc does not say $v"
done
version=$(pkg-config --modversion chan) ||
    die "pkg-config cannot read the installed chan.pc"
[ "$version" = 1.0.0 ] || problem "pkg-config --modversion chan: $version"
cflags=$(pkg-config --cflags chan)
libs=$(pkg-config --libs chan)
slibs=$(pkg-config --static --libs chan)
cp examples/readme_example.c "$work/prog.c"
cd "$work"

# shellcheck disable=SC2086 # the flags are words
if ! $CC $cflags -o prog prog.c $libs 2> cc.log; then
	cat cc.log >&2
	die "cc \$(pkg-config --cflags) prog.c \$(pkg-config --libs) failed"
fi
readelf -d prog | grep -q 'NEEDED.*\[libchan\.so\.1\]' ||
    problem "prog (shared) does not need libchan.so.1"
where=$(LD_LIBRARY_PATH=$lib ldd ./prog | sed -n 's/.*libchan\.so\.1 => \([^ ]*\).*/\1/p')
[ "$where" = "$lib/libchan.so.1" ] ||
    problem "prog loads libchan.so.1 from '$where', not the installed copy"
out=$(LD_LIBRARY_PATH=$lib ./prog) || problem "prog (shared) failed"
[ "$out" = "sum = 55" ] || problem "prog (shared) printed '$out'"

# Statically: the same flags with --static, and the archive by its name,
# since -lchan picks the shared library when both are there.
# shellcheck disable=SC2086
if ! $CC $cflags -o prog-static prog.c \
    $(echo "$slibs" | sed 's/-lchan\>/-l:libchan.a/') 2> cc.log; then
	cat cc.log >&2
	die "cc \$(pkg-config --cflags) prog.c \$(pkg-config --static --libs) with -l:libchan.a failed"
fi
if readelf -d prog-static | grep -q 'NEEDED.*libchan'; then
	problem "prog-static still needs a shared libchan"
fi
out=$(./prog-static) || problem "prog-static failed"
[ "$out" = "sum = 55" ] || problem "prog-static printed '$out'"
cd - >/dev/null

# 4. An installed page renders, through a link.
if command -v man >/dev/null 2>&1; then
	if ! MANWIDTH=80 man -P cat -l "$man/man3/chan_trysend.3" \
	    > "$work/page" 2> "$work/man.log"; then
		cat "$work/man.log" >&2
		problem "man -l chan_trysend.3 failed"
	elif ! grep -q 'chan_timedsend' "$work/page"; then
		problem "man -l chan_trysend.3 did not render chan_send(3)"
	fi
else
	echo "install.sh: man not installed: page rendering not checked"
fi

# 5. Uninstall leaves no file or link behind (directories stay, as they
#    would in a shared /usr).
if ! make --no-print-directory uninstall PREFIX=/usr DESTDIR="$dest" \
    BUILD="$BUILD" > "$work/uninstall.log" 2>&1; then
	cat "$work/uninstall.log" >&2
	die "make uninstall failed"
fi
left=$(find "$dest" ! -type d)
[ -z "$left" ] || problem "make uninstall left:" "$left"

if [ "$fail" -ne 0 ]; then
	echo "install.sh: FAILED" >&2
	exit 1
fi
echo "install.sh: install, pkg-config (shared and static), man, uninstall: OK"
