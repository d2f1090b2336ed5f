#!/usr/bin/env bash
# The air-gapped image (examples/airgap.yaml, issue 19.2) booted with a virtio NIC
# plugged in: no network driver is there to drive it, so /sys/class/net and `ip link`
# list only lo, no network module is loaded, and `lethe audit` passes network.none.
# The control: the minimal image on the same NIC has eth0 and virtio_net, and the same
# check, judged against its spec made air-gapped, fails naming them.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/vm/init-vm.bash"
need_vm

# probe TAG [AUDIT ARGS]: print interfaces, modules, `ip link` and the audit's verdict,
# each line tagged, then TAG-END.
probe() {
	local p=$1
	shift
	vm_send 'dmesg -n 1'
	vm_send "P=$p; for i in /sys/class/net/*; do echo \"\$P if \${i##*/}\"; done"
	vm_send 'while read -r m _; do echo "$P mod $m"; done </proc/modules; busybox ip -o link | sed "s/^/$P link /"'
	vm_send "lethe audit --no-color --only network.none $* >/tmp/a.out; echo \"\$P rc \$?\""
	vm_send 'sed "s/^/$P audit /" /tmp/a.out'
	# lethe sign --pkcs11 in the image: p11-kit loads (or is missing), no token is there.
	vm_send 'lethe sign --pkcs11 "pkcs11:token=ceremony;object=k?pin-value=1" -x /tmp/s /etc/hostname 2>&1 | sed "s/^/$P sign /"'
	vm_send 'echo "$P-END"'
	vm_wait "^$p-END" 180
	tr -d '\r' <"$TMP/serial.log" | grep "^$p " >"$TMP/$p.lines" || true
}

note "the airgap image, with a virtio NIC plugged in"
img=$(image_dir airgap 2>"$TMP/build.log") || { tail -n 20 "$TMP/build.log" >&2; fail "cannot build examples/airgap.yaml"; }
vm_start "$img" "$img/disk.img" "$(cat "$img/cmdline")" \
	-netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0
vm_wait "lethe-init: stage 2 ready" 300
probe AG
vm_kill
cat "$TMP/AG.lines"
[ "$(grep -c '^AG if ' "$TMP/AG.lines")" -eq 1 ] && grep -qx 'AG if lo' "$TMP/AG.lines" ||
	fail "the airgap image has an interface but lo"
[ "$(grep -c '^AG link ' "$TMP/AG.lines")" -eq 1 ] && grep -q '^AG link 1: lo:' "$TMP/AG.lines" ||
	fail "ip link lists more than lo in the airgap image"
grep -q '^AG mod nf_tables$' "$TMP/AG.lines" || fail "no module list from the airgap image (nf_tables missing)"
! grep -Eq '^AG mod (virtio_net|net_failover|failover)$' "$TMP/AG.lines" || fail "a network module is loaded in the airgap image"
grep -Eq '^AG audit pass +network.none +no interface but lo' "$TMP/AG.lines" || fail "network.none did not pass in the airgap image"
grep -qx 'AG rc 0' "$TMP/AG.lines" || fail "lethe audit --only network.none failed in the airgap image"
# The image's lethe signs with tokens: p11-kit and the registered OpenSC module load, and
# with no card in a reader no token matches.
grep -q "^AG sign lethe: no PKCS#11 token matches 'pkcs11:token=ceremony;object=k'" "$TMP/AG.lines" ||
	fail "lethe sign --pkcs11 in the airgap image did not reach p11-kit"

note "the control: the minimal image on the same NIC"
init_image
img=$LETHE_BUILD/test-images/minimal
vm_start "$img" "$img/disk.img" "$(cat "$img/cmdline")" \
	-netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0
vm_wait "lethe-init: stage 2 ready" 300
# Its own spec (it has a network): the check does not apply. The same spec made
# air-gapped: the check fails, naming the interface, its driver and the module.
vm_send "sed 's/^network:\$/network: none/; /^  hostname:/d' /etc/lethe/spec.yaml >/tmp/airgapped.yaml"
probe MIN
probe MAG --spec /tmp/airgapped.yaml
vm_kill
cat "$TMP/MIN.lines" "$TMP/MAG.lines"
grep -qx 'MIN if eth0' "$TMP/MIN.lines" || fail "the control has no eth0: the test proves nothing"
grep -qx 'MIN mod virtio_net' "$TMP/MIN.lines" || fail "the control has no virtio_net loaded"
grep -Eq '^MIN audit n/a +network.none +the spec is not air-gapped.*eth0' "$TMP/MIN.lines" ||
	fail "network.none applied to the minimal image's own (networked) spec"
grep -Eq '^MAG audit FAIL +network.none +network: none, but interfaces eth0 \(driver virtio_net\); network modules loaded: .*virtio_net' "$TMP/MAG.lines" ||
	fail "network.none did not fail on the minimal image judged air-gapped"
grep -qx 'MAG rc 1' "$TMP/MAG.lines" || fail "lethe audit exited 0 with a NIC under network: none"
# The minimal image has no p11-kit: the image's lethe says what to install.
grep -q '^MIN sign lethe: cannot load p11-kit (libp11-kit.so.0) for PKCS#11 tokens: install libp11-kit0' "$TMP/MIN.lines" ||
	fail "lethe sign --pkcs11 without p11-kit did not say what is missing"
note "ok"
