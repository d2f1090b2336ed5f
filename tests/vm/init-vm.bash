# Helpers for lethe-init's VM tests (sourced after tests/lib.sh; not a test itself):
# boot an image directory (vmlinuz, initramfs.img, cmdline, disk.img) under QEMU TCG
# with the serial console and QMP on FIFOs, wait for console lines, type commands.

# The image the tests boot: examples/minimal.yaml built by `lethe build` (through
# tests/lib.sh's image_dir), built again when lethe-init is newer than it, so that these
# tests always boot the lethe-init of this tree. With LETHE_INIT_HAND_IMAGE=1 they boot
# the hand-made image of tests/vm/init-test-image instead (no apt needed).
init_image() {
	local out
	if [ "${LETHE_INIT_HAND_IMAGE:-0}" = 1 ]; then
		out="$LETHE_BUILD/test-images/init-hand"
		mkdir -p "$LETHE_BUILD/test-images"
		(
			flock 9
			if [ ! -f "$out/cmdline" ] || [ "$LETHE_INIT" -nt "$out/cmdline" ] ||
				[ "$LETHE_SRC/tests/vm/init-test-image" -nt "$out/cmdline" ]; then
				"$LETHE_SRC/tests/vm/init-test-image" "$out" >/dev/null
			fi
		) 9>"$LETHE_BUILD/test-images/.lock" || fail "cannot make the hand-made test image"
		echo "$out"
		return
	fi
	out="$LETHE_BUILD/test-images/minimal"
	if [ -f "$out/SHA256SUMS" ] && [ "$LETHE_INIT" -nt "$out/SHA256SUMS" ]; then
		rm -f "$out/SHA256SUMS"
	fi
	# (name= works around image_dir's `local name=$1 out=...$name` under set -u)
	name=minimal image_dir minimal 2>"$TMP/build.log" ||
		{ tail -n 20 "$TMP/build.log" >&2; fail "cannot build examples/minimal.yaml"; }
}

need_vm() {
	need_cmd qemu-system-x86_64 mkfs.erofs veritysetup sfdisk cpio busybox
	[ -x "$LETHE_INIT" ] || skip "no lethe-init at '$LETHE_INIT'"
	# A sanitizer build links lethe-init dynamically: it cannot be an initramfs' /init.
	need_cmd readelf
	! readelf -l "$LETHE_INIT" | grep -q 'INTERP' || skip "lethe-init is not static (sanitizer build)"
}

# vm_start IMGDIR DISK CMDLINE [QEMU ARGS...]: boot in the background (no_timer_check
# added: on a busy host TCG's timer can fail the kernel's IO-APIC check, a panic). The console goes
# to $TMP/serial.log; vm_send types into it; QMP is at $TMP/qmp.{in,out}.
vm_start() {
	local img=$1 disk=$2 cmdline=$3
	shift 3
	rm -f "$TMP"/serial.{in,out} "$TMP"/qmp.{in,out}
	mkfifo "$TMP/serial.in" "$TMP/serial.out" "$TMP/qmp.in" "$TMP/qmp.out"
	: >"$TMP/serial.log"
	qemu-system-x86_64 -accel tcg -m "${VM_MEM:-512}" -smp 1 -display none -no-reboot \
		-no-shutdown -nodefaults -kernel "$img/vmlinuz" -initrd "$img/initramfs.img" \
		-append "$cmdline no_timer_check" \
		-drive "file=$disk,if=virtio,format=raw,readonly=on" \
		-chardev "pipe,id=con,path=$TMP/serial" -serial chardev:con \
		-chardev "pipe,id=qmp,path=$TMP/qmp" -mon chardev=qmp,mode=control \
		"$@" >"$TMP/qemu.log" 2>&1 &
	VM_PID=$!
	on_exit "kill $VM_PID 2>/dev/null; wait $VM_PID 2>/dev/null"
	cat "$TMP/serial.out" >>"$TMP/serial.log" &
	cat "$TMP/qmp.out" >>"$TMP/qmp.log" &
	exec 7>"$TMP/serial.in" 8>"$TMP/qmp.in"
	printf '{"execute":"qmp_capabilities"}\n' >&8
}

# vm_wait REGEX SECONDS: wait until the console shows a line matching REGEX.
vm_wait() {
	local re=$1 t=$2 i
	for ((i = 0; i < t * 10; i++)); do
		grep -Eq -- "$re" "$TMP/serial.log" && return 0
		kill -0 "$VM_PID" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 30 "$TMP/serial.log" >&2
	fail "no console line matching '$re' after $t s"
}

# vm_send TEXT: type one line into the console.
vm_send() { printf '%s\n' "$*" >&7; }

# vm_qmp JSON: one QMP command.
vm_qmp() { printf '%s\n' "$*" >&8; }

vm_kill() {
	kill "$VM_PID" 2>/dev/null || true
	wait "$VM_PID" 2>/dev/null || true
}
