#!/usr/bin/env bash
# A changed root never boots: one flipped bit in a file of the root partition, one in
# the verity hash tree, and a GPT relabelled for another root hash each stop the boot in
# stage 1 with "lethe-init: root verification failed"; a wrong lethe.roothash finds no
# partition and says which PARTUUID it missed. The untouched disk boots (control).
# The same tampering on the UEFI path (OVMF, systemd-boot, the UKI inside disk.img;
# SHA256SUMS rewritten to match, so only the boot can notice) stops the boot with the
# same message; tests/vm/uefi.sh is that path's control.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/vm/init-vm.bash"
need_vm
img=$(init_image)
cmdline=$(cat "$img/cmdline")
roothash=$(cat "$img/roothash")
need_cmd dump.erofs
part_off() { echo $(( $(sfdisk -d "$img/disk.img" | sed -n "s/.*disk.img$1 : start= *\\([0-9]*\\),.*/\\1/p") * 512 )); }
root_off=$(part_off 1)
verity_off=$(part_off 2)
[ "$root_off" -gt 0 ] && [ "$verity_off" -gt "$root_off" ] || fail "cannot find the partitions of disk.img"

# boot_expect NAME DISK CMDLINE REGEX: boot, wait for REGEX, and make sure stage 2 never
# started (unless REGEX is the ready marker itself).
boot_expect() {
	local name=$1 disk=$2 line=$3 re=$4
	note "$name"
	vm_start "$img" "$disk" "$line"
	vm_wait "$re" 120
	note "  $(tr -d '\r' <"$TMP/serial.log" | grep -E -- "$re" | head -n1)"
	if [ "$re" != "stage 2 ready" ]; then
		sleep 1
		! grep -q "lethe-init: stage 2" "$TMP/serial.log" || fail "$name: stage 2 ran"
		grep -q "lethe-init: halting" "$TMP/serial.log" || fail "$name: init did not halt"
	fi
	vm_kill
	cp "$TMP/serial.log" "$TMP/$name.log"
}

# Control: the untouched disk boots, so a failure below is the tampering's doing.
boot_expect untouched "$img/disk.img" "$cmdline" "stage 2 ready"

# A bit of a file: the first extent of /usr/lib/lethe/lethe-init in the EROFS image.
cp "$img/disk.img" "$TMP/file.img"
off=$(dump.erofs -e --path=/usr/lib/lethe/lethe-init "$img/rootfs.erofs" |
	sed -n 's/^ *0: .*| *[0-9]* : *\([0-9]*\)\.\..*/\1/p')
[ -n "$off" ] || fail "cannot find /usr/lib/lethe/lethe-init's bytes in rootfs.erofs"
flip_bit "$TMP/file.img" $((root_off + off + 100)) 2
boot_expect file-bit "$TMP/file.img" "$cmdline" \
	"lethe-init: root verification failed: .*(offset|mount)"

# A bit of the hash tree (first hash block after the superblock).
cp "$img/disk.img" "$TMP/hash.img"
flip_bit "$TMP/hash.img" $((verity_off + 4096 + 17)) 5
boot_expect hash-bit "$TMP/hash.img" "$cmdline" "lethe-init: root verification failed"

# A wrong root hash: its PARTUUIDs are on no disk.
# (every hex digit shifted by one: both halves, so both PARTUUIDs, differ)
wrong=$(printf '%s' "$roothash" | tr '0-9a-f' '1-9a-f0')
boot_expect wrong-hash "$img/disk.img" "${cmdline/$roothash/$wrong} lethe.timeout=2" \
	"lethe-init: halting: partition PARTUUID=${wrong:0:8}-[-0-9a-f]* \\(root\\) not found after 2 s"

# An attacker relabels the partitions for the wrong hash: found, but dm-verity refuses.
cp "$img/disk.img" "$TMP/relabel.img"
uuid() { echo "${1:0:8}-${1:8:4}-${1:12:4}-${1:16:4}-${1:20:12}"; }
sfdisk -q --part-uuid "$TMP/relabel.img" 1 "$(uuid "${wrong:0:32}")"
sfdisk -q --part-uuid "$TMP/relabel.img" 2 "$(uuid "${wrong:32:32}")"
boot_expect relabelled "$TMP/relabel.img" "${cmdline/$roothash/$wrong}" \
	"lethe-init: root verification failed"

