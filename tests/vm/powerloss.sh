#!/usr/bin/env bash
# Power loss during `lethe update` on the running system (issue 14.5): the guest updates
# itself (as in selfupdate.sh: OVMF, one raw disk across power-ons, the release over
# HTTPS through guestfwd), and QEMU is SIGKILLed while the update is stopped
# (LETHE_UPDATE_KILL_AT=stop:WHAT, whose warning the test waits for on the console)
#  1. half-way through writing slot b's root,
#  2. half-way through writing b's verity tree,
#  3. with b's UKI on the ESP under its temporary name (flushed), before the rename
#     that arms it.
# Unlike tests/interop/update-power.sh (a process kill: the page cache survives), what
# the guest had not yet written to its disk is lost. After each cut a new QEMU powers
# on with the same disk and firmware variables: slot a boots (its root hash on the
# console; one boot a power-on, -no-reboot), not counted; `lethe status` in the guest
# and on the host (QEMU dead) says a good, booted and next, b empty, no armed (`+`)
# entry on the ESP, slot a's bytes unchanged. After 3. the temporary file, a UKI of
# the newer 0.2, is on the ESP while a boots: systemd-boot does not boot it. The
# control: in the fourth power-on the same update without the hook succeeds, arms b as
# lethe-0.2+3.efi and clears the temporary file; the power cut right after it returns,
# and the fifth power-on boots b, which passes its gate and is blessed. Five boots.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/vm/selfupdate-common.bash" # images, HTTPS server, guest console

su_publish next "$(test_key)"
su_serve
disk=$TMP/disk.img
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$TMP/vars.fd"
expect_ok "$LETHE" install "$va" "$disk" -p "$pub" --slot-size 64
a_sum=$(slot_sum "$disk" a)
nic="user,model=virtio-net-pci,restrict=on,$(su_fwd 443 "$port")"
n=0

# power_on [HASH PATTERN]: a new QEMU on the same disk and variables; the slot of root
# hash HASH (a) must boot, the console show PATTERN (a's boot is not counted), and its
# shell answer.
power_on() {
	local hash=${1:-$ha} pattern=${2:-"lethe-init: health: this boot is not counted"}
	n=$((n + 1))
	su_vm_start "$disk" "$TMP/vars.fd" "$TMP/console-$n.log" -no-reboot -nic "$nic"
	vm_wait "$pattern" $BOOT_S
	[ "$(boots "$log")" = "$hash" ] ||
		{ console_tail; fail "power-on $n: not the slot of $hash (root hash $(boots "$log"))"; }
	shell_ready "$n"
	send "busybox dmesg -n 1"
}

# status_guest TAG: `lethe status` in the guest, its lines on the console as "TAG: ...".
status_guest() {
	local rc
	rc=$(guest "$1" $CMD_S "lethe status >/tmp/st 2>&1; r=\$?; busybox sed 's/^/$1: /' /tmp/st; (exit \$r)")
	[ "$rc" = 0 ] || { console_tail; fail "power-on $n: lethe status in the guest exited $rc"; }
}
# a_good_next TAG: the status of TAG says a good, booted and next, and b empty.
a_good_next() {
	tr -d '\r' <"$log" | grep -Eq "^$1: slot a: good, version 0\.1, EFI/Linux/lethe-0\.1\.efi, root hash $ha \[booted\] \[boots next\]" &&
		tr -d '\r' <"$log" | grep -Eq "^$1: slot b: empty$" ||
		{ console_tail; fail "power-on $n: lethe status does not say a good, booted and next, b empty"; }
}

# cut_at POINT: the update in the guest, stopped at POINT; then the power cut.
cut_at() {
	local tag=cut$n
	send "LETHE_UPDATE_KILL_AT=stop:$1 lethe update --now; echo @$tag=\$?"
	vm_wait "warning: stopped at $1 \(LETHE_UPDATE_KILL_AT\)|^@$tag=[0-9]+" $CMD_S
	tr -d '\r' <"$log" | grep -q "warning: stopped at $1 " ||
		{ console_tail; fail "power-on $n: the update ended without stopping at $1"; }
	su_vm_kill
}

