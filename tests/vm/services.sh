#!/usr/bin/env bash
# Stage 2 runs the spec's services as their user, with their supplementary groups and
# no_new_privs, logs their output to the console and /run/log/NAME.log, restarts them
# with exponential back-off (1 s, 2 s, 4 s...), leaves a restart: false service alone,
# sets the spec's host name, and keeps the log file from the service itself. Booted from a hand-made image that carries the spec.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/vm/init-vm.bash"
need_vm
cat >"$TMP/spec.yaml" <<'YAML'
name: init-services-test
version: "1"
packages: [busybox-static]
accounts:
  groups:
    - name: probe
      gid: 901
    - name: extra
      gid: 902
  users:
    - name: probe
      uid: 901
      group: probe
      groups: [extra]
services:
  - name: probe
    command: [/bin/sh, -c, "echo PROBE start $(cut -d' ' -f1 /proc/uptime) id=$(id -u):$(id -g) groups=$(id -G) host=$(hostname) $(grep NoNewPrivs /proc/self/status | tr -d '[:space:]') log=$(wc -c </run/log/probe.log 2>/dev/null || echo denied); exit 3"]
    user: probe
    restart: true
  - name: once
    command: [/bin/sh, -c, "sleep 5; echo ONCE ran log=$(wc -c </run/log/probe.log); exit 0"]
    restart: false
network:
  hostname: probe-host
YAML
"$LETHE" spec check "$TMP/spec.yaml" >/dev/null || fail "the test's spec is not valid"
LETHE_TEST_SPEC="$TMP/spec.yaml" "$LETHE_SRC/tests/vm/init-test-image" "$TMP/img" >/dev/null
vm_start "$TMP/img" "$TMP/img/disk.img" "$(cat "$TMP/img/cmdline")"
vm_wait "lethe-init: stage 2 ready" 120
# Four starts take 1 + 2 + 4 s of back-off.
for _ in $(seq 600); do
	[ "$(tr -d '\r' <"$TMP/serial.log" | grep -c '^probe: PROBE start')" -ge 4 ] && break
	sleep 0.1
done
vm_kill
log=$(tr -d '\r' <"$TMP/serial.log")
mapfile -t starts < <(grep '^probe: PROBE start' <<<"$log")
[ ${#starts[@]} -ge 4 ] || { echo "$log" | tail -n 20 >&2; fail "probe started ${#starts[@]} times, expected 4"; }
grep -q ' id=901:901 groups=901 902 host=probe-host NoNewPrivs:1 log=denied$' <<<"${starts[0]}" ||
	fail "probe ran with the wrong identity or host name: ${starts[0]}"
# Root (the once service, 5 s in) reads the log file that probe itself may not read.
logsize=$(sed -n 's/^once: ONCE ran log=\([0-9]*\)$/\1/p' <<<"$log")
[ -n "$logsize" ] && [ "$logsize" -gt 100 ] || fail "/run/log/probe.log is not written: '$logsize'"
[ "$(grep -c '^once: ONCE ran' <<<"$log")" -eq 1 ] && grep -q '^lethe-init: once exited (status 0)' <<<"$log" || fail "the restart: false service did not run exactly once"
# Back-off: init announces 1, 2, 4 s, and the starts are at least that far apart (and
# at most 8 s more: the run itself takes a while under TCG on a busy machine).
delays=$(sed -n 's/^lethe-init: probe exited (status 3); restarting in \([0-9]*\) s$/\1/p' <<<"$log" |
	head -n 3 | tr '\n' ' ')
[ "$delays" = "1 2 4 " ] || fail "back-off delays are '$delays', expected '1 2 4 '"
t=()
for s in "${starts[@]:0:4}"; do t+=("$(sed 's/.*start \([0-9.]*\) .*/\1/' <<<"$s")"); done
awk -v a="${t[0]}" -v b="${t[1]}" -v c="${t[2]}" -v d="${t[3]}" 'BEGIN {
	g1 = b - a; g2 = c - b; g3 = d - c
	printf "# gaps between starts: %.2f %.2f %.2f s\n", g1, g2, g3
	exit !(g1 >= 1 && g1 < 9 && g2 >= 2 && g2 < 10 && g3 >= 4 && g3 < 12)
}' || fail "restarts do not keep the back-off"
echo "services: identity, groups, no_new_privs, host name, log file, back-off and restart: false as expected"
