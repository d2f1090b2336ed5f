#!/usr/bin/env bash
# Amnesia: a file written in one boot is gone in the next; a scratch disk attached
# (read-write) for two whole sessions, and read in them, has the same SHA-256 after;
# the boot disk is unchanged.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/vm/vm-common.bash"
out=$(run_image)

head -c $((8 * 1048576)) /dev/urandom >"$TMP/scratch.img"
scratch_before=$(sha256sum <"$TMP/scratch.img")
disk_before=$(sha256sum <"$out/disk.img")

boot() { # COMMAND: print its output
	"$LETHE" run "$out" --direct --timeout 600 --disk "$TMP/scratch.img" --exec "$1" 2>>"$TMP/console" ||
		{ tail -n 40 "$TMP/console" >&2; fail "boot running '$1' failed"; }
}

boot 'echo remembered >/etc/lethe-amnesia && mkdir -p /root/x && echo y >/root/x/y && sync && cat /etc/lethe-amnesia && cat /dev/vdb >/dev/null && echo read-scratch' >"$TMP/one"
grep -qx remembered "$TMP/one" || fail "first boot: could not write a file"
grep -qx read-scratch "$TMP/one" || fail "first boot: could not read the scratch disk"

boot 'for f in /etc/lethe-amnesia /root/x/y; do [ -e $f ] && echo "still there: $f"; done; echo checked' >"$TMP/two"
grep -qx checked "$TMP/two" || fail "second boot: the check did not run"
! grep -q "still there" "$TMP/two" || fail "second boot: $(grep 'still there' "$TMP/two")"

[ "$(sha256sum <"$TMP/scratch.img")" = "$scratch_before" ] || fail "the scratch disk changed"
[ "$(sha256sum <"$out/disk.img")" = "$disk_before" ] || fail "the boot disk changed"
echo "amnesia: nothing survived a reboot; scratch and boot disks unchanged"
