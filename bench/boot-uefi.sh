#!/usr/bin/env bash
# Boot time through UEFI under QEMU TCG: OVMF, systemd-boot and the UKI, from firmware
# start (QEMU started) to "lethe-init: stage 2 ready", for the minimal image, against
# the peer: OVMF + systemd-boot + a UKI of the same kernel and cmdline with a bare
# busybox initramfs whose /init only prints its uptime (what firmware, boot loader and
# kernel cost with no Lethe at all). Lethe's part is the kernel's uptime at ready (from
# the stub handing over to the kernel); the peer's the uptime its /init prints. Goal:
# Lethe's part within 1.5x of the peer's. Then the sizes of disk.img and lethe.iso for
# the minimal and the laptop image (goals < 40 MB and < 120 MB).
# Usage: bench/boot-uefi.sh BUILD_DIR (RUNS=2; MINIMAL=DIR, LAPTOP=DIR: images built
# elsewhere).
set -euo pipefail
build=$(cd "${1:?usage: bench/boot-uefi.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
lethe=$build/src/lethe/lethe
runs=${RUNS:-2}
code=/usr/share/OVMF/OVMF_CODE_4M.fd vars=/usr/share/OVMF/OVMF_VARS_4M.fd
stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
sdboot=/usr/lib/systemd/boot/efi/systemd-bootx64.efi
for c in qemu-system-x86_64 cpio gzip busybox objcopy objdump mkfs.vfat mcopy mmd sfdisk; do
	command -v "$c" >/dev/null || { echo "boot-uefi bench: '$c' missing, skipped" >&2; exit 0; }
done
for f in "$code" "$vars" "$stub" "$sdboot"; do
	[ -r "$f" ] || { echo "boot-uefi bench: '$f' missing, skipped" >&2; exit 0; }
done
dir=$(mktemp -d "${TMPDIR:-/tmp}/lethe-bench-boot-uefi.XXXXXX")
trap 'rm -rf "$dir"' EXIT

image() { # NAME VAR
	local out=${!2:-}
	if [ -z "$out" ]; then
		out=$build/bench-boot-uefi-$1
		echo "boot-uefi: building examples/$1.yaml into $out" >&2
		"$lethe" build --quiet "$src/examples/$1.yaml" -o "$out" >/dev/null
	fi
	echo "$out"
}
minimal=$(image minimal MINIMAL)
laptop=$(image laptop LAPTOP)

now() { date +%s.%N; }
# wait_for LOG REGEX PID: until REGEX is in LOG (or PID is gone); prints the wall time.
wait_for() {
	local log=$1 re=$2 pid=$3 i
	for ((i = 0; i < 6000; i++)); do
		grep -q "$re" "$log" 2>/dev/null && { now; return 0; }
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	tail -n 20 "$log" >&2
	echo "boot-uefi bench: no '$re'" >&2
	return 1
}

# One Lethe boot through firmware (lethe run, its own OVMF and variable store copy).
lethe_boot() { # LOG -> "WALL UPTIME"
	local log=$1 pid t0 t1
	: >"$log"
	t0=$(now)
	"$lethe" run "$minimal" --quiet --timeout 600 --serial-log "$log" --exec true \
		>/dev/null 2>&1 </dev/null &
	pid=$!
	t1=$(wait_for "$log" 'lethe-init: stage 2 ready' $pid) || exit 1
	kill $pid 2>/dev/null || true
	wait $pid 2>/dev/null || true
	echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}') $(sed -n 's/.*lethe-init: stage 2 ready (uptime \([0-9.]*\) s).*/\1/p' "$log" | head -n1)"
}

