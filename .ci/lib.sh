# Sourced by .ci/run and the steps in .ci/run.d: installing what a fresh
# Debian 12 machine lacks.  (Not in run.d, which holds only steps.)

export DEBIAN_FRONTEND=noninteractive

# add_arch arch: lets apt install arch's packages (Multi-Arch).
add_arch() {
	dpkg --print-foreign-architectures | grep -qx "$1" ||
	    dpkg --add-architecture "$1"
}

# need_packages pkg...: installs those of the packages not installed, after
# fetching the package lists (a new machine, or an architecture just added,
# has none to install them from).
need_packages() {
	local p missing=
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q "ok installed" || missing="$missing $p"
	done
	[ -n "$missing" ] || return 0
	echo "== installing:$missing"
	apt-get update -qq
	# shellcheck disable=SC2086 # the names are words
	apt-get install -y -qq --no-install-recommends $missing
}
