#!/usr/bin/env bash
# arm64: cross-build libchan for aarch64 with Debian's gcc-aarch64-linux-gnu
# and run make check (and the portable lock's) under qemu-user, which the
# kernel starts for every aarch64 binary through binfmt_misc.
#
# The cross compiler is unpacked, not installed: gcc-12-aarch64-linux-gnu
# conflicts with gcc-multilib, which 55-m32.sh needs, so installing one
# removes the other.  Its .debs are unpacked into a cache directory
# (ARM64_CROSS, by default under ~/.cache), the linker script libc.so
# pointed at the unpacked glibc, and small wrappers give the cross
# binutils their private libraries.  Check, Subunit and the aarch64 loader
# come from Debian's arm64 packages (Multi-Arch: same), installed;
# Concurrency Kit (bench/; libck0 is not Multi-Arch) is unpacked into the
# cross compiler's own include and lib directories.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/lib.sh
t0=$SECONDS
add_arch arm64
need_packages qemu-user-static binfmt-support check:arm64 libsubunit-dev:arm64

# binfmt_misc: mounted and told about qemu-aarch64 (binfmt-support does
# both at boot; a container or a machine not rebooted since may lack them).
bm=/proc/sys/fs/binfmt_misc
[ -e $bm/status ] || mount -t binfmt_misc binfmt_misc $bm
[ -e $bm/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64

# The cross toolchain, unpacked once per version of the compiler.
cross_debs="gcc-aarch64-linux-gnu cpp-aarch64-linux-gnu
    gcc-12-aarch64-linux-gnu cpp-12-aarch64-linux-gnu
    gcc-12-aarch64-linux-gnu-base binutils-aarch64-linux-gnu
    libgcc-12-dev-arm64-cross libgcc-s1-arm64-cross libatomic1-arm64-cross
    libc6-dev-arm64-cross libc6-arm64-cross linux-libc-dev-arm64-cross"
ver=$(apt-cache show --no-all-versions gcc-12-aarch64-linux-gnu |
    sed -n 's/^Version: //p')
tc=${ARM64_CROSS:-${XDG_CACHE_HOME:-$HOME/.cache}/libchan/arm64-cross-$ver}
if [ ! -e "$tc/complete" ]; then
	rm -rf "$tc"
	mkdir -p "$tc/debs"
	# shellcheck disable=SC2086 # the names are words
	(cd "$tc/debs" && apt-get download -qq $cross_debs 2>/dev/null) || {
		echo "57-arm64: apt-get download $cross_debs failed" >&2
		exit 1
	}
	for d in "$tc"/debs/*.deb; do dpkg -x "$d" "$tc/root"; done
	# Concurrency Kit's static library and headers go where the cross
	# compiler looks by itself, beside the cross glibc.
	(cd "$tc/debs" && apt-get download -qq libck-dev:arm64 2>/dev/null &&
	    dpkg -x libck-dev_*.deb ck) || {
		echo "57-arm64: apt-get download libck-dev:arm64 failed" >&2
		exit 1
	}
	sys=$tc/root/usr/aarch64-linux-gnu
	cp -R "$tc"/debs/ck/usr/include/. "$sys/include"
	cp "$tc"/debs/ck/usr/lib/aarch64-linux-gnu/libck.a "$sys/lib"
	rm -rf "$tc/debs"
	# libc.so names the glibc of /usr/aarch64-linux-gnu: use the unpacked one.
	sed -i "s| /usr/aarch64-linux-gnu/| $tc/root/usr/aarch64-linux-gnu/|g" \
	    "$tc/root/usr/aarch64-linux-gnu/lib/libc.so"
	mkdir -p "$tc/bin"
	for tool in gcc ar; do
		cat > "$tc/bin/aarch64-linux-gnu-$tool" <<EOF
#!/bin/sh
LD_LIBRARY_PATH=$tc/root/usr/lib/x86_64-linux-gnu \\
    exec $tc/root/usr/bin/aarch64-linux-gnu-$tool "\$@"
EOF
		chmod +x "$tc/bin/aarch64-linux-gnu-$tool"
	done
	touch "$tc/complete"
fi
export PATH="$tc/bin:$PATH"
echo "== arm64: packages and toolchain ready in $((SECONDS - t0)) s"

# One aarch64 program, to fail here with a clear message rather than in
# the first test, if binfmt_misc does not hand it to qemu.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'int main(void) { return 0; }\n' > "$probe/p.c"
aarch64-linux-gnu-gcc -o "$probe/p" "$probe/p.c"
if ! "$probe/p"; then
	echo "57-arm64: an aarch64 program does not run: is binfmt_misc" \
	    "registering qemu-aarch64 ($bm/qemu-aarch64)?" >&2
	exit 1
fi

B=build/arm64
rm -rf "$B"
t1=$SECONDS
make BUILD=$B CC=aarch64-linux-gnu-gcc AR=aarch64-linux-gnu-ar \
    CFLAGS='-O2 -g -Werror' check
echo "== arm64: make check in $((SECONDS - t1)) s"
t1=$SECONDS
make BUILD=$B CC=aarch64-linux-gnu-gcc AR=aarch64-linux-gnu-ar \
    CFLAGS='-O2 -g -Werror' portable
echo "== arm64: make portable in $((SECONDS - t1)) s"
echo "== arm64 passed ($((SECONDS - t0)) s)"
