#!/usr/bin/env bash
# What a booted Lethe system must look like from inside: the root is the dm-verity device
# lethe-root, read-only EROFS, under an overlay whose upper layer is a tmpfs; no swap;
# module loading locked; every sysctl of include/lethe/hardening.h in force, and every
# hardening parameter on the kernel command line (lockdown actually on).
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/vm/init-vm.bash"
need_vm
img=$(init_image)
hdr="$LETHE_SRC/include/lethe/hardening.h"

# The expectations come from the one table that init applies.
mapfile -t sysctls < <(sed -n 's/^[[:space:]]*{[[:space:]]*"\([a-z0-9_/]*\)",[[:space:]]*"\([0-9]*\)"[[:space:]]*},.*/\1=\2/p' "$hdr")
mapfile -t params < <(sed -n '/lethe_hardening_params\[\]/,/^};/s/^[[:space:]]*{[[:space:]]*"[^"]*",[[:space:]]*"\([^"]*\)",.*/\1/p' "$hdr")
[ ${#sysctls[@]} -ge 10 ] && [ ${#params[@]} -ge 5 ] || fail "cannot read the tables of $hdr"

vm_start "$img" "$img/disk.img" "$(cat "$img/cmdline")"
vm_wait "lethe-init: stage 2 ready" 120
sleep 1
# One short line at a time (a console line is at most 4095 bytes); the output lines
# start with $P's value, which the echoed commands do not contain.
paths=""
for s in "${sysctls[@]}"; do paths+=" ${s%%=*}"; done
# Kernel messages must not cut the output's lines.
vm_send 'dmesg -n 1'
vm_send 'P=CHK; echo "$P-BEGIN"; while read -r l; do echo "$P MOUNT $l"; done </proc/mounts'
vm_send 'echo "$P SWAPS $(tail -n +2 /proc/swaps | wc -l)"; echo "$P MODULES_DISABLED $(cat /proc/sys/kernel/modules_disabled)"'
vm_send 'echo "$P DM $(cat /sys/block/dm-0/dm/name) $(cat /sys/block/dm-0/ro)"; echo "$P CMDLINE $(cat /proc/cmdline)"'
vm_send "for p in$paths; do echo \"\$P SYSCTL \$p \$(cat /proc/sys/\$p 2>/dev/null || echo missing)\"; done"
vm_send 'mount -t securityfs securityfs /sys/kernel/security 2>/dev/null; echo "$P LOCKDOWN $(cat /sys/kernel/security/lockdown)"'
vm_send 'touch /etc/session-file && echo "$P UPPER writable"; touch /run/lethe/ro/x 2>/dev/null || echo "$P LOWER read-only"'
vm_send 'echo "$P-END"'
vm_wait "^CHK-END" 60
vm_kill
out=$(tr -d '\r' <"$TMP/serial.log" | sed -n 's/^CHK //p')

# The root: overlay on /, lower = EROFS on the verity device, upper on a tmpfs.
grep -Eq '^MOUNT overlay / overlay .*lowerdir=/run/lethe/ro,upperdir=/run/lethe/overlay/upper' <<<"$out" ||
	fail "/ is not the overlay of the verified root: $(grep '^MOUNT [^ ]* / ' <<<"$out")"
grep -Eq '^MOUNT /dev/dm-0 /run/lethe/ro erofs ro[,\ ]' <<<"$out" ||
	fail "the verified root is not /dev/dm-0 mounted read-only as erofs: $(grep -E '^MOUNT [^ ]+ /run/lethe/ro ' <<<"$out")"
grep -Eq '^MOUNT tmpfs /run/lethe/overlay tmpfs ' <<<"$out" || fail "the overlay's upper layer is not on a tmpfs"
grep -qx 'DM lethe-root 1' <<<"$out" || fail "dm-0 is not the read-only lethe-root: $(grep '^DM' <<<"$out")"
grep -qx 'UPPER writable' <<<"$out" || fail "the overlay is not writable"
grep -qx 'LOWER read-only' <<<"$out" || fail "the verified root is writable"
# Nothing of the session may reach a disk: no swap, no disk file system but the root.
grep -qx 'SWAPS 0' <<<"$out" || fail "swap is active"
! grep -E '^MOUNT /dev/(vd|sd|nvme|loop)' <<<"$out" || fail "a disk is mounted directly"
grep -qx 'MODULES_DISABLED 1' <<<"$out" || fail "kernel.modules_disabled is not 1"

missing=0
for s in "${sysctls[@]}"; do
	p=${s%%=*} want=${s#*=}
	got=$(sed -n "s|^SYSCTL $p ||p" <<<"$out")
	if [ "$got" = missing ]; then
		note "sysctl $p does not exist in this kernel"
		missing=$((missing + 1))
		continue
	fi
	[ "$got" = "$want" ] || fail "sysctl $p is '$got', expected '$want'"
done
[ "$missing" -le 2 ] || fail "$missing hardening sysctls are missing"

cmd=$(sed -n 's/^CMDLINE //p' <<<"$out")
for p in "${params[@]}"; do
	grep -qw -- "$p" <<<"$cmd" || fail "kernel parameter '$p' is not on the command line"
done
grep -q '\[integrity\]' <<<"$out" || fail "lockdown is not integrity: $(grep '^LOCKDOWN' <<<"$out")"
echo "boot-hardening: ${#sysctls[@]} sysctls ($missing absent), ${#params[@]} cmdline parameters, verified read-only root, tmpfs overlay, no swap, modules locked"
