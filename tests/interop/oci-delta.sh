#!/usr/bin/env bash
# Delta pulls (issue 18, performance): `lethe pull --delta-from IMAGE` of a release that
# differs from IMAGE's by one package, from a loopback HTTP server that honours Range and
# counts the bytes it serves. rootfs.erofs is assembled from the blocks of the old root
# image whose digests are in the new rootfs.verity and Range requests for the rest, and
# the release is verified whole: the result is the release, byte for byte. Controls: a
# pull without --delta-from fetches rootfs.erofs whole; a server without Range support
# gives a whole fetch too. The same delta pull from docker-registry. A block tampered on
# the server is refused by its number and offset with nothing left behind; a damaged
# block of the local image is fetched instead. With --delta-from naming the old release
# (a directory), lethe.efi is put together from the old UKI's .linux and .initrd (their
# digests those SHA256SUMS lists for vmlinuz and initramfs.img) and ranges for the rest;
# a damaged kernel in the old UKI is fetched instead, and the pull still holds.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
. "$LETHE_SRC/tests/interop/oci-common.bash"
v1=$(build_image_or_skip minimal)
pub=$(test_pub)

# v2: examples/minimal.yaml with one more package and the next version, built once per
# build tree.
v2=$LETHE_BUILD/test-images/minimal-plus-popt
(
	flock 9
	if image_stale "$v2" "$LETHE_SRC/examples/minimal.yaml" "$LETHE_SRC/tests/interop/oci-delta.sh"; then
		rm -rf "$v2"
		sed 's/^  - libnftables1$/  - libnftables1\n  - libpopt0/; s/^version: "0.1.0"$/version: "0.1.1"/' \
			"$LETHE_SRC/examples/minimal.yaml" >"$TMP/plus.yaml"
		grep -q '^version: "0.1.1"' "$TMP/plus.yaml" || fail "could not raise minimal.yaml's version"
		grep -q libpopt0 "$TMP/plus.yaml" || fail "could not add a package to minimal.yaml"
		"$LETHE" build --quiet "$TMP/plus.yaml" -o "$v2" --key "$(test_key)" >&2
	fi
) 9>"$LETHE_BUILD/test-images/.lock" || fail "the second build failed"
cmp -s "$v1/rootfs.erofs" "$v2/rootfs.erofs" && fail "the two builds have the same root"
size=$(stat -c %s "$v2/rootfs.erofs")

cp -a "$v2" "$TMP/www"
port=$(start_http "$TMP/www")
url=http://127.0.0.1:$port/
json() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }
served() { awk -v p="/$1" '$1 == p { n += $3 } END { print n + 0 }' "$TMP/http.bytes"; }

# Control: without --delta-from, rootfs.erofs comes whole.
expect_ok "$LETHE" pull "$url" -o "$TMP/whole" -p "$pub" --insecure
[ "$(served rootfs.erofs)" -eq "$size" ] || fail "a whole pull served $(served rootfs.erofs) of $size bytes"
rm -rf "$TMP/whole"

# The delta pull: the same release, a fraction of the root fetched, all by Range.
: >"$TMP/http.bytes"
expect_ok "$LETHE" pull "$url" -o "$TMP/delta" -p "$pub" --insecure --delta-from "$v1/rootfs.erofs" --json
cp "$TMP/out" "$TMP/delta.json"
diff -r "$v2" "$TMP/delta" >/dev/null || fail "the delta pull differs from the release"
got=$(served rootfs.erofs)
ranges=$(awk '$1 == "/rootfs.erofs" && $2 == 206' "$TMP/http.bytes" | wc -l)
note "rootfs.erofs: $got of $size bytes served in $ranges ranges ($((100 * got / size))%)"
awk '$1 == "/rootfs.erofs" && $2 != 206 { exit 1 }' "$TMP/http.bytes" || fail "rootfs.erofs was not fetched by ranges alone"
[ "$got" -gt 0 ] && [ $((got * 2)) -lt "$size" ] || fail "the delta pull fetched $got of $size bytes"
[ "$(json "$TMP/delta.json" bytes_reused)" -eq $((size - got)) ] || fail "bytes_reused is not what was not served"
[ "$(json "$TMP/delta.json" ranges)" -eq "$ranges" ] || fail "the ranges counted differ from the server's"
expect_ok "$LETHE" verify "$TMP/delta" -p "$pub"
if /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
	/usr/bin/python3 - "$LETHE_SRC/docs/schemas/pull.schema.json" "$TMP/delta.json" <<'PY' ||
