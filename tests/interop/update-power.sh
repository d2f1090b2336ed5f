#!/usr/bin/env bash
# Power loss during lethe update, simulated on a disk image: the update process is
# killed with SIGKILL half-way through the root write, half-way through the verity
# write, and with the UKI on the ESP under its temporary name. After each, the disk
# still boots its good image (slot a, untouched, next), no entry points at the
# half-written slot, and a retried update succeeds. A process kill keeps the page
# cache; tests/vm/powerloss.sh cuts the power for real at the same three points (the
# update running in the guest, QEMU SIGKILLed) and boots the disk after each.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
. "$LETHE_SRC/tests/interop/update-common.bash"
need_cmd sfdisk mdir mkfs.vfat

pub=$(test_pub)
disk=$TMP/disk.img
make_release "$TMP/v1" lethe-test 1.0
make_release "$TMP/v2" lethe-test 2.0 4096
expect_ok "$LETHE" install "$TMP/v1" "$disk" -p "$pub" --slot-size 16
a_before=$(slot_sum "$disk" a)

# The control: without the hook the update completes.
cp "$disk" "$TMP/control.img"
expect_ok "$LETHE" update "$TMP/v2" --device "$TMP/control.img" -p "$pub"

for point in rootfs.erofs rootfs.verity uki; do
	rc=0
	TMPDIR=$TMP LETHE_UPDATE_KILL_AT=$point "$LETHE" update "$TMP/v2" --device "$disk" -p "$pub" \
		>"$TMP/out" 2>&1 || rc=$?
	[ "$rc" -eq 137 ] || { cat "$TMP/out"; fail "$point: the update was not killed (exit $rc)"; }
	[ "$(slot_sum "$disk" a)" = "$a_before" ] || fail "$point: slot a changed"
	expect_ok "$LETHE" status --device "$disk" --json
	/usr/bin/python3 -c '
import json, sys
a, b = json.load(open(sys.argv[1]))["slots"]
assert a["state"] == "good" and a["next"], a
assert b["state"] == "empty" and b["entry"] is None, b' "$TMP/out" ||
		{ cat "$TMP/out"; fail "$point: the disk would not boot its good slot a next"; }
	esp_names "$disk" | grep -q '+' && fail "$point: an armed entry survived the kill"
	# The retry succeeds (and clears what the killed one left).
	expect_ok "$LETHE" update "$TMP/v2" --device "$disk" -p "$pub"
	[ "$(esp_names "$disk" | tr '\n' ' ')" = "lethe-1.0.efi lethe-2.0+3.efi " ] ||
		{ esp_names "$disk"; fail "$point: ESP after the retry"; }
	# Back to the start for the next point: a fresh install.
	expect_ok "$LETHE" install "$TMP/v1" "$disk" -p "$pub" --slot-size 16
done
