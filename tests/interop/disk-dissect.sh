#!/usr/bin/env bash
# disk.img against systemd-dissect and sfdisk: the Discoverable Partitions types, the
# partition UUIDs derived from the root hash (systemd-dissect --root-hash only matches
# partitions named so, and then sets up verity and reads os-release through it), the
# MiB alignment, and a wrong root hash matching nothing. The EFI System Partition holds
# systemd-boot and lethe.efi, byte for byte, and bootctl lists the UKI as the default
# entry with the signed cmdline, then the boot menu's toram entry (issue 11.3).
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
need_cmd systemd-dissect sfdisk bootctl mcopy
need_root # systemd-dissect attaches loop devices

out=$(build_image_or_skip minimal)
img=$out/disk.img
rh=$(cat "$out/roothash")
[ ${#rh} -eq 64 ] || fail "roothash '$rh' is not 64 hex digits"

uuid() { echo "${1:0:8}-${1:8:4}-${1:12:4}-${1:16:4}-${1:20:12}"; }
data_uuid=$(uuid "${rh:0:32}")
verity_uuid=$(uuid "${rh:32:32}")

# sfdisk: GPT, two partitions, DPS types, derived UUIDs, labels, 1 MiB (2048 sectors) aligned.
sfdisk -d "$img" >"$TMP/sfdisk" || fail "sfdisk cannot read disk.img"
cat "$TMP/sfdisk"
grep -q '^label: gpt' "$TMP/sfdisk" || fail "not a GPT"
grep -qi "type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=$data_uuid, name=\"root-x86-64\"" \
	"$TMP/sfdisk" || fail "no root-x86-64 partition with UUID $data_uuid"
grep -qi "type=2C7357ED-EBD2-46D9-AEC1-23D437EC2BF5, uuid=$verity_uuid, name=\"root-x86-64-verity\"" \
	"$TMP/sfdisk" || fail "no root-x86-64-verity partition with UUID $verity_uuid"
grep -qi "disk.img3 : .*type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=[-0-9A-F]*, name=\"esp\"" \
	"$TMP/sfdisk" || fail "no EFI System Partition as partition 3"
[ "$(grep -c 'start=' "$TMP/sfdisk")" -eq 3 ] || fail "expected exactly 3 partitions"
while read -r start size; do
	[ $((start % 2048)) -eq 0 ] && [ $((size % 2048)) -eq 0 ] ||
		fail "partition at sector $start, $size sectors: not MiB-aligned"
done < <(sed -n 's/.*start= *\([0-9]*\), size= *\([0-9]*\),.*/\1 \2/p' "$TMP/sfdisk")

# The partitions hold the release's files, byte for byte.
cmp_part() { # START_SECTORS FILE
	cmp -n "$(stat -c %s "$2")" <(tail -c +$(($1 * 512 + 1)) "$img") "$2" ||
		fail "the partition at sector $1 does not hold $(basename "$2")"
}
cmp_part "$(sed -n 's/.*disk.img1 : start= *\([0-9]*\),.*/\1/p' "$TMP/sfdisk")" "$out/rootfs.erofs"
cmp_part "$(sed -n 's/.*disk.img2 : start= *\([0-9]*\),.*/\1/p' "$TMP/sfdisk")" "$out/rootfs.verity"

# systemd-dissect finds root and root-verity by type...
systemd-dissect "$img" >"$TMP/dissect" 2>&1 || { cat "$TMP/dissect"; fail "systemd-dissect failed"; }
cat "$TMP/dissect"
grep -Eq "^ro root +$data_uuid +root-x86-64 +erofs" "$TMP/dissect" || fail "no erofs root"
grep -Eq "^ro root-verity +$verity_uuid " "$TMP/dissect" || fail "no root-verity"
grep -Eq "^rw esp +[-0-9a-f]+ +esp +vfat " "$TMP/dissect" || fail "no vfat ESP"

# The ESP, read with mtools (no vfat mount needed): systemd-boot twice, the UKI, loader.conf.
esp_off=$(($(sed -n 's/.*disk.img3 : start= *\([0-9]*\),.*/\1/p' "$TMP/sfdisk") * 512))
mkdir -p "$TMP/esp"
mount -t tmpfs lethe-esp-copy "$TMP/esp" || skip "cannot mount a tmpfs here (bootctl wants a mount point)"
on_exit "umount '$TMP/esp' 2>/dev/null"
mcopy -s -i "$img@@$esp_off" ::/EFI ::/loader "$TMP/esp/" || fail "mtools cannot read the ESP"
cmp "$TMP/esp/EFI/Linux/lethe.efi" "$out/lethe.efi" || fail "EFI/Linux/lethe.efi is not the release's lethe.efi"
for f in EFI/BOOT/BOOTX64.EFI EFI/systemd/systemd-bootx64.efi; do
	cmp "$TMP/esp/$f" /usr/lib/systemd/boot/efi/systemd-bootx64.efi || fail "$f is not systemd-boot"
done
printf 'timeout 0\neditor no\ndefault lethe.efi\n' | cmp - "$TMP/esp/loader/loader.conf" || fail "loader.conf: $(cat "$TMP/esp/loader/loader.conf")"
# The boot menu (issue 11.3): the toram entry (minimal.yaml has no persistence: no such
# entry), starting the same UKI, with no options of its own.
[ -f "$TMP/esp/loader/entries/lethe-toram.conf" ] || fail "no loader/entries/lethe-toram.conf on the ESP"
[ ! -e "$TMP/esp/loader/entries/lethe-persistence.conf" ] || fail "a persistence entry for a spec without persistence"
# bootctl checks that the ESP is vfat; the copy is on a tmpfs.
SYSTEMD_RELAX_ESP_CHECKS=1 bootctl --esp-path="$TMP/esp" --no-variables list >"$TMP/bootctl" 2>&1 ||
	{ cat "$TMP/bootctl"; fail "bootctl list failed"; }
cat "$TMP/bootctl"
grep -Eq "type: Boot Loader Specification Type #2" "$TMP/bootctl" || fail "bootctl sees no UKI entry"
grep -Eq "title: .*\(default\)" "$TMP/bootctl" || fail "the UKI is not the default entry"
grep -Eq "id: lethe.efi" "$TMP/bootctl" || fail "no entry lethe.efi"
grep -Fq "options: $(cat "$out/cmdline")" "$TMP/bootctl" || fail "the UKI's cmdline is not the signed cmdline"
# bootctl sorts as systemd-boot does: the UKI (the default) first, then the toram entry,
# a type #1 entry of the same UKI, titled after it.
/usr/bin/python3 - "$TMP/bootctl" <<'PY' || fail "bootctl does not list the boot menu as built"
import re, sys
text = open(sys.argv[1]).read()
entries = [e for e in re.split(r"\n\s*\n", text) if "id:" in e]
ids = [re.search(r"id: (\S+)", e).group(1) for e in entries]
assert ids[:2] == ["lethe.efi", "lethe-toram.conf"], ids
toram = entries[1]
assert "(default)" in entries[0] and "(default)" not in toram, entries
assert re.search(r"title: Lethe \S+ \S+ \(toram\)", toram), toram
assert "Type #1" in toram and "options:" not in toram, toram
PY
# bootctl 252 does not print an entry's efi line: the file itself names the UKI.
grep -qx 'efi /EFI/Linux/lethe.efi' "$TMP/esp/loader/entries/lethe-toram.conf" &&
	! grep -q '^options' "$TMP/esp/loader/entries/lethe-toram.conf" ||
	fail "lethe-toram.conf: $(cat "$TMP/esp/loader/entries/lethe-toram.conf")"

# ...and with the root hash binds them: verity is set up (VERITY yes) and the OS is read
# through it.
systemd-dissect --json=short --root-hash="$rh" "$img" >"$TMP/dissect.json" ||
	fail "systemd-dissect --root-hash failed"
python3 - "$TMP/dissect.json" "$data_uuid" <<'PY' || fail "systemd-dissect does not bind root to verity"
import json, sys
d = json.load(open(sys.argv[1]))
root = [m for m in d["mounts"] if m["designator"] == "root"]
assert len(root) == 1 and root[0]["partition_uuid"] == sys.argv[2], root
assert root[0]["verity"] == "yes", root[0]
assert any(l.startswith("IMAGE_ID=lethe-minimal") for l in d.get("osRelease", [])), d.get("osRelease")
PY

# Control: another root hash matches no partition.
wrong=$(printf '%s' "$rh" | tr '0-9a-f' '1-9a-f0')
expect_fail 1 "No root partition for specified root hash" \
	systemd-dissect --root-hash="$wrong" "$img"
echo "disk.img: recognised by systemd-dissect, verity bound by root hash $rh"
