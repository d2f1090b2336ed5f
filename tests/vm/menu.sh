#!/usr/bin/env bash
# The boot menu through firmware (issues 11.3 and 15.3), and the key-file unlock of
# persistence (15.1) booted. One image (tests/vm/menu.yaml: /home/user persists on the
# partition lethe-store, unlocked by /keys/lethe.key on the partition lethe-key). Each
# boot is `lethe run` through OVMF, systemd-boot and lethe.efi; an entry is chosen as
# the menu would: a copy of the release whose ESP's loader.conf has `default ENTRY`
# (SHA256SUMS rewritten for the copy; the UKI and its signed cmdline are untouched).
#  1  the default entry (control), store and key disks attached: amnesic, the root on
#     the virtio disk, no persistence line, the store's SHA-256 unchanged
#  2  the toram entry: lethe-init saw it, the verity device sits on two loop devices
#     over /run/lethe/toram, the cmdline is still the signed one
#  3  the persistence entry with the key disk: the store opens unattended, a file is
#     written into /home/user
#  4  the same again (a new boot): the file is there
#  5  the persistence entry without the key disk: amnesic, the reason on the console
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/vm/vm-common.bash"
need_cmd sfdisk mkfs.ext4 mcopy mtype sha256sum
[ -r /usr/share/OVMF/OVMF_CODE_4M.fd ] || skip "no OVMF (install ovmf)"
spec=$LETHE_SRC/tests/vm/menu.yaml

img=$LETHE_BUILD/test-images/menu
mkdir -p "$LETHE_BUILD/test-images"
(
	flock 9
	if [ ! -f "$img/SHA256SUMS" ] || [ "$LETHE" -nt "$img/SHA256SUMS" ] ||
		[ "$LETHE_INIT" -nt "$img/SHA256SUMS" ] || [ "$spec" -nt "$img/SHA256SUMS" ] ||
		[ "$LETHE_BUILD/src/lethe/lethe-persist" -nt "$img/SHA256SUMS" ]; then
		rm -rf "$img"
		"$LETHE" build --quiet "$spec" -o "$img" --key "$(test_key)" >"$TMP/build.log" 2>&1 ||
			{ tail -n 20 "$TMP/build.log" >&2; fail "cannot build $spec"; }
	fi
) 9>"$LETHE_BUILD/test-images/.lock"
[ -f "$img/lethe.efi" ] || fail "the build made no lethe.efi"
cmdline=$(cat "$img/cmdline")

# The ESP of disk.img: its offset, its menu.
esp_off=$(($(sfdisk -d "$img/disk.img" | sed -n 's/.*disk.img3 : start= *\([0-9]*\),.*/\1/p') * 512))
export MTOOLS_SKIP_CHECK=1
mtype -i "$img/disk.img@@$esp_off" ::/loader/loader.conf >"$TMP/loader.conf"
grep -qx 'default lethe.efi' "$TMP/loader.conf" || fail "loader.conf's default is not the UKI: $(cat "$TMP/loader.conf")"
for e in lethe-toram lethe-persistence; do
	mtype -i "$img/disk.img@@$esp_off" "::/loader/entries/$e.conf" >"$TMP/$e.conf" ||
		fail "no loader/entries/$e.conf on the ESP"
done

# The key: a line of 64 random hex digits (with its newline: the boot reads the first
# line, as --passphrase-file does) on an ext4 partition named lethe-key; the store made
# with it.
od -An -tx1 -N32 -v /dev/urandom | tr -d ' \n' >"$TMP/key"
echo >>"$TMP/key"
mkdir -p "$TMP/keytree/keys"
cp "$TMP/key" "$TMP/keytree/keys/lethe.key"
mkfs.ext4 -q -F -d "$TMP/keytree" "$TMP/keypart.img" 4M >/dev/null || fail "mkfs.ext4 -d failed"
key=$TMP/key.disk
truncate -s $(((8192 + 4096) * 512)) "$key"
printf 'label: gpt\nstart=2048, size=8192, name=lethe-key\n' | sfdisk -q "$key"
dd if="$TMP/keypart.img" of="$key" bs=512 seek=2048 conv=notrunc status=none
part_sectors=163840
truncate -s $((part_sectors * 512)) "$TMP/part.img"
"$LETHE" persist init "$TMP/part.img" --spec "$spec" --yes --passphrase-file "$TMP/key" >/dev/null ||
	fail "lethe persist init failed"
store=$TMP/store.disk
truncate -s $(((part_sectors + 4096) * 512)) "$store"
printf 'label: gpt\nstart=2048, size=%d, name=lethe-store\n' $part_sectors | sfdisk -q "$store"
dd if="$TMP/part.img" of="$store" bs=512 seek=2048 conv=notrunc status=none
rm "$TMP/part.img"
store_sum() { sha256sum <"$store" | cut -d' ' -f1; }

# choose ENTRY: a copy of the release whose loader.conf names ENTRY as the default.
choose() {
	local dir=$TMP/rel-$1
	rm -rf "$dir"
	mkdir "$dir"
	cp "$img"/* "$dir/"
	sed "s/^default .*/default $1/" "$TMP/loader.conf" >"$TMP/loader.$1"
	mcopy -o -i "$dir/disk.img@@$esp_off" "$TMP/loader.$1" ::/loader/loader.conf ||
		fail "cannot write loader.conf into the copy"
	(cd "$dir" && sha256sum $(awk '{print $2}' SHA256SUMS) >SHA256SUMS.new && mv SHA256SUMS.new SHA256SUMS &&
		rm -f SHA256SUMS.minisig)
	echo "$dir"
}

