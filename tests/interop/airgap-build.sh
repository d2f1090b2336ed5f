#!/usr/bin/env bash
# An air-gapped spec (network: none, examples/airgap.yaml) gets no network (issue 19.2):
# the build refuses one that adds a network driver to kernel.modules, or a package that
# brings a network tool, naming the driver or the package, and leaves nothing behind;
# the audit's network.none passes a fixture with lo alone and fails one with a NIC.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"

note "network.none on fixture systems (lethe audit --root)"
spec=$LETHE_SRC/examples/airgap.yaml
fixture() { # DIR MODULES...: a system with lo, and the modules loaded
	local d=$1
	shift
	mkdir -p "$d/proc" "$d/sys/class/net/lo" "$d/sys/module"
	: >"$d/proc/cmdline"
	: >"$d/proc/modules"
	for m in "$@"; do echo "$m 16384 0 - Live 0x0000000000000000" >>"$d/proc/modules"; done
}
fixture "$TMP/quiet" nf_tables erofs usb_storage
expect_ok "$LETHE" audit --root "$TMP/quiet" --spec "$spec" --only network.none
grep -q "pass.*network.none.*no interface but lo; none of 3 loaded modules" "$TMP/out" ||
	{ cat "$TMP/out" >&2; fail "network.none did not pass a system with lo alone"; }
fixture "$TMP/nic" nf_tables virtio_net
mkdir -p "$TMP/nic/sys/devices/virtio0/driver" "$TMP/nic/sys/module/virtio_net"
ln -s ../../../module/virtio_net "$TMP/nic/sys/devices/virtio0/driver/module"
mkdir -p "$TMP/nic/sys/class/net/eth0"
ln -s ../../../devices/virtio0 "$TMP/nic/sys/class/net/eth0/device"
rc=0
"$LETHE" audit --root "$TMP/nic" --spec "$spec" --only network.none >"$TMP/out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || { cat "$TMP/out" >&2; fail "network.none with a NIC: exit $rc, expected 1"; }
grep -q "FAIL.*network.none.*interfaces eth0 (driver virtio_net); network modules loaded: virtio_net" "$TMP/out" ||
	{ cat "$TMP/out" >&2; fail "network.none does not name the NIC and its driver"; }
# Without network: none the check does not apply, and says what it saw.
expect_ok "$LETHE" audit --root "$TMP/nic" --spec "$LETHE_SRC/examples/minimal.yaml" --only network.none
grep -q "n/a.*network.none.*not air-gapped.*eth0" "$TMP/out" || { cat "$TMP/out" >&2; fail "network.none applied to a networked spec"; }

note "the build refuses a network driver in an air-gapped spec, naming it"
ref=$(build_image_or_skip airgap)
key=$(test_key)
sed 's/^    - virtio_blk$/&\n    - virtio_net/' "$spec" >"$TMP/nic.yaml"
grep -q '^    - virtio_net$' "$TMP/nic.yaml" || fail "the test could not add virtio_net to the spec"
mkdir "$TMP/p"
expect_fail 1 "spec '$TMP/nic.yaml' says network: none, but kernel.modules lists the network driver 'virtio_net' \(kernel/drivers/net/virtio_net.ko, from package 'linux-image-amd64'\)" \
	"$LETHE" build "$TMP/nic.yaml" -o "$TMP/p/out" --lock "$ref/lethe.lock" --key "$key" --quiet
[ ! -e "$TMP/p/out" ] || fail "a refused build left its output directory"
[ -z "$(ls -A "$TMP/p")" ] || fail "a refused build left temporaries: $(ls -A "$TMP/p")"
# The same spec without network: none builds past the check (the control): the refusal
# is the air gap's, not the module's.
sed 's/^network: none$/network: {}/' "$TMP/nic.yaml" >"$TMP/nic-net.yaml"
expect_ok "$LETHE" build "$TMP/nic-net.yaml" -o "$TMP/p/net" --lock "$ref/lethe.lock" --key "$key" --quiet
[ -f "$TMP/p/net/SHA256SUMS" ] || fail "the networked control did not build"

note "the build refuses a network tool in an air-gapped spec, naming its package"
sed 's/^  - opensc$/&\n  - wget/' "$spec" >"$TMP/tool.yaml"
expect_fail 1 "says network: none, but package 'wget' brings the network tool '/usr/bin/wget'" \
	"$LETHE" build "$TMP/tool.yaml" -o "$TMP/p/tool" --offline --key "$key" --quiet
[ ! -e "$TMP/p/tool" ] || fail "a refused build left its output directory"
note "ok"
