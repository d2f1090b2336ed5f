#!/usr/bin/env bash
# Reboot to blessed (issue 14): an A/B image (boot.layout: ab, the health gate) installed
# on a disk image (slot a, 0.1), updated on the host to its next version (slot b,
# lethe-0.2+3.efi), then booted through OVMF + systemd-boot under TCG: the seconds
# from power-on to stage 2 and to `health: blessed`, against a power-on of the same
# disk before the update (slot a, blessed already: the boot itself, the floor). The
# difference is the health gate (health.settle, 30 s by default, and lethe audit) and the
# counted boot's rename on the ESP. One run each; TCG times vary by +-40% with load.
# Usage: bench/bless.sh BUILD_DIR   (needs the releases tests/vm/selfupdate.sh builds:
# test-images/selfupdate-a and -b, tests/vm/selfupdate-image.yaml.in at 0.1 and 0.2)
set -euo pipefail
build=$(cd "${1:?usage: bench/bless.sh BUILD_DIR}" && pwd)
lethe=$build/src/lethe/lethe
pub=$build/test-key/lethe.pub
a=$build/test-images/selfupdate-a b=$build/test-images/selfupdate-b
for c in qemu-system-x86_64 sfdisk mcopy mkfs.vfat; do
	command -v "$c" >/dev/null || { echo "bless bench: '$c' missing, skipped" >&2; exit 0; }
done
[ -r /usr/share/OVMF/OVMF_CODE_4M.fd ] || { echo "bless bench: no OVMF, skipped" >&2; exit 0; }
for r in "$a" "$b"; do
	[ -f "$r/lethe.efi" ] || { echo "bless bench: no release at $r (run tests/vm/selfupdate.sh first), skipped" >&2; exit 0; }
done
dir=$(mktemp -d "${TMPDIR:-/tmp}/lethe-bench-bless.XXXXXX")
vm=
trap '[ -z "$vm" ] || kill -9 "$vm" 2>/dev/null; rm -rf "$dir"' EXIT
"$lethe" install "$a" "$dir/disk.img" -p "$pub" -q
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$dir/vars.fd"

# power_on LOG PATTERN...: boot until each PATTERN (ERE) shows on the console, in order;
# prints the seconds from power-on to each; then powers off hard.
power_on() {
	local log=$1 t0 p deadline
	shift
	: >"$log"
	t0=$(date +%s%N)
	qemu-system-x86_64 -accel tcg -machine q35 -m 512 -smp 1 -nodefaults -no-user-config \
		-display none -no-reboot \
		-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
		-drive if=pflash,format=raw,unit=1,file="$dir/vars.fd" \
		-drive if=none,id=boot,format=raw,file="$dir/disk.img" \
		-device virtio-blk-pci,drive=boot,bootindex=1 \
		-chardev file,id=con,path="$log" -serial chardev:con </dev/null >/dev/null 2>&1 &
	vm=$!
	deadline=$((SECONDS + 900))
	for p in "$@"; do
		while ! tr -d '\r' <"$log" | grep -Eq -- "$p"; do
			kill -0 "$vm" 2>/dev/null && [ $SECONDS -lt $deadline ] ||
				{ tail -n 20 "$log" >&2; echo "bless bench: no '$p'" >&2; exit 1; }
			sleep 0.2
		done
		awk -v t="$(($(date +%s%N) - t0))" 'BEGIN { printf "%.1f ", t / 1e9 }'
	done
	echo
	kill -9 "$vm" 2>/dev/null || true
	wait "$vm" 2>/dev/null || true
	vm=
}

read -r plain _ < <(power_on "$dir/a.log" "lethe-init: stage 2 ready")
"$lethe" update "$b" --device "$dir/disk.img" -p "$pub" -q
read -r ready blessed _ < <(power_on "$dir/b.log" "lethe-init: stage 2 ready" \
	"health: blessed EFI/Linux/lethe-0\.2\+2-1\.efi")
settle=$(tr -d "\r" <"$dir/b.log" | sed -n "s/.*health: gate for .* services for \([0-9]*\) s.*/\1/p" | head -n1)
echo "bless: power-on to stage 2: slot a (blessed) ${plain} s, slot b (counted) ${ready} s"
echo "bless: power-on to blessed (slot b): ${blessed} s, of which the gate after stage 2 $(awk -v a="$blessed" -v b="$ready" 'BEGIN { printf "%.1f", a - b }') s${settle:+ (health.settle ${settle} s)}"
awk -v a="$ready" -v p="$plain" 'BEGIN { printf "bless: counted boot / plain boot to stage 2 = %.2f\n", a / p }'
