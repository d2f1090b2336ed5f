#!/usr/bin/env bash
# MAC address randomisation (spec network.mac): the card QEMU gives the guest has a
# globally administered address of a real vendor (Intel's OUI). What the guest sends is
# captured on the host side of the NIC (QEMU's filter-dump, a pcap of every frame of the
# netdev). With the default (random) the address in the guest and every source address
# on the wire differ from QEMU's, are locally administered unicast, differ between two
# boots, and `lethe audit` passes network.mac; random-keep-vendor keeps the OUI. The
# control, network.mac: permanent, shows QEMU's address on the wire and the audit's
# network.mac is not applicable: so the capture does see a permanent address when one
# is sent.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/vm/init-vm.bash"
need_vm
need_cmd python3
PERM=00:1b:21:0a:0b:0c

# image MODE: the minimal image with an interface and network.mac: MODE.
image() {
	local mode=$1
	sed '/^network:/,/^$/d; /^firewall:/,$d' "$LETHE_SRC/examples/minimal.yaml" >"$TMP/$mode.yaml"
	# Pings to the gateway may leave: their ARP requests carry the card's address (a
	# packet the output chain drops never gets as far as ARP).
	cat >>"$TMP/$mode.yaml" <<-YAML

		firewall:
		  in: { default: drop }
		  out:
		    default: drop
		    allow:
		      - { proto: icmp, to: 192.0.2.1/32 }

		network:
		  hostname: macprobe
		  mac: $mode
		  interfaces:
		    - name: eth0
		      addresses: [192.0.2.10/24]
		      gateway4: 192.0.2.1
	YAML
	"$LETHE" build --quiet "$TMP/$mode.yaml" -o "$TMP/$mode" --key "$(test_key)" \
		>"$TMP/build-$mode.log" 2>&1 ||
		{ tail -n 20 "$TMP/build-$mode.log" >&2; fail "cannot build the $mode image"; }
}

# boot MODE N: boot the MODE image with a capture; prints the guest's eth0 address; the
# frames' source addresses go to $TMP/src-N, the console to $TMP/serial-N.log.
boot() {
	local mode=$1 n=$2
	vm_start "$TMP/$mode" "$TMP/$mode/disk.img" "$(cat "$TMP/$mode/cmdline")" \
		-netdev user,id=n0,restrict=on -device "virtio-net-pci,netdev=n0,mac=$PERM" \
		-object "filter-dump,id=cap,netdev=n0,file=$TMP/cap-$n.pcap"
	vm_wait "lethe-init: stage 2 ready" 240
	vm_send 'dmesg -n 1'
	# ARP for the gateway and a ping: frames that carry the source address.
	vm_send 'ping -c 2 -W 1 192.0.2.1 >/dev/null 2>&1; P=MAC; echo "$P $(cat /sys/class/net/eth0/address)"'
	vm_send 'lethe audit --only network.mac | sed "s/^/$P /"; echo "$P-END"'
	vm_wait "^MAC-END" 120
	vm_kill
	cp "$TMP/serial.log" "$TMP/serial-$n.log"
	/usr/bin/python3 - "$TMP/cap-$n.pcap" >"$TMP/src-$n" <<-'PY'
		import struct, sys
		data = open(sys.argv[1], "rb").read()
		endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
		off, seen = 24, set()
		while off + 16 <= len(data):
		    _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
		    frame = data[off + 16:off + 16 + incl]
		    if len(frame) >= 12:
		        seen.add(":".join(f"{b:02x}" for b in frame[6:12]))
		    off += 16 + incl
		print("\n".join(sorted(seen)))
	PY
	tr -d '\r' <"$TMP/serial-$n.log" | sed -n 's/^MAC \([0-9a-f:]\{17\}\)$/\1/p' | tail -n 1
}

local_unicast() { (((0x${1%%:*} & 3) == 2)); }

image random
image random-keep-vendor
image permanent

a1=$(boot random 1)
[ -n "$a1" ] || fail "boot 1: no address printed"
grep -Eiq 'pass +network.mac' "$TMP/serial-1.log" || { grep '^MAC' "$TMP/serial-1.log" >&2; fail "boot 1: the audit did not pass network.mac"; }
grep -q "MAC address $a1 (random)" "$TMP/serial-1.log" || fail "lethe-init did not say which address eth0 got"
a2=$(boot random 2)
for n in 1 2; do
	[ -s "$TMP/src-$n" ] || fail "boot $n: the capture holds no frame: nothing to judge"
	! grep -qx "$PERM" "$TMP/src-$n" || fail "boot $n: the permanent address $PERM is on the wire"
done
grep -qx "$a1" "$TMP/src-1" || fail "boot 1: the guest's address $a1 is not what the wire saw: $(cat "$TMP/src-1")"
[ "$a1" != "$PERM" ] && [ "$a2" != "$PERM" ] || fail "a random boot kept $PERM"
[ "$a1" != "$a2" ] || fail "two boots gave the same address $a1"
local_unicast "$a1" && local_unicast "$a2" || fail "$a1 / $a2 are not locally administered unicast"

a3=$(boot random-keep-vendor 3)
[ "${a3:0:8}" = "${PERM:0:8}" ] || fail "random-keep-vendor did not keep the OUI: $a3"
[ "$a3" != "$PERM" ] || fail "random-keep-vendor kept the whole address"
! grep -qx "$PERM" "$TMP/src-3" || fail "random-keep-vendor: $PERM is on the wire"

# The control: the permanent address is seen when it is used.
a4=$(boot permanent 4)
[ "$a4" = "$PERM" ] || fail "network.mac: permanent changed the address to $a4"
grep -qx "$PERM" "$TMP/src-4" || fail "control: the capture did not see the permanent address $PERM"
grep -Eiq 'n/a +network.mac' "$TMP/serial-4.log" ||
	{ grep '^MAC' "$TMP/serial-4.log" >&2; fail "control: network.mac should not apply with network.mac: permanent"; }
echo "network-mac: random $a1 then $a2, keep-vendor $a3, permanent $PERM only in the control; never on the wire otherwise"
