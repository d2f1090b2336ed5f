#!/usr/bin/env bash
# lethe.iso against xorriso, sfdisk and fdisk: an El Torito catalogue
# with one UEFI boot image that is the ESP partition (the same bytes as disk.img's ESP),
# a valid GPT (both CRCs: fdisk warns of neither copy) behind a protective MBR, whose
# root, root-verity and ESP partitions have disk.img's UUIDs and names and hold
# rootfs.erofs and rootfs.verity byte for byte. (systemd-dissect 252 gives up on the
# ISO's gap partitions here: "Failed to acquire image metadata".) Control: a GPT entry edited after the build (CRC now wrong) is what fdisk does
# warn of, so the check can fail.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
need_cmd xorriso sfdisk fdisk
out=$(build_image_or_skip minimal)
iso=$out/lethe.iso
[ -f "$iso" ] || fail "the build made no lethe.iso"
grep -q "  lethe.iso\$" "$out/SHA256SUMS" || fail "SHA256SUMS does not list lethe.iso"

xorriso -indev "$iso" -report_el_torito plain >"$TMP/et" 2>&1 || { cat "$TMP/et"; fail "xorriso cannot read lethe.iso"; }
cat "$TMP/et"
grep -q "^Boot record  : El Torito" "$TMP/et" || fail "no El Torito boot record"
grep -Eq "^El Torito boot img : +1 +UEFI +y +none " "$TMP/et" || fail "no bootable UEFI image"
[ "$(grep -c '^El Torito boot img :' "$TMP/et")" -eq 1 ] || fail "more than one boot image"
et_lba=$(awk '/^El Torito boot img :/ {print $NF}' "$TMP/et")

sfdisk -d "$iso" >"$TMP/sfdisk" || fail "sfdisk cannot read lethe.iso"
cat "$TMP/sfdisk"
part() { sfdisk -d "$1" | grep -i "type=$2" | sed -n "s/.*start= *\([0-9]*\), size= *\([0-9]*\), .*uuid=\([-0-9A-F]*\), name=\"\([^\"]*\)\".*/\1 \2 \3 \4/p"; }
for t in C12A7328-F81F-11D2-BA4B-00A0C93EC93B 4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709 2C7357ED-EBD2-46D9-AEC1-23D437EC2BF5; do
	read -r is iz iu in < <(part "$iso" $t) || fail "lethe.iso has no partition of type $t"
	read -r ds dz du dn < <(part "$out/disk.img" $t) || fail "disk.img has no partition of type $t"
	[ "$iu" = "$du" ] && [ "$in" = "$dn" ] || fail "type $t: lethe.iso has $iu '$in', disk.img $du '$dn'"
	case $t in
	C12A*) cmp -n $((dz * 512)) <(tail -c +$((is * 512 + 1)) "$iso") <(tail -c +$((ds * 512 + 1)) "$out/disk.img") ||
		fail "the ISO's ESP is not disk.img's"
		[ $((is * 512)) -eq $((et_lba * 2048)) ] || fail "the El Torito image (LBA $et_lba) is not the ESP partition (sector $is)" ;;
	4F68*) cmp -n "$(stat -c %s "$out/rootfs.erofs")" <(tail -c +$((is * 512 + 1)) "$iso") "$out/rootfs.erofs" ||
		fail "the ISO's root partition is not rootfs.erofs" ;;
	2C73*) cmp -n "$(stat -c %s "$out/rootfs.verity")" <(tail -c +$((is * 512 + 1)) "$iso") "$out/rootfs.verity" ||
		fail "the ISO's verity partition is not rootfs.verity" ;;
	esac
done
fdisk -t dos -l "$iso" | grep -Eq " ee GPT$" || fail "no protective MBR"
fdisk -l "$iso" >"$TMP/fdisk" 2>&1 || fail "fdisk cannot read lethe.iso"
! grep -qi "corrupt\|mismatch\|invalid" "$TMP/fdisk" || { cat "$TMP/fdisk"; fail "fdisk finds the GPT damaged"; }
# Control: an entry changed behind the CRCs' back is seen.
cp "$iso" "$TMP/bad.iso"
flip_bit "$TMP/bad.iso" $((1024 + 128 + 16)) 0
fdisk -l "$TMP/bad.iso" >"$TMP/fdisk-bad" 2>&1 || true
grep -qi "corrupt" "$TMP/fdisk-bad" || { cat "$TMP/fdisk-bad"; fail "control: fdisk does not see a damaged GPT entry"; }

echo "iso: El Torito UEFI = the ESP, GPT with disk.img's partitions and UUIDs, valid CRCs"
