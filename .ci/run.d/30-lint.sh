#!/usr/bin/env bash
# Static analysis of the library: cppcheck and clang-tidy over src/ must
# report nothing.  The clang-tidy set is clang-analyzer-* and bugprone-*,
# minus checks that only make noise here:
#   bugprone-easily-swappable-parameters  (size_t elem_size, size_t capacity
#       is the public API, fixed by API.md)
#   bugprone-reserved-identifier  (none of ours; kept off for system macros)
#   clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling
#       (asks for memcpy_s, the optional Annex K that glibc and musl lack)
# (For an array of pointers, write sizeof(chan_t *), not sizeof(*p):
# bugprone-sizeof-expression reads the latter as a pointer-to-aggregate
# mistake, and clang-tidy 14 has no option to turn just that off.)
set -euo pipefail
cd "$(dirname "$0")/../.."
CPPFLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L -pthread -Iinclude -Isrc"

echo "== cppcheck"
cppcheck -q --std=c11 --enable=warning,performance,portability \
    --error-exitcode=1 --inline-suppr -D_POSIX_C_SOURCE=200809L \
    -Iinclude -Isrc src/

echo "== clang-tidy"
checks='-*,clang-analyzer-*,bugprone-*'
checks="$checks,-bugprone-easily-swappable-parameters"
checks="$checks,-bugprone-reserved-identifier"
checks="$checks,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling"
out=$(clang-tidy -quiet -checks="$checks" \
    -warnings-as-errors='*' src/*.c -- $CPPFLAGS 2>&1) || {
	echo "$out"
	exit 1
}
# clang-tidy prints "N warnings generated" for headers it skipped; only
# diagnostics in our files count, and -warnings-as-errors made those fatal.
echo "$out" | grep -E '^/.*(warning|error):' && exit 1
echo "clean"
