#!/usr/bin/env bash
# The VPN kill switch (network.vpn), one boot of examples/vpn.yaml with a static eth0.
# The guest's card is a tap in a network namespace the test creates; the WireGuard
# peer (wireguard-go, userspace: this host's kernel has no wireguard) runs in the same
# namespace at the endpoint 192.0.2.1:51820 with 192.0.2.129 inside the tunnel, where
# a TCP listener and a DNS peer (tests/interop/dns-peer.py) wait; tcpdump captures the
# tap (the physical side). With the peer up: lethe-init prints the tunnel's public key
# (new this boot), a TCP message and a DNS query (through /etc/resolv.conf) reach the
# peer through the tunnel, and the tap sees nothing from the guest but UDP to the
# endpoint. With the peer stopped (the tunnel down), TCP, DNS, ICMP and IPv6 probes
# into the tunnel and straight to the link leave nothing on the tap but handshake
# attempts to the endpoint, and lethe-vpn-out counts them. The control, in the same
# boot: the firewall replaced by an open one (`lethe firewall apply` of a spec without
# the vpn, naming 192.0.2.1 as its name server), and the same probes do leak (ICMP, TCP,
# DNS, IPv6 on the tap).
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/vm/init-vm.bash"
need_vm
need_root
need_cmd wireguard-go wg tcpdump ip nc /usr/bin/python3
PERM=00:1b:21:0a:0b:0e
PY=/usr/bin/python3
NS=lethe-vpn-$$
WGP=lwg$$

ip netns add "$NS" 2>/dev/null || skip "cannot create a network namespace"
on_exit ip netns del "$NS"
ip -n "$NS" tuntap add tap0 mode tap || skip "cannot create a tap device"
ip -n "$NS" addr add 192.0.2.1/25 dev tap0
ip -n "$NS" link set lo up
ip -n "$NS" link set tap0 up

umask 077
wg genkey >"$TMP/peer.key"
peer_pub=$(wg pubkey <"$TMP/peer.key")
umask 022
sed -e "s|^      public_key: .*|      public_key: \"$peer_pub\"|" \
	-e 's|^      dhcp: true .*|      addresses: [192.0.2.10/25]|' \
	-e 's|^      keepalive: 25|      keepalive: 5|' \
	"$LETHE_SRC/examples/vpn.yaml" >"$TMP/vpn.yaml"
grep -q "$peer_pub" "$TMP/vpn.yaml" && grep -q 192.0.2.10/25 "$TMP/vpn.yaml" ||
	fail "cannot adapt examples/vpn.yaml"
"$LETHE" build --quiet "$TMP/vpn.yaml" -o "$TMP/img" --key "$(test_key)" >"$TMP/build.log" 2>&1 ||
	{ tail -n 20 "$TMP/build.log" >&2; fail "cannot build the vpn image"; }

