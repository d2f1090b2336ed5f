# The rendered ruleset against the real nft: nft accepts it, `lethe firewall apply`
# loads it in a network namespace of our own, nft lists it back exactly as lethe renders
# it, `check` passes, and every change made by hand (a rule added, a rule deleted, a
# policy changed, the table deleted) makes `check` exit 1 naming the difference.
. "$LETHE_SRC/tests/lib.sh"
need_root
need_cmd nft ip setpriv

NS=lethe-fwnft-$$
ip netns add "$NS" 2>/dev/null || skip "cannot create a network namespace"
on_exit ip netns del "$NS"
in_ns() { ip netns exec "$NS" "$@"; }

# Every feature of the section: sets, ranges, both families, users and groups,
# interfaces, protocol lists; no icmpv6 so that nft's own listing is text-identical
# (nft names protocol 58 'ipv6-icmp' from /etc/protocols, lethe says 'icmpv6').
chmod 755 "$TMP" # the unprivileged run below reads the spec
cat >"$TMP/spec.yaml" <<'EOF'
name: fwtest
version: "1"
packages: [busybox-static]
accounts:
  groups:
    - { name: fwgroup, gid: 4343 }
  users:
    - { name: fwuser, uid: 4242, group: fwgroup }
firewall:
  log: { rate: "3/minute" }
  in:
    allow:
      - { proto: tcp, port: [22, 8080, "6000-6010"] }
      - { proto: [tcp, udp], port: 53, from: [192.0.2.0/24, "2001:db8::/48", 198.51.100.7] }
      - { proto: icmp, interface: eth0 }
      - { proto: udp, interface: "veth*" }
  out:
    allow:
      - { proto: tcp, port: 9001, user: fwuser }
      - { group: fwgroup, to: ["2001:db8::2", 192.0.2.2] }
      - { proto: udp, port: 53, to: 192.0.2.53 }
  forward: { default: drop }
EOF

"$LETHE" firewall show "$TMP/spec.yaml" >"$TMP/ruleset.nft" || fail "firewall show failed"
grep -q '^table inet lethe {$' "$TMP/ruleset.nft" || fail "show printed no table inet lethe"
# The syntax check of the real nft, on the table alone and on the transaction apply uses.
in_ns nft -c -f "$TMP/ruleset.nft" || fail "nft -c rejects the rendered ruleset"
{ printf 'add table inet lethe\ndelete table inet lethe\n'; cat "$TMP/ruleset.nft"; } >"$TMP/tx.nft"
in_ns nft -c -f "$TMP/tx.nft" || fail "nft -c rejects the replacing transaction"

# Nothing loaded yet: check says the table is missing.
expect_fail 1 'drifted' in_ns "$LETHE" firewall check "$TMP/spec.yaml"
grep -q '^table missing' "$TMP/out" || fail "check did not say the table is missing"

expect_ok in_ns "$LETHE" firewall apply "$TMP/spec.yaml"
# Stateless (-s): the drop rules' counters are state, not part of the ruleset.
in_ns nft -s list ruleset >"$TMP/live.nft"
grep -q '^table inet lethe {$' "$TMP/live.nft" || fail "nft list ruleset shows no table inet lethe"
diff -u "$TMP/ruleset.nft" "$TMP/live.nft" || fail "nft lists the table differently from lethe"
expect_ok in_ns "$LETHE" firewall check "$TMP/spec.yaml"
grep -q 'matches the spec' "$TMP/out" || fail "check did not report a match"

# Applying again replaces the table (one transaction, the table existing this time).
expect_ok in_ns "$LETHE" firewall apply "$TMP/spec.yaml"
expect_ok in_ns "$LETHE" firewall check "$TMP/spec.yaml"

# A rule added by hand.
in_ns nft add rule inet lethe output accept
expect_fail 1 'drifted from the spec: 1 difference' in_ns "$LETHE" firewall check "$TMP/spec.yaml"
grep -qx 'chain output: rule added: accept' "$TMP/out" || { cat "$TMP/out"; fail "added rule not named"; }
expect_fail 1 'drifted' in_ns "$LETHE" firewall check --json "$TMP/spec.yaml"
grep -q '"kind": "rule added"' "$TMP/out" || fail "--json does not list the added rule"
grep -q '"match": false' "$TMP/out" || fail "--json does not say match false"

# A rule deleted by hand (after putting the table back).
expect_ok in_ns "$LETHE" firewall apply "$TMP/spec.yaml"
handle=$(in_ns nft -a list chain inet lethe input | sed -n 's/.*tcp dport { 22, 6000-6010, 8080 } accept # handle \([0-9]*\)$/\1/p')
[ -n "$handle" ] || fail "cannot find the handle of the tcp rule"
in_ns nft delete rule inet lethe input handle "$handle"
expect_fail 1 'drifted from the spec: 1 difference' in_ns "$LETHE" firewall check "$TMP/spec.yaml"
grep -qx 'chain input: rule missing: tcp dport { 22, 6000-6010, 8080 } accept' "$TMP/out" ||
	{ cat "$TMP/out"; fail "deleted rule not named"; }

# A policy changed by hand, and the table deleted by hand.
expect_ok in_ns "$LETHE" firewall apply "$TMP/spec.yaml"
in_ns nft 'chain inet lethe forward { policy accept; }'
expect_fail 1 'drifted' in_ns "$LETHE" firewall check "$TMP/spec.yaml"
grep -q '^chain forward: policy changed' "$TMP/out" || { cat "$TMP/out"; fail "policy change not named"; }
in_ns nft delete table inet lethe
expect_fail 1 'drifted' in_ns "$LETHE" firewall check "$TMP/spec.yaml"
grep -q '^table missing' "$TMP/out" || fail "deleted table not named"

