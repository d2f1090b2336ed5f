#!/usr/bin/env bash
# DHCP (an interface's dhcp: true) and DNS (network.dns) in a booted image. The guest's
# card is a tap on a bridge inside a network namespace the test creates (192.0.2.0/24):
# busybox udhcpd serves leases of 40 s there (its dns option 192.0.2.98), a DNS peer
# (tests/interop/dns-peer.py) answers at 192.0.2.53 (the spec's network.dns) and
# 192.0.2.54 (not), tcpdump captures the bridge. One boot: lethe-init's udhcpc gets a
# lease and sets the address and the route; every DHCP message it sends carries no
# host name (option 12, nor 81), no vendor class (60), a client id (61) that is not the
# card's address, and asks for nothing but subnet and router; it renews the lease
# through the firewall (unicast UDP 68 -> 67); /etc/resolv.conf names 192.0.2.53 only
# (the lease's server is not used: network.dns is not dhcp); a query to it is
# answered, one to 192.0.2.54 never reaches the wire and is counted on lethe-dns-out,
# though the firewall section allows port 53 to anyone; `lethe firewall check` matches.
# The control: busybox udhcpc told to send a host name, on a veth on the same bridge:
# the capture shows its option 12, so the test sees a host name when one is sent.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/vm/init-vm.bash"
need_vm
need_root
need_cmd udhcpd tcpdump ip /usr/bin/python3
PERM=00:1b:21:0a:0b:0d
PY=/usr/bin/python3
NS=lethe-dhcp-$$
CL=lethe-dhcpc-$$

ip netns add "$NS" 2>/dev/null || skip "cannot create a network namespace"
on_exit ip netns del "$NS"
ip netns add "$CL" || fail "cannot create a second namespace"
on_exit ip netns del "$CL"
ip -n "$NS" link add br0 type bridge || skip "cannot create a bridge"
ip -n "$NS" tuntap add tap0 mode tap || skip "cannot create a tap device"
ip link add vcl netns "$CL" type veth peer name vclp netns "$NS" || skip "cannot create a veth pair"
for a in 192.0.2.1/24 192.0.2.53/24 192.0.2.54/24; do ip -n "$NS" addr add $a dev br0; done
ip -n "$NS" link set tap0 master br0
ip -n "$NS" link set vclp master br0
for l in lo br0 tap0 vclp; do ip -n "$NS" link set "$l" up; done
ip -n "$CL" link set vcl up

cat >"$TMP/udhcpd.conf" <<EOF2
start 192.0.2.100
end 192.0.2.150
interface br0
lease_file $TMP/udhcpd.leases
pidfile $TMP/udhcpd.pid
min_lease 30
option subnet 255.255.255.0
option router 192.0.2.1
option dns 192.0.2.98
option lease 40
EOF2
: >"$TMP/udhcpd.leases"
ip netns exec "$NS" udhcpd -f "$TMP/udhcpd.conf" >"$TMP/udhcpd.log" 2>&1 &
on_exit "kill $! 2>/dev/null"
ip netns exec "$NS" tcpdump -i br0 -U -w "$TMP/cap.pcap" >"$TMP/tcpdump.log" 2>&1 &
tcpdump_pid=$!
on_exit "kill $tcpdump_pid 2>/dev/null"
: >"$TMP/queries"
ip netns exec "$NS" "$PY" "$LETHE_SRC/tests/interop/dns-peer.py" serve "$TMP/queries" \
	192.0.2.53 192.0.2.54 >"$TMP/peer.out" 2>&1 &
on_exit "kill $! 2>/dev/null"
for ((i = 0; i < 50; i++)); do grep -q ready "$TMP/peer.out" && break; sleep 0.1; done
grep -q ready "$TMP/peer.out" || fail "the DNS peer did not start: $(cat "$TMP/peer.out")"

sed '/^network:/,/^$/d; /^firewall:/,$d' "$LETHE_SRC/examples/minimal.yaml" >"$TMP/dhcp.yaml"
cat >>"$TMP/dhcp.yaml" <<'YAML'

firewall:
  in: { default: drop }
  out:
    default: drop
    allow:
      # DNS to anyone, as far as this section goes: network.dns still narrows it.
      - { proto: [udp, tcp], port: 53 }

network:
  hostname: dhcpprobe
  dns: [192.0.2.53]
  interfaces:
    - name: eth0
      dhcp: true
YAML
"$LETHE" build --quiet "$TMP/dhcp.yaml" -o "$TMP/img" --key "$(test_key)" >"$TMP/build.log" 2>&1 ||
	{ tail -n 20 "$TMP/build.log" >&2; fail "cannot build the dhcp image"; }

# QEMU in the namespace, where the tap is (exec: VM_PID is QEMU's own).
qemu-system-x86_64() { exec ip netns exec "$NS" qemu-system-x86_64 "$@"; }
vm_start "$TMP/img" "$TMP/img/disk.img" "$(cat "$TMP/img/cmdline")" \
	-netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
	-device "virtio-net-pci,netdev=n0,mac=$PERM"
