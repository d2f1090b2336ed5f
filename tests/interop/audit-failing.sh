# The live checks fail where their condition does not hold on this host: a network
# namespace with no Lethe table, an active swap file, a loop device mounted writable.
. "$LETHE_SRC/tests/lib.sh"
need_root
need_cmd ip losetup mkswap swapon mkfs.ext4 nft

ns="lethe-audit-$$"
ip netns add "$ns" 2>/dev/null || skip "cannot create network namespaces here"
on_exit "ip netns del $ns"

# firewall.policy: in an empty namespace there is no table inet lethe...
rc=0
ip netns exec "$ns" "$LETHE" audit --no-color --only firewall.policy >"$TMP/fw" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || { cat "$TMP/fw"; fail "firewall.policy passed without a table"; }
grep -q 'no table inet lethe is loaded' "$TMP/fw" || { cat "$TMP/fw"; fail "wrong evidence"; }
# ...and with an accepting output policy it names it; with both drop it passes.
ip netns exec "$ns" nft -f - <<'NFT'
table inet lethe {
	chain input { type filter hook input priority 0; policy drop; }
	chain output { type filter hook output priority 0; policy accept; }
}
NFT
rc=0
ip netns exec "$ns" "$LETHE" audit --no-color --only firewall.policy >"$TMP/fw" 2>&1 || rc=$?
[ "$rc" -eq 1 ] && grep -q 'output policy accept' "$TMP/fw" || { cat "$TMP/fw"; fail "accepting output not caught"; }
ip netns exec "$ns" nft add chain inet lethe output '{ policy drop; }'
ip netns exec "$ns" "$LETHE" audit --no-color --only firewall.policy >"$TMP/fw" 2>&1 ||
	{ cat "$TMP/fw"; fail "firewall.policy failed with both policies drop"; }

# swap.none: an active swap file on the host is caught by name.
swapfile="$LETHE_BUILD/audit-test.swap"
dd if=/dev/zero of="$swapfile" bs=1M count=16 status=none
chmod 600 "$swapfile"
mkswap "$swapfile" >/dev/null
if swapon "$swapfile" 2>/dev/null; then
	on_exit "swapoff '$swapfile'; rm -f '$swapfile'"
	rc=0
	"$LETHE" audit --no-color --only swap.none >"$TMP/swap" 2>&1 || rc=$?
	[ "$rc" -eq 1 ] && grep -q "$swapfile active" "$TMP/swap" || { cat "$TMP/swap"; fail "active swap not caught"; }
	swapoff "$swapfile"
else
	rm -f "$swapfile"
	note "swapon is not permitted here; swap.none is covered by the fixture tests only"
fi

# storage.no-writable: a loop device mounted read-write is named with its mount point.
img="$TMP/disk.img"
dd if=/dev/zero of="$img" bs=1M count=8 status=none
mkfs.ext4 -q "$img"
loop=$(losetup --find --show "$img" 2>/dev/null) || skip "no loop devices here"
on_exit "losetup -d $loop"
mkdir "$TMP/mnt"
mount "$loop" "$TMP/mnt" || skip "cannot mount a loop device here"
on_exit "umount '$TMP/mnt'"
rc=0
"$LETHE" audit --no-color --only storage.no-writable >"$TMP/st" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || { cat "$TMP/st"; fail "writable loop mount not caught"; }
grep -q "${loop#/dev/} on $TMP/mnt (ext4, rw)" "$TMP/st" || { cat "$TMP/st"; fail "evidence does not name the loop mount"; }
grep -Eq "^${loop#/dev/} +loop" "$TMP/st" || { cat "$TMP/st"; fail "block device table lacks the loop device"; }
