# Real packets through the applied firewall: two network namespaces joined by a veth
# pair (192.0.2.1/24 <-> 192.0.2.2/24, 2001:db8::1/64 <-> 2001:db8::2/64), the firewall
# applied in the first ("fw"), nc and ping from both sides, over IPv4 and IPv6. What the
# spec allows passes, everything else is dropped in and out, egress is bound to the
# allowed user or group, replies of established connections pass, and echo requests
# pass only where the spec allows ICMP.
. "$LETHE_SRC/tests/lib.sh"
need_root
need_cmd nft ip nc ping ss setpriv timeout

FW=lethe-fw-$$
PEER=lethe-peer-$$
ip netns add "$FW" 2>/dev/null || skip "cannot create a network namespace"
on_exit ip netns del "$FW"
ip netns add "$PEER" || fail "cannot create a second namespace"
on_exit ip netns del "$PEER"
ip link add vfw netns "$FW" type veth peer name vpeer netns "$PEER" ||
	skip "cannot create a veth pair"
for ns in "$FW" "$PEER"; do ip -n "$ns" link set lo up; done
ip -n "$FW" addr add 192.0.2.1/24 dev vfw
ip -n "$FW" addr add 2001:db8::1/64 dev vfw nodad
ip -n "$PEER" addr add 192.0.2.2/24 dev vpeer
ip -n "$PEER" addr add 2001:db8::2/64 dev vpeer nodad
ip -n "$FW" link set vfw up
ip -n "$PEER" link set vpeer up

chmod 755 "$TMP"
cat >"$TMP/spec.yaml" <<'EOF'
name: fwtraffic
version: "1"
packages: [busybox-static]
accounts:
  groups:
    - { name: fwgroup, gid: 4343 }
  users:
    - { name: fwuser, uid: 4242, group: fwgroup }
network:
  dns: [192.0.2.2, "2001:db8::2"] # else port 53 out is dropped whatever the rules say
firewall:
  log: false
  in:
    allow:
      - { proto: tcp, port: 8080 }
      - { proto: udp, port: 5353, from: [192.0.2.2, "2001:db8::2"] }
  out:
    allow:
      - { proto: tcp, port: 9001, user: fwuser }
      - { proto: tcp, port: 9002, group: 4343 }
      - { proto: udp, port: 53, to: [192.0.2.2, "2001:db8::2"] }
      - { proto: [icmp, icmpv6] }
  forward: { default: drop }
EOF
ip netns exec "$FW" "$LETHE" firewall apply "$TMP/spec.yaml" || fail "firewall apply failed"
ip netns exec "$FW" "$LETHE" firewall check -q "$TMP/spec.yaml" || fail "firewall check failed"

n=0
# Wait (at most 2 s) until NS has a listener on PROTO (t or u) port PORT.
wait_listen() {
	local ns=$1 proto=$2 port=$3 i
	for ((i = 0; i < 40; i++)); do
		ip netns exec "$ns" ss -Hln"$proto" "sport = :$port" | grep -q . && return 0
		sleep 0.05
	done
	fail "no listener on $proto/$port in $ns"
}

# tcp SRV_NS CLI_NS FAMILY ADDR PORT [SETPRIV ARGS...]: does a TCP connection carry a
# message there and a reply back? Returns 0 if both arrived, 1 if nothing did.
tcp() {
	local srv=$1 cli=$2 fam=$3 addr=$4 port=$5 got
	shift 5
	n=$((n + 1))
	echo reply-$n | ip netns exec "$srv" timeout 4 nc -"$fam" -l "$port" >"$TMP/srv$n" 2>/dev/null &
	local pid=$!
	wait_listen "$srv" t "$port"
	got=$(echo hello-$n | ip netns exec "$cli" setpriv "${@:---reuid=0}" \
		timeout 3 nc -"$fam" -N -w 2 "$addr" "$port" 2>/dev/null) || true
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	if grep -q "hello-$n" "$TMP/srv$n"; then
		# The request went through; then the reply must have come back too.
		[ "$got" = "reply-$n" ] || fail "tcp $addr:$port: request passed but the reply did not"
		return 0
	fi
	[ -z "$got" ] || fail "tcp $addr:$port: a reply without the request"
	return 1
}

# udp SRV_NS CLI_NS FAMILY ADDR PORT: does a datagram arrive?
udp() {
	local srv=$1 cli=$2 fam=$3 addr=$4 port=$5 i
	n=$((n + 1))
	ip netns exec "$srv" timeout 3 nc -"$fam" -u -l "$port" >"$TMP/srv$n" 2>/dev/null &
	local pid=$!
	wait_listen "$srv" u "$port"
	echo hello-$n | ip netns exec "$cli" timeout 2 nc -"$fam" -u -w 1 "$addr" "$port" \
		>/dev/null 2>&1 || true
	for ((i = 0; i < 10; i++)); do
		grep -q "hello-$n" "$TMP/srv$n" && break
		sleep 0.05
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	grep -q "hello-$n" "$TMP/srv$n"
}

pings() { ip netns exec "$1" ping -"$2" -c 1 -W 1 "$3" >/dev/null 2>&1; }

passes() { "$@" || fail "blocked, should pass: $*"; }
blocked() { ! "$@" || fail "passed, should be blocked: $*"; }

as_user="--reuid=4242 --regid=4242 --clear-groups"
as_group="--reuid=65534 --regid=4343 --clear-groups"
as_nobody="--reuid=65534 --regid=65534 --clear-groups"

for fam in 4 6; do
	if [ "$fam" = 4 ]; then me=192.0.2.1 peer=192.0.2.2; else me=2001:db8::1 peer=2001:db8::2; fi
	note "IPv$fam"
	# In: the allowed TCP port (with its reply, established), nothing else.
	passes tcp "$FW" "$PEER" "$fam" "$me" 8080
	blocked tcp "$FW" "$PEER" "$fam" "$me" 8081
	passes udp "$FW" "$PEER" "$fam" "$me" 5353
	blocked udp "$FW" "$PEER" "$fam" "$me" 5354
	blocked pings "$PEER" "$fam" "$me"
	# Out: only the allowed user to 9001, the allowed group to 9002, anyone to udp 53.
	# shellcheck disable=SC2086
	{
		passes tcp "$PEER" "$FW" "$fam" "$peer" 9001 $as_user
		blocked tcp "$PEER" "$FW" "$fam" "$peer" 9001 $as_nobody
		blocked tcp "$PEER" "$FW" "$fam" "$peer" 9001
		blocked tcp "$PEER" "$FW" "$fam" "$peer" 9003 $as_user
		passes tcp "$PEER" "$FW" "$fam" "$peer" 9002 $as_group
		blocked tcp "$PEER" "$FW" "$fam" "$peer" 9002 $as_nobody
		blocked tcp "$PEER" "$FW" "$fam" "$peer" 8080
	}
	passes udp "$PEER" "$FW" "$fam" "$peer" 53
	blocked udp "$PEER" "$FW" "$fam" "$peer" 54
	passes pings "$FW" "$fam" "$peer"
done

# The control: without the table, what was blocked passes (the test can see a drop).
ip netns exec "$FW" nft delete table inet lethe
passes tcp "$FW" "$PEER" 4 192.0.2.1 8081
passes pings "$PEER" 4 192.0.2.1
passes pings "$PEER" 6 2001:db8::1
echo "firewall-traffic: ok ($n flows)"
