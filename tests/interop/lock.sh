#!/usr/bin/env bash
# lethe lock against the host's real apt and Debian's archive: the private apt state
# leaves the host's package state alone, the lock is deterministic, a cached .deb that
# was damaged is replaced, and a lock with a tampered SHA-256 makes --locked fail
# naming the package.
. "$LETHE_SRC/tests/lib.sh"

need_cmd apt-get apt-cache sha256sum
spec="$LETHE_SRC/examples/minimal.yaml"
[ -f "$spec" ] || skip "no examples/minimal.yaml"
# The spec's suite comes from deb.debian.org: without a route there, nothing to test.
timeout 10 bash -c 'exec 3<>/dev/tcp/deb.debian.org/80' 2>/dev/null ||
	skip "cannot reach deb.debian.org:80 (no network on this machine)"

# One cache per build tree, shared between runs (the kernel package is large).
export XDG_CACHE_HOME="$LETHE_BUILD/test-cache" XDG_CONFIG_HOME="$TMP/config"
mkdir -p "$XDG_CACHE_HOME"

host_state() {
	sha256sum /var/lib/dpkg/status
	ls -l --time-style=+%s /var/lib/apt/lists/ 2>/dev/null | grep -v ' partial$' || true
	ls /var/cache/apt/archives/ 2>/dev/null || true
}
host_state >"$TMP/host.before"

expect_ok "$LETHE" lock "$spec" -o "$TMP/lethe.lock" --json
json="$TMP/out"
grep -q '"name": "busybox-static"' "$json" || fail "busybox-static is not in the lock's JSON"
grep -A6 '"name": "linux-image-cloud-amd64"' "$json" | grep -q '"role": "kernel"' ||
	fail "the kernel package is not locked with role kernel"
head -1 "$TMP/lethe.lock" | grep -qx 'lethe-lock 1' || fail "lock header"
grep -q '^libc6 .* root libc6_.*_amd64\.deb$' "$TMP/lethe.lock" || fail "libc6 line"
n=$(grep -vc '^#\|^lethe-lock' "$TMP/lethe.lock")
note "locked $n packages"
[ "$n" -ge 5 ] || fail "only $n packages in the lock"

# --outdated against Debian's own archive (lists just updated, so --offline): a fresh
# lock has nothing newer; a lock whose libc6 is older than the archive's lists it.
expect_ok "$LETHE" lock --outdated --offline "$spec" -o "$TMP/lethe.lock"
[ ! -s "$TMP/out" ] || { cat "$TMP/out" >&2; fail "a fresh lock is outdated"; }
read -r name version arch sha size role file <<<"$(grep '^libc6 ' "$TMP/lethe.lock")"
sed "s/^libc6 $version $arch $sha $size $role $file\$/libc6 2.36-1 $arch $sha $size $role libc6_2.36-1_$arch.deb/" \
	"$TMP/lethe.lock" >"$TMP/old.lock"
expect_fail 1 "packages outdated" "$LETHE" lock --outdated --offline "$spec" -o "$TMP/old.lock"
awk -v v="$version" '$1 == "libc6" && $2 == "2.36-1" && $3 == v { ok = 1 } END { exit !ok }' "$TMP/out" ||
	{ cat "$TMP/out" >&2; fail "--outdated does not list libc6"; }

# The host's apt and dpkg state did not change.
host_state >"$TMP/host.after"
diff -u "$TMP/host.before" "$TMP/host.after" || fail "the host's package state changed"

# Same index, same lock, byte for byte.
expect_ok "$LETHE" lock "$spec" -o "$TMP/again.lock" --quiet
cmp "$TMP/lethe.lock" "$TMP/again.lock" || fail "two locks of the same index differ"

# Warm: lists and .debs cached, so no network is needed at all.
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null; then
	expect_ok unshare -n "$LETHE" lock "$spec" -o "$TMP/offline.lock" --quiet
	cmp "$TMP/lethe.lock" "$TMP/offline.lock" || fail "the offline lock differs"
	# A locked build takes every .deb from the cache, checked against the lock.
	expect_ok unshare -n "$LETHE" build "$spec" -o "$TMP/offline-image" \
		--lock "$TMP/lethe.lock" --quiet
	cmp "$TMP/lethe.lock" "$TMP/offline-image/lethe.lock" ||
		fail "the locked build did not build the locked set"
else
	note "not root: the offline (unshare -n) check is left out"
fi

# Every cached .deb matches the lock; a damaged one is detected and fetched again.
line=$(grep '^busybox-static ' "$TMP/lethe.lock")
read -r name version arch sha size role file <<<"$line"
cached="$XDG_CACHE_HOME/lethe/debs/$sha-$file"
[ -f "$cached" ] || fail "'$cached' is not in the cache"
echo "$sha  $cached" | sha256sum -c --quiet || fail "cached file does not match the lock"
flip_bit "$cached" 1000
expect_ok "$LETHE" lock "$spec" -o "$TMP/third.lock" --quiet
echo "$sha  $cached" | sha256sum -c --quiet || fail "a damaged cached .deb was kept"

# A tampered SHA-256 in the lock: --locked must fail and name the package.
bad=$(printf '%s' "$sha" | tr '0-9a-f' '1-9a-f0')
sed "s/^busybox-static $version $arch $sha /busybox-static $version $arch $bad /" \
	"$TMP/lethe.lock" >"$TMP/tampered.lock"
grep -q "$bad" "$TMP/tampered.lock" || fail "could not tamper with the lock"
expect_fail 1 "package 'busybox-static': SHA-256 of '.*' is $sha, the lock says $bad" \
	"$LETHE" build "$spec" -o "$TMP/image" --lock "$TMP/tampered.lock" --quiet
[ ! -e "$TMP/image" ] || fail "a failed build left an output directory"

# A malformed lock is refused with its line number.
sed '3s/ root / rooot /' "$TMP/lethe.lock" >"$TMP/malformed.lock"
expect_fail 1 "line 3: package '.*': role must be 'root' or 'kernel', not 'rooot'" \
	"$LETHE" build "$spec" -o "$TMP/image" --lock "$TMP/malformed.lock" --quiet
note "ok: $n packages locked; host state untouched; tampered and malformed locks refused"