import json, sys, jsonschema
jsonschema.Draft202012Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2])))
PY
		fail "the --delta-from --json report does not match docs/schemas/pull.schema.json"
fi

# The UKI: whole when only a root image is the base (the pull above) ...
uki=$(stat -c %s "$v2/lethe.efi")
[ "$(served lethe.efi)" -eq "$uki" ] || fail "a root-only delta pull served $(served lethe.efi) of $uki UKI bytes"
# ... from its parts when the old release is: the kernel (the same vmlinuz in both) and,
# where lethe-init did not change, the initramfs are not fetched again.
cmp -s <(grep ' vmlinuz$' "$v1/SHA256SUMS") <(grep ' vmlinuz$' "$v2/SHA256SUMS") ||
	fail "the two builds have different kernels"
: >"$TMP/http.bytes"
expect_ok "$LETHE" pull "$url" -o "$TMP/delta-dir" -p "$pub" --insecure --delta-from "$v1" --json
diff -r "$v2" "$TMP/delta-dir" >/dev/null || fail "the delta pull from the old release differs"
got_uki=$(served lethe.efi)
kernel=$(stat -c %s "$v2/vmlinuz")
note "lethe.efi: $got_uki of $uki bytes served"
awk '$1 == "/lethe.efi" && $2 != 206 { exit 1 }' "$TMP/http.bytes" || fail "lethe.efi was not fetched by ranges alone"
[ "$got_uki" -gt 0 ] && [ "$got_uki" -le $((uki - kernel)) ] || fail "the UKI's kernel was fetched ($got_uki of $uki bytes)"
[ "$(served rootfs.erofs)" -eq "$got" ] || fail "the root fetched with the old release as base differs"
expect_ok "$LETHE" verify "$TMP/delta-dir" -p "$pub"
# A damaged old UKI (a bit of its kernel): its kernel is not taken but fetched.
mkdir "$TMP/old-rel"
cp "$v1/rootfs.erofs" "$v1/lethe.efi" "$TMP/old-rel/"
at=$(/usr/bin/python3 -c 'import sys; print(open(sys.argv[1], "rb").read().find(open(sys.argv[2], "rb").read(65536)))' \
	"$v1/lethe.efi" "$v1/vmlinuz")
[ "$at" -gt 0 ] || fail "the old UKI does not hold its vmlinuz"
flip_bit "$TMP/old-rel/lethe.efi" $((at + 100000))
: >"$TMP/http.bytes"
expect_ok "$LETHE" pull "$url" -o "$TMP/delta-bad-uki" -p "$pub" --insecure --delta-from "$TMP/old-rel"
diff -r "$v2" "$TMP/delta-bad-uki" >/dev/null || fail "the pull beside a damaged old UKI differs"
# (Once: a damaged part taken would fail the whole file's digest and fetch it all again.)
[ "$(served lethe.efi)" -ge "$kernel" ] && [ "$(served lethe.efi)" -le "$uki" ] ||
	fail "a damaged old kernel was taken ($(served lethe.efi) of $uki bytes served)"

# lethe update URL on a disk with v1 installed: the disk's slots are the root's base, the
# UKI it boots the new UKI's (issue 18.3 with the delta of the performance goal).
if command -v sfdisk >/dev/null && command -v mcopy >/dev/null && command -v mkfs.vfat >/dev/null; then
	expect_ok "$LETHE" install "$v1" "$TMP/disk.img" -p "$pub" -q
	: >"$TMP/http.bytes"
	expect_ok env TMPDIR="$TMP" "$LETHE" update "$url" --device "$TMP/disk.img" -p "$pub" --insecure
	fetched=$(awk '{ n += $3 } END { print n + 0 }' "$TMP/http.bytes")
	note "lethe update: $fetched bytes fetched (rootfs.erofs $(served rootfs.erofs), lethe.efi $(served lethe.efi)) of $((size + uki)) in root and UKI"
	[ "$(served lethe.efi)" -le $((uki - kernel)) ] || fail "the update fetched the UKI's kernel again"
	[ "$(served rootfs.erofs)" -lt $((size / 2)) ] || fail "the update fetched most of the root"
	"$LETHE" status --device "$TMP/disk.img" --json >"$TMP/status.json"
	/usr/bin/python3 -c 'import json, sys
