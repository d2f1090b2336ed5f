#!/usr/bin/env bash
# A built image (examples/minimal.yaml) checked by the peers that know its formats,
# without Lethe: fsck.erofs, veritysetup, mtree, bsdtar, minisign, sha256sum, the SPDX and
# CycloneDX schema validators; and each check made to fail once on a tampered copy.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
need_cmd fsck.erofs veritysetup mtree minisign sha256sum python3

out=$(build_image_or_skip minimal)
for f in rootfs.erofs rootfs.verity roothash manifest.mtree sbom.spdx.json sbom.cdx.json \
	lethe.lock SHA256SUMS SHA256SUMS.minisig; do
	[ -f "$out/$f" ] || fail "the build has no $f"
done

# Signed checksums: minisign, then sha256sum over every file the build wrote.
minisign -Vm "$out/SHA256SUMS" -p "$(test_pub)" >/dev/null || fail "minisign rejects SHA256SUMS.minisig"
(cd "$out" && sha256sum --quiet -c SHA256SUMS) || fail "sha256sum -c SHA256SUMS failed"
listed=$(awk '{print $2}' "$out/SHA256SUMS" | sort | tr '\n' ' ')
present=$(cd "$out" && ls | grep -v '^SHA256SUMS' | sort | tr '\n' ' ')
[ "$listed" = "$present" ] || fail "SHA256SUMS lists '$listed' but the output holds '$present'"

# The file system and its verity tree.
fsck.erofs "$out/rootfs.erofs" >/dev/null || fail "fsck.erofs rejects rootfs.erofs"
roothash=$(cat "$out/roothash")
veritysetup verify "$out/rootfs.erofs" "$out/rootfs.verity" "$roothash" ||
	fail "veritysetup verify fails with the build's root hash"
grep -q "lethe.roothash=$roothash" "$out/cmdline" 2>/dev/null ||
	[ ! -f "$out/cmdline" ] || fail "cmdline does not carry lethe.roothash=$roothash"

# The manifest against the tree inside the image (extracted with owners: needs root).
if [ "$(id -u)" -eq 0 ]; then
	fsck.erofs --extract="$TMP/root" "$out/rootfs.erofs" >/dev/null ||
		fail "fsck.erofs --extract failed"
	report=$(mtree -f "$out/manifest.mtree" -p "$TMP/root" 2>&1) ||
		fail "mtree: $report"
	# the image's own copy of the manifest (lethe fim check) is put in after it was made
	report=$(grep -vx 'extra: usr/lib/lethe/manifest.mtree' <<<"$report" || true)
	[ -z "$report" ] || fail "mtree reports differences: $report"
	cmp -s "$LETHE_SRC/examples/minimal.yaml" "$TMP/root/etc/lethe/spec.yaml" ||
		fail "/etc/lethe/spec.yaml in the image is not the spec"
	[ -x "$TMP/root/usr/bin/lethe" ] && [ -x "$TMP/root/usr/lib/lethe/lethe-init" ] ||
		fail "the Lethe tools are not in the image"
	# libarchive reads the manifest too: bsdtar makes a tarball of exactly its entries,
	# and the tree it unpacks passes mtree again.
	if command -v bsdtar >/dev/null; then
		(cd "$TMP/root" && bsdtar -cf "$TMP/m.tar" "@$out/manifest.mtree") ||
			fail "bsdtar cannot read manifest.mtree"
		[ "$(bsdtar -tf "$TMP/m.tar" | wc -l)" -eq "$(grep -vc '^#' "$out/manifest.mtree")" ] ||
			fail "bsdtar's tarball and manifest.mtree do not have the same entries"
		mkdir "$TMP/untar"
		bsdtar -xpf "$TMP/m.tar" -C "$TMP/untar"
		report=$(mtree -f "$out/manifest.mtree" -p "$TMP/untar" 2>&1) || fail "mtree: $report"
		[ -z "$report" ] || fail "the tree from bsdtar differs from the manifest: $report"
	fi
	# mtree can fail: change one file of the extracted tree.
	echo tampered >>"$TMP/root/etc/lethe/spec.yaml"
	report=$(mtree -f "$out/manifest.mtree" -p "$TMP/root" 2>&1) || true
	echo "$report" | grep -q 'etc/lethe/spec.yaml' || fail "mtree did not notice a changed file"
else
	note "not root: manifest not checked against an extracted tree"
fi

# The SBOMs against their schemas. The SPDX schema is the shared one (../shared beside
# the clone): without it every other check still runs, and the test then skips.
spdx_schema=$LETHE_SHARED/schemas/spdx-2.3.schema.json
spdx_skip=
if [ ! -f "$spdx_schema" ]; then
	spdx_skip="no SPDX schema at $spdx_schema: sbom.spdx.json not validated"
elif ! python3 -c 'import jsonschema' 2>/dev/null; then
	spdx_skip="python3 jsonschema is not installed: sbom.spdx.json not validated"
else
	python3 - "$spdx_schema" "$out/sbom.spdx.json" <<'PY' ||
import json, sys, jsonschema
jsonschema.Draft7Validator(json.load(open(sys.argv[1])),
    format_checker=jsonschema.FormatChecker()).validate(json.load(open(sys.argv[2])))
PY
		fail "sbom.spdx.json does not match the SPDX 2.3 schema"
fi
rc=0
node "$LETHE_SRC/tests/interop/cdx-validate.js" "$out/sbom.cdx.json" >/dev/null || rc=$?
case $rc in
0) ;;
77) note "CycloneDX validator not installed (scripts/deps.sh): sbom.cdx.json not validated" ;;
*) fail "sbom.cdx.json is not valid CycloneDX 1.5" ;;
esac
npkg=$(grep -vc '^#\|^lethe-lock' "$out/lethe.lock")
ncomp=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["components"]))' "$out/sbom.cdx.json")
[ "$npkg" -eq "$ncomp" ] || fail "lethe.lock has $npkg packages, sbom.cdx.json $ncomp"

# Tampering is caught: one bit of a copy of the image.
cp "$out/rootfs.erofs" "$TMP/rootfs.erofs"
flip_bit "$TMP/rootfs.erofs" 8192
if veritysetup verify "$TMP/rootfs.erofs" "$out/rootfs.verity" "$roothash" 2>/dev/null; then
	fail "veritysetup accepted a changed image"
fi
cp "$out/SHA256SUMS" "$TMP/SHA256SUMS"
cp "$out/SHA256SUMS.minisig" "$TMP/SHA256SUMS.minisig"
sed -i '1s/^0/X/;1s/^[^X]/0/;1s/^X/1/' "$TMP/SHA256SUMS" # the first digit, changed whatever it was
cmp -s "$out/SHA256SUMS" "$TMP/SHA256SUMS" && fail "the tampered copy of SHA256SUMS is unchanged"
if minisign -Vm "$TMP/SHA256SUMS" -p "$(test_pub)" >/dev/null 2>&1; then
	fail "minisign accepted a changed SHA256SUMS"
fi
[ -z "$spdx_skip" ] || skip "$spdx_skip (every other check passed)"
note "fsck.erofs, veritysetup, mtree, minisign, sha256sum, SPDX and CycloneDX schemas agree"
