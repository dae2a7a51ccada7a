#!/bin/sh
# Checks the man pages against include/chan.h and the Makefile's MLINKS:
#   - every function the header declares has a page, or an MLINKS link to
#     the page that documents it, and that page names it in NAME and
#     SYNOPSIS;
#   - every prototype in a SYNOPSIS (.Ft plus .Fn) is a function of the
#     header, declared exactly so (whitespace aside);
#   - every MLINKS entry links a name its page documents;
#   - every error number the header's comment gives a function is listed in
#     the ERRORS of its page;
#   - each man3 page has its sections in mdoc order, LIBRARY included;
#   - every EXAMPLES block compiles (-Wall -Wextra -Werror), and one that
#     is a whole program (it defines main) runs, linked with the build's
#     libchan.a, exits 0 within 30 s, and prints the number its printf's
#     comment promises, if one does (not in sanitizer builds, whose
#     library needs the sanitizer's flags to link).
# Run by make check with CC and BUILD set; exits 1 with one line per problem.
set -eu
cd "$(dirname "$0")/.."
CC=${CC:-cc}
BUILD=${BUILD:-build}
case $BUILD in
*/asan|*/tsan|*/ubsan) run_examples=no ;;
*) run_examples=yes ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
problem() {
	echo "manpages.sh: $*" >&2
	fail=1
}

