#!/usr/bin/env bash
# A hostile kernel package (issue 10.3): its vmlinuz and a module are symbolic links to a
# root-only file of the build host, and it ships a modules.dep that makes a text file a
# module. Built with dpkg-deb from the real kernel package and put in a private package
# cache under a lock that names its SHA-256, the build must refuse the links, naming the
# path, and regenerate modules.dep; the host file's bytes reach no artifact.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
need_cmd dpkg-deb sha256sum gzip cpio

ref=$(build_image_or_skip minimal)
spec=$LETHE_SRC/examples/minimal.yaml
key=$(test_key)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/lethe/debs
read -r kname kver karch ksha ksize krole kfile < <(grep -E '^linux-image-[0-9]' "$ref/lethe.lock")
[ -f "$cache/$ksha-$kfile" ] || skip "the kernel package is not in the cache '$cache'"

secret=$TMP/host-secret
marker="LETHE-HOST-SECRET-$$-$RANDOM$RANDOM"
(umask 077 && printf '%s\n' "$marker" >"$secret")
dpkg-deb -R "$cache/$ksha-$kfile" "$TMP/k" || fail "dpkg-deb cannot unpack '$kfile'"
vmlinuz=$(cd "$TMP/k" && ls boot/vmlinuz-*)
version=${vmlinuz#boot/vmlinuz-}
moddir=lib/modules/$version
blk=$(cd "$TMP/k" && find "$moddir" -name 'virtio_blk.ko*' | head -1)
[ -n "$blk" ] || fail "the kernel package has no virtio_blk module"
cp "$TMP/k/$vmlinuz" "$TMP/vmlinuz.real"
cp "$TMP/k/$blk" "$TMP/blk.real"

# hostile NAME: build the package as it is now in $TMP/k, then lethe build with it;
# the build's stderr is in $TMP/NAME.err, its status in $rc.
hostile() {
	local name=$1 deb=$TMP/$1.deb sha size
	dpkg-deb --root-owner-group -Zgzip -z1 -b "$TMP/k" "$deb" >/dev/null ||
		fail "dpkg-deb cannot build the hostile package"
	sha=$(sha256sum "$deb" | cut -d' ' -f1)
	size=$(stat -c %s "$deb")
	rm -rf "$TMP/cache" && mkdir -p "$TMP/cache/lethe/debs"
	# The cache refuses links: hard links where it can, copies where not.
	for f in "$cache"/*.deb; do cp -l "$f" "$TMP/cache/lethe/debs/" 2>/dev/null ||
		cp "$f" "$TMP/cache/lethe/debs/"; done
	cp "$deb" "$TMP/cache/lethe/debs/$sha-$kfile"
	awk -v n="$kname" -v s="$sha" -v z="$size" '$1 == n { $4 = s; $5 = z } { print }' \
		"$ref/lethe.lock" >"$TMP/$name.lock"
	rc=0
	XDG_CACHE_HOME=$TMP/cache "$LETHE" build "$spec" -o "$TMP/out-$name" \
		--lock "$TMP/$name.lock" --key "$key" --quiet 2>"$TMP/$name.err" || rc=$?
}

no_secret() {
	if [ -e "$1" ] && grep -rqaF "$marker" "$1"; then fail "the host file is in '$1'"; fi
	if [ -f "$1/initramfs.img" ] && gzip -dc "$1/initramfs.img" | grep -qaF "$marker"; then
		fail "the host file is in '$1/initramfs.img'"
	fi
	return 0
}

# 1. boot/vmlinuz-* is a link to the host file.
ln -sf "$secret" "$TMP/k/$vmlinuz"
hostile vmlinuz
[ "$rc" -ne 0 ] || fail "a build with a linked vmlinuz succeeded"
grep -qF "'$vmlinuz' is a symbolic link" "$TMP/vmlinuz.err" ||
	{ cat "$TMP/vmlinuz.err" >&2; fail "the error does not name '$vmlinuz'"; }
no_secret "$TMP/out-vmlinuz"
rm "$TMP/k/$vmlinuz" && cp "$TMP/vmlinuz.real" "$TMP/k/$vmlinuz"

# 2. A module the image loads is a link to the host file.
ln -sf "$secret" "$TMP/k/$blk"
hostile module
[ "$rc" -ne 0 ] || fail "a build with a linked module succeeded"
grep -qF "'$blk' is a symbolic link" "$TMP/module.err" ||
	{ cat "$TMP/module.err" >&2; fail "the error does not name '$blk'"; }
no_secret "$TMP/out-module"
rm "$TMP/k/$blk" && cp "$TMP/blk.real" "$TMP/k/$blk"

# 3. A shipped modules.dep that makes a text file a dependency of virtio_blk: depmod's
# own modules.dep replaces it, and the text file is not in the initramfs.
printf 'PAYLOAD-%s\n' "$marker" >"$TMP/k/$moddir/payload.txt"
printf '%s: payload.txt\npayload.txt:\n' "${blk#"$moddir"/}" >"$TMP/k/$moddir/modules.dep"
hostile moddep
[ "$rc" -eq 0 ] || { cat "$TMP/moddep.err" >&2; fail "the build with a shipped modules.dep failed"; }
gzip -dc "$TMP/out-moddep/initramfs.img" | cpio -t --quiet >"$TMP/list"
grep -q 'virtio_blk' "$TMP/list" || fail "virtio_blk is not in the initramfs"
! grep -q 'payload.txt' "$TMP/list" || fail "the shipped modules.dep decided what is a module"
no_secret "$TMP/out-moddep"
note "linked vmlinuz and module refused, shipped modules.dep ignored, no host file in any artifact"
