#!/usr/bin/env bash
# Signatures: `lethe sign` vs `minisign -S` and `lethe verify` vs `minisign -V` on the
# same 1 GiB file (prehashed, unencrypted keys, warm page cache), best of 3 runs each;
# prints times, ratios (> 1: lethe is faster) and peak memory (RSS, /usr/bin/time %M).
# RUNS (default 5) sets how many runs of each the best is taken from.
# Usage: bench/sign.sh BUILD_DIR [SIZE_MIB]
set -euo pipefail
build=${1:?usage: bench/sign.sh BUILD_DIR [SIZE_MIB]}
size_mib=${2:-1024}
lethe=$(realpath "$build/src/lethe/lethe")
for c in minisign /usr/bin/time; do
	command -v "$c" >/dev/null || { echo "sign.sh: '$c' is not installed" >&2; exit 77; }
done
dir=$(mktemp -d "${TMPDIR:-/tmp}/lethe-bench-sign.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir"

head -c $((size_mib << 20)) /dev/urandom >data
"$lethe" keygen -q -W -p l.pub -s l.key
minisign -G -W -p m.pub -s m.key >/dev/null
cat data >/dev/null # warm the cache for both

# The machine may be shared: runs alternate between the two tools (so both see the
# same load), and each figure is the best of RUNS. CPU time (user + system) is the
# figure least disturbed by other work; elapsed time is printed beside it.
runs=${RUNS:-5}
run() { # NAME CMD...: appends "NAME CPU ELAPSED RSS" to results
	local name=$1 u s e m
	shift
	/usr/bin/time -f '%U %S %e %M' -o t.out "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
	read -r u s e m <t.out
	echo "$name $(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }') $e $m" >>results
}
: >results
for ((i = 0; i < runs; i++)); do
	run lethe-sign "$lethe" sign -q -s l.key -x data.l data
	run minisign-sign minisign -S -s m.key -m data -x data.m
	run lethe-verify "$lethe" verify -q -p l.pub -x data.l data
	run minisign-verify minisign -Vm data -x data.m -p m.pub
done
# best NAME: "CPU ELAPSED RSS" of the run with the least CPU time
best() { awk -v n="$1" '$1 == n' results | sort -k2,2n | head -n1 | cut -d' ' -f2-; }
ratio() { awk -v l="$1" -v m="$2" 'BEGIN { if (l == 0) l = 0.005; printf "%.2f", m / l }'; }

echo "signatures: $size_mib MiB file, prehashed (BLAKE2b-512 + Ed25519), warm cache, best of $runs"
printf '%-7s %10s %10s %6s %10s %10s %12s %12s\n' "" "lethe cpu" "mini cpu" "ratio" \
	"lethe wall" "mini wall" "lethe RSS" "mini RSS"
for op in sign verify; do
	read -r lc le lm < <(best lethe-$op)
	read -r mc me mm < <(best minisign-$op)
	printf '%-7s %9ss %9ss %6s %9ss %9ss %8s KiB %8s KiB\n' "$op" "$lc" "$mc" \
		"$(ratio "$lc" "$mc")" "$le" "$me" "$lm" "$mm"
done
echo "(ratio = minisign CPU time / lethe CPU time; above 1.00 lethe is faster; load: $(cut -d" " -f1-3 /proc/loadavg))"