# One line per declared function: name|prototype|errors its comment names.
# Prototypes are normalised: one space between words, none around * ( ) ,.
awk '
function norm(s) {
	gsub(/[ \t\n]+/, " ", s)
	gsub(/ *\* */, "*", s)
	gsub(/ *\( */, "(", s)
	gsub(/ *\) */, ")", s)
	gsub(/ *, */, ",", s)
	sub(/^ /, "", s)
	sub(/ $/, "", s)
	return s
}
function errs(s,    out, e) {
	out = ""
	while (match(s, /E[A-Z][A-Z0-9]+/)) {
		e = substr(s, RSTART, RLENGTH)
		if (index(" " out " ", " " e " ") == 0)
			out = out (out == "" ? "" : " ") e
		s = substr(s, RSTART + RLENGTH)
	}
	return out
}
function chunk(s,    name) {
	# Keep what follows the last brace: extern "C" {, the end of an enum.
	while (match(s, /[{}]/))
		s = substr(s, RSTART + 1)
	if (index(s, "(") == 0 || s ~ /typedef/)
		return
	s = norm(s)
	if (!match(s, /[A-Za-z_][A-Za-z0-9_]*\(/))
		return
	name = substr(s, RSTART, RLENGTH - 1)
	print name "|" s "|" errs(cmt)
}
/^[ \t]*#/ { next }
{
	line = $0
	while (line != "") {
		if (incmt) {
			if ((i = index(line, "*/")) == 0) {
				cmt = cmt " " line
				line = ""
			} else {
				cmt = cmt " " substr(line, 1, i - 1)
				line = substr(line, i + 2)
				incmt = 0
			}
		} else if ((i = index(line, "/*")) != 0 &&
		    ((j = index(line, ";")) == 0 || i < j)) {
			code = code " " substr(line, 1, i - 1)
			line = substr(line, i + 2)
			incmt = 1
		} else if ((j = index(line, ";")) != 0) {
			chunk(code " " substr(line, 1, j - 1))
			code = ""
			cmt = ""
			line = substr(line, j + 1)
		} else {
			code = code " " line
			line = ""
		}
	}
}
' include/chan.h > "$tmp/header"

if [ ! -s "$tmp/header" ]; then
	problem "found no function in include/chan.h"
	exit 1
fi

# MLINKS as page:link lines, from the Makefile's continued assignment.
awk '
/^MLINKS[ \t]*[:+]?=/ { on = 1; sub(/^MLINKS[ \t]*[:+]?=/, "") }
on {
	cont = sub(/\\$/, "")
	n = split($0, w, /[ \t]+/)
	for (i = 1; i <= n; i++)
		if (w[i] != "")
			print w[i]
	if (!cont)
		on = 0
}
' Makefile > "$tmp/mlinks"

# Per page: page|NAME names|SYNOPSIS prototypes (;-separated)|ERRORS|sections
for page in man/man3/*.3 man/man7/*.7; do
	[ -e "$page" ] || continue
	base=${page##*/}
	awk -v base="$base" -v exdir="$tmp" '
	function norm(s) {
		gsub(/[ \t]+/, " ", s)
		gsub(/ *\* */, "*", s)
		gsub(/ *\( */, "(", s)
		gsub(/ *\) */, ")", s)
		gsub(/ *, */, ",", s)
		sub(/^ /, "", s)
		sub(/ $/, "", s)
		return s
	}
	/^\.Sh / {
		sec = substr($0, 5)
		secs = secs (secs == "" ? "" : ",") sec
		next
	}
	sec == "NAME" && /^\.Nm / {
		n = $2
		sub(/,$/, "", n)
		names = names " " n
	}
	sec == "SYNOPSIS" && /^\.Ft / {
		ft = substr($0, 5)
		gsub(/"/, "", ft)
	}
	sec == "SYNOPSIS" && /^\.Fn / {
		# .Fn name "arg one" "arg two": the quoted words are the args.
		rest = substr($0, 5)
		fname = rest
		sub(/[ \t].*/, "", fname)
		nq = split(rest, q, /"/)
		args = ""
		for (i = 2; i <= nq; i += 2)
			args = args (args == "" ? "" : ",") q[i]
		if (args == "")
			args = "void"
		protos = protos (protos == "" ? "" : ";") \
		    norm(ft " " fname "(" args ")")
	}
	sec == "ERRORS" && /^\.It Bq Er / { errs = errs " " $4 }
	sec == "EXAMPLES" && /^\.Bd -literal/ {
		inex = 1
		nex++
		exfile = exdir "/ex-" base "-" nex ".c"
		next
	}
	inex && /^\.Ed/ { inex = 0; close(exfile); next }
	inex { print > exfile }
	END {
		print base "|" names "|" protos "|" errs "|" secs
	}
	' "$page" >> "$tmp/pages"
done

# 1. Every header function: its page, its NAME and SYNOPSIS, its errors.
while IFS='|' read -r fn proto ferrs; do
	if [ -e "man/man3/$fn.3" ]; then
		doc=$fn.3
	elif doc=$(grep -e ":$fn\.3\$" "$tmp/mlinks" | sed 's/:.*//') &&
	    [ -n "$doc" ]; then
		if [ ! -e "man/man3/$doc" ]; then
			problem "$fn: MLINKS points to missing man/man3/$doc"
			continue
		fi
	else
		problem "$fn: no man/man3/$fn.3 and no MLINKS link for it"
		continue
	fi
	line=$(grep -e "^$doc|" "$tmp/pages" || true)
	names=$(echo "$line" | cut -d'|' -f2)
	protos=$(echo "$line" | cut -d'|' -f3)
	perrs=$(echo "$line" | cut -d'|' -f4)
	case " $names " in
	*" $fn "*) ;;
	*) problem "$fn: $doc does not list it in NAME" ;;
	esac
	case ";$protos;" in
	*";$proto;"*) ;;
	*) problem "$fn: $doc SYNOPSIS lacks the header's prototype: $proto" ;;
	esac
	for e in $ferrs; do
		case " $perrs " in
		*" $e "*) ;;
		*) problem "$fn: chan.h says it fails with $e;" \
		    "$doc ERRORS does not list $e" ;;
		esac
	done
done < "$tmp/header"

