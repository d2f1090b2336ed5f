#!/usr/bin/env bash
# An unprivileged user cannot freeze the system by filling RAM (issue 10.5): as 'user'
# of examples/minimal.yaml, dd fills /tmp and /dev/shm until "No space left on device"
# and empty files fill /tmp's inodes; the system then still runs commands, and `lethe poweroff`
# still wipes and powers off. Control: each write stops at about the bound that
# <lethe/contract.h> gives (a percentage of MemTotal), so the bound is what stopped it.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/vm/init-vm.bash"
need_vm
contract="$LETHE_SRC/include/lethe/contract.h"
def() { sed -n "s/^#define LETHE_TMPFS_$1[[:space:]]*\"\\([0-9]*\\)%*\".*/\\1/p" "$contract"; }
tmp_pct=$(def TMP_SIZE) shm_pct=$(def SHM_SIZE) tmp_inodes=$(def TMP_INODES)
[ -n "$tmp_pct" ] && [ -n "$shm_pct" ] && [ -n "$tmp_inodes" ] ||
	fail "no tmpfs defaults in $contract"
img=$(init_image)
VM_MEM=512 vm_start "$img" "$img/disk.img" "$(cat "$img/cmdline")"
vm_wait "lethe-init: stage 2 ready" 300
sleep 1
vm_send "dmesg -n 1; echo MEM \$(sed -n 's/^MemTotal: *\\([0-9]*\\) kB/\\1/p' /proc/meminfo)"
vm_wait "^MEM [0-9]+" 60
vm_send "sed 's/^/MOUNT /' /proc/mounts | grep ' tmpfs '; echo MOUNTS-DONE"
vm_wait "^MOUNTS-DONE" 60
# (su from root asks for no password; the accounts are locked. The image has busybox
# without applet links: a link named sh in /run makes it a shell for su.)
vm_send "ln -sf /bin/busybox /run/sh; su -s /run/sh user -c 'id -u; for f in /tmp/fill /dev/shm/fill; do dd if=/dev/zero of=\$f bs=64k 2>&1 | grep -o \"No space left on device\" | sed \"s|^|DD \$f |\"; echo SIZE \$f \$(wc -c <\$f); done; i=0; while true >/tmp/i\$i 2>/dev/null; do i=\$((i+1)); done; echo FILES \$i; echo USER-DONE'"
vm_wait "^USER-DONE" 600
# Still answers: a new process, a file in /run, the audit's report.
vm_send 'echo ALIVE-$((6*7)) $(ls /run/lethe/audit.json)'
vm_wait "^ALIVE-42 /run/lethe/audit.json" 120
vm_send 'lethe poweroff; echo POWEROFF-RC=$?'
vm_wait "lethe-init: memory wiped, powering off" 180
vm_kill
log=$(tr -d '\r' <"$TMP/serial.log")
grep -qx 1000 <<<"$log" || fail "the writer was not the unprivileged user"
grep -q '^POWEROFF-RC=[1-9]' <<<"$log" && fail "lethe poweroff failed: $(grep 'refusing\|POWEROFF-RC' <<<"$log")"
mem_kb=$(sed -n 's/^MEM \([0-9]*\)$/\1/p' <<<"$log")
# check PATH PERCENT: dd stopped with ENOSPC within 5% of PERCENT% of MemTotal (tmpfs
# takes the percentage of all RAM pages, a little more than MemTotal).
check() {
	local f=$1 pct=$2 got want
	grep -qx "DD $f No space left on device" <<<"$log" || fail "dd into $f did not end with 'No space left on device'"
	got=$(sed -n "s|^SIZE $f \\([0-9]*\\)$|\\1|p" <<<"$log")
	want=$((mem_kb * 1024 / 100 * pct))
	note "$f: $got bytes written, bound ${pct}% of MemTotal = $want"
	[ -n "$got" ] && [ "$got" -ge $((want * 95 / 100)) ] && [ "$got" -le $((want * 110 / 100)) ] ||
		fail "$f took '$got' bytes, expected about $want (${pct}% of RAM)"
}
check /tmp/fill "$tmp_pct"
check /dev/shm/fill "$shm_pct"
# The two that stage 1 mounted and stage 2 remounted (no user can write there in this
# image) carry their bounds too.
for m in "/run/lethe/overlay $(def ROOT_INODES)" "/run $(def RUN_INODES)"; do
	set -- $m
	grep -Eq "^MOUNT tmpfs $1 tmpfs .*,size=[0-9]+k,nr_inodes=$2(,|$)" <<<"$log" ||
		fail "$1 is not bounded: $(grep "^MOUNT tmpfs $1 " <<<"$log")"
done
files=$(sed -n 's/^FILES \([0-9]*\)$/\1/p' <<<"$log")
note "/tmp: $files empty files, bound $tmp_inodes inodes"
[ -n "$files" ] && [ "$files" -ge $((tmp_inodes - 16)) ] && [ "$files" -lt "$tmp_inodes" ] ||
	fail "/tmp took '$files' files, expected just under $tmp_inodes"
echo "tmpfs-full: /tmp and /dev/shm full as 'user' (ENOSPC at their bounds), the system answered and powered off with the wipe"
