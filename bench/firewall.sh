#!/usr/bin/env bash
# Firewall: `lethe firewall apply` (spec -> ruleset -> libnftables, one transaction) vs
# `nft -f` of the same transaction already rendered, and `lethe firewall check` vs
# `nft list table inet lethe` piped into diff, on a spec of 500 allow rules, in a network
# namespace of its own. Best of RUNS (default 10) wall-clock times; ratio > 1: lethe is
# faster. Needs root (network namespaces).
# Usage: bench/firewall.sh [BUILD_DIR]
set -euo pipefail
build=${1:-${LETHE_BUILD:-build}}
lethe=$(realpath "$build/src/lethe/lethe")
[ "$(id -u)" -eq 0 ] || { echo "firewall.sh: needs root" >&2; exit 77; }
command -v nft >/dev/null || { echo "firewall.sh: 'nft' is not installed" >&2; exit 77; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/lethe-bench-firewall.XXXXXX")
ns=lethe-bench-fw-$$
ip netns add "$ns" || { echo "firewall.sh: cannot create a network namespace" >&2; exit 77; }
trap 'ip netns del "$ns"; rm -rf "$dir"' EXIT
cd "$dir"

rules=500
{
	printf 'name: bench\nversion: "1"\npackages: [busybox-static]\nfirewall:\n  in:\n    allow:\n'
	for ((i = 0; i < rules; i++)); do
		printf '      - { proto: tcp, port: %d, from: 198.51.%d.%d }\n' \
			$((1000 + i)) $((i / 250)) $((i % 250 + 1))
	done
	printf '  out:\n    allow:\n      - { proto: udp, port: 53 }\n'
} >spec.yaml
"$lethe" firewall show spec.yaml >table.nft
{ printf 'add table inet lethe\ndelete table inet lethe\n'; cat table.nft; } >tx.nft

runs=${RUNS:-10}
ms() { # CMD...: prints the wall-clock milliseconds it took
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}
nft_check() { ip netns exec "$ns" nft list table inet lethe | diff -q table.nft - >/dev/null; }
: >results
for ((i = 0; i < runs; i++)); do
	echo "lethe-apply $(ms ip netns exec "$ns" "$lethe" firewall apply -q spec.yaml)" >>results
	echo "nft-apply $(ms ip netns exec "$ns" nft -f tx.nft)" >>results
	echo "lethe-check $(ms ip netns exec "$ns" "$lethe" firewall check -q spec.yaml)" >>results
	echo "nft-check $(ms nft_check)" >>results
done
best() { awk -v n="$1" '$1 == n { print $2 }' results | sort -n | head -n1; }
ratio() { awk -v l="$1" -v m="$2" 'BEGIN { if (l == 0) l = 0.5; printf "%.2f", m / l }'; }

echo "firewall: $rules allow rules, in a network namespace, best of $runs (wall ms)"
printf '%-6s %8s %8s %6s\n' "" "lethe" "nft" "ratio"
for op in apply check; do
	l=$(best lethe-$op)
	m=$(best nft-$op)
	printf '%-6s %8s %8s %6s\n' "$op" "$l" "$m" "$(ratio "$l" "$m")"
done
echo "(apply: lethe parses and validates the spec and renders the ruleset too; check: lethe"
echo " renders, lists through libnftables and compares per rule, nft lists and diff compares text)"