# after_cut POINT: on the host, QEMU dead: a's bytes, a good and next, b empty and
# without an entry, nothing armed.
after_cut() {
	[ "$(slot_sum "$disk" a)" = "$a_sum" ] || fail "$1: slot a changed"
	"$LETHE" status --device "$disk" --json >"$TMP/status.json" || fail "$1: lethe status --device"
	/usr/bin/python3 -c 'import json, sys
a, b = json.load(open(sys.argv[1]))["slots"]
assert a["state"] == "good" and a["next"] and a["root_hash"] == sys.argv[2], a
assert b["state"] == "empty" and b["entry"] is None, b' "$TMP/status.json" "$ha" ||
		{ cat "$TMP/status.json" >&2; fail "$1: after the power cut the disk would not boot a next"; }
	esp_names "$disk" >"$TMP/esp"
	! grep -q '+' "$TMP/esp" || { cat "$TMP/esp" >&2; fail "$1: an armed entry survived the power cut"; }
}

# 1. The cut half-way through the root write.
power_on
cut_at rootfs.erofs
after_cut rootfs.erofs

# 2. The cut half-way through the verity write.
power_on
status_guest st2
a_good_next st2
cut_at rootfs.verity
after_cut rootfs.verity

# 3. The cut with the UKI on the ESP under its temporary name, before the rename.
power_on
status_guest st3
a_good_next st3
cut_at uki
after_cut uki
grep -qx lethe-update.tmp "$TMP/esp" || { cat "$TMP/esp" >&2; fail "uki: the cut did not come with the UKI on the ESP"; }

# 4. a boots with the temporary file (b's 0.2 UKI) on the ESP; the retried update, without
#    the hook, arms b and clears the temporary file.
power_on
status_guest st4
a_good_next st4
rc=$(guest retry $CMD_S lethe update --now)
[ "$rc" = 0 ] || { console_tail; fail "4: the retried update failed (exit $rc)"; }
tr -d '\r' <"$log" | grep -q "/dev/vda: slot b now holds 0.2, installed as EFI/Linux/lethe-0.2+3.efi" ||
	{ console_tail; fail "4: the retried update did not say it armed slot b"; }
status_guest st5
tr -d '\r' <"$log" | grep -Eq "^st5: slot b: pending, version 0\.2, 3 tries left, EFI/Linux/lethe-0\.2\+3\.efi, root hash $hb \[boots next\]$" ||
	{ console_tail; fail "4: lethe status does not say b pending and next"; }
su_vm_kill # right after the update returned: the rename is on the disk
[ "$(esp_names "$disk" | tr '\n' ' ')" = "lethe-0.1.efi lethe-0.2+3.efi " ] ||
	{ esp_names "$disk" >&2; fail "4: the ESP after the retry"; }
[ "$(slot_sum "$disk" a)" = "$a_sum" ] || fail "4: slot a changed"

# 5. The power cut right after the update: b boots (counted), passes the gate, blessed.
power_on "$hb" "lethe-init: health: (passed|FAILED)"
tr -d '\r' <"$log" | grep -q "health: blessed EFI/Linux/lethe-0.2+2-1.efi as lethe-0.2.efi" ||
	{ console_tail; fail "5: b was not blessed"; }
su_vm_kill
printf '%s\n' "$ha" "$ha" "$ha" "$ha" "$hb" | cmp -s - <(boots "$TMP"/console-{1,2,3,4,5}.log) ||
	{ boots "$TMP"/console-{1,2,3,4,5}.log >&2; fail "not four boots of a, then b"; }
"$LETHE" status --device "$disk" --json >"$TMP/status.json" || fail "5: lethe status --device"
/usr/bin/python3 -c 'import json, sys
a, b = json.load(open(sys.argv[1]))["slots"]
assert b["state"] == "good" and b["next"] and b["root_hash"] == sys.argv[2], b
assert a["state"] == "good" and not a["next"], a' "$TMP/status.json" "$hb" ||
	{ cat "$TMP/status.json" >&2; fail "5: status does not say b good and next, a good"; }
echo "powerloss: QEMU killed in b's root write, verity write and UKI install: a boots each time, nothing armed; the retried update arms b, which boots and is blessed"
