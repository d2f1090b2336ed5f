#!/usr/bin/env bash
# The default image boots under QEMU (TCG) with `lethe run --exec`: the root is the
# dm-verity device named lethe-root mounted read-only as EROFS under an overlay whose
# upper layer is a tmpfs, the cmdline carries the signed root hash and the hardening,
# the command's output and exit status come back; --timeout kills a boot that hangs.
# (--direct: QEMU loads the kernel itself, which is faster; tests/vm/uefi.sh boots the
# same image through OVMF, systemd-boot and the UKI.)
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/vm/vm-common.bash"
out=$(run_image)
rh=$(cat "$out/roothash")

rc=0
"$LETHE" run "$out" --direct --timeout 600 --serial-log "$TMP/serial.log" --exec \
	'cat /proc/cmdline; cat /sys/block/dm-0/dm/name; grep -E " / | /run/lethe/" /proc/mounts; echo probe >/lethe-probe && echo written; exit 7' \
	>"$TMP/out" 2>"$TMP/console" || rc=$?
cat "$TMP/out"
[ "$rc" -eq 7 ] || { tail -n 40 "$TMP/console" >&2; fail "lethe run --exec exited $rc, expected the command's 7"; }
grep -q "lethe.roothash=$rh" "$TMP/out" || fail "the guest's cmdline has no lethe.roothash=$rh"
grep -q "init_on_free=1 .*lockdown=integrity" "$TMP/out" || fail "hardening missing from the cmdline"
grep -qx "lethe-root" "$TMP/out" || fail "dm-0 is not the verity device lethe-root"
grep -Eq "^/dev/dm-0 /run/lethe/ro erofs ro[ ,]" "$TMP/out" || fail "the EROFS root is not mounted read-only from dm-0"
grep -Eq "^overlay / overlay .*lowerdir=/run/lethe/ro,upperdir=/run/lethe/overlay/upper" "$TMP/out" ||
	fail "/ is not an overlay over the verified root"
grep -Eq "^tmpfs /run/lethe/overlay tmpfs " "$TMP/out" || fail "the overlay's upper layer is not a tmpfs"
grep -qx "written" "$TMP/out" || fail "writing to / failed (it should go to RAM)"
grep -q "lethe-init: root verified: $rh" "$TMP/serial.log" || fail "no 'root verified' on the console log"
grep -q "lethe-init: memory wiped, powering off" "$TMP/serial.log" || fail "the guest did not power off cleanly"

# A boot that never reaches the marker: killed at the timeout, with a clear message.
expect_fail 3 "timed out after 2 s waiting for the marker 'lethe-init: stage 2 ready'" \
	"$LETHE" run "$out" --direct --timeout 2 --quiet --exec true
echo "boot: verified root, read-only EROFS, overlay in RAM, exit status passed through"
