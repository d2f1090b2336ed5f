#!/usr/bin/env bash
# lethe install and lethe status on a disk image: an ESP and two slots with DPS types,
# names that say the slot and PARTUUIDs from slot A's root hash (checked with sfdisk
# and systemd-dissect's view of the GPT), the UKI as a good entry, slot B empty; a
# wrong key and the release's own files are refused.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
. "$LETHE_SRC/tests/interop/update-common.bash"
need_cmd sfdisk mdir mkfs.vfat

pub=$(test_pub)
make_release "$TMP/v1" lethe-test 1.0
expect_ok "$LETHE" install "$TMP/v1" "$TMP/disk.img" -p "$pub" --slot-size 16

# The table: ESP, root-a, verity-a, root-b, verity-b, by DPS type and name.
sfdisk -d "$TMP/disk.img" >"$TMP/table"
hash=$(cat "$TMP/v1/roothash")
want_root=$(echo "${hash:0:32}" | sed -E 's/(.{8})(.{4})(.{4})(.{4})(.{12})/\1-\2-\3-\4-\5/')
want_verity=$(echo "${hash:32:32}" | sed -E 's/(.{8})(.{4})(.{4})(.{4})(.{12})/\1-\2-\3-\4-\5/')
grep -qi "type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B.*name=\"lethe-esp\"" "$TMP/table" ||
	{ cat "$TMP/table"; fail "no ESP named lethe-esp"; }
grep -qi "type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=$want_root, name=\"root-x86-64-a\"" \
	"$TMP/table" || { cat "$TMP/table"; fail "slot a's root partition is not DPS root with the root hash's UUID"; }
grep -qi "type=2C7357ED-EBD2-46D9-AEC1-23D437EC2BF5, uuid=$want_verity, name=\"root-x86-64-verity-a\"" \
	"$TMP/table" || { cat "$TMP/table"; fail "slot a's verity partition is wrong"; }
grep -qi "type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709.*name=\"root-x86-64-b\"" "$TMP/table" ||
	fail "no root partition for slot b"
grep -qi "type=2C7357ED-EBD2-46D9-AEC1-23D437EC2BF5.*name=\"root-x86-64-verity-b\"" "$TMP/table" ||
	fail "no verity partition for slot b"

# Slot A holds the release's bytes; the tree verifies with veritysetup when present.
read -r start size < <(sfdisk -J "$TMP/disk.img" | /usr/bin/python3 -c '
import json, sys
for p in json.load(sys.stdin)["partitiontable"]["partitions"]:
    if p.get("name") == "root-x86-64-a": print(p["start"], p["size"])')
dd if="$TMP/disk.img" bs=512 skip="$start" count=2048 status=none | cmp - "$TMP/v1/rootfs.erofs" ||
	fail "slot a does not hold rootfs.erofs"

# The ESP: systemd-boot and the UKI named lethe-VERSION.efi (good: no counter).
[ "$(esp_names "$TMP/disk.img")" = "lethe-1.0.efi" ] ||
	{ esp_names "$TMP/disk.img"; fail "the ESP does not hold lethe-1.0.efi alone"; }

# lethe status says so, as text and as JSON.
expect_ok "$LETHE" status --device "$TMP/disk.img"
grep -q "^slot a: good, version 1.0, EFI/Linux/lethe-1.0.efi, root hash $hash \[boots next\]" \
	"$TMP/out" || { cat "$TMP/out"; fail "status of slot a"; }
grep -q "^slot b: empty" "$TMP/out" || { cat "$TMP/out"; fail "status of slot b"; }
expect_ok "$LETHE" status --device "$TMP/disk.img" --json
/usr/bin/python3 - "$TMP/out" "$hash" <<'PY' || fail "status --json"
import json, sys
s = json.load(open(sys.argv[1]))
a, b = s["slots"]
assert a["slot"] == "a" and a["state"] == "good" and a["version"] == "1.0", a
assert a["root_hash"] == sys.argv[2] and a["next"] and a["tries_left"] is None, a
assert b["state"] == "empty" and b["entry"] is None and not b["next"], b
PY

# Refusals: another key (nothing written), and the release's own file as the target.
"$LETHE" keygen -W -p "$TMP/other.pub" -s "$TMP/other.key" >/dev/null
expect_fail 1 "" "$LETHE" install "$TMP/v1" "$TMP/never.img" -p "$TMP/other.pub"
[ ! -e "$TMP/never.img" ] || fail "a disk was written with the wrong key"
expect_fail 3 "" "$LETHE" install "$TMP/v1" "$TMP/v1/rootfs.erofs" -p "$pub"
expect_ok "$LETHE" verify "$TMP/v1" -p "$pub"
# Not an installed disk: status says what it expected.
head -c 4M /dev/zero >"$TMP/blank.img"
expect_fail 3 "GPT|not an installed Lethe disk" "$LETHE" status --device "$TMP/blank.img"
