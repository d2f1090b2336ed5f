#!/usr/bin/env bash
# lethe update writes the root from the release's verified descriptor without hashing it
# again as it goes: the read-back from the disk, compared with the signed SHA-256, is
# the check of what was written. Here the release's rootfs.erofs is changed in place
# (same inode) while the update is stopped half-way through writing it: the update must
# fail at the read-back, before the UKI reaches the ESP (no armed entry, slot a intact).
# The control: the same stop and continue without the change, and the update succeeds.
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

# update_stopped [CHANGE]: run the update, stopped half-way through the root write; with
# CHANGE, flip a byte of the release's rootfs.erofs not yet written; then continue.
update_stopped() {
	local pid state i rc=0
	LETHE_UPDATE_KILL_AT=stop:rootfs.erofs "$LETHE" update "$TMP/v2" --device "$disk" \
		-p "$pub" >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	for ((i = 0; i < 600; i++)); do
		state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || break
		[ "$state" = T ] && break
		sleep 0.05
	done
	[ "$state" = T ] || { cat "$TMP/err" >&2; fail "the update did not stop in the root write"; }
	[ -n "${1:-}" ] && flip_bit "$TMP/v2/rootfs.erofs" $((3 * 1024 * 1024 + 777))
	kill -CONT "$pid"
	wait "$pid" || rc=$?
	return $rc
}

rc=0
update_stopped change || rc=$?
[ "$rc" -eq 1 ] || { cat "$TMP/err" >&2; fail "a root changed during the write: exit $rc, expected 1"; }
grep -q "read back from '.*' does not match the signed rootfs.erofs" "$TMP/err" ||
	{ cat "$TMP/err" >&2; fail "the message does not name the read-back"; }
esp_names "$disk" | grep -q '+' && fail "an entry was armed for a slot that does not verify"
[ "$(slot_sum "$disk" a)" = "$a_before" ] || fail "slot a changed"

# The control: the release as signed again, the same stop, no change: it succeeds.
flip_bit "$TMP/v2/rootfs.erofs" $((3 * 1024 * 1024 + 777))
update_stopped || { cat "$TMP/err" >&2; fail "the control update failed"; }
[ "$(esp_names "$disk" | tr '\n' ' ')" = "lethe-1.0.efi lethe-2.0+3.efi " ] ||
	{ esp_names "$disk"; fail "the control update did not arm slot b"; }
[ "$(slot_sum "$disk" a)" = "$a_before" ] || fail "slot a changed"
