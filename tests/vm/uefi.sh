#!/usr/bin/env bash
# The default image boots through firmware, as a PC boots it: `lethe run` (no --direct)
# starts OVMF on a q35 machine, which runs systemd-boot from disk.img's ESP, which
# starts the UKI lethe.efi; inside, /sys/firmware/efi exists, the cmdline is the one
# signed inside the UKI and the root is the verified dm-verity device. Controls: an
# edited cmdline in a copy of lethe.efi fails `lethe verify`; the same edit made inside
# disk.img (SHA256SUMS rewritten to match, so only the boot can notice) stops the boot
# in stage 1 with Lethe's message, never reaching stage 2; a missing OVMF is one line.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/vm/vm-common.bash"
need_cmd python3 sha256sum
[ -r /usr/share/OVMF/OVMF_CODE_4M.fd ] || skip "no OVMF (install ovmf)"
out=$(run_image)
[ -f "$out/lethe.efi" ] || fail "the build made no lethe.efi"
rh=$(cat "$out/roothash")
wrong=$(printf '%s' "$rh" | tr '0-9a-f' '1-9a-f0')

# Missing firmware: said before any work, in one line.
expect_fail 3 "cannot read the UEFI firmware '/nonexistent/OVMF_CODE_4M.fd'" \
	env LETHE_OVMF_CODE=/nonexistent/OVMF_CODE_4M.fd "$LETHE" run "$out" --exec true
expect_fail 2 "need --direct" "$LETHE" run "$out" --append lethe.debug --exec true

# edit_cmdline FILE: the root hash in the UKI's .cmdline (wherever FILE holds it) becomes
# $wrong, the same length, nothing else changed.
edit_cmdline() {
	python3 - "$1" "lethe.roothash=$rh" "lethe.roothash=$wrong" <<-'PY'
	import sys
	path, old, new = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
	data = bytearray(open(path, "rb").read())
	n = data.count(old)
	assert n == 1, f"{path}: the cmdline is there {n} times"
	i = data.index(old)
	data[i:i + len(new)] = new
	open(path, "wb").write(data)
	PY
}

# Control 1: an edited UKI copy fails lethe verify.
cp -r "$out" "$TMP/edited"
edit_cmdline "$TMP/edited/lethe.efi" || fail "cannot edit the copy of lethe.efi"
expect_fail 1 "lethe.efi" "$LETHE" verify "$TMP/edited" -p "$(test_pub)"

# The boot through firmware.
rc=0
"$LETHE" run "$out" --timeout 600 --serial-log "$TMP/serial.log" --quiet --exec \
	'test -d /sys/firmware/efi && echo EFI-PRESENT; cat /sys/block/dm-0/dm/name; cat /proc/cmdline' \
	>"$TMP/out" 2>"$TMP/console" || rc=$?
cat "$TMP/out"
[ "$rc" -eq 0 ] || { tail -n 40 "$TMP/serial.log" >&2; fail "lethe run through OVMF exited $rc"; }
tr -d '\r' <"$TMP/serial.log" >"$TMP/log"
grep -qx "EFI-PRESENT" "$TMP/out" || fail "no /sys/firmware/efi: the guest did not boot through UEFI"
grep -qx "lethe-root" "$TMP/out" || fail "dm-0 is not the verity device lethe-root"
grep -qxF "$(cat "$out/cmdline")" "$TMP/out" || fail "the guest's cmdline is not the signed cmdline"
grep -q "EFI stub: " "$TMP/log" || fail "the kernel was not started by systemd-stub"
grep -q "lethe-init: root verified: $rh" "$TMP/log" || fail "no 'root verified' on the console"
grep -q "lethe-init: stage 2 ready" "$TMP/log" || fail "no 'stage 2 ready'"

# Control 2: the root hash edited inside disk.img's UKI. lethe run without a key checks
# only SHA256SUMS, which the attacker rewrote: the firmware path itself must stop it.
mkdir "$TMP/tampered"
cp "$out"/* "$TMP/tampered/"
edit_cmdline "$TMP/tampered/disk.img" || fail "cannot edit the UKI inside disk.img"
(cd "$TMP/tampered" && sha256sum $(awk '{print $2}' SHA256SUMS) >SHA256SUMS.new && mv SHA256SUMS.new SHA256SUMS)
# lethe run stops as soon as lethe-init halts, with its line.
expect_fail 3 "the guest stopped before stage 2: lethe-init: halting: partition PARTUUID=${wrong:0:8}-[-0-9a-f]* \\(root\\) not found" \
	"$LETHE" run "$TMP/tampered" --timeout 300 --serial-log "$TMP/tampered.log" --quiet --exec true
tr -d '\r' <"$TMP/tampered.log" >"$TMP/tlog"
grep -q "EFI stub: " "$TMP/tlog" || fail "the tampered disk was not booted through the UKI"
! grep -q "lethe-init: stage 2" "$TMP/tlog" || fail "the tampered UKI reached stage 2"
echo "uefi: OVMF, systemd-boot and lethe.efi reach stage 2 with a verified root; an edited UKI cmdline is refused by lethe verify and stops the boot"
