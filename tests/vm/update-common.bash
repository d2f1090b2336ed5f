# Shared by tests/vm/update.sh (not a test itself): QEMU through OVMF on one raw disk
# image that persists across reboots (no snapshot=on, no -no-reboot), its console in a
# log, and waits for console lines.

# vm_start DISK VARS LOG: boot in the background; $VM_PID is QEMU.
vm_start() {
	: >"$3"
	qemu-system-x86_64 -accel tcg -machine q35 -m 512 -smp 1 -nodefaults -no-user-config \
		-display none \
		-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
		-drive if=pflash,format=raw,unit=1,file="$2" \
		-drive if=none,id=boot,format=raw,file="$1" \
		-device virtio-blk-pci,drive=boot,bootindex=1 \
		-chardev file,id=con,path="$3" -serial chardev:con \
		</dev/null >"$3.qemu" 2>&1 &
	VM_PID=$!
	on_exit "kill -9 $VM_PID 2>/dev/null || true"
}

# vm_wait LOG PATTERN SECONDS: until the console shows PATTERN (ERE); fails on timeout
# or when QEMU ends.
vm_wait() {
	local log=$1 pattern=$2 deadline=$((SECONDS + $3))
	while ! tr -d '\r' <"$log" | grep -Eq -- "$pattern"; do
		kill -0 "$VM_PID" 2>/dev/null || { tail -n 30 "$log" >&2; fail "QEMU ended before '$pattern'"; }
		[ $SECONDS -lt $deadline ] || { tail -n 40 "$log" | tr -d '\r' >&2; fail "no '$pattern' within $3 s"; }
		sleep 1
	done
}

# vm_kill: power off hard (SIGKILL), as a power cut.
vm_kill() {
	kill -9 "$VM_PID" 2>/dev/null || true
	wait "$VM_PID" 2>/dev/null || true
}

# boots LOG: how many times the kernel was started (systemd-stub's line, once a boot).
boots() { tr -d '\r' <"$1" | grep -c "EFI stub: " || true; }
# booted_hashes LOG: the root hash of each boot that reached stage 1's verification.
booted_hashes() { tr -d '\r' <"$1" | sed -n 's/.*lethe-init: root verified: \([0-9a-f]*\).*/\1/p'; }