# peer_start GUEST_PUB: the WireGuard peer, its tunnel address, listeners behind it.
peer_start() {
	ip netns exec "$NS" wireguard-go -f "$WGP" >"$TMP/wg-go.log" 2>&1 &
	wg_pid=$!
	on_exit "kill $wg_pid 2>/dev/null"
	for ((i = 0; i < 50; i++)); do ip -n "$NS" link show "$WGP" >/dev/null 2>&1 && break; sleep 0.1; done
	ip netns exec "$NS" wg set "$WGP" private-key "$TMP/peer.key" listen-port 51820 \
		peer "$1" allowed-ips 192.0.2.130/32,2001:db8:1::2/128 || fail "cannot set up the peer"
	ip -n "$NS" addr add 192.0.2.129/25 dev "$WGP"
	ip -n "$NS" addr add 2001:db8:1::1/64 dev "$WGP" nodad
	ip -n "$NS" link set "$WGP" up
}
# capture N: tcpdump on the tap into $TMP/cap-N.pcap until capture_stop.
capture() {
	ip netns exec "$NS" tcpdump -i tap0 -U -w "$TMP/cap-$1.pcap" >"$TMP/tcpdump-$1.log" 2>&1 &
	cap_pid=$!
	on_exit "kill $cap_pid 2>/dev/null"
	for ((i = 0; i < 50; i++)); do grep -q listening "$TMP/tcpdump-$1.log" && return; sleep 0.1; done
	fail "tcpdump did not start"
}
capture_stop() { sleep 1; kill "$cap_pid"; wait "$cap_pid" 2>/dev/null || true; }
# frames N: the guest's frames of capture N, one line each: "arp", "ip6",
# "udp DST DPORT", "tcp DST DPORT", "icmp DST", "ip PROTO DST".
frames() {
	"$PY" - "$TMP/cap-$1.pcap" "$guest_mac" <<-'PYEOF'
		import struct, sys
		data, mac = open(sys.argv[1], "rb").read(), sys.argv[2]
		e = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
		off = 24
		while off + 16 <= len(data):
		    incl = struct.unpack(e + "IIII", data[off:off + 16])[2]
		    f = data[off + 16:off + 16 + incl]
		    off += 16 + incl
		    if len(f) < 14 or ":".join(f"{b:02x}" for b in f[6:12]) != mac:
		        continue
		    t = struct.unpack(">H", f[12:14])[0]
		    if t == 0x0806:
		        print("arp"); continue
		    if t == 0x86DD:
		        print("ip6"); continue
		    if t != 0x0800:
		        print(f"ether {t:04x}"); continue
		    ihl, p = (f[14] & 15) * 4, f[23]
		    dst = ".".join(map(str, f[30:34]))
		    l4 = f[14 + ihl:]
		    if p in (6, 17):
		        print(f"{'tcp' if p == 6 else 'udp'} {dst} {struct.unpack('>H', l4[2:4])[0]}")
		    elif p == 1:
		        print(f"icmp {dst}")
		    else:
		        print(f"ip {p} {dst}")
	PYEOF
}
con() { tr -d '\r' <"$TMP/serial.log" | sed -n "s/^VP $1 //p"; }
PROBES='nc -w 2 192.0.2.129 8080 </dev/null; nc -w 2 192.0.2.1 80 </dev/null; nslookup lethe.test >/dev/null 2>&1; nslookup lethe.test 192.0.2.1 >/dev/null 2>&1; ping -c 2 -W 1 192.0.2.1 >/dev/null 2>&1; ping -c 1 -W 1 192.0.2.129 >/dev/null 2>&1; ping6 -c 2 -W 1 ff02::1%eth0 >/dev/null 2>&1; ping6 -c 1 -W 1 2001:db8:1::1 >/dev/null 2>&1'

ip netns exec "$NS" "$PY" "$LETHE_SRC/tests/interop/dns-peer.py" serve "$TMP/queries" \
	192.0.2.1 >"$TMP/peer1.out" 2>&1 &
on_exit "kill $! 2>/dev/null"
capture 1
qemu-system-x86_64() { exec ip netns exec "$NS" qemu-system-x86_64 "$@"; }
vm_start "$TMP/img" "$TMP/img/disk.img" "$(cat "$TMP/img/cmdline")" \
	-netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
	-device "virtio-net-pci,netdev=n0,mac=$PERM"
vm_wait "lethe-init: vpn: wg0: public key [A-Za-z0-9+/]{43}= \(new this boot\)" 300
guest_pub=$(tr -d '\r' <"$TMP/serial.log" | sed -n 's/.*vpn: wg0: public key \([^ ]*\) .*/\1/p' | head -n 1)
peer_start "$guest_pub"
ip netns exec "$NS" "$PY" "$LETHE_SRC/tests/interop/dns-peer.py" serve "$TMP/queries" \
	192.0.2.129 >"$TMP/peer2.out" 2>&1 &
