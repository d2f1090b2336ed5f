#!/usr/bin/env bash
# lethe write and lethe verify --media / OUTDIR: a written file and loop device match
# the signed disk.img; one changed byte is caught with its offset; a tampered release,
# a wrong key, a mounted device, the release's own disk.img, the file behind a loop
# device and a mistyped /dev path are refused; a re-signed release whose verity tree
# does not match its root file system fails the release check.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"

out=$(build_image_or_skip minimal)
pub=$(test_pub)
size=$(stat -c %s "$out/disk.img")

# The whole release verifies: signature, every file, the verity tree.
expect_ok "$LETHE" verify "$out" -p "$pub"
grep -q "dm-verity tree verified" "$TMP/out" || fail "release check did not cover verity"

# To a file: written, read back, and the same bytes as disk.img.
expect_ok "$LETHE" write "$out" "$TMP/medium.img" -p "$pub"
cmp "$out/disk.img" "$TMP/medium.img" || fail "the medium differs from disk.img"
expect_ok "$LETHE" verify --media "$TMP/medium.img" "$out" -p "$pub"

# lethe.iso too (issue 11.3): written with --iso, recognised by lethe verify --media as
# the ISO (its GPT's disk GUID), and one changed byte in it is caught.
if [ -f "$out/lethe.iso" ]; then
	expect_ok "$LETHE" write "$out" "$TMP/iso-stick.img" -p "$pub" --iso
	grep -q "verified against the signed lethe.iso" "$TMP/out" || fail "write --iso did not write lethe.iso"
	cmp "$out/lethe.iso" "$TMP/iso-stick.img" || fail "the ISO stick differs from lethe.iso"
	expect_ok "$LETHE" verify --media "$TMP/iso-stick.img" "$out" -p "$pub"
	grep -q "matches the signed lethe.iso" "$TMP/out" || fail "verify --media did not recognise lethe.iso"
	flip_bit "$TMP/iso-stick.img" 1000001 1
	expect_fail 1 "first difference at byte offset 1000001\$" \
		"$LETHE" verify --media "$TMP/iso-stick.img" "$out" -p "$pub"
	expect_ok "$LETHE" verify --media "$TMP/medium.img" "$out" -p "$pub"
	grep -q "matches the signed disk.img" "$TMP/out" || fail "verify --media took disk.img for the ISO"
fi

# Only the image's length counts: data after it on a larger medium is ignored.
head -c 4096 /dev/urandom >>"$TMP/medium.img"
expect_ok "$LETHE" verify --media "$TMP/medium.img" "$out" -p "$pub"

# One changed byte: caught, and its offset named.
off=$((size / 2 + 12345))
flip_bit "$TMP/medium.img" "$off" 3
expect_fail 1 "first difference at byte offset $off\$" \
	"$LETHE" verify --media "$TMP/medium.img" "$out" -p "$pub"

# A shorter medium is refused.
head -c $((size - 512)) "$out/disk.img" >"$TMP/short.img"
expect_fail 1 "ends at $((size - 512)) bytes" "$LETHE" verify --media "$TMP/short.img" "$out" -p "$pub"

# Another key: refused before anything is written.
"$LETHE" keygen -W -p "$TMP/other.pub" -s "$TMP/other.key" >/dev/null
expect_fail 1 "" "$LETHE" write "$out" "$TMP/never.img" -p "$TMP/other.pub"
[ ! -e "$TMP/never.img" ] || fail "a medium was written with the wrong key"

# A release whose disk.img changed: refused before anything is written.
cp -r "$out" "$TMP/rel"
flip_bit "$TMP/rel/disk.img" $((size - 1))
expect_fail 1 "'disk.img' does not match" \
	"$LETHE" write "$TMP/rel" "$TMP/never.img" -p "$pub"
[ ! -e "$TMP/never.img" ] || fail "a tampered disk.img was written"
cp "$out/disk.img" "$TMP/rel/disk.img"

# Re-signed (a key holder's mistake or a forged pair of files): the hashes match but the
# verity tree does not cover this root file system, and the release check says so.
flip_bit "$TMP/rel/rootfs.erofs" 8192
(cd "$TMP/rel" && "$LETHE" sums -o SHA256SUMS $(awk '{print $2}' SHA256SUMS) &&
	"$LETHE" sign -q -s "$(test_key)" SHA256SUMS) >/dev/null || fail "cannot re-sign"
expect_fail 1 "rootfs|block" "$LETHE" verify "$TMP/rel" -p "$pub"

# issue 10.7: the release's own disk.img is no target (it would destroy the release).
expect_fail 3 "the release's own disk.img" "$LETHE" write "$TMP/rel" "$TMP/rel/disk.img" -p "$pub"
expect_ok "$LETHE" verify --sums "$TMP/rel/SHA256SUMS" -p "$pub"
# A mistyped /dev path fails and creates nothing there.
expect_fail 3 "/dev/lethe-no-such-disk" "$LETHE" write "$out" /dev/lethe-no-such-disk -p "$pub"
[ ! -e /dev/lethe-no-such-disk ] || { rm -f /dev/lethe-no-such-disk; fail "a file was created in /dev"; }

# Block devices: a loop device, then a mounted one.
need_root
need_cmd losetup mkfs.ext4 mount umount
truncate -s $((size + 8 * 1048576)) "$TMP/loop.img"
dev=$(losetup -f --show "$TMP/loop.img" 2>/dev/null) || skip "no loop device support (file media passed)"
on_exit "losetup -d $dev"
expect_ok "$LETHE" write "$out" "$dev" -p "$pub"
expect_ok "$LETHE" verify --media "$dev" "$out" -p "$pub"
cmp -n "$size" "$out/disk.img" "$TMP/loop.img" || fail "the loop device's file differs from disk.img"
# issue 10.7: the file behind an attached loop device is no target.
sum_before=$(sha256sum <"$TMP/loop.img")
expect_fail 3 "backs /dev/loop" "$LETHE" write "$out" "$TMP/loop.img" -p "$pub"
[ "$(sha256sum <"$TMP/loop.img")" = "$sum_before" ] || fail "the backing file of a loop device was changed"

# A device smaller than the image: refused before anything is written.
truncate -s 4M "$TMP/small.img"
small=$(losetup -f --show "$TMP/small.img")
on_exit "losetup -d $small"
expect_fail 3 "'$small' holds 4194304 bytes; the image needs $size" "$LETHE" write "$out" "$small" -p "$pub"
[ "$(tr -d '\0' <"$TMP/small.img" | wc -c)" -eq 0 ] || fail "the small device was written"

truncate -s 16M "$TMP/fs.img"
mkfs.ext4 -q "$TMP/fs.img"
fsdev=$(losetup -f --show "$TMP/fs.img")
on_exit "losetup -d $fsdev"
mkdir "$TMP/mnt"
mount "$fsdev" "$TMP/mnt" || skip "cannot mount ext4 here (file and loop media passed)"
on_exit "umount $TMP/mnt"
sum_before=$(sha256sum <"$TMP/fs.img")
expect_fail 3 "is mounted on '$TMP/mnt'" "$LETHE" write "$out" "$fsdev" -p "$pub"
[ "$(sha256sum <"$TMP/fs.img")" = "$sum_before" ] || fail "the mounted device was changed"
# ... nor through the file behind it.
expect_fail 3 "backs /dev/loop" "$LETHE" write "$out" "$TMP/fs.img" -p "$pub"
[ "$(sha256sum <"$TMP/fs.img")" = "$sum_before" ] || fail "the backing file of a mounted loop device was changed"
echo "media: file and loop device written and verified; tampering, wrong key and a mounted device refused"
