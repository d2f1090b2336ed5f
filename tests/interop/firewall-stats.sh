# Leak counters: `lethe firewall stats` reports how many packets each drop rule of the
# applied table refused. In a network namespace joined to a peer by a veth pair
# (192.0.2.0/24), the firewall of a spec that drops everything out is applied: the
# counters start at zero; three pings and a TCP connection attempt from the firewalled
# side are counted on lethe-drop-out (and the peer sees none of them: the drop is real);
# a packet the peer sends in is counted on lethe-drop-in; `lethe firewall check` still
# says the table matches the spec whatever the counters say; --json validates against
# docs/schemas/firewall.schema.json. The control: a spec whose output policy accepts has
# no lethe-drop-out counter, and the same pings reach the peer.
. "$LETHE_SRC/tests/lib.sh"
need_root
need_cmd nft ip nc ping timeout

FW=lethe-st-$$
PEER=lethe-stp-$$
ip netns add "$FW" 2>/dev/null || skip "cannot create a network namespace"
on_exit ip netns del "$FW"
ip netns add "$PEER" || fail "cannot create a second namespace"
on_exit ip netns del "$PEER"
ip link add vst netns "$FW" type veth peer name vstp netns "$PEER" ||
	skip "cannot create a veth pair"
ip -n "$FW" addr add 192.0.2.1/24 dev vst
ip -n "$PEER" addr add 192.0.2.2/24 dev vstp
for ns in "$FW" "$PEER"; do ip -n "$ns" link set lo up; done
ip -n "$FW" link set vst up
ip -n "$PEER" link set vstp up

spec() {
	cat >"$TMP/$1.yaml" <<-EOF
		name: fwstats
		version: "1"
		packages: [busybox-static]
		firewall:
		  log: false
		  in: { default: drop }
		  out: { default: $2 }
	EOF
}
spec drop drop
spec accept accept
fwns() { ip netns exec "$FW" "$@"; }
# counter NAME: its packets, from the JSON report.
counter() {
	fwns "$LETHE" firewall stats --json >"$TMP/stats.json" || fail "lethe firewall stats failed"
	python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
print(sum(c["packets"] for c in d["counters"] if c["name"] == sys.argv[2]) if any(c["name"] == sys.argv[2] for c in d["counters"]) else "none")' \
		"$TMP/stats.json" "$1"
}
# peer_sees: the number of ICMP echo requests the peer's interface received.
peer_rx() { ip -n "$PEER" -s link show vstp | awk '/RX:/ { getline; print $2 }'; }

fwns "$LETHE" firewall apply "$TMP/drop.yaml" 2>/dev/null || fail "cannot apply the firewall"
[ "$(counter lethe-drop-out)" = 0 ] || fail "lethe-drop-out does not start at 0: $(cat "$TMP/stats.json")"
before=$(peer_rx)
fwns ping -c 3 -i 0.2 -W 1 192.0.2.2 >/dev/null 2>&1 && fail "a ping got out through a drop policy"
fwns timeout 3 nc -z -w 1 192.0.2.2 80 2>/dev/null && fail "a TCP connection got out"
out=$(counter lethe-drop-out)
[ "$out" -ge 4 ] || fail "lethe-drop-out counted $out packets for 3 pings and a SYN"
[ "$(peer_rx)" = "$before" ] || fail "the peer received packets the counter says were dropped"
ip netns exec "$PEER" ping -c 2 -i 0.2 -W 1 192.0.2.1 >/dev/null 2>&1 || true
in=$(counter lethe-drop-in)
[ "$in" -ge 2 ] || fail "lethe-drop-in counted $in packets for 2 pings in"
fwns "$LETHE" firewall check "$TMP/drop.yaml" >"$TMP/check.out" ||
	{ cat "$TMP/check.out"; fail "counted packets made the table differ from the spec"; }
fwns "$LETHE" firewall stats | grep -Eq '^output +lethe-drop-out +[0-9]+' ||
	fail "the text report lacks the lethe-drop-out line"
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
	/usr/bin/python3 -c 'import json,sys,jsonschema
jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' \
		"$TMP/stats.json" "$LETHE_SRC/docs/schemas/firewall.schema.json" ||
		fail "lethe firewall stats --json does not match its schema"
fi
expect_fail 2 'stats takes no SPEC' "$LETHE" firewall stats "$TMP/drop.yaml"

# The control: nothing drops on the way out, so nothing is counted there and the pings
# arrive.
fwns "$LETHE" firewall apply "$TMP/accept.yaml" 2>/dev/null || fail "cannot apply the control firewall"
[ "$(counter lethe-drop-out)" = none ] || fail "an accept policy has a lethe-drop-out counter"
fwns ping -c 2 -i 0.2 -W 1 192.0.2.2 >/dev/null 2>&1 || fail "control: the pings did not get out"
echo "firewall-stats: $out packets counted on lethe-drop-out, $in on lethe-drop-in; none counted with an accept policy"