on_exit "kill $! 2>/dev/null"
ip netns exec "$NS" timeout 200 nc -l -k 192.0.2.129 8080 >"$TMP/listener" 2>/dev/null &
on_exit "kill $! 2>/dev/null"
vm_wait "lethe-init: stage 2 ready" 300
vm_send 'dmesg -n 1; P=VP'
vm_send 'for i in 1 2 3 4 5 6 7 8 9 10; do echo hello-tunnel | nc -w 2 192.0.2.129 8080 && break; sleep 1; done; echo "$P TCP $?"'
vm_send 'nslookup lethe.test >/dev/null 2>&1; echo "$P DNS $?"; sed "s/^/$P RESOLV /" /etc/resolv.conf; echo "$P-UP"'
vm_wait "^VP-UP" 120
grep -q hello-tunnel "$TMP/listener" || { con TCP >&2; fail "the TCP message did not reach the listener behind the peer"; }
con DNS | grep -qx 0 || fail "the DNS query through the tunnel got no answer"
grep -q '^udp 192.0.2.129$' "$TMP/queries" || fail "the DNS peer in the tunnel saw no query"
[ "$(con RESOLV | grep -v '^#')" = "nameserver 192.0.2.129" ] || fail "resolv.conf: $(con RESOLV)"
capture_stop
guest_mac=$(ip netns exec "$NS" ip neigh show 192.0.2.10 | awk '{ print $5 }')
[ -n "$guest_mac" ] || guest_mac=$(tr -d '\r' <"$TMP/serial.log" | sed -n 's/.*eth0: MAC address \([0-9a-f:]*\).*/\1/p' | head -n 1)
frames 1 | sort | uniq -c >"$TMP/frames-1"
grep -q 'udp 192.0.2.1 51820' "$TMP/frames-1" || fail "tunnel up: no WireGuard packet on the tap: $(cat "$TMP/frames-1")"
! grep -Ev ' (arp|udp 192\.0\.2\.1 51820)$' "$TMP/frames-1" ||
	fail "tunnel up: the guest sent more than WireGuard on the physical side"

# The tunnel down: the peer stops; the same probes leave nothing but handshakes.
kill "$wg_pid"
wait "$wg_pid" 2>/dev/null || true
capture 2
vm_send "$PROBES"'; sleep 6; lethe firewall stats | sed "s/^/$P STATS /"; echo "$P-DOWN"'
vm_wait "^VP-DOWN" 180
capture_stop
frames 2 | sort | uniq -c >"$TMP/frames-2"
grep -q 'udp 192.0.2.1 51820' "$TMP/frames-2" || fail "tunnel down: no handshake attempt: $(cat "$TMP/frames-2")"
if grep -Ev ' (arp|udp 192\.0\.2\.1 51820)$' "$TMP/frames-2"; then
	fail "tunnel down: the guest leaked the frames above on the physical side"
fi
con STATS | grep -Eq '^output +lethe-vpn-out +[1-9]' || fail "lethe-vpn-out counted nothing: $(con STATS)"

# The control: the same boot with an open firewall (no kill switch) leaks.
vm_send 'printf "name: open\nversion: \"1\"\npackages: [busybox-static]\nnetwork:\n  dns: [192.0.2.1]\nfirewall:\n  in: {default: accept}\n  out: {default: accept}\n" >/tmp/open.yaml; lethe firewall apply /tmp/open.yaml >/dev/null 2>&1; echo "$P OPEN $?"'
capture 3
vm_send "$PROBES"'; echo "$P-OPEN"'
vm_wait "^VP-OPEN" 180
capture_stop
vm_kill
con OPEN | grep -qx 0 || fail "control: cannot replace the firewall in the guest"
frames 3 | sort | uniq -c >"$TMP/frames-3"
for leak in 'icmp 192.0.2.1' 'tcp 192.0.2.1 80' 'udp 192.0.2.1 53' 'ip6'; do
	grep -q " $leak\$" "$TMP/frames-3" || fail "control: '$leak' did not leak without the kill switch: $(cat "$TMP/frames-3")"
done
echo "network-vpn: through the tunnel while up; down: only $(awk '/51820/ { print $1 }' "$TMP/frames-2") handshake packets on the wire; open control leaked: $(tr -s ' \n' ' ' <"$TMP/frames-3")"
