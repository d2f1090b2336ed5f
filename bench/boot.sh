#!/usr/bin/env bash
# Boot time under QEMU TCG: the default image with `lethe run`, from kernel start to
# "lethe-init: stage 2 ready" (the guest's uptime, printed by init), lethe-init's share
# (from the kernel's "Run /init" timestamp to ready), against the peer: the same kernel
# and cmdline with a bare busybox initramfs whose /init only prints its uptime. Then the
# sizes of what boots. Goals: init's share under 10% of the boot; vmlinuz + initramfs +
# disk.img under 40 MB. Usage: bench/boot.sh BUILD_DIR (RUNS=3; LETHE_RUN_IMAGE=DIR to
# time an image built elsewhere).
set -euo pipefail
build=$(cd "${1:?usage: bench/boot.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
lethe=$build/src/lethe/lethe
runs=${RUNS:-3}
for c in qemu-system-x86_64 cpio gzip busybox; do
	command -v "$c" >/dev/null || { echo "boot bench: '$c' missing, skipped" >&2; exit 0; }
done
dir=$(mktemp -d "${TMPDIR:-/tmp}/lethe-bench-boot.XXXXXX")
trap 'rm -rf "$dir"' EXIT

out=${LETHE_RUN_IMAGE:-$build/bench-boot}
if [ -z "${LETHE_RUN_IMAGE:-}" ]; then
	echo "boot: building examples/minimal.yaml into $out"
	"$lethe" build --quiet "$src/examples/minimal.yaml" -o "$out" >/dev/null
fi

# One Lethe boot: the serial log until the ready marker; then the guest is stopped.
lethe_boot() { # LOG
	local log=$1 pid i
	: >"$log"
	"$lethe" run "$out" --quiet --timeout 300 --serial-log "$log" --exec 'true' \
		>/dev/null 2>&1 </dev/null &
	pid=$!
	for ((i = 0; i < 3000; i++)); do
		grep -q 'lethe-init: stage 2 ready' "$log" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	grep -q 'lethe-init: stage 2 ready' "$log" || { tail -n 20 "$log" >&2; echo "boot bench: no ready marker" >&2; exit 1; }
}

# The peer: same kernel and cmdline, a busybox /init that prints its uptime and powers off.
mkdir -p "$dir/bare/bin" "$dir/bare/proc" "$dir/bare/dev"
cp "$(command -v busybox)" "$dir/bare/bin/busybox"
printf '#!/bin/busybox sh\n/bin/busybox mount -t proc proc /proc\necho "bare-init ready (uptime $(/bin/busybox cut -d" " -f1 /proc/uptime) s)"\n/bin/busybox poweroff -f\n' >"$dir/bare/init"
chmod +x "$dir/bare/init"
(cd "$dir/bare" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -9n) >"$dir/bare.img"
bare_boot() { # LOG
	timeout 300 qemu-system-x86_64 -nodefaults -no-user-config -accel tcg -m 512 -smp 1 \
		-display none -no-reboot -nic none -kernel "$out/vmlinuz" -initrd "$dir/bare.img" \
		-append "$(cat "$out/cmdline")" -serial "file:$1" </dev/null >/dev/null 2>&1 || true
}

uptime_of() { sed -n "s/.*$2 (uptime \([0-9.]*\) s).*/\1/p" "$1" | head -n1; }
init_start() { sed -n 's/^\[ *\([0-9.]*\)\] Run \/init as init process.*/\1/p' "$1" | head -n1; }
best() { sort -g | head -n1; }

for ((r = 0; r < runs; r++)); do
	lethe_boot "$dir/lethe.log"
	ready=$(uptime_of "$dir/lethe.log" 'lethe-init: stage 2 ready')
	start=$(init_start "$dir/lethe.log")
	started=$(uptime_of "$dir/lethe.log" 'lethe-init: services started')
	echo "$ready $start $started" >>"$dir/lethe.times"
	bare_boot "$dir/bare.log"
	uptime_of "$dir/bare.log" 'bare-init ready' >>"$dir/bare.times"
	echo "run $((r + 1)): lethe ready at $ready s (init started at $start s), bare busybox init at $(tail -n1 "$dir/bare.times") s"
done
read -r ready start started < <(sort -g "$dir/lethe.times" | head -n1)
bare=$(best <"$dir/bare.times")
size() { stat -c %s "$out/$1"; }
mb() { awk -v b="$1" 'BEGIN{printf "%.1f MB", b / 1e6}'; }
boot_bytes=$(($(size vmlinuz) + $(size initramfs.img) + $(size disk.img)))
awk -v ready="$ready" -v start="$start" -v started="$started" -v bare="$bare" 'BEGIN {
	printf "boot (best of runs): kernel start -> stage 2 ready %.2f s; lethe-init %.2f s (%.0f%% of the boot, goal < 10%%)\n", ready, ready - start, 100 * (ready - start) / ready
	printf "without the boot audit (to \"services started\" at %.2f s): lethe-init %.2f s (%.0f%%)\n", started, started - start, 100 * (started - start) / started
	printf "peer: same kernel, bare busybox /init ready at %.2f s; ratio lethe/bare %.2f\n", bare, ready / bare
}'
echo "sizes: vmlinuz $(mb "$(size vmlinuz)"), initramfs.img $(mb "$(size initramfs.img)"), rootfs.erofs $(mb "$(size rootfs.erofs)"), rootfs.verity $(mb "$(size rootfs.verity)"), disk.img $(mb "$(size disk.img)")"
echo "bootable (vmlinuz + initramfs.img + disk.img): $(mb $boot_bytes) (goal < 40 MB)"
