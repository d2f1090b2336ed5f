#!/usr/bin/env bash
# lethe update --device on a disk image: every refusal leaves the inactive slot's bytes
# and the ESP's names unchanged (compared by hash): wrong key, tampered file, older
# version, same version, other image name, too big for the slot. Then a good update
# into slot B (armed as lethe-VERSION+3.efi, slot A untouched), bless, rollback, and
# a second update that goes into slot A, the one not kept.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
. "$LETHE_SRC/tests/interop/update-common.bash"
need_cmd sfdisk mdir mkfs.vfat

pub=$(test_pub)
disk=$TMP/disk.img
make_release "$TMP/v1" lethe-test 1.0
make_release "$TMP/v2" lethe-test 2.0
make_release "$TMP/v05" lethe-test 0.5
make_release "$TMP/same" lethe-test 1.0
make_release "$TMP/other" other-image 3.0
make_release "$TMP/big" lethe-test 4.0 20480
expect_ok "$LETHE" install "$TMP/v1" "$disk" -p "$pub" --slot-size 16

b_before=$(slot_sum "$disk" b)
a_before=$(slot_sum "$disk" a)
esp_before=$(esp_names "$disk")
unchanged() {
	[ "$(slot_sum "$disk" b)" = "$b_before" ] || fail "$1: slot b's bytes changed"
	[ "$(slot_sum "$disk" a)" = "$a_before" ] || fail "$1: slot a's bytes changed"
	[ "$(esp_names "$disk")" = "$esp_before" ] || fail "$1: the ESP's names changed"
}

"$LETHE" keygen -W -p "$TMP/other.pub" -s "$TMP/other.key" >/dev/null
expect_fail 1 "was made by key" "$LETHE" update "$TMP/v2" --device "$disk" -p "$TMP/other.pub"
unchanged "wrong key"

cp -r "$TMP/v2" "$TMP/tampered"
flip_bit "$TMP/tampered/rootfs.erofs" 5000
expect_fail 1 "rootfs.erofs" "$LETHE" update "$TMP/tampered" --device "$disk" -p "$pub"
unchanged "tampered rootfs.erofs"
# Bytes after the blocks the tree covers (the root is proven by its tree, not hashed).
cp "$TMP/v2/rootfs.erofs" "$TMP/tampered/rootfs.erofs"
head -c 4096 /dev/zero >>"$TMP/tampered/rootfs.erofs"
expect_fail 1 "rootfs.erofs has [0-9]+ bytes, rootfs.verity covers" \
	"$LETHE" update "$TMP/tampered" --device "$disk" -p "$pub"
unchanged "rootfs.erofs with bytes appended"
cp "$TMP/v2/rootfs.erofs" "$TMP/tampered/rootfs.erofs"
flip_bit "$TMP/tampered/lethe.efi" 300
expect_fail 1 "lethe.efi" "$LETHE" update "$TMP/tampered" --device "$disk" -p "$pub"
unchanged "tampered lethe.efi"

expect_fail 1 "older than 1.0.*--allow-downgrade" \
	"$LETHE" update "$TMP/v05" --device "$disk" -p "$pub"
unchanged "older version"
expect_fail 1 "version 1.0, the version slot a runs already" \
	"$LETHE" update "$TMP/same" --device "$disk" -p "$pub"
unchanged "same version"
expect_fail 1 "image 'other-image'.*refusing another image" \
	"$LETHE" update "$TMP/other" --device "$disk" -p "$pub"
unchanged "other image name"
expect_fail 3 "does not fit slot b" "$LETHE" update "$TMP/big" --device "$disk" -p "$pub"
unchanged "too big"

# A good update: slot b, armed with three tries; slot a untouched.
expect_ok "$LETHE" update "$TMP/v2" --device "$disk" -p "$pub"
grep -q "slot b now holds 2.0, installed as EFI/Linux/lethe-2.0+3.efi" "$TMP/out" ||
	{ cat "$TMP/out"; fail "update output"; }
