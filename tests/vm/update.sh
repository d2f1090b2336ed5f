#!/usr/bin/env bash
# A/B updates through OVMF on one raw disk image across reboots, the boots counted:
#  1. install 0.1 (slot a), kill an update to 0.2 half-way, boot: slot a, not counted;
#  2. a bad 0.2 (its one service exits) into slot b: b boots, fails the health gate,
#     reboots at health.timeout until its tries run out, then a boots by itself;
#     exactly 3 boots of b, then a; status says b failed;
#  3. a good 0.3 into b: b boots, passes the gate and is blessed; a stays good as the
#     fallback; status before and after;
#  4. rollback: a boots next;
#  5. 0.3 again into b, then b's root corrupted on the disk: stage 1 refuses it, and
#     the counted boot reboots until a boots again.
# Images are built once per build tree from tests/vm/update-image.yaml.in
# (LETHE_AB_IMAGES=DIR takes DIR/v1, DIR/bad, DIR/v3 built by hand).
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
. "$LETHE_SRC/tests/vm/update-common.bash"
need_cmd qemu-system-x86_64 sfdisk mcopy mkfs.vfat
[ -r /usr/share/OVMF/OVMF_CODE_4M.fd ] || skip "no OVMF (install ovmf)"
pub=$(test_pub)

ab_image() { # NAME VERSION COMMAND: the release directory
	local name=$1 dir
	if [ -n "${LETHE_AB_IMAGES:-}" ]; then
		echo "$LETHE_AB_IMAGES/$name"
		return
	fi
	dir=$LETHE_BUILD/test-images/ab-$name
	mkdir -p "$LETHE_BUILD/test-images"
	(
		flock 9
		if image_stale "$dir" "$LETHE_SRC/tests/vm/update-image.yaml.in"; then
			sed "s/@VERSION@/$2/; s/@SETTLE@/3/; s|@COMMAND@|$3|" \
				"$LETHE_SRC/tests/vm/update-image.yaml.in" >"$TMP/$name.yaml"
			rm -rf "$dir"
			"$LETHE" build --quiet "$TMP/$name.yaml" -o "$dir" --key "$(test_key)" >&2 ||
				exit 1
		fi
	) 9>"$LETHE_BUILD/test-images/.lock" || fail "cannot build the A/B image $name"
	echo "$dir"
}
v1=$(ab_image v1 0.1 '/bin/busybox, sleep, "1000000"')
bad=$(ab_image bad 0.2 '/bin/busybox, "false"')
v3=$(ab_image v3 0.3 '/bin/busybox, sleep, "1000000"')
ha=$(cat "$v1/roothash") hbad=$(cat "$bad/roothash") h3=$(cat "$v3/roothash")

disk=$TMP/disk.img
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$TMP/vars.fd"
expect_ok "$LETHE" install "$v1" "$disk" -p "$pub" --slot-size 64
status() { "$LETHE" status --device "$disk" --json >"$TMP/status.json" || fail "status"; }
slot() { # SLOT FIELD
	/usr/bin/python3 -c 'import json, sys
s = {x["slot"]: x for x in json.load(open(sys.argv[1]))["slots"]}[sys.argv[2]][sys.argv[3]]
print("null" if s is None else str(s).lower())' "$TMP/status.json" "$1" "$2"
}

# 1. Power lost half-way through writing b's verity tree (the update SIGKILLed, see
#    tests/interop/update-power.sh for every kill point): the disk boots slot a, not
#    counted; the retried update (2.) succeeds.
rc=0
TMPDIR=$TMP LETHE_UPDATE_KILL_AT=rootfs.verity "$LETHE" update "$bad" --device "$disk" -p "$pub" \
	>"$TMP/out" 2>&1 || rc=$?
