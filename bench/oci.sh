#!/usr/bin/env bash
# OCI transfer: `lethe push` vs `skopeo copy oci:LAYOUT docker://...` and `lethe pull`
# vs `skopeo copy docker://... oci:LAYOUT` of the same release artifact (the minimal
# release, every file a layer) with a docker-registry 2.8 on 127.0.0.1, best wall time of
# RUNS (default 3); prints times and ratios (> 1: lethe is faster). Each push goes to an
# empty registry (no blob is there yet); lethe pull also verifies the release (signature,
# sums, dm-verity, provenance), skopeo only checks digests.
# Usage: bench/oci.sh BUILD_DIR [RELEASE_DIR]
set -euo pipefail
build=$(realpath "${1:?usage: bench/oci.sh BUILD_DIR [RELEASE_DIR]}")
rel=${2:-$build/test-images/minimal}
lethe=$build/src/lethe/lethe
pub=$build/test-key/lethe.pub
for c in docker-registry skopeo curl; do
	command -v "$c" >/dev/null || { echo "oci.sh: '$c' is not installed" >&2; exit 77; }
done
[ -f "$rel/SHA256SUMS" ] && [ -f "$pub" ] ||
	{ echo "oci.sh: no release at $rel signed with $pub (run the interop tests first)" >&2; exit 77; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/lethe-bench-oci.XXXXXX")
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
regpid=
start_reg() { # a registry with empty storage on $port
	[ -z "$regpid" ] || { kill "$regpid" 2>/dev/null; wait "$regpid" 2>/dev/null || true; }
	rm -rf "$dir/storage"
	cat >"$dir/reg.yml" <<EOC
version: 0.1
log: { level: error }
storage: { filesystem: { rootdirectory: $dir/storage } }
http: { addr: 127.0.0.1:$port, secret: bench }
EOC
	docker-registry serve "$dir/reg.yml" >"$dir/reg.log" 2>&1 &
	regpid=$!
	local k
	for ((k = 0; k < 100; k++)); do
		curl -sf -o /dev/null "http://127.0.0.1:$port/v2/" && return 0
		sleep 0.1
	done
	echo "oci.sh: docker-registry did not start" >&2
	exit 1
}
trap '[ -z "$regpid" ] || kill $regpid 2>/dev/null; rm -rf "$dir"' EXIT
start_reg
reg=127.0.0.1:$port
bytes=$(du -cb "$rel"/* | tail -1 | cut -f1)

"$lethe" push -q "$rel" "$reg/seed/minimal:1" --insecure
skopeo copy -q --src-tls-verify=false "docker://$reg/seed/minimal:1" "oci:$dir/layout:1"

runs=${RUNS:-3}
: >"$dir/results"
t() { # NAME CMD...
	local name=$1 s e
	shift
	s=$(date +%s.%N)
	"$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
	e=$(date +%s.%N)
	echo "$name $(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }')" >>"$dir/results"
}
for ((i = 0; i < runs; i++)); do
	rm -rf "$dir/pl" "$dir/ps"
	t lethe-pull "$lethe" pull -q "$reg/seed/minimal:1" -o "$dir/pl" -p "$pub" --insecure
	t skopeo-pull skopeo copy -q --src-tls-verify=false "docker://$reg/seed/minimal:1" "oci:$dir/ps:1"
done
# Pushes each into an empty registry: skopeo's blob-info cache would otherwise mount
# blobs it knows from another repository instead of sending them.
for ((i = 0; i < runs; i++)); do
	start_reg
	t lethe-push "$lethe" push -q "$rel" "$reg/l$i/minimal:1" --insecure
	start_reg
	t skopeo-push skopeo copy -q --dest-tls-verify=false "oci:$dir/layout:1" "docker://$reg/s$i/minimal:1"
done
best() { awk -v n="$1" '$1 == n { print $2 }' "$dir/results" | sort -n | head -n1; }
echo "oci: $(basename "$rel") release, $((bytes / 1000000)) MB in $(wc -l <"$rel/SHA256SUMS") files + 2, loopback docker-registry 2.8, best of $runs"
printf '%-5s %10s %10s %7s\n' "" "lethe s" "skopeo s" "ratio"
for op in push pull; do
	l=$(best lethe-$op)
	s=$(best skopeo-$op)
	printf '%-5s %10s %10s %7s\n' "$op" "$l" "$s" "$(awk -v l="$l" -v s="$s" 'BEGIN { printf "%.2f", s / l }')"
done
