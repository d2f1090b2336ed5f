#!/usr/bin/env bash
# Stage 2 configures the spec's static network after the firewall: the default image's
# spec with an interface (documentation addresses, IPv4 and IPv6, default routes) is
# built and booted with a virtio NIC on an isolated QEMU user network (restrict=on).
# When the firewall cannot be applied, the same spec's interface stays down.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/vm/init-vm.bash"
need_vm
sed '/^network:/,/^$/d' "$LETHE_SRC/examples/minimal.yaml" >"$TMP/spec.yaml"
cat >>"$TMP/spec.yaml" <<'YAML'

network:
  hostname: netprobe
  interfaces:
    - name: eth0
      addresses: [192.0.2.10/24, "2001:db8::10/64"]
      gateway4: 192.0.2.1
      gateway6: "2001:db8::1"
YAML
"$LETHE" spec check "$TMP/spec.yaml" >/dev/null || fail "the test's spec is not valid"
"$LETHE" build --quiet "$TMP/spec.yaml" -o "$TMP/img" --key "$(test_key)" >"$TMP/build.log" 2>&1 ||
	{ tail -n 20 "$TMP/build.log" >&2; fail "cannot build the test image"; }
vm_start "$TMP/img" "$TMP/img/disk.img" "$(cat "$TMP/img/cmdline")" \
	-netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0
vm_wait "lethe-init: stage 2 ready" 180
sleep 1
vm_send 'dmesg -n 1'
vm_send 'P=NET; ip -4 addr show dev eth0 | sed "s/^/$P /"; ip -6 addr show dev eth0 | sed "s/^/$P /"'
vm_send 'ip -4 route | sed "s/^/$P /"; ip -6 route | sed "s/^/$P /"; echo "$P host $(hostname)"; echo "$P-END"'
vm_wait "^NET-END" 60
vm_kill
log=$(tr -d '\r' <"$TMP/serial.log")
out=$(sed -n 's/^NET //p' <<<"$log")
fw=$(grep -n '^lethe-init: firewall applied' <<<"$log" | cut -d: -f1)
ready=$(grep -n '^lethe-init: services started' <<<"$log" | cut -d: -f1)
[ -n "$fw" ] && [ -n "$ready" ] && [ "$fw" -lt "$ready" ] || fail "the firewall was not applied before the system came up"
grep -q 'inet 192.0.2.10/24 ' <<<"$out" || fail "eth0 has no 192.0.2.10/24: $out"
grep -q 'inet6 2001:db8::10/64 ' <<<"$out" || fail "eth0 has no 2001:db8::10/64: $out"
grep -q '^default via 192.0.2.1 dev eth0' <<<"$out" || fail "no IPv4 default route: $out"
grep -q '^default via 2001:db8::1 dev eth0' <<<"$out" || fail "no IPv6 default route: $out"
grep -q 'eth0: <.*UP' <<<"$out" || fail "eth0 is not up: $out"
grep -qx 'host netprobe' <<<"$out" || fail "the host name is not the spec's"

# Fail closed: when the firewall cannot be applied (here: an image with the spec but
# without /usr/bin/lethe), the interfaces stay down and unaddressed.
cp "$TMP/spec.yaml" "$TMP/hand-spec.yaml"
LETHE_TEST_SPEC="$TMP/hand-spec.yaml" "$LETHE_SRC/tests/vm/init-test-image" "$TMP/hand" >/dev/null
: >"$TMP/serial.log"
vm_start "$TMP/hand" "$TMP/hand/disk.img" "$(cat "$TMP/hand/cmdline")" \
	-netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0
vm_wait "lethe-init: stage 2 ready" 180
sleep 1
vm_send 'dmesg -n 1'
vm_send 'P=DOWN; ip addr show dev eth0 | sed "s/^/$P /"; echo "$P-END"'
vm_wait "^DOWN-END" 60
vm_kill
log=$(tr -d '\r' <"$TMP/serial.log")
out=$(sed -n 's/^DOWN //p' <<<"$log")
grep -q '^lethe-init: firewall failed: .*; network stays down' <<<"$log" || fail "no firewall failure on the console"
grep -q 'eth0: ' <<<"$out" || fail "the NIC is missing in the fail-closed boot: $out"
! grep -q 'eth0: <.*UP' <<<"$out" || fail "eth0 is up although the firewall failed: $out"
! grep -q 'inet ' <<<"$out" || fail "eth0 has an address although the firewall failed: $out"
echo "network: eth0 up with its IPv4 and IPv6 addresses and default routes, after the firewall; down when the firewall fails"
