# No DNS but to the spec's servers: two network namespaces joined by a veth pair, the
# firewall applied in the first, a DNS peer (tests/interop/dns-peer.py) answering on
# UDP and TCP port 53 at two addresses of each family in the second: 192.0.2.2 and
# 2001:db8::2 (named in network.dns) and 192.0.2.3 and 2001:db8::3 (not). A query
# (busybox nslookup over UDP, the peer's client over TCP) to a named server is
# answered; one to the other server never reaches it and is counted on lethe-dns-out,
# under an output policy of accept, under a rule that allows port 53 to anyone, and
# with no network.dns at all (then every server is refused). The control: with the
# table deleted the other server answers.
. "$LETHE_SRC/tests/lib.sh"
need_root
need_cmd nft ip busybox timeout /usr/bin/python3

FW=lethe-dns-$$
PEER=lethe-dnsp-$$
ip netns add "$FW" 2>/dev/null || skip "cannot create a network namespace"
on_exit ip netns del "$FW"
ip netns add "$PEER" || fail "cannot create a second namespace"
on_exit ip netns del "$PEER"
ip link add vdns netns "$FW" type veth peer name vdnsp netns "$PEER" ||
	skip "cannot create a veth pair"
for ns in "$FW" "$PEER"; do ip -n "$ns" link set lo up; done
ip -n "$FW" addr add 192.0.2.1/24 dev vdns
ip -n "$FW" addr add 2001:db8::1/64 dev vdns nodad
for a in 192.0.2.2/24 192.0.2.3/24; do ip -n "$PEER" addr add $a dev vdnsp; done
for a in 2001:db8::2/64 2001:db8::3/64; do ip -n "$PEER" addr add $a dev vdnsp nodad; done
ip -n "$FW" link set vdns up
ip -n "$PEER" link set vdnsp up

PY=/usr/bin/python3
PEERPY=$LETHE_SRC/tests/interop/dns-peer.py
: >"$TMP/queries"
ip netns exec "$PEER" "$PY" "$PEERPY" serve "$TMP/queries" 192.0.2.2 192.0.2.3 \
	2001:db8::2 2001:db8::3 >"$TMP/peer.out" 2>&1 &
peer_pid=$!
on_exit "kill $peer_pid"
for ((i = 0; i < 50; i++)); do grep -q ready "$TMP/peer.out" && break; sleep 0.1; done
grep -q ready "$TMP/peer.out" || fail "the DNS peer did not start: $(cat "$TMP/peer.out")"

spec() { # NAME NETWORK OUT
	cat >"$TMP/$1.yaml" <<-EOF
		name: fwdns
		version: "1"
		packages: [busybox-static]
		network: $2
		firewall:
		  log: false
		  out: $3
	EOF
}
spec open '{dns: [192.0.2.2, "2001:db8::2"]}' '{default: accept}'
spec rule '{dns: ["2001:db8::2", 192.0.2.2]}' '{allow: [{proto: [tcp, udp], port: 53}, {proto: icmp}]}'
spec none '{hostname: fwdns}' '{default: accept}'

fwns() { ip netns exec "$FW" "$@"; }
# asks PROTO SERVER: is the query answered? (UDP through busybox's resolver client)
asks() {
	if [ "$1" = udp ]; then
		fwns timeout 5 busybox nslookup lethe.test "$2" 2>/dev/null | grep -q 192.0.2.99
	else
		fwns timeout 5 "$PY" "$PEERPY" query tcp "$2" lethe.test
	fi
}
dropped() {
	fwns "$LETHE" firewall stats --json | "$PY" -c 'import json, sys
print(sum(c["packets"] for c in json.load(sys.stdin)["counters"] if c["name"] == "lethe-dns-out"))'
}
reached() { grep -c "^$1 $2\$" "$TMP/queries" || true; }

n=0
check_spec() { # NAME OKSERVERS... -- BADSERVERS...
	local name=$1 ok=() bad=() s p before got
	shift
	while [ "$1" != -- ]; do ok+=("$1"); shift; done
	shift
	bad=("$@")
	: >"$TMP/queries" # the peer appends
	fwns "$LETHE" firewall apply "$TMP/$name.yaml" || fail "$name: firewall apply failed"
	fwns "$LETHE" firewall check -q "$TMP/$name.yaml" || fail "$name: firewall check failed"
	[ "$(dropped)" = 0 ] || fail "$name: lethe-dns-out does not start at 0"
	for p in udp tcp; do
		for s in "${ok[@]}"; do
			asks "$p" "$s" || fail "$name: $p query to the named server $s got no answer"
			n=$((n + 1))
		done
		for s in "${bad[@]}"; do
			before=$(dropped)
			asks "$p" "$s" && fail "$name: $p query to $s, not in network.dns, was answered"
			[ "$(reached "$p" "$s")" = 0 ] || fail "$name: $p query reached $s"
			got=$(dropped)
			[ "$got" -gt "$before" ] || fail "$name: $p query to $s was not counted"
			n=$((n + 1))
		done
	done
}

check_spec open 192.0.2.2 2001:db8::2 -- 192.0.2.3 2001:db8::3
# Other egress still passes under the accept policy: only DNS was refused.
fwns timeout 3 busybox ping -c 1 -W 2 192.0.2.3 >/dev/null || fail "open: a ping did not pass"
fwns "$LETHE" firewall stats >"$TMP/stats.txt"
grep -Eq '^dns +lethe-dns-out +[1-9]' "$TMP/stats.txt" ||
	fail "lethe firewall stats does not show lethe-dns-out: $(cat "$TMP/stats.txt")"
check_spec rule 192.0.2.2 2001:db8::2 -- 192.0.2.3 2001:db8::3
check_spec none -- 192.0.2.2 192.0.2.3 2001:db8::2 2001:db8::3
# The control: without the table the other server answers, so the test sees a leak.
fwns nft delete table inet lethe
asks udp 192.0.2.3 || fail "control: no answer from 192.0.2.3 without the firewall"
asks tcp 2001:db8::3 || fail "control: no answer from 2001:db8::3 without the firewall"
echo "firewall-dns: ok ($n queries)"
