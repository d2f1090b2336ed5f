# Shared by the A/B VM tests (not a test itself): QEMU through OVMF on one raw disk image
# that persists across reboots, its console appended to a log. Each power-on is its own
# QEMU process (-no-reboot: a guest reboot ends it and the test powers on again), so
# every boot has its own bound and a hang in one is reported as that boot's.

# Seconds one power-on may take to reach its pattern or reboot; a boot takes 10-40 s
# under TCG, minutes on a loaded 2-core host.
: "${BOOT_S:=480}"

# vm_start DISK VARS LOG: power on in the background, the console appended to LOG;
# $VM_PID is QEMU.
vm_start() {
	qemu-system-x86_64 -accel tcg -machine q35 -m 512 -smp 1 -nodefaults -no-user-config \
		-display none -no-reboot \
		-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
		-drive if=pflash,format=raw,unit=1,file="$2" \
		-drive if=none,id=boot,format=raw,file="$1" \
		-device virtio-blk-pci,drive=boot,bootindex=1 \
		-chardev file,id=con,path="$3",append=on -serial chardev:con \
		</dev/null >>"$3.qemu" 2>&1 &
	VM_PID=$!
	on_exit "kill -9 $VM_PID 2>/dev/null || true"
}

# vm_kill: power off hard (SIGKILL), as a power cut.
vm_kill() {
	kill -9 "$VM_PID" 2>/dev/null || true
	wait "$VM_PID" 2>/dev/null || true
}

_vm_seen() { tr -d '\r' <"$1" | grep -Eq -- "$2"; }
_vm_tail() { tail -n 40 "$1" | tr -d '\r' >&2; }

# vm_boot_until DISK VARS LOG PATTERN MAX: power on, and again after each reboot of the
# guest, until the console shows PATTERN (ERE), then power off hard. Fails when a
# power-on neither shows PATTERN nor reboots within BOOT_S, when QEMU fails, or when
# PATTERN has not come after MAX power-ons. LOG starts empty.
vm_boot_until() {
	local disk=$1 vars=$2 log=$3 pattern=$4 max=$5 n=0 deadline rc
	: >"$log"
	: >"$log.qemu"
	while [ "$n" -lt "$max" ]; do
		n=$((n + 1))
		vm_start "$disk" "$vars" "$log"
		deadline=$((SECONDS + BOOT_S))
		while kill -0 "$VM_PID" 2>/dev/null; do
			_vm_seen "$log" "$pattern" && { vm_kill; return 0; }
			[ $SECONDS -lt $deadline ] || {
				_vm_tail "$log"
				fail "power-on $n: neither '$pattern' nor a reboot within $BOOT_S s"
			}
			sleep 1
		done
		rc=0
		wait "$VM_PID" || rc=$?
		_vm_seen "$log" "$pattern" && return 0
		[ "$rc" -eq 0 ] || { cat "$log.qemu" >&2; fail "power-on $n: QEMU exited $rc"; }
	done
	_vm_tail "$log"
	fail "no '$pattern' after $max power-ons"
}

# boots LOG: how many times the kernel was started (systemd-stub's line, once a boot).
boots() { tr -d '\r' <"$1" | grep -c "EFI stub: " || true; }
# booted_hashes LOG: the root hash of each boot that reached stage 1's verification.
booted_hashes() { tr -d '\r' <"$1" | sed -n 's/.*lethe-init: root verified: \([0-9a-f]*\).*/\1/p'; }