vm_wait "lethe-init: stage 2 ready" 300
vm_wait "lethe-init: dhcp: eth0: lease 192\.0\.2\.1[0-9]{2}/24, router 192\.0\.2\.1," 120
vm_send 'dmesg -n 1'
vm_send 'P=DH; sed "s/^/$P RESOLV /" /etc/resolv.conf; ip -4 -o addr show dev eth0 | sed "s/^/$P ADDR /"; ip route | sed "s/^/$P ROUTE /"'
vm_send 'nslookup lethe.test 192.0.2.53 >/dev/null 2>&1 && echo "$P Q53 ok" || echo "$P Q53 failed"'
vm_send 'nslookup lethe.test 192.0.2.54 >/dev/null 2>&1 && echo "$P Q54 ok" || echo "$P Q54 failed"'
vm_send 'lethe firewall stats | sed "s/^/$P STATS /"; lethe firewall check /etc/lethe/spec.yaml >/dev/null 2>&1; echo "$P CHECK $?"; echo "$P-END"'
vm_wait "^DH-END" 120
# The lease is 40 s: udhcpc renews at half of it, unicast through the firewall.
for ((i = 0; i < 900; i++)); do
	[ "$(grep -c 'lethe-init: dhcp: eth0: lease' "$TMP/serial.log")" -ge 2 ] && break
	kill -0 "$VM_PID" 2>/dev/null || break
	sleep 0.1
done
[ "$(grep -c 'lethe-init: dhcp: eth0: lease' "$TMP/serial.log")" -ge 2 ] ||
	{ tail -n 30 "$TMP/serial.log" >&2; fail "no renewal of the 40 s lease within 90 s"; }
vm_kill

# The control: a client that does send a host name, on the same bridge.
ip netns exec "$CL" timeout 15 busybox udhcpc -f -q -n -i vcl -s /bin/true \
	-x hostname:lethe-leak-probe -t 3 -T 1 >"$TMP/control.log" 2>&1 || true
sleep 1
kill "$tcpdump_pid" 2>/dev/null
wait "$tcpdump_pid" 2>/dev/null || true

con() { tr -d '\r' <"$TMP/serial.log" | sed -n "s/^DH $1 //p"; }
addr=$(sed -n 's/.*dhcp: eth0: lease \(192\.0\.2\.[0-9]*\)\/24.*/\1/p' "$TMP/serial.log" | tr -d '\r' | head -n 1)
con ADDR | grep -q "inet $addr/24" || fail "eth0 does not hold the lease $addr: $(con ADDR)"
con ROUTE | grep -q "^default via 192.0.2.1 dev eth0" || fail "no default route via the lease's router: $(con ROUTE)"
[ "$(con RESOLV | grep -v '^#')" = "nameserver 192.0.2.53" ] ||
	fail "/etc/resolv.conf is not the spec's network.dns alone: $(con RESOLV)"
con Q53 | grep -qx ok || fail "the query to network.dns's 192.0.2.53 got no answer"
con Q54 | grep -qx failed || fail "the query to 192.0.2.54 was answered"
grep -q '^udp 192.0.2.54$' "$TMP/queries" && fail "a query reached 192.0.2.54"
grep -q '^udp 192.0.2.53$' "$TMP/queries" || fail "the DNS peer saw no query to 192.0.2.53"
con STATS | grep -Eq '^dns +lethe-dns-out +[1-9]' || fail "lethe-dns-out counted nothing: $(con STATS)"
con CHECK | grep -qx 0 || fail "lethe firewall check in the guest: the table drifted"

"$PY" "$LETHE_SRC/tests/vm/dhcp-parse.py" "$TMP/cap.pcap" >"$TMP/cap.txt"
mac=$(awk -v a="$addr" '$1 == "dhcp" && $3 == a { print $2; exit }' "$TMP/cap.txt")
[ -n "$mac" ] || fail "the capture holds no renewal from $addr: $(cat "$TMP/cap.txt")"
grep "^dhcp $mac " "$TMP/cap.txt" >"$TMP/guest.txt"
ctl=$(grep -v "^dhcp $mac " "$TMP/cap.txt" | grep '^dhcp' || true)
[ "$(wc -l <"$TMP/guest.txt")" -ge 3 ] || fail "fewer than 3 DHCP messages from the guest: $(cat "$TMP/guest.txt")"
[ "$mac" != "$PERM" ] || fail "the guest's DHCP carries the permanent address"
while read -r _ chaddr src dst type opts id host; do
	case ",${opts#opts=}," in
	*,12,* | *,81,*) fail "the guest sent a host name: $opts $host" ;;
	*,60,*) fail "the guest sent a vendor class: $opts" ;;
	*,61,*) ;;
	*) fail "the guest sent no client id: $opts" ;;
	esac
	[ "${id#id=}" != "01${chaddr//:/}" ] || fail "the client id is the card's address"
	case "$type" in 1 | 3) ;; *) fail "unexpected DHCP message type $type" ;; esac
done <"$TMP/guest.txt"
ids=$(awk '{ print $7 }' "$TMP/guest.txt" | sort -u | wc -l)
[ "$ids" = 1 ] || fail "the client id changed within a boot"
grep -q "^dhcp $mac $addr 192.0.2.1 3 " "$TMP/guest.txt" || fail "no unicast renewal through the firewall"
! grep -q '^dns .* 192.0.2.54 ' "$TMP/cap.txt" || fail "a DNS query to 192.0.2.54 is on the wire"
echo "$ctl" | grep -q 'host=lethe-leak-probe' ||
	fail "control: the capture shows no host name from a client that sends one: $ctl"
echo "network-dhcp: lease $addr renewed, $(wc -l <"$TMP/guest.txt") DHCP messages without a host name, DNS only to 192.0.2.53"