# The peer's UKI: the same stub, kernel and cmdline, sections after the stub's last one
# at 4 KiB-aligned addresses (docs/boot.md), a bare busybox initramfs.
mkdir -p "$dir/bare/bin" "$dir/bare/proc" "$dir/bare/dev"
cp "$(command -v busybox)" "$dir/bare/bin/busybox"
printf '#!/bin/busybox sh\n/bin/busybox mount -t proc proc /proc\necho "bare-init ready (uptime $(/bin/busybox cut -d" " -f1 /proc/uptime) s)"\n/bin/busybox poweroff -f\n' >"$dir/bare/init"
chmod +x "$dir/bare/init"
(cd "$dir/bare" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -9n) >"$dir/bare.img"
printf 'ID=bare\nNAME=bare\n' >"$dir/osrel"
printf '%s' "$(cat "$minimal/cmdline")" >"$dir/cmdline"
end=$(objdump -h "$stub" | awk '$1 ~ /^[0-9]+$/ { e = strtonum("0x" $4) + strtonum("0x" $3); if (e > m) m = e } END { print m }')
args=() vma=$(( (end + 4095) / 4096 * 4096 ))
for s in osrel:"$dir/osrel" cmdline:"$dir/cmdline" initrd:"$dir/bare.img" linux:"$minimal/vmlinuz"; do
	name=${s%%:*} file=${s#*:}
	args+=(--add-section ".$name=$file" --change-section-vma ".$name=$(printf '0x%x' $vma)")
	vma=$(( (vma + $(stat -c %s "$file") + 4095) / 4096 * 4096 ))
done
objcopy "${args[@]}" "$stub" "$dir/bare.efi"
# Its ESP and disk: systemd-boot finds the UKI in EFI/Linux, no menu.
printf 'timeout 0\neditor no\n' >"$dir/loader.conf"
mkfs.vfat -F 16 -C "$dir/esp.img" 32768 >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$dir/esp.img" ::/EFI ::/EFI/BOOT ::/EFI/Linux ::/loader
mcopy -i "$dir/esp.img" "$sdboot" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$dir/esp.img" "$dir/loader.conf" ::/loader/loader.conf
mcopy -i "$dir/esp.img" "$dir/bare.efi" ::/EFI/Linux/bare.efi
truncate -s 36M "$dir/bare-disk.img"
printf 'label: gpt\nstart=2048, size=65536, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\n' |
	sfdisk -q "$dir/bare-disk.img"
dd if="$dir/esp.img" of="$dir/bare-disk.img" bs=512 seek=2048 conv=notrunc status=none
bare_boot() { # LOG -> "WALL UPTIME"
	local log=$1 pid t0 t1
	: >"$log"
	cp "$vars" "$dir/vars.fd"
	t0=$(now)
	qemu-system-x86_64 -nodefaults -no-user-config -accel tcg -machine q35 -m 512 -smp 1 \
		-display none -no-reboot -nic none \
		-drive "if=pflash,format=raw,unit=0,readonly=on,file=$code" \
		-drive "if=pflash,format=raw,unit=1,file=$dir/vars.fd" \
		-drive "if=none,id=boot,format=raw,readonly=on,file=$dir/bare-disk.img" \
		-device virtio-blk-pci,drive=boot,bootindex=1 \
		-serial "file:$log" </dev/null >/dev/null 2>&1 &
	pid=$!
	t1=$(wait_for "$log" 'bare-init ready' $pid) || exit 1
	kill $pid 2>/dev/null || true
	wait $pid 2>/dev/null || true
	echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}') $(sed -n 's/.*bare-init ready (uptime \([0-9.]*\) s).*/\1/p' "$log" | head -n1)"
}

for ((r = 0; r < runs; r++)); do
	lethe_boot "$dir/lethe.log" >>"$dir/lethe.times"
	bare_boot "$dir/bare.log" >>"$dir/bare.times"
	read -r lw lu < <(tail -n1 "$dir/lethe.times")
	read -r bw bu < <(tail -n1 "$dir/bare.times")
	echo "run $((r + 1)): lethe firmware->ready ${lw} s (kernel->ready ${lu} s); peer firmware->/init ${bw} s (kernel->/init ${bu} s)"
done
read -r lw lu < <(sort -g -k2 "$dir/lethe.times" | head -n1)
read -r bw bu < <(sort -g -k2 "$dir/bare.times" | head -n1)
awk -v lw="$lw" -v lu="$lu" -v bw="$bw" -v bu="$bu" 'BEGIN {
	printf "boot through UEFI (best of runs): firmware start -> stage 2 ready %.2f s (peer %.2f s, ratio %.2f)\n", lw, bw, lw / bw
	printf "Lethe part (kernel hand-over -> ready): %.2f s; peer (kernel -> bare /init) %.2f s; ratio %.2f (goal <= 1.5)\n", lu, bu, lu / bu
	printf "firmware + systemd-boot + stub before the kernel: lethe %.2f s, peer %.2f s\n", lw - lu, bw - bu
}'
mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN{printf "%.1f MB", b / 1e6}'; }
echo "sizes: minimal disk.img $(mb "$minimal/disk.img"), lethe.iso $(mb "$minimal/lethe.iso") (goal < 40 MB); laptop disk.img $(mb "$laptop/disk.img"), lethe.iso $(mb "$laptop/lethe.iso") (goal < 120 MB)"
