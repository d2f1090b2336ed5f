#!/usr/bin/env bash
# Reproducibility: the same spec and lock built twice, in other directories, with
# another umask, time zone, locale, clock and SOURCE_DATE_EPOCH unset then set to the
# date the first build chose, give a byte-identical SHA256SUMS (and signature): the
# UKI lethe.efi, disk.img with its ESP and the hybrid lethe.iso included.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
need_cmd python3

ref=$(build_image_or_skip minimal)
spec=$LETHE_SRC/examples/minimal.yaml
key=$(test_key)

mkdir -p "$TMP/one" "$TMP/two/deeper/still"
(
	umask 022
	env -u SOURCE_DATE_EPOCH TZ=UTC LC_ALL=C "$LETHE" build "$spec" -o "$TMP/one/out" \
		--lock "$ref/lethe.lock" --key "$key" --quiet --json >"$TMP/one.json"
) || fail "first build failed"
epoch=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["epoch"])' "$TMP/one.json")
sleep 1
(
	umask 077
	cd "$TMP/two"
	SOURCE_DATE_EPOCH=$epoch TZ=Pacific/Chatham LC_ALL=C.UTF-8 LANG=de_DE.UTF-8 \
		"$LETHE" build "$spec" -o deeper/still/out --locked --lock "$ref/lethe.lock" \
		--key "$key" --quiet
) || fail "second build failed"

# The UEFI artifacts are among what must be identical: the UKI, the disk with its ESP
# and the ISO.
for f in lethe.efi disk.img lethe.iso; do
	grep -q "  $f\$" "$TMP/one/out/SHA256SUMS" || fail "SHA256SUMS does not list $f"
done
if ! cmp "$TMP/one/out/SHA256SUMS" "$TMP/two/deeper/still/out/SHA256SUMS"; then
	diff "$TMP/one/out/SHA256SUMS" "$TMP/two/deeper/still/out/SHA256SUMS" >&2 || true
	fail "two builds of the same lock differ"
fi
cmp "$TMP/one/out/SHA256SUMS.minisig" "$TMP/two/deeper/still/out/SHA256SUMS.minisig" ||
	fail "the signatures of two identical SHA256SUMS differ"
(cd "$TMP/two/deeper/still/out" && sha256sum --quiet -c SHA256SUMS) ||
	fail "the second build does not match its own SHA256SUMS"
# The comparison can fail: another epoch changes the image.
(
	SOURCE_DATE_EPOCH=$((epoch - 86400)) "$LETHE" build "$spec" -o "$TMP/three" \
		--lock "$ref/lethe.lock" --key "$key" --quiet
) || fail "third build failed"
if cmp -s "$TMP/one/out/SHA256SUMS" "$TMP/three/SHA256SUMS"; then
	fail "a build with another SOURCE_DATE_EPOCH gave the same SHA256SUMS"
fi
note "bit-identical SHA256SUMS: $(sha256sum <"$TMP/one/out/SHA256SUMS" | cut -c1-16)"
