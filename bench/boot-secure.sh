#!/usr/bin/env bash
# Boot time under OVMF (QEMU TCG) with Secure Boot enforced and a swtpm TPM against the
# same image without either (issue 12): wall time of `lethe run --exec true` from start
# to the guest's power-off, alternating the two cases RUNS times in one run, and the
# ratio of the medians. The image is examples/minimal.yaml signed with a fresh key
# directory (lethe keygen --secure-boot), enrolled once (lethe run --sb-enroll-vars).
# Usage: bench/boot-secure.sh BUILD_DIR (RUNS=3; SIGNED=DIR VARS=FILE: time an image
# built with --sb-key and a store with its keys enrolled, instead of making both).
set -euo pipefail
build=$(cd "${1:?usage: bench/boot-secure.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
lethe=$build/src/lethe/lethe
runs=${RUNS:-3}
for c in qemu-system-x86_64 sbsign swtpm swtpm_setup; do
	command -v "$c" >/dev/null || { echo "boot-secure bench: '$c' missing, skipped" >&2; exit 0; }
done
[ -r /usr/share/OVMF/OVMF_CODE_4M.fd ] || { echo "boot-secure bench: no OVMF, skipped" >&2; exit 0; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/lethe-bench-sb.XXXXXX")
trap 'rm -rf "$dir"' EXIT

signed=${SIGNED:-$dir/signed}
vars=${VARS:-$dir/vars.fd}
if [ -z "${SIGNED:-}" ]; then
	"$lethe" keygen --secure-boot "$dir/keys" --quiet
	for name in signed enroll; do
		args=(--sb-key "$dir/keys")
		[ "$name" = enroll ] && args+=(--sb-enroll)
		echo "boot-secure: building examples/minimal.yaml ($name)"
		"$lethe" build --quiet "$src/examples/minimal.yaml" -o "$dir/$name" "${args[@]}" >/dev/null 2>&1
	done
	"$lethe" run "$dir/enroll" --quiet --sb-enroll-vars "$vars" --timeout 600 </dev/null >/dev/null 2>&1
fi

one() { # CASE: prints seconds
	local t0 t1
	t0=$(date +%s.%N)
	if [ "$1" = secure ]; then
		"$lethe" run "$signed" --quiet --timeout 900 --secure-boot --sb-vars "$vars" \
			--tpm --exec true >/dev/null 2>&1
	else
		"$lethe" run "$signed" --quiet --timeout 900 --exec true >/dev/null 2>&1
	fi
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
: >"$dir/plain" && : >"$dir/secure"
for ((i = 0; i < runs; i++)); do
	one plain >>"$dir/plain"
	one secure >>"$dir/secure"
done
p=$(median <"$dir/plain")
s=$(median <"$dir/secure")
printf 'boot-secure: OVMF boot to stage 2 and power-off, median of %d: plain %.1f s, Secure Boot + swtpm %.1f s, ratio %.2f\n' \
	"$runs" "$p" "$s" "$(echo "$s / $p" | bc -l)"