# 2. Every SYNOPSIS prototype and NAME entry is a function of the header.
while IFS='|' read -r doc names protos perrs secs; do
	old_ifs=$IFS
	IFS=';'
	for p in $protos; do
		IFS=$old_ifs
		fn=${p%%(*}
		fn=${fn##*[ *]}
		hp=$(grep -e "^$fn|" "$tmp/header" | cut -d'|' -f2)
		if [ -z "$hp" ]; then
			problem "$doc: SYNOPSIS declares $fn, not in chan.h"
		elif [ "$p" != "$hp" ]; then
			problem "$doc: SYNOPSIS has $p; chan.h has $hp"
		fi
	done
	IFS=$old_ifs
	case $doc in
	*.3)
		for n in $names; do
			if ! grep -q -e "^$n|" "$tmp/header"; then
				problem "$doc: NAME lists $n, not in chan.h"
			fi
		done
		want="NAME,LIBRARY,SYNOPSIS,DESCRIPTION,RETURN VALUES,EXAMPLES,ERRORS,SEE ALSO"
		case $secs in
		"$want"|"$want",STANDARDS*|"$want",HISTORY*) ;;
		*) problem "$doc: sections are $secs; want $want" ;;
		esac
		;;
	esac
done < "$tmp/pages"

# 3. Every MLINKS entry links a name its page documents, and no two
#    entries claim the same name.
while IFS=: read -r doc link; do
	n=${link%.3}
	if [ ! -e "man/man3/$doc" ]; then
		problem "MLINKS $doc:$link: no man/man3/$doc"
		continue
	fi
	names=$(grep -e "^$doc|" "$tmp/pages" | cut -d'|' -f2)
	case " $names " in
	*" $n "*) ;;
	*) problem "MLINKS $doc:$link: $doc does not document $n" ;;
	esac
	if [ -e "man/man3/$link" ]; then
		problem "MLINKS $doc:$link: would overwrite man/man3/$link"
	fi
done < "$tmp/mlinks"
dups=$(sed 's/.*://' "$tmp/mlinks" | sort | uniq -d)
if [ -n "$dups" ]; then
	problem "MLINKS names twice: $dups"
fi

# 4. Every EXAMPLES block compiles on its own; whole programs run.
nrun=0
for ex in "$tmp"/ex-*.c; do
	[ -e "$ex" ] || continue
	page=${ex##*/ex-}
	page=${page%-*.c}
	sed -e 's/\\&//g' -e 's/\\-/-/g' -e 's/\\e/\\/g' "$ex" > "$ex.src.c"
	if ! $CC -std=c11 -D_POSIX_C_SOURCE=200809L -pthread -Wall -Wextra \
	    -Werror -Iinclude -c -o "$ex.o" "$ex.src.c" 2> "$ex.err"; then
		problem "$page: EXAMPLES does not compile:"
		sed 's/^/    /' "$ex.err" >&2
		continue
	fi
	if [ $run_examples = no ] || ! grep -q '^main(' "$ex.src.c"; then
		continue
	fi
	if ! $CC -pthread -o "$ex.bin" "$ex.o" "$BUILD/libchan.a" \
	    2> "$ex.err"; then
		problem "$page: EXAMPLES does not link:"
		sed 's/^/    /' "$ex.err" >&2
		continue
	fi
	if ! out=$(timeout 30 "$ex.bin"); then
		problem "$page: EXAMPLES program failed or hung (30 s)"
		continue
	fi
	# A printf's comment starts with what it prints: every one is checked.
	sed -n 's|.*printf(.*;[[:space:]]*/\* *\([^ ,]*\).*\*/.*|\1|p' \
	    "$ex.src.c" |
	    while IFS= read -r want; do
		printf '%s\n' "$out" | grep -qxF "$want" ||
		    echo "$want"
	    done > "$ex.missing"
	if [ -s "$ex.missing" ]; then
		problem "$page: EXAMPLES printed '$out', its comments say" \
		    "$(cat "$ex.missing")"
	fi
	nrun=$((nrun + 1))
done
for page in man/man3/*.3; do
	[ -e "$page" ] || continue
	if ! ls "$tmp/ex-${page##*/}-"*.c >/dev/null 2>&1; then
		problem "${page##*/}: no .Bd -literal block in EXAMPLES"
	fi
done

if [ "$fail" -ne 0 ]; then
	echo "manpages.sh: FAILED" >&2
	exit 1
fi
echo "manpages.sh: $(wc -l < "$tmp/header") functions, $(wc -l < "$tmp/mlinks") links, $(wc -l < "$tmp/pages") pages, $nrun example programs run: OK"
