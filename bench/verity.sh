#!/usr/bin/env bash
# dm-verity format of a 1 GiB file: lethe (default threads), veritysetup, lethe with one
# thread, and the ceiling, `openssl speed -evp sha256` at 4 KiB. Best of 3 runs each,
# from a warm page cache; the root hashes must be identical. Files go to /dev/shm when it
# has room, so that a busy disk (fsync of the hash file) does not blur the hashing speed.
# Usage: bench/verity.sh BUILD_DIR   (SIZE_MIB=1024 RUNS=3 BENCH_DIR=/tmp to change)
set -euo pipefail

build=${1:?usage: bench/verity.sh BUILD_DIR}
lethe=$(realpath "$build/src/lethe/lethe")
size_mib=${SIZE_MIB:-1024}
runs=${RUNS:-3}
for c in veritysetup openssl /usr/bin/time; do
	command -v "$c" >/dev/null || { echo "verity bench: '$c' missing, skipped" >&2; exit 0; }
done

base=${BENCH_DIR:-}
if [ -z "$base" ]; then
	base=${TMPDIR:-/tmp}
	shm_free=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 {print $4}')
	[ "${shm_free:-0}" -gt $(((size_mib * 2 + 256) * 1024)) ] && base=/dev/shm
fi
dir=$(mktemp -d "$base/lethe-bench-verity.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir"
salt=$(printf 'bench' | sha256sum | cut -d' ' -f1)
uuid=0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9
bytes=$((size_mib << 20))

echo "verity: making a ${size_mib} MiB file of random data in $dir"
head -c "$bytes" /dev/urandom >data
cat data >/dev/null # warm the page cache: every tool reads it from memory

# best CMD...: run CMD $runs times; set wall/cpu/user (seconds) of the fastest run.
best() {
	local i w u s
	wall= cpu= user=
	for ((i = 0; i < runs; i++)); do
		rm -f tree
		/usr/bin/time -f '%e %U %S' -o t "$@" >out
		read -r w u s <t
		if [ -z "$wall" ] || awk -v a="$w" -v b="$wall" 'BEGIN{exit !(a < b)}'; then
			wall=$w
			user=$u
			cpu=$(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u + s}')
		fi
	done
	root=$(sed -n 's/^Root hash:[[:space:]]*//p' out)
}
mbs() { awk -v b="$bytes" -v t="$1" 'BEGIN{printf "%.0f", (t > 0 ? b / t / 1e6 : 0)}'; }

best "$lethe" verity format data tree --salt "$salt" --uuid "$uuid"
l_wall=$wall l_cpu=$cpu l_root=$root
best veritysetup format data tree --salt "$salt" --uuid "$uuid"
v_wall=$wall v_cpu=$cpu v_root=$root
best "$lethe" verity format data tree --salt "$salt" --uuid "$uuid" --threads 1
t1_wall=$wall t1_cpu=$cpu t1_user=$user t1_root=$root
# Verification too (what `lethe verify` of a medium does), of the last tree written.
cp tree tree.keep
best "$lethe" verity verify data tree.keep "$t1_root"
lv_wall=$wall lv_cpu=$cpu
best veritysetup verify data tree.keep "$t1_root"
vv_wall=$wall vv_cpu=$cpu
ossl=$(openssl speed -evp sha256 -bytes 4096 -seconds 3 2>/dev/null |
	awk '/^sha256/ {sub(/k$/, "", $2); printf "%.0f", $2 / 1000}')

[ -n "$l_root" ] && [ "$l_root" = "$v_root" ] && [ "$l_root" = "$t1_root" ] || {
	echo "verity: ROOT HASHES DIFFER: lethe $l_root, veritysetup $v_root, lethe -t1 $t1_root"
	exit 1
}

cores=$(nproc)
printf '%-34s %8s %8s %10s\n' "verity format, ${size_mib} MiB, 4 KiB" "wall s" "cpu s" "MB/s wall"
printf '%-34s %8s %8s %10s\n' "lethe ($cores threads)" "$l_wall" "$l_cpu" "$(mbs "$l_wall")"
printf '%-34s %8s %8s %10s\n' "veritysetup $(veritysetup --version | cut -d' ' -f2)" \
	"$v_wall" "$v_cpu" "$(mbs "$v_wall")"
printf '%-34s %8s %8s %10s\n' "lethe --threads 1" "$t1_wall" "$t1_cpu" "$(mbs "$t1_wall")"
printf '%-34s %8s %8s %10s\n' "lethe verity verify ($cores threads)" "$lv_wall" "$lv_cpu" \
	"$(mbs "$lv_wall")"
printf '%-34s %8s %8s %10s\n' "veritysetup verify" "$vv_wall" "$vv_cpu" "$(mbs "$vv_wall")"
printf '%-34s %8s %8s %10s\n' "openssl speed -evp sha256 (4 KiB)" "-" "-" "$ossl"
echo "root hash (all three): $l_root"
awk -v lw="$l_wall" -v vw="$v_wall" -v tw="$t1_wall" -v tc="$t1_cpu" -v tu="$t1_user" -v o="$ossl" \
	-v lvw="$lv_wall" -v vvw="$vv_wall" \
	-v b="$bytes" -v n="$cores" 'BEGIN {
	printf "ratio veritysetup/lethe (wall, %d threads): %.2fx (goal >= 2.5x on 2 cores)\n", n, vw / lw
	printf "ratio veritysetup/lethe verify (wall): %.2fx\n", vvw / lvw
	printf "lethe --threads 1 / openssl speed: %.2f by wall time, %.2f by CPU time (goal >= 0.90),\n",
		b / tw / 1e6 / o, b / tc / 1e6 / o
	printf "  %.2f by user time alone (the hashing; the rest is the kernel copying from the page cache)\n",
		b / tu / 1e6 / o
}'
