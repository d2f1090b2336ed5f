#!/usr/bin/env bash
# lethe update of the minimal image into slot B of an installed disk image, against
# the floor of a verified write: dd of the same bytes (rootfs.erofs, rootfs.verity and
# the UKI lethe.efi, conv=fsync) plus `veritysetup verify` of what was written. Best of RUNS each, warm
# page cache; prints the ratio (goal <= 1.3). Slot A holds a small synthetic release of
# the same image name, older version, so that the update is a real one.
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
[ -f "$key" ] || "$lethe" keygen -W -p "${key%.key}.pub" -s "$key" >/dev/null
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
t() { /usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -n1; }
best() { sort -g | head -n1; }
lt=() pt=()
for ((r = 0; r < runs; r++)); do
	lt+=("$(t "$lethe" update "$rel" --device "$dir/disk.img" -p "${key%.key}.pub" -q)")
	pt+=("$(t sh -c "dd if='$rel/rootfs.erofs' of='$dir/root.peer' bs=1M conv=fsync status=none &&
		dd if='$rel/rootfs.verity' of='$dir/verity.peer' bs=1M conv=fsync status=none &&
		dd if='$rel/lethe.efi' of='$dir/uki.peer' bs=1M conv=fsync status=none &&
		veritysetup verify '$dir/root.peer' '$dir/verity.peer' '$(cat "$rel/roothash")'")")
done
l=$(printf '%s\n' "${lt[@]}" | best)
p=$(printf '%s\n' "${pt[@]}" | best)
echo "update: lethe update ${l} s; dd + veritysetup verify ${p} s"
awk -v l="$l" -v p="$p" 'BEGIN { printf "update: ratio lethe/floor %.2f (goal <= 1.3)\n", (p > 0 ? l / p : 0) }'
