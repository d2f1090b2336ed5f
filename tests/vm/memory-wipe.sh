#!/usr/bin/env bash
# No session data stays in RAM after power-off. In the guest, a random 512-byte block
# repeated to 1 MiB is written to a file of /tmp (a tmpfs) and copied to / (the overlay,
# whose upper layer is a tmpfs);
# the system powers off; when lethe-init prints its last line, QEMU is stopped and all
# guest RAM saved (QMP pmemsave). With the image's cmdline (init_on_free=1) no whole copy
# of the block may be left. The control run, the same without init_on_free=1, must find
# many: it proves that the test can see the data when it is there.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/vm/init-vm.bash"
need_vm
need_cmd python3
img=$(init_image)
cmdline=$(cat "$img/cmdline")
mem_mb=384
grep -q 'init_on_free=1' <<<"$cmdline" || fail "the image's cmdline lacks init_on_free=1"

# run NAME CMDLINE POWEROFF: boot, write the pattern, power off with the command
# POWEROFF, dump RAM; prints the number of whole pattern blocks in the dump.
run() {
	local name=$1 line=$2 off=$3 hex
	VM_MEM=$mem_mb vm_start "$img" "$img/disk.img" "$line"
	vm_wait "lethe-init: stage 2 ready" 120
	sleep 1
	vm_send "dmesg -n 1"
	vm_send "cd /tmp && head -c 512 /dev/urandom >b && od -An -tx1 -v b | tr -d ' \\n' && echo && echo HEX-DONE"
	vm_wait "^HEX-DONE" 60
	hex=$(tr -d '\r' <"$TMP/serial.log" | grep -Eo '^[0-9a-f]{1024}$' | tail -n1)
	[ ${#hex} -eq 1024 ] || fail "$name: no pattern block on the console"
	printf '%s' "$hex" | python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read()))' >"$TMP/block"
	vm_send "cat b b b b b b b b >c8 && cat c8 c8 c8 c8 c8 c8 c8 c8 >c64 && cat c64 c64 c64 c64 c64 c64 c64 c64 >c512 && cat c512 c512 c512 c512 >secret && cp secret /secret && rm b c8 c64 c512 && sync && echo WROTE \$(cat secret /secret | wc -c)"
	vm_wait "^WROTE 2097152" 120
	vm_send "$off"
	vm_wait "lethe-init: memory wiped, powering off" 120
	vm_qmp '{"execute":"stop"}'
	vm_qmp "{\"execute\":\"pmemsave\",\"arguments\":{\"val\":0,\"size\":$((mem_mb << 20)),\"filename\":\"$TMP/mem\"}}"
	for _ in $(seq 600); do
		[ -f "$TMP/mem" ] && [ "$(stat -c %s "$TMP/mem")" -eq $((mem_mb << 20)) ] &&
			grep -c '"return"' "$TMP/qmp.log" 2>/dev/null | grep -qx 3 && break
		sleep 0.1
	done
	[ "$(stat -c %s "$TMP/mem" 2>/dev/null || echo 0)" -eq $((mem_mb << 20)) ] ||
		fail "$name: pmemsave wrote no full dump"
	vm_kill
	cp "$TMP/serial.log" "$TMP/$name.log"
	python3 - "$TMP/block" "$TMP/mem" <<'PY'
import sys
block = open(sys.argv[1], "rb").read()
mem = open(sys.argv[2], "rb").read()
assert len(block) == 512 and len(set(block)) > 16, "the pattern is not random"
print(mem.count(block))
PY
	rm -f "$TMP/mem" "$TMP/qmp.log"
}

note "control: without init_on_free=1"
control=$(run control "${cmdline/init_on_free=1/}" poweroff)
note "control: $control copies of the pattern block left in RAM"
[ "$control" -ge 100 ] || fail "control run found only $control copies: the test cannot see the data"

note "with the image's cmdline"
# (lethe poweroff where the image has the Lethe tools, busybox's otherwise)
wiped=$(run wiped "$cmdline" "lethe poweroff || poweroff")
note "wiped: $wiped copies of the pattern block left in RAM"
[ "$wiped" -eq 0 ] || fail "$wiped copies of the session's data are still in RAM after power-off"
echo "memory-wipe: 0 of 4096 blocks left (control: $control)"
