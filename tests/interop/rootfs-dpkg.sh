#!/usr/bin/env bash
# The root of a built image, as dpkg sees it: every locked root package is installed
# ("ii"), the kernel packages are not in the root, `dpkg --audit` finds nothing, and
# `dpkg -V` verifies every file against its package's md5sums. Also: accounts locked,
# os-release names Lethe.
. "$LETHE_SRC/tests/lib.sh"

need_cmd fsck.erofs dpkg dpkg-query
timeout 10 bash -c 'exec 3<>/dev/tcp/deb.debian.org/80' 2>/dev/null ||
	[ -f "$LETHE_BUILD/test-images/minimal/SHA256SUMS" ] ||
	skip "cannot reach deb.debian.org:80 and no image is built yet"
export XDG_CACHE_HOME="$LETHE_BUILD/test-cache" XDG_CONFIG_HOME="$LETHE_BUILD/test-config"
# tests/lib.sh's image_dir expands $name before its 'local' sets it: give it the value.
name=minimal
out=$(image_dir minimal)
root="$TMP/root"
fsck.erofs --extract="$root" "$out/rootfs.erofs" >/dev/null 2>&1 ||
	fail "fsck.erofs cannot extract '$out/rootfs.erofs'"
db="$root/var/lib/dpkg"

dpkg-query --admindir="$db" -W -f '${Package} ${Version} ${db:Status-Abbrev}\n' \
	>"$TMP/installed" 2>"$TMP/query.err" || fail "dpkg-query failed: $(cat "$TMP/query.err")"
[ -s "$TMP/query.err" ] && { cat "$TMP/query.err" >&2; fail "dpkg-query warned"; }
n=0
while read -r name version arch sha size role file; do
	case $name in '#'* | lethe-lock) continue ;; esac
	if [ "$role" = kernel ]; then
		grep -q "^$name " "$TMP/installed" && fail "kernel package '$name' is in the root's dpkg status"
		continue
	fi
	grep -qxF "$name $version ii " "$TMP/installed" ||
		fail "'$name $version' is not installed according to dpkg"
	n=$((n + 1))
done <"$out/lethe.lock"
[ "$n" -eq "$(wc -l <"$TMP/installed")" ] || fail "dpkg lists packages the lock does not"

audit=$(dpkg --admindir="$db" --audit 2>&1)
[ -z "$audit" ] || { echo "$audit" >&2; fail "dpkg --audit complains"; }
verify=$(dpkg --root="$root" -V 2>&1)
[ -z "$verify" ] || { echo "$verify" | head -20 >&2; fail "dpkg -V finds modified or missing files"; }

# Accounts: every password locked; root present.
grep -q '^root:x:0:0:' "$root/etc/passwd" || fail "no root in /etc/passwd"
awk -F: '$2 != "*" && $2 != "!" { exit 1 }' "$root/etc/shadow" || fail "an unlocked password"
grep -qx 'ID=lethe' "$root/usr/lib/os-release" || fail "os-release does not say ID=lethe"
[ "$(readlink "$root/etc/os-release")" = ../usr/lib/os-release ] || fail "/etc/os-release link"
note "ok: $n packages installed per dpkg; audit and verify clean"
