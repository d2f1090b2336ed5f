# Shared by the update-*.sh interop tests (not a test itself): small synthetic releases
# that lethe install and lethe update take as they take a built one. rootfs.erofs is
# random blocks (nothing mounts it on the host), rootfs.verity its real tree, and
# lethe.efi is systemd-stub with .osrel and .cmdline sections (no kernel: it is never
# booted here). Signed with the test key.
need_cmd objcopy objdump

STUB=${LETHE_UEFI_STUB:-/usr/lib/systemd/boot/efi/linuxx64.efi.stub}
[ -r "$STUB" ] || skip "no systemd-stub at '$STUB' (Debian: systemd-boot-efi)"

# make_release DIR IMAGE_ID VERSION [ROOTFS_KIB]
make_release() {
	local dir=$1 id=$2 version=$3 kib=${4:-1024} hash vma
	rm -rf "$dir"
	mkdir -p "$dir"
	if [ -n "${ROOTFS_FROM:-}" ]; then # a root that shares blocks with another's
		cp "$ROOTFS_FROM" "$dir/rootfs.erofs"
	else
		head -c $((kib * 1024)) /dev/urandom >"$dir/rootfs.erofs"
	fi
	"$LETHE" verity format "$dir/rootfs.erofs" "$dir/rootfs.verity" \
		--root-hash-file "$dir/roothash" >/dev/null || fail "verity format"
	hash=$(tr -d '\n' <"$dir/roothash")
	echo "$hash" >"$dir/roothash"
	printf 'lethe.roothash=%s console=ttyS0' "$hash" >"$dir/cmdline"
	printf 'ID=lethe\nIMAGE_ID=%s\nIMAGE_VERSION=%s\n' "$id" "$version" >"$TMP/osrel"
	# New sections 4 KiB-aligned after the stub's last one.
	vma=$(objdump -h "$STUB" | awk '$1 ~ /^[0-9]+$/ { e = strtonum("0x" $4) + strtonum("0x" $3) }
		END { printf "0x%x", int((e + 8191) / 4096) * 4096 }')
	objcopy --add-section .osrel="$TMP/osrel" --change-section-vma .osrel="$vma" \
		--add-section .cmdline="$dir/cmdline" \
		--change-section-vma .cmdline=$(printf '0x%x' $((vma + 4096))) \
		"$STUB" "$dir/lethe.efi" || fail "objcopy: cannot make a UKI"
	(cd "$dir" && "$LETHE" sums -o SHA256SUMS rootfs.erofs rootfs.verity roothash cmdline \
		lethe.efi >/dev/null && "$LETHE" sign -q -s "$(test_key)" SHA256SUMS) ||
		fail "cannot sign the release in '$dir'"
}

# slot_sum DISK SLOT: the SHA-256 of slot SLOT's root and verity partitions' bytes
# (sfdisk names them by their GPT names).
slot_sum() {
	local disk=$1 slot=$2 name start size out=""
	for name in root-x86-64-$slot root-x86-64-verity-$slot; do
		read -r start size < <(sfdisk -J "$disk" | /usr/bin/python3 -c '
import json, sys
for p in json.load(sys.stdin)["partitiontable"]["partitions"]:
    if p.get("name") == sys.argv[1]: print(p["start"], p["size"])' "$name")
		[ -n "$start" ] || fail "'$disk' has no partition '$name'"
		out+=$(dd if="$disk" bs=512 skip="$start" count="$size" status=none | sha256sum)
	done
	echo "$out" | sha256sum | cut -d' ' -f1
}

# esp_names DISK: the files in EFI/Linux on DISK's ESP, one a line, sorted.
esp_names() {
	local off
	off=$(sfdisk -J "$1" | /usr/bin/python3 -c '
import json, sys
for p in json.load(sys.stdin)["partitiontable"]["partitions"]:
    if p.get("name") == "lethe-esp": print(p["start"] * 512)')
	MTOOLS_SKIP_CHECK=1 mdir -b -i "$1@@$off" ::/EFI/Linux | sed 's|.*/||' | sort
}
