#!/usr/bin/env bash
# lethe-init supervises as many services as the spec may declare (LETHE_MAX_SERVICES,
# 64) and the console shell beside them: all 65 run (issue 9.7; the table had 64 slots
# and the shell was appended past its end). Booted from a hand-made image.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/vm/init-vm.bash"
need_vm
max=$(sed -n 's/^#define LETHE_MAX_SERVICES \([0-9]*\).*/\1/p' "$LETHE_SRC/include/lethe/contract.h")
[ -n "$max" ] || fail "no LETHE_MAX_SERVICES in include/lethe/contract.h"
{
	printf 'name: init-services-cap-test\nversion: "1"\npackages: [busybox-static]\nservices:\n'
	for i in $(seq "$max"); do
		printf '  - {name: s%d, command: [/bin/sh, -c, "echo CAP-UP s%d; exec sleep 100000"]}\n' "$i" "$i"
	done
} >"$TMP/spec.yaml"
"$LETHE" spec check "$TMP/spec.yaml" >/dev/null || fail "a spec of $max services is not valid"
LETHE_TEST_SPEC="$TMP/spec.yaml" "$LETHE_SRC/tests/vm/init-test-image" "$TMP/img" >/dev/null
# The services that said they are up, once each: a kernel message may share their line on
# the serial console, so the words are matched, not whole lines.
started() { tr -d '\r' | grep -o 's[0-9]*: CAP-UP s[0-9]*' | sort -u; }
vm_start "$TMP/img" "$TMP/img/disk.img" "$(cat "$TMP/img/cmdline")"
vm_wait "lethe-init: stage 2 ready" 300
for _ in $(seq 600); do
	[ "$(started <"$TMP/serial.log" | wc -l)" -ge "$max" ] && break
	sleep 0.1
done
# The console shell answers, and counts the services' processes still running.
vm_send 'echo SHELL-$((6*7)) sleeping=$(ps -o comm | grep -c "^sleep$")'
vm_wait "^SHELL-42 sleeping=" 120
vm_kill
log=$(tr -d '\r' <"$TMP/serial.log")
up=$(started <<<"$log" | wc -l)
[ "$up" -eq "$max" ] || { tail -n 30 <<<"$log" >&2; fail "$up of $max services started"; }
for i in $(seq "$max"); do
	started <<<"$log" | grep -qx "s$i: CAP-UP s$i" || fail "service s$i did not start"
done
sleeping=$(sed -n 's/^SHELL-42 sleeping=\([0-9]*\)$/\1/p' <<<"$log")
[ "$sleeping" = "$max" ] || fail "$sleeping of $max services still run, expected all"
! grep -q 'exited' <<<"$log" || fail "a service exited: $(grep exited <<<"$log" | head -n1)"
echo "services-cap: $max services and the console shell run"