# Other tables are left alone by apply.
in_ns nft add table ip other
expect_ok in_ns "$LETHE" firewall apply "$TMP/spec.yaml"
in_ns nft list tables >"$TMP/tables"
grep -q "table ip other" "$TMP/tables" || fail "apply removed another table"

# Another table with a base chain in the packet path (issue 10.13): a nat chain before
# Lethe's filter and a filter chain that accepts after it. check and the audit name each,
# with its hook and priority; a table without base chains is no drift.
expect_ok in_ns "$LETHE" firewall check "$TMP/spec.yaml"
in_ns nft add chain ip other pre '{ type nat hook prerouting priority -100; policy accept; }'
in_ns nft add table inet other2
in_ns nft add chain inet other2 late '{ type filter hook input priority 10; policy accept; }'
in_ns nft add rule inet other2 late accept
expect_fail 1 'drifted from the spec: 2 differences' in_ns "$LETHE" firewall check "$TMP/spec.yaml"
grep -qx "chain ip other pre: foreign hook: another table's chain in the packet path: type nat hook prerouting priority -100; policy accept;" "$TMP/out" ||
	{ cat "$TMP/out"; fail "check does not name the foreign nat chain with its priority"; }
grep -q "^chain inet other2 late: foreign hook: .*hook input priority 10;" "$TMP/out" ||
	{ cat "$TMP/out"; fail "check does not name the foreign input chain"; }
expect_fail 1 'drifted' in_ns "$LETHE" firewall check --json "$TMP/spec.yaml"
grep -q '"kind": "foreign hook"' "$TMP/out" || fail "--json does not list the foreign hook"
rc=0
in_ns "$LETHE" audit --json --only firewall.policy >"$TMP/audit.json" 2>"$TMP/audit.err" || rc=$?
[ "$rc" -eq 1 ] || { cat "$TMP/audit.json" "$TMP/audit.err"; fail "the audit exited $rc, not 1"; }
grep -q 'ip other pre (nat hook prerouting priority -100' "$TMP/audit.json" ||
	{ cat "$TMP/audit.json"; fail "the audit does not name the foreign nat chain"; }
grep -q 'inet other2 late (filter hook input priority 10' "$TMP/audit.json" ||
	{ cat "$TMP/audit.json"; fail "the audit does not name the foreign input chain"; }
in_ns nft delete table ip other
in_ns nft delete table inet other2
rc=0
in_ns "$LETHE" audit --json --only firewall.policy >"$TMP/audit.json" 2>"$TMP/audit.err" || rc=$?
[ "$rc" -eq 1 ] || [ "$rc" -eq 0 ] || { cat "$TMP/audit.err"; fail "the audit exited $rc"; }
! grep -q 'other tables hook' "$TMP/audit.json" || fail "the audit still sees a foreign table"
expect_ok in_ns "$LETHE" firewall check "$TMP/spec.yaml"

# Without CAP_NET_ADMIN: a runtime error (3) that says why, and the table is unchanged.
expect_fail 3 'cannot load table inet lethe: .*Operation not permitted' \
	in_ns setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$LETHE" firewall apply "$TMP/spec.yaml"
expect_ok in_ns "$LETHE" firewall check "$TMP/spec.yaml"

# Edge values: /0 prefixes, an IPv4-mapped and a link-local IPv6 prefix, the extreme
# ports and ids, interface names with dots, '@', ':' and '+'. nft must list them back
# exactly as rendered, or check would see drift where there is none.
cat >"$TMP/edge.yaml" <<'EOF'
name: fwedge
version: "1"
packages: [busybox-static]
firewall:
  in:
    allow:
      - { from: 0.0.0.0/0 }
      - { from: "::/0", proto: tcp, port: [1, 65535, "3-4"] }
      - { from: "::ffff:192.0.2.1", to: "fe80::/10" }
      - { from: [192.0.2.128/25, 198.51.100.0/25] }
      - { interface: "eth0.100" }
      - { interface: "wg@x:1+" }
  out:
    allow:
      - { user: 4294967294, group: 4294967294 }
      - { to: [10.0.0.0/8, 11.1.0.0/16] }
EOF
"$LETHE" firewall show "$TMP/edge.yaml" >"$TMP/edge.nft" || fail "show of the edge spec failed"
expect_ok in_ns "$LETHE" firewall apply "$TMP/edge.yaml"
in_ns nft -s list table inet lethe >"$TMP/edge-live.nft"
diff -u "$TMP/edge.nft" "$TMP/edge-live.nft" || fail "nft lists the edge values differently"
expect_ok in_ns "$LETHE" firewall check "$TMP/edge.yaml"

# The examples' sections load too.
for ex in privacy appliance; do
	[ -f "$LETHE_SRC/examples/$ex.yaml" ] || continue
	expect_ok in_ns "$LETHE" firewall apply "$LETHE_SRC/examples/$ex.yaml"
	expect_ok in_ns "$LETHE" firewall check "$LETHE_SRC/examples/$ex.yaml"
done

# An invalid section: exit 1, line and column, nothing applied.
sed 's/port: 9001/port: 70000/' "$TMP/spec.yaml" >"$TMP/bad.yaml"
expect_fail 1 "line 19 column 29: port 70000 is out of range" \
	in_ns "$LETHE" firewall apply "$TMP/bad.yaml"
expect_fail 2 'expected an action' "$LETHE" firewall "$TMP/spec.yaml"
"$LETHE" firewall --help >"$TMP/help" || fail "--help failed"
grep -q 'lethe firewall check SPEC' "$TMP/help" || fail "--help does not show the usage"
echo "firewall-nft: ok"