[ "$rc" -eq 137 ] || { cat "$TMP/out"; fail "1: the update was not killed (exit $rc)"; }
vm_boot_until "$disk" "$TMP/vars.fd" "$TMP/1.log" "lethe-init: health: this boot is not counted" 2
grep -q "health: this boot is not counted" "$TMP/1.log" || fail "1: the installed boot was counted"
[ "$(booted_hashes "$TMP/1.log")" = "$ha" ] || fail "1: slot a did not boot"

# 2. A bad b: counted down to zero, then a by itself.
expect_ok "$LETHE" update "$bad" --device "$disk" -p "$pub"
status
[ "$(slot b state)" = pending ] && [ "$(slot b next)" = true ] || fail "2: b is not pending and next"
vm_boot_until "$disk" "$TMP/vars.fd" "$TMP/2.log" "lethe-init: health: this boot is not counted" 5
booted_hashes "$TMP/2.log" >"$TMP/2.boots"
printf '%s\n' "$hbad" "$hbad" "$hbad" "$ha" | cmp -s - "$TMP/2.boots" ||
	{ cat "$TMP/2.boots"; fail "2: not exactly three boots of b, then a"; }
[ "$(grep -c 'health: FAILED: service 1 of the spec exited' "$TMP/2.log")" = 3 ] ||
	fail "2: the gate did not fail each boot of b"
! grep -q "health: blessed" "$TMP/2.log" || fail "2: the bad b was blessed"
status
[ "$(slot b state)" = failed ] && [ "$(slot b tries_left)" = 0 ] || fail "2: status does not say b failed"
[ "$(slot a state)" = good ] && [ "$(slot a next)" = true ] || fail "2: a is not good and next"

# 3. A good b: boots, passes the gate, blessed; a stays good.
expect_ok "$LETHE" update "$v3" --device "$disk" -p "$pub"
vm_boot_until "$disk" "$TMP/vars.fd" "$TMP/3.log" "lethe-init: health: (passed|FAILED)" 2
grep -q "health: passed" "$TMP/3.log" || { grep health "$TMP/3.log"; fail "3: the good b failed its gate"; }
grep -q "health: blessed EFI/Linux/lethe-0.3+2-1.efi as lethe-0.3.efi" "$TMP/3.log" ||
	fail "3: not blessed as systemd-bless-boot would"
[ "$(booted_hashes "$TMP/3.log")" = "$h3" ] || fail "3: b did not boot once"
status
[ "$(slot b state)" = good ] && [ "$(slot b next)" = true ] || fail "3: b is not good and next"
[ "$(slot a state)" = good ] || fail "3: a is no longer the good fallback"

# 4. Rollback: a boots next.
expect_ok "$LETHE" rollback --device "$disk"
vm_boot_until "$disk" "$TMP/vars.fd" "$TMP/4.log" "lethe-init: health: this boot is not counted" 2
[ "$(booted_hashes "$TMP/4.log")" = "$ha" ] || fail "4: a did not boot after rollback"

# 5. A b whose root is corrupted after writing: stage 1 refuses it on each try, then a.
expect_ok "$LETHE" update "$v3" --device "$disk" -p "$pub"
read -r start < <(sfdisk -J "$disk" | /usr/bin/python3 -c '
import json, sys
for p in json.load(sys.stdin)["partitiontable"]["partitions"]:
    if p.get("name") == "root-x86-64-b": print(p["start"])')
flip_bit "$disk" $((start * 512 + 3 * 1024 * 1024 + 17))
vm_boot_until "$disk" "$TMP/vars.fd" "$TMP/5.log" "lethe-init: health: this boot is not counted" 5
[ "$(grep -c 'root verification failed' "$TMP/5.log")" = 3 ] ||
	{ grep -E 'lethe-init' "$TMP/5.log"; fail "5: stage 1 did not refuse the corrupted b three times"; }
[ "$(booted_hashes "$TMP/5.log" | tail -n1)" = "$ha" ] || fail "5: a did not boot after the corrupted b"
status
[ "$(slot b state)" = failed ] || fail "5: status does not say b failed"
echo "update: a->b blessed, a bad b and a corrupted b fall back to a after 3 tries, rollback boots a"
