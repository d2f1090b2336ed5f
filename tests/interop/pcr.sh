#!/usr/bin/env bash
# pcr.json against systemd-measure (issue 12.1): the PCR 11 that lethe build predicts in C
# is the value systemd's own tool computes from the sections of lethe.efi and from the
# release's vmlinuz, initramfs.img and cmdline, byte for byte in the same JSON; pcr.json
# is covered by SHA256SUMS. Control: one byte of the initramfs changed gives another
# value in systemd-measure, so the comparison can tell images apart.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
measure=/usr/lib/systemd/systemd-measure
[ -x "$measure" ] || skip "no $measure (install systemd)"
need_cmd objcopy

out=$(build_image_or_skip minimal)
[ -f "$out/pcr.json" ] || fail "the build wrote no pcr.json"
grep -q '  pcr.json$' "$out/SHA256SUMS" || fail "SHA256SUMS does not list pcr.json"
(cd "$out" && grep '  pcr.json$' SHA256SUMS | sha256sum -c --quiet) || fail "pcr.json does not match SHA256SUMS"

for s in linux osrel cmdline initrd; do
	objcopy -O binary --only-section=.$s "$out/lethe.efi" "$TMP/$s" || fail "objcopy cannot extract .$s"
done
calc() { "$measure" calculate --linux="$1" --initrd="$2" --cmdline="$3" --osrel="$TMP/osrel" \
	--bank=sha256 --phase= --json=short; }
calc "$TMP/linux" "$TMP/initrd" "$TMP/cmdline" >"$TMP/measured.json" || fail "systemd-measure failed"
cmp "$TMP/measured.json" "$out/pcr.json" ||
	fail "pcr.json is not systemd-measure's: $(cat "$out/pcr.json") vs $(cat "$TMP/measured.json")"
# The same from the release's own files: the UKI holds exactly them.
printf '%s' "$(cat "$out/cmdline")" >"$TMP/cmdline.rel"
calc "$out/vmlinuz" "$out/initramfs.img" "$TMP/cmdline.rel" >"$TMP/rel.json" || fail "systemd-measure failed"
cmp "$TMP/rel.json" "$out/pcr.json" || fail "PCR 11 of the release's files differs from pcr.json"

# Control: one byte of the initramfs changed changes the value.
cp "$TMP/initrd" "$TMP/initrd.1"
flip_bit "$TMP/initrd.1" 100
calc "$TMP/linux" "$TMP/initrd.1" "$TMP/cmdline" >"$TMP/other.json"
! cmp -s "$TMP/other.json" "$out/pcr.json" || fail "a changed initramfs gives the same PCR 11"
note "PCR 11 $(sed 's/.*"hash":"\([0-9a-f]*\)".*/\1/' "$out/pcr.json") = systemd-measure's"