# A malformed root hash never gets as far as the disk.
boot_expect short-hash "$img/disk.img" "${cmdline/$roothash/${roothash:0:40}}" \
	"lethe-init: halting: kernel command line: lethe.roothash has 40 characters"
# The UEFI path: the medium is disk.img alone (the cmdline is the UKI's). uefi_expect
# NAME DISK REGEX: a release whose disk.img is DISK and whose SHA256SUMS says so, booted
# by lethe run through OVMF, must stop in stage 1 with REGEX and never reach stage 2.
uefi=0
if [ -r /usr/share/OVMF/OVMF_CODE_4M.fd ] && [ -f "$img/lethe.efi" ]; then
	uefi_expect() {
		local name=$1 disk=$2 re=$3 dir="$TMP/uefi-$1" rc=0
		note "uefi $name"
		mkdir "$dir"
		cp "$img"/* "$dir/"
		mv "$disk" "$dir/disk.img"
		(cd "$dir" && sha256sum $(awk '{print $2}' SHA256SUMS) >SHA256SUMS.new && mv SHA256SUMS.new SHA256SUMS)
		rm -f "$dir/SHA256SUMS.minisig"
		"$LETHE" run "$dir" --timeout 600 --serial-log "$dir/serial.log" --quiet --exec true \
			>"$dir/out" 2>"$dir/err" || rc=$?
		[ "$rc" -eq 3 ] || { tail -n 20 "$dir/serial.log" >&2; fail "uefi $name: lethe run exited $rc, expected 3"; }
		grep -q "the guest stopped before stage 2: lethe-init: halting: " "$dir/err" ||
			{ cat "$dir/err" >&2; fail "uefi $name: lethe run did not see lethe-init halt"; }
		tr -d '\r' <"$dir/serial.log" >"$dir/log"
		grep -Eq -- "$re" "$dir/log" || { tail -n 20 "$dir/log" >&2; fail "uefi $name: no '$re'"; }
		grep -q "EFI stub: " "$dir/log" || fail "uefi $name: not booted through the UKI"
		! grep -q "lethe-init: stage 2" "$dir/log" || fail "uefi $name: stage 2 ran"
		note "  $(grep -Eo -- "$re.*" "$dir/log" | head -n1)"
		rm -f "$dir/disk.img"
		uefi=$((uefi + 1))
	}
	cp "$img/disk.img" "$TMP/u.img"
	flip_bit "$TMP/u.img" $((root_off + off + 100)) 2
	uefi_expect file-bit "$TMP/u.img" "lethe-init: root verification failed: .*(offset|mount)"
	cp "$img/disk.img" "$TMP/u.img"
	flip_bit "$TMP/u.img" $((verity_off + 4096 + 17)) 5
	uefi_expect hash-bit "$TMP/u.img" "lethe-init: root verification failed"
	# The attacker relabels the partitions and puts the matching wrong hash into the
	# UKI's .cmdline on the ESP: found, but dm-verity refuses.
	cp "$TMP/relabel.img" "$TMP/u.img"
	python3 - "$TMP/u.img" "lethe.roothash=$roothash" "lethe.roothash=$wrong" <<-'PY'
	import sys
	path, old, new = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
	data = bytearray(open(path, "rb").read())
	assert data.count(old) == 1, "the UKI's cmdline is not in disk.img once"
	i = data.index(old)
	data[i:i + len(new)] = new
	open(path, "wb").write(data)
	PY
	uefi_expect relabelled "$TMP/u.img" "lethe-init: root verification failed"
	# A root hash cut short inside the UKI (padded with spaces to the same length).
	cp "$img/disk.img" "$TMP/u.img"
	python3 - "$TMP/u.img" "lethe.roothash=$roothash" <<-'PY'
	import sys
	path, old = sys.argv[1], sys.argv[2].encode()
	new = old[:len(old) - 24] + b" " * 24
	data = bytearray(open(path, "rb").read())
	assert data.count(old) == 1
	i = data.index(old)
	data[i:i + len(new)] = new
	open(path, "wb").write(data)
	PY
	uefi_expect short-hash "$TMP/u.img" "lethe-init: halting: kernel command line: lethe.roothash has 40 characters"
else
	note "no OVMF or no lethe.efi: the UEFI cases are not run"
fi
echo "tamper: 6 boots as expected, $uefi more through UEFI"