[ "$(slot_sum "$disk" a)" = "$a_before" ] || fail "the update touched slot a"
[ "$(esp_names "$disk" | tr '\n' ' ')" = "lethe-1.0.efi lethe-2.0+3.efi " ] ||
	{ esp_names "$disk"; fail "ESP after the update"; }
sfdisk -d "$disk" | grep -qi "uuid=$(cut -c1-8 "$TMP/v2/roothash")-.*name=\"root-x86-64-b\"" ||
	fail "slot b's root PARTUUID is not from the new root hash"
expect_ok "$LETHE" status --device "$disk"
grep -q "^slot b: pending, version 2.0, 3 tries left.*\[boots next\]" "$TMP/out" ||
	{ cat "$TMP/out"; fail "status after the update"; }
grep -q "^slot a: good, version 1.0" "$TMP/out" || fail "slot a is no longer good"

# While b is pending, another update replaces b again, never the good a.
expect_fail 1 "the version slot a runs" "$LETHE" update "$TMP/same" --device "$disk" -p "$pub"

# Rollback while b pending: b gets zero tries and a boots next.
expect_ok "$LETHE" rollback --device "$disk"
grep -q "slot a boots next" "$TMP/out" || fail "rollback output"
expect_ok "$LETHE" status --device "$disk" --json
/usr/bin/python3 -c '
import json, sys
a, b = json.load(open(sys.argv[1]))["slots"]
assert a["next"] and a["state"] == "good", a
assert b["state"] == "failed" and b["tries_left"] == 0 and not b["next"], b' "$TMP/out" ||
	fail "status after rollback"
# The report follows its schema (docs/schemas/status.schema.json).
/usr/bin/python3 -c '
import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' \
	"$TMP/out" "$LETHE_SRC/docs/schemas/status.schema.json" || fail "status --json breaks its schema"
# No second rollback: b has no good image.
expect_fail 3 "cannot roll back: slot b is failed" "$LETHE" rollback --device "$disk"

# Update again (b again: a is the good one kept), then bless b as lethe-init would.
expect_ok "$LETHE" update "$TMP/v2" --device "$disk" -p "$pub"
expect_ok "$LETHE" bless --device "$disk" --entry lethe-2.0+3.efi
[ "$(esp_names "$disk" | tr '\n' ' ')" = "lethe-1.0.efi lethe-2.0.efi " ] ||
	{ esp_names "$disk"; fail "ESP after bless"; }
# Both good: rollback makes a next and b failed; the next update keeps a (the good
# one) and replaces the rolled-back b.
expect_ok "$LETHE" rollback --device "$disk"
[ "$(esp_names "$disk" | tr '\n' ' ')" = "lethe-1.0.efi lethe-2.0+0.efi " ] ||
	{ esp_names "$disk"; fail "ESP after the rollback of a good b"; }
make_release "$TMP/v3" lethe-test 3.0
expect_ok "$LETHE" update "$TMP/v3" --device "$disk" -p "$pub"
grep -q "slot b now holds 3.0" "$TMP/out" || { cat "$TMP/out"; fail "the third update did not replace b"; }
[ "$(slot_sum "$disk" a)" = "$a_before" ] || fail "an update touched slot a"
# Once b 3.0 is blessed it is the newest good slot: the next update writes a.
expect_ok "$LETHE" bless --device "$disk" --entry lethe-3.0+3.efi
make_release "$TMP/v4" lethe-test 4.0
expect_ok "$LETHE" update "$TMP/v4" --device "$disk" -p "$pub"
grep -q "slot a now holds 4.0" "$TMP/out" || { cat "$TMP/out"; fail "the fourth update did not go to a"; }
[ "$(esp_names "$disk" | tr '\n' ' ')" = "lethe-3.0.efi lethe-4.0+3.efi " ] ||
	{ esp_names "$disk"; fail "ESP after the fourth update"; }
