#!/usr/bin/env bash
# Delta updates (issue 18): the bytes `lethe pull --delta-from OLD/rootfs.erofs` fetches
# for the root image of a release that differs from OLD by one package, against the
# image's size (the goal: at most 20%), and against a whole pull, which is what Talos and
# Flatcar transfer; then with --delta-from OLD (the release), the UKI's bytes too and
# those of the files an update fetches. The release is served over HTTP on 127.0.0.1 by a server that counts
# the bytes of each answer; prints bytes, ratios and the time of each pull.
# Usage: bench/delta.sh [BUILD_DIR [OLD_RELEASE NEW_RELEASE]] (default: the minimal test
# image and minimal + libpopt0, which tests/interop/oci-delta.sh builds).
set -euo pipefail
build=$(realpath "${1:-${LETHE_BUILD:-build}}")
old=${2:-$build/test-images/minimal}
new=${3:-$build/test-images/minimal-plus-popt}
lethe=$build/src/lethe/lethe
pub=$build/test-key/lethe.pub
for r in "$old" "$new"; do
	[ -f "$r/SHA256SUMS" ] ||
		{ echo "delta.sh: no release at $r (run tests/interop/oci-delta.sh first)" >&2; exit 77; }
done
TMP=$(mktemp -d "${TMPDIR:-/tmp}/lethe-bench-delta.XXXXXX")
trap '[ ! -f "$TMP/.servers" ] || while read -r p; do kill "$p" 2>/dev/null; done <"$TMP/.servers"; rm -rf "$TMP"' EXIT
kill_at_exit() { echo "$1" >>"$TMP/.servers"; } # as tests/lib.sh: start_http runs in $(...)
fail() { echo "delta.sh: $*" >&2; exit 1; }
free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# The same server as the interop tests (Range, and the bytes of each answer counted).
eval "$(sed -n '/^start_http() {/,/^}/p' "$(dirname "$0")/../tests/interop/oci-common.bash")"
port=$(start_http "$new")
served() { awk -v p="/$1" '$1 == p { n += $3 } END { print n + 0 }' "$TMP/http.bytes"; }
total() { awk '{ n += $3 } END { print n + 0 }' "$TMP/http.bytes"; }
ms() { date +%s%N | cut -c1-13; }

size=$(stat -c %s "$new/rootfs.erofs")
t0=$(ms)
"$lethe" pull "http://127.0.0.1:$port/" -o "$TMP/whole" -p "$pub" --insecure -q
t1=$(ms)
whole_root=$(served rootfs.erofs) whole_all=$(total)
: >"$TMP/http.bytes"
t2=$(ms)
"$lethe" pull "http://127.0.0.1:$port/" -o "$TMP/delta" -p "$pub" --insecure -q \
	--delta-from "$old/rootfs.erofs"
t3=$(ms)
delta_root=$(served rootfs.erofs) delta_verity=$(served rootfs.verity) delta_all=$(total)
diff -r "$new" "$TMP/delta" >/dev/null || fail "the delta pull differs from the release"
ranges=$(awk '$1 == "/rootfs.erofs" && $2 == 206' "$TMP/http.bytes" | wc -l)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
echo "delta: root image $size bytes; whole pull fetched $whole_root of it ($((t1 - t0)) ms for the release)"
echo "delta: delta pull fetched $delta_root bytes of rootfs.erofs in $ranges ranges + $delta_verity of rootfs.verity (its index) ($((t3 - t2)) ms)"
echo "delta: (root + index) / image size = $(ratio $((delta_root + delta_verity)) "$size") (goal <= 0.200)"
echo "delta: root bytes, delta / whole = $(ratio "$delta_root" "$whole_root")"
echo "delta: the whole release: $delta_all of $whole_all bytes ($(ratio "$delta_all" "$whole_all"))"

# With the old release as the base, the UKI too: its kernel and initramfs from the old
# lethe.efi where SHA256SUMS says they are the same, the rest by range.
uki=$(stat -c %s "$new/lethe.efi")
: >"$TMP/http.bytes"
t4=$(ms)
"$lethe" pull "http://127.0.0.1:$port/" -o "$TMP/delta-dir" -p "$pub" --insecure -q --delta-from "$old"
t5=$(ms)
diff -r "$new" "$TMP/delta-dir" >/dev/null || fail "the delta pull from the old release differs"
uki_got=$(served lethe.efi)
echo "delta: lethe.efi ($uki bytes): whole pull fetched $uki, from the old release's UKI $uki_got ($(ratio "$uki_got" "$uki")) ($((t5 - t4)) ms for the release)"
# What lethe update fetches: root, verity, UKI, cmdline, the sums, their signature.
upd=$(awk '$1 ~ /^\/(rootfs\.erofs|rootfs\.verity|lethe\.efi|cmdline|roothash|SHA256SUMS|SHA256SUMS\.minisig)$/ { n += $3 } END { print n + 0 }' "$TMP/http.bytes")
echo "delta: an update's files (root, verity, UKI, cmdline, sums): $upd of $((size + uki)) bytes of root and UKI = $(ratio "$upd" $((size + uki))) (goal <= 0.200)"
