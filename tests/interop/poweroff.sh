#!/usr/bin/env bash
# lethe poweroff signals PID 1 only when it is lethe-init of this boot (issue 10.10): in
# a PID namespace whose PID 1 is a stand-in shell that records the signals it gets, an
# init of another name, a "lethe-init" without the marker, and one with a stale marker
# are refused and get nothing; a "lethe-init" with this boot's id in the marker gets
# busybox's signal for each request.
. "$LETHE_SRC/tests/lib.sh"
need_root
need_cmd unshare
unshare --pid --fork --mount --mount-proc true 2>/dev/null || skip "cannot make PID and mount namespaces"
# The marker's path as the compiler sees it (contract.h builds it from LETHE_PATH_RUN).
marker=$(printf '#include <lethe/contract.h>\nLETHE_PATH_PID1_MARKER\n' |
	cc -E -P -I"$LETHE_SRC/include" - | tail -n 1 | tr -d '" ')
[ -n "$marker" ] || fail "no LETHE_PATH_PID1_MARKER in include/lethe/contract.h"

# as_pid1 NAME MARKER [ARGS...]: run `lethe poweroff ARGS` under a PID 1 called NAME,
# with MARKER ("-": none, "boot": this boot's id, else that text) in a private /run.
# Prints what PID 1 received, then rc=N; lethe's stderr is in $TMP/err.
as_pid1() {
	local name=$1 mark=$2
	shift 2
	cp /bin/bash "$TMP/$name"
	: >"$TMP/sigs"
	SIGS="$TMP/sigs" ERR="$TMP/err" MARK="$mark" MARKER="$marker" \
		unshare --pid --fork --mount --mount-proc --propagation private "$TMP/$name" -c '
		for s in USR1 USR2 TERM INT HUP; do trap "echo got $s >>\"\$SIGS\"" $s; done
		mount -t tmpfs none /run || exit 99
		if [ "$MARK" != - ]; then
			mkdir -p "${MARKER%/*}"
			if [ "$MARK" = boot ]; then cat /proc/sys/kernel/random/boot_id; else echo "$MARK"; fi >"$MARKER"
		fi
		rc=0
		"$LETHE" poweroff "$@" 2>"$ERR" || rc=$?
		sleep 0.3
		echo "rc=$rc" >>"$SIGS"' sh "$@"
	cat "$TMP/sigs"
}

# Control: the stand-in records a signal that does reach it.
out=$(SIGS="$TMP/sigs" unshare --pid --fork --mount --mount-proc bash -c '
	: >"$SIGS"; trap "echo got USR2 >>\"\$SIGS\"" USR2; sh -c "kill -USR2 1"; sleep 0.3; cat "$SIGS"')
[ "$out" = "got USR2" ] || fail "control: the stand-in PID 1 did not record a signal: '$out'"

for c in "init -" "systemd boot" "lethe-init -" "lethe-init 00000000-0000-0000-0000-000000000000"; do
	set -- $c
	out=$(as_pid1 "$1" "$2")
	[ "$out" = "rc=3" ] || { cat "$TMP/err" >&2; fail "PID 1 '$1' (marker $2): expected a refusal and no signal, got '$out'"; }
done
grep -qx "lethe: PID 1 is called lethe-init but '$marker' does not hold this boot's id; refusing to signal it" "$TMP/err" ||
	fail "unexpected message: $(cat "$TMP/err")"
as_pid1 systemd boot >/dev/null
grep -qx "lethe: PID 1 is not lethe-init (it is 'systemd'); refusing to signal it" "$TMP/err" ||
	fail "unexpected message: $(cat "$TMP/err")"

for c in ":USR2" "--halt:USR1" "--reboot:TERM"; do
	out=$(as_pid1 lethe-init boot ${c%%:*})
	[ "$out" = "got ${c#*:}"$'\n'"rc=0" ] || { cat "$TMP/err" >&2; fail "lethe-init of this boot, '${c%%:*}': got '$out'"; }
done
echo "poweroff: refuses every PID 1 but lethe-init of this boot, and signals that one"
