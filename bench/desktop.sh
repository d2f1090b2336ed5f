#!/usr/bin/env bash
# bench/desktop.sh [BUILD_DIR]: the desktop image (examples/desktop.yaml, issue 13.5):
# built twice from one lock, the second time in another directory with another umask,
# time zone and locale (as tests/interop/build-repro.sh does for the minimal image), so
# that one run gives the build time, the image's size against Tails' (whose 6.x ISO is
# about 1.4 GB; no Tails image is on the machine, so that figure is a constant) and
# whether the two SHA256SUMS are the same. Too slow for make check (two builds of 166
# packages, 470 MB of files); the boot-to-browser time is tests/vm/desktop.sh's.
set -euo pipefail
build=$(cd "${1:-${LETHE_BUILD:-build}}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
LETHE=${LETHE:-$build/src/lethe/lethe}
export LETHE_INIT=${LETHE_INIT:-$build/src/init/lethe-init}
export LETHE_IMAGE_TOOL=${LETHE_IMAGE_TOOL:-$build/src/lethe/lethe-image}
spec=$src/examples/desktop.yaml
TAILS_BYTES=1400000000
T=$(mktemp -d "${TMPDIR:-/tmp}/lethe-bench-desktop.XXXXXX")
trap 'rm -rf "$T"' EXIT
"$LETHE" keygen -W -p "$T/k.pub" -s "$T/k.key" >/dev/null

now() { date +%s.%N; }
t0=$(now)
(umask 022 && env -u SOURCE_DATE_EPOCH TZ=UTC LC_ALL=C "$LETHE" build "$spec" -o "$T/one" \
	--key "$T/k.key" --quiet --json >"$T/one.json")
t1=$(now)
mkdir -p "$T/two/deeper"
(umask 077 && cd "$T/two" && TZ=Pacific/Chatham LC_ALL=C.UTF-8 "$LETHE" build "$spec" \
	-o deeper/out --locked --lock "$T/one/lethe.lock" --key "$T/k.key" --quiet)
t2=$(now)
same=no
cmp -s "$T/one/SHA256SUMS" "$T/two/deeper/out/SHA256SUMS" && same=yes
root=$(stat -c %s "$T/one/rootfs.erofs")
disk=$(stat -c %s "$T/one/disk.img")
iso=$(stat -c %s "$T/one/lethe.iso")
pkgs=$(awk '$6 == "root"' "$T/one/lethe.lock" | wc -l)
awk -v a="$t0" -v b="$t1" -v c="$t2" -v r="$root" -v d="$disk" -v i="$iso" -v t="$TAILS_BYTES" \
	-v p="$pkgs" -v s="$same" 'BEGIN {
	printf "desktop image: %d packages; rootfs.erofs %.1f MB, disk.img %.1f MB, lethe.iso %.1f MB\n", p, r / 1e6, d / 1e6, i / 1e6
	printf "build: %.1f s (resolving), %.1f s (--locked, other directory, umask, TZ, locale)\n", b - a, c - b
	printf "two builds, same SHA256SUMS: %s\n", s
	printf "size ratio: lethe.iso / Tails ISO (1.4 GB) = %.2f (goal: disk under 400 MB)\n", i / t
}'
[ "$same" = yes ] || { diff "$T/one/SHA256SUMS" "$T/two/deeper/out/SHA256SUMS" >&2 || true; exit 1; }