# boot N RELEASE CMD [--disk FILE...]: one boot through OVMF; CMD's output in $TMP/out.N,
# the console in $TMP/log.N. A boot that fails prints the console's tail.
boot() {
	local n=$1 rel=$2 cmd=$3 rc=0
	shift 3
	"$LETHE" run "$rel" --timeout 600 --serial-log "$TMP/serial.$n" --quiet "$@" --exec "$cmd" \
		>"$TMP/out.$n" 2>"$TMP/err.$n" || rc=$?
	tr -d '\r' <"$TMP/serial.$n" >"$TMP/log.$n"
	if [ "$rc" -ne 0 ]; then
		tail -n 40 "$TMP/log.$n" >&2
		cat "$TMP/err.$n" >&2
		fail "boot $n: lethe run exited $rc"
	fi
	cat "$TMP/out.$n"
}
# failc N MSG: fail with lethe-init's lines of boot N.
failc() { grep -a 'lethe-init\|lethe persist' "$TMP/log.$1" | tail -n 20 >&2; fail "$2"; }
# The guest's view: the loader's entry, the verity device's backing devices, the cmdline.
probe='echo ENTRY=$(cat /sys/firmware/efi/efivars/LoaderEntrySelected-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f | tail -c +5 | tr -cd "a-z.-"); echo SLAVES=$(ls /sys/block/dm-0/slaves | tr "\n" " "); echo TORAM=$(ls /run/lethe/toram 2>/dev/null | tr "\n" " "); cat /proc/cmdline; echo MOUNTS=$(grep -c " /home/user " /proc/self/mountinfo)'

note "1: the default entry, store and key attached (control)"
before=$(store_sum)
boot 1 "$img" "$probe" --disk "$store" --disk "$key"
grep -qx 'ENTRY=lethe.efi' "$TMP/out.1" || fail "the default entry is not lethe.efi"
grep -Eq '^SLAVES=vd[a-z][0-9]+ vd[a-z][0-9]+$' "$TMP/out.1" || fail "control: the root is not on the boot disk"
grep -qx 'TORAM=' "$TMP/out.1" || fail "control: /run/lethe/toram in a default boot"
grep -qxF "$cmdline" "$TMP/out.1" || fail "the cmdline is not the signed one"
grep -qx 'MOUNTS=0' "$TMP/out.1" || fail "control: /home/user is mounted in a default boot"
! grep -q 'lethe-init: persistence\|boot menu entry' "$TMP/log.1" || fail "control: lethe-init acted on an entry"
[ "$(store_sum)" = "$before" ] || fail "control: the store changed in a default boot"

note "2: the toram entry"
rel=$(choose lethe-toram.conf)
boot 2 "$rel" "$probe"
grep -q "lethe-init: boot menu entry 'lethe-toram.conf': lethe.toram" "$TMP/log.2" ||
	failc 2 "lethe-init did not see the toram entry"
grep -qx 'ENTRY=lethe-toram.conf' "$TMP/out.2" || failc 2 "LoaderEntrySelected is not lethe-toram.conf"
grep -Eq '^SLAVES=loop[0-9]+ loop[0-9]+$' "$TMP/out.2" || failc 2 "the verity device is not on loop devices"
grep -qx 'TORAM=root verity' "$TMP/out.2" || failc 2 "no copies in /run/lethe/toram"
grep -qxF "$cmdline" "$TMP/out.2" || failc 2 "the toram entry changed the cmdline"

note "3: the persistence entry, the key disk attached"
rel=$(choose lethe-persistence.conf)
boot 3 "$rel" "$probe; echo kept >/home/user/kept && echo gone >/root/gone && sync" --disk "$store" --disk "$key"
grep -q "lethe-init: boot menu entry 'lethe-persistence.conf': lethe.persistence" "$TMP/log.3" ||
	failc 3 "lethe-init did not see the persistence entry"
grep -q "lethe-init: persistence: the store is open" "$TMP/log.3" || failc 3 "the store did not open with the key file"
! grep -q 'Passphrase for the persistent store' "$TMP/log.3" || failc 3 "a passphrase was asked for with unlock: keyfile"
grep -qx 'MOUNTS=1' "$TMP/out.3" || failc 3 "/home/user is not the store's"
grep -qx 'TORAM=' "$TMP/out.3" || failc 3 "the persistence entry copied the root into RAM"
[ "$(store_sum)" != "$before" ] || failc 3 "the store did not change in a persistent boot"

note "4: a new boot: the file persisted"
boot 4 "$rel" 'cat /home/user/kept; test ! -e /root/gone && echo NOT-ELSEWHERE' --disk "$store" --disk "$key"
grep -qx kept "$TMP/out.4" || failc 4 "/home/user/kept did not survive the reboot"
grep -qx NOT-ELSEWHERE "$TMP/out.4" || failc 4 "a file outside the listed directories persisted"

note "5: the persistence entry without the key disk"
after=$(store_sum)
boot 5 "$rel" 'test ! -e /home/user/kept && echo AMNESIC; echo MOUNTS=$(grep -c " /home/user " /proc/self/mountinfo)' --disk "$store"
grep -q "lethe-init: persistence: the store is not open .* this boot stays amnesic" "$TMP/log.5" ||
	failc 5 "no clear message without the key disk"
grep -q "lethe-key" "$TMP/log.5" || failc 5 "the message does not name the missing key device"
grep -qx AMNESIC "$TMP/out.5" && grep -qx 'MOUNTS=0' "$TMP/out.5" || failc 5 "without the key the store was used"
[ "$(store_sum)" = "$after" ] || failc 5 "the store changed in a boot without its key"
grep -ah "persistence:\|lethe persist" "$TMP/log.5" | head -n 5
echo "menu: default amnesic, toram on loop devices, persistence unlocked by the key file and kept across boots, amnesic without the key"
