#!/usr/bin/env bash
# lethe update of the minimal image into slot B of an installed disk image, against
# the floor of a verified write: dd of the same bytes (rootfs.erofs, rootfs.verity and
# the UKI lethe.efi, conv=fsync) plus `veritysetup verify` of what was written. Best of
# RUNS each (the two alternate), by wall time and by CPU time (user + system, children
# included); prints the ratios (goal <= 1.3). Slot A holds a small synthetic release of
# the same image name, older version, so that the update is a real one.
# Same bytes, same cache state: the release's files are in the page cache for both (read
# once before the first run); both write over files that earlier runs already allocated
# (lethe: slot B of the disk image; the floor: conv=notrunc into its own three files);
# and both read back what they wrote from the disk, not from the page cache: lethe
# update drops the cache of what it wrote before it reads it back, and the floor drops
# the cache of root and verity (dd iflag=nocache count=0, i.e. POSIX_FADV_DONTNEED)
# before veritysetup reads them. (Without that the floor verified its own page cache,
# a read of RAM where lethe's is a read of the disk.)
# Usage: bench/update.sh BUILD_DIR   (RUNS=3; LETHE_RUN_IMAGE=DIR for another release)
set -euo pipefail
build=$(cd "${1:?usage: bench/update.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
lethe=$build/src/lethe/lethe
runs=${RUNS:-3}
for c in veritysetup objcopy objdump mcopy mkfs.vfat /usr/bin/time; do
	command -v "$c" >/dev/null || { echo "update bench: '$c' missing, skipped" >&2; exit 0; }
done
key=$build/test-key/lethe.key
[ -f "$key" ] || { mkdir -p "${key%/*}"; "$lethe" keygen -W -p "${key%.key}.pub" -s "$key" >/dev/null; }
rel=${LETHE_RUN_IMAGE:-$build/test-images/minimal}
if [ ! -f "$rel/lethe.efi" ]; then
	echo "update: building examples/minimal.yaml into $rel"
	"$lethe" build --quiet "$src/examples/minimal.yaml" -o "$rel" --key "$key" >/dev/null
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/lethe-bench-update.XXXXXX")
trap 'rm -rf "$dir"' EXIT
id=$(sed -n 's/^IMAGE_ID="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' <(objcopy -O binary --only-section=.osrel "$rel/lethe.efi" /dev/stdout))

# Slot A: a 1 MiB synthetic release of the same image, version 0.0.0.
a=$dir/a
mkdir "$a"
head -c 1M /dev/urandom >"$a/rootfs.erofs"
"$lethe" verity format "$a/rootfs.erofs" "$a/rootfs.verity" --root-hash-file "$a/roothash" >/dev/null
printf 'lethe.roothash=%s' "$(tr -d '\n' <"$a/roothash")" >"$a/cmdline"
printf 'IMAGE_ID=%s\nIMAGE_VERSION=0.0.0\n' "$id" >"$dir/osrel"
stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
vma=$(objdump -h "$stub" | awk '$1 ~ /^[0-9]+$/ { e = strtonum("0x" $4) + strtonum("0x" $3) }
	END { printf "0x%x", int((e + 8191) / 4096) * 4096 }')
objcopy --add-section .osrel="$dir/osrel" --change-section-vma .osrel="$vma" \
	--add-section .cmdline="$a/cmdline" --change-section-vma .cmdline=$(printf '0x%x' $((vma + 4096))) \
	"$stub" "$a/lethe.efi"
(cd "$a" && "$lethe" sums -o SHA256SUMS rootfs.erofs rootfs.verity roothash cmdline lethe.efi >/dev/null &&
	"$lethe" sign -q -s "$key" SHA256SUMS)
"$lethe" install "$a" "$dir/disk.img" -p "${key%.key}.pub" -q

bytes=$(($(stat -c %s "$rel/rootfs.erofs") + $(stat -c %s "$rel/rootfs.verity") + $(stat -c %s "$rel/lethe.efi")))
echo "update: $(basename "$rel") ($((bytes >> 10)) KiB of root, verity and UKI) into slot B of $dir/disk.img"
# "WALL CPU" of one command (CPU: user + system, with its children).
t() { /usr/bin/time -f '%e %U %S' "$@" 2>&1 >/dev/null | tail -n1 | awk '{ printf "%s %.2f\n", $1, $2 + $3 }'; }
best() { sort -g -k"$1" | head -n1 | cut -d' ' -f"$1"; }
floor="dd if='$rel/rootfs.erofs' of='$dir/root.peer' bs=1M conv=fsync,notrunc status=none &&
		dd if='$rel/rootfs.verity' of='$dir/verity.peer' bs=1M conv=fsync,notrunc status=none &&
		dd if='$rel/lethe.efi' of='$dir/uki.peer' bs=1M conv=fsync,notrunc status=none &&
		dd if='$dir/root.peer' iflag=nocache count=0 status=none &&
		dd if='$dir/verity.peer' iflag=nocache count=0 status=none &&
		veritysetup verify '$dir/root.peer' '$dir/verity.peer' '$(cat "$rel/roothash")'"
cat "$rel/rootfs.erofs" "$rel/rootfs.verity" "$rel/lethe.efi" "$rel/cmdline" "$rel/SHA256SUMS" >/dev/null
lt=() pt=()
for ((r = 0; r < runs; r++)); do
	lt+=("$(t "$lethe" update "$rel" --device "$dir/disk.img" -p "${key%.key}.pub" -q)")
	pt+=("$(t sh -c "$floor")")
done
echo "update: each run, wall/CPU s: lethe $(printf '%s\n' "${lt[@]}" | tr ' ' / | xargs); floor $(printf '%s\n' "${pt[@]}" | tr ' ' / | xargs)"
lw=$(printf '%s\n' "${lt[@]}" | best 1) lc=$(printf '%s\n' "${lt[@]}" | best 2)
pw=$(printf '%s\n' "${pt[@]}" | best 1) pc=$(printf '%s\n' "${pt[@]}" | best 2)
echo "update: lethe update ${lw} s wall, ${lc} s CPU; dd + veritysetup verify ${pw} s wall, ${pc} s CPU (best of $runs)"
awk -v l="$lw" -v p="$pw" -v lc="$lc" -v pc="$pc" 'BEGIN {
	printf "update: ratio lethe/floor %.2f by wall time (goal <= 1.3), %.2f by CPU time\n", (p > 0 ? l / p : 0), (pc > 0 ? lc / pc : 0) }'