s = {x["slot"]: x for x in json.load(open(sys.argv[1]))["slots"]}["b"]
assert s["state"] == "pending" and s["version"] == "0.1.1", s' "$TMP/status.json" ||
		fail "the delta update did not arm slot b with 0.1.1"
	rm -f "$TMP/disk.img"
else
	note "sfdisk, mtools or mkfs.vfat missing: the delta update of a disk is left out"
fi

# A block changed on the server, one the old image does not have: refused by number.
off=$(awk '$1 == "/rootfs.erofs" && $2 == 206 { print $4; exit }' "$TMP/http.bytes")
[ -n "$off" ] || fail "no Range request to tamper with"
flip_bit "$TMP/www/rootfs.erofs" $((off + 100))
expect_fail 1 "block $((off / 4096)) \(offset $off\) of 'rootfs.erofs' from '127.0.0.1:$port' does not match its digest in 'rootfs.verity'" \
	"$LETHE" pull "$url" -o "$TMP/bad" -p "$pub" --insecure --delta-from "$v1/rootfs.erofs"
[ ! -e "$TMP/bad" ] && [ -z "$(ls -A "$TMP" | grep '^\.bad\.pull-')" ] || fail "a refused delta pull left files"
flip_bit "$TMP/www/rootfs.erofs" $((off + 100))

# A damaged block of the local image is not taken: it is fetched, and the pull holds.
cp "$v1/rootfs.erofs" "$TMP/old.erofs"
keep=$(/usr/bin/python3 - "$v1/rootfs.erofs" "$v2/rootfs.erofs" <<'PY'
import sys
old, new = (open(f, "rb").read() for f in sys.argv[1:])
blocks = {new[i:i + 4096] for i in range(0, len(new), 4096)}
print(next(i for i in range(4096 * 16, len(old), 4096) if old[i:i + 4096] in blocks))
PY
)
flip_bit "$TMP/old.erofs" $((keep + 100))
: >"$TMP/http.bytes"
expect_ok "$LETHE" pull "$url" -o "$TMP/damaged" -p "$pub" --insecure --delta-from "$TMP/old.erofs" --json
diff -r "$v2" "$TMP/damaged" >/dev/null || fail "a pull from a damaged local image differs"
[ "$(served rootfs.erofs)" -gt "$got" ] || fail "the damaged block was not fetched"

# A server without Range (python3's http.server answers 200): fetched whole, still right.
plain=$(free_port)
/usr/bin/python3 -m http.server -b 127.0.0.1 -d "$TMP/www" "$plain" >"$TMP/plain.log" 2>&1 &
on_exit "kill $! 2>/dev/null"
for ((i = 0; i < 50; i++)); do curl -sf -o /dev/null "http://127.0.0.1:$plain/" && break; sleep 0.1; done
expect_ok "$LETHE" pull "http://127.0.0.1:$plain/" -o "$TMP/norange" -p "$pub" --insecure --delta-from "$v1/rootfs.erofs"
diff -r "$v2" "$TMP/norange" >/dev/null || fail "the pull from a server without Range differs"
# From a registry (docker-registry honours Range on blob GETs): the same, by digest.
if command -v docker-registry >/dev/null; then
	reg=$(start_registry reg)
	expect_ok "$LETHE" push "$v2" "$reg/lethe/delta:v2" -p "$pub" --insecure
	expect_ok "$LETHE" pull "$reg/lethe/delta:v2" -o "$TMP/oci" -p "$pub" --insecure \
		--delta-from "$v1/rootfs.erofs" --json
	diff -r "$v2" "$TMP/oci" >/dev/null || fail "the delta pull from the registry differs"
	[ "$(json "$TMP/out" bytes_reused)" -eq $((size - got)) ] ||
		fail "the delta pull from the registry reused $(json "$TMP/out" bytes_reused) bytes"
	[ "$(json "$TMP/out" ranges)" -eq "$ranges" ] || fail "the registry pull made other ranges"
else
	note "docker-registry is not installed: the registry's delta pull is left out"
fi
note "ok: delta pull of $got of $size bytes; tampered block refused; damaged local block and no Range handled"
