#!/usr/bin/env bash
# The laptop image (kernel.profile: hardware) boots under OVMF, through systemd-boot
# and its UKI, from the media a PC boots from: a USB stick (qemu-xhci + usb-storage), an
# NVMe disk and a SATA disk (AHCI), each to "stage 2 ready" with the root verified on
# that device; its lethe.iso boots as a SATA DVD (the root on loop devices over sr0,
# which has no partitions of its own) and as a USB stick (the kernel's partitions of
# the ISO's GPT). Control: the minimal image (cloud kernel, no USB drivers) attached as a
# USB stick never finds its root, so the bus really is what the guest sees. And the
# stick a user makes: `lethe write` of disk.img to a loop device, then QEMU booting
# that loop device as a USB stick.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/vm/vm-common.bash"
need_cmd qemu-system-x86_64
[ -r /usr/share/OVMF/OVMF_CODE_4M.fd ] || skip "no OVMF (install ovmf)"
laptop=$(build_image_or_skip laptop)
minimal=$(run_image)
pub=$(test_pub)
rh=$(cat "$laptop/roothash")
grep -Eq '^linux-image-[0-9.]+-[0-9]+-amd64 ' "$laptop/lethe.lock" ||
	fail "the laptop image's kernel is not linux-image-*-amd64"

# boot_bus IMAGE BUS CMD: lethe run through OVMF with the medium on BUS (BUS-iso: lethe.iso
# on BUS); output in $TMP/BUS.out, console in $TMP/BUS.log; returns lethe run's status.
boot_bus() {
	local img=$1 bus=$2 cmd=$3 rc=0 args=(--bus "${2%-iso}")
	[[ $bus != *-iso ]] || args+=(--iso)
	note "boot $(basename "$img") from $bus"
	"$LETHE" run "$img" -p "$pub" "${args[@]}" --timeout 900 --serial-log "$TMP/$bus.log" \
		--quiet --exec "$cmd" >"$TMP/$bus.out" 2>"$TMP/$bus.err" || rc=$?
	tr -d '\r' <"$TMP/$bus.log" >"$TMP/$bus.clean"
	[ "$rc" -eq 0 ] || { tail -n 30 "$TMP/$bus.clean" >&2; cat "$TMP/$bus.err" >&2; }
	return $rc
}
# check_ready BUS: stage 2 came, through the UKI, with the laptop's root verified.
check_ready() {
	local bus=$1
	grep -q "EFI stub: " "$TMP/$bus.clean" || fail "$bus: the kernel was not started by systemd-stub"
	grep -q "lethe-init: root verified: $rh" "$TMP/$bus.clean" || fail "$bus: no 'root verified'"
	grep -q "lethe-init: stage 2 ready" "$TMP/$bus.clean" || fail "$bus: no 'stage 2 ready'"
	grep -qx "lethe-root" "$TMP/$bus.out" || fail "$bus: dm-0 is not lethe-root"
}
# Which device holds the root: the dm-verity device's slaves, and what they are (ls in
# the console shell prints columns).
probe='cat /sys/block/dm-0/dm/name; ls /sys/block/dm-0/slaves; for s in /sys/block/dm-0/slaves/*; do p=$(readlink -f $s); [ -e $p/partition ] && p=$(dirname $p); echo slave=$(basename $p); done; echo usb-storage=$(ls /sys/bus/usb/drivers/usb-storage/ 2>/dev/null | grep -c :); true'

# Control: no USB driver in the cloud kernel's initramfs, no root.
rc=0
boot_bus "$minimal" usb true || rc=$?
[ "$rc" -ne 0 ] || fail "the minimal image booted from USB without USB drivers"
grep -q "the guest stopped before stage 2: lethe-init: halting: partition PARTUUID=.* (root) not found after" \
	"$TMP/usb.err" || { cat "$TMP/usb.err" >&2; fail "control: not the 'not found' halt"; }
grep -q "lethe-init: waiting for the root partition PARTUUID=" "$TMP/usb.clean" ||
	fail "control: stage 1 did not say which partition it waited for"
mv "$TMP/usb.clean" "$TMP/control.clean"

boot_bus "$laptop" usb "$probe" || fail "laptop from USB: lethe run failed"
check_ready usb
grep -Eq '^slave=sd[a-z]+$' "$TMP/usb.out" || fail "usb: the root is not on a SCSI disk (usb-storage)"
grep -Eq '^usb-storage=[1-9]' "$TMP/usb.out" || fail "usb: usb-storage drives nothing"

boot_bus "$laptop" nvme "$probe" || fail "laptop from NVMe: lethe run failed"
check_ready nvme
grep -Eq '^slave=nvme0n1$' "$TMP/nvme.out" || fail "nvme: the root is not on nvme0n1"

boot_bus "$laptop" sata "$probe; cat /sys/block/sda/device/vendor" || fail "laptop from SATA: lethe run failed"
check_ready sata
grep -Eq '^slave=sda$' "$TMP/sata.out" || fail "sata: the root is not on sda"
grep -Eq '^ATA' "$TMP/sata.out" || fail "sata: sda is not an ATA disk"

# lethe.iso as a DVD: sr0 has no partitions; lethe-init maps the GPT's through loop
# devices. Then the same ISO as a USB stick: the kernel's own partitions sdX3, sdX4.
[ -f "$laptop/lethe.iso" ] || fail "the laptop build made no lethe.iso"
boot_bus "$laptop" cdrom "$probe; ls /sys/block/sr0/" || fail "lethe.iso from a DVD drive: lethe run failed"
check_ready cdrom
grep -Eq '^slave=loop[0-9]+$' "$TMP/cdrom.out" || fail "cdrom: the root is not on a loop device"
! grep -Eq '(^|[[:space:]])sr0p?[0-9]' "$TMP/cdrom.out" || fail "cdrom: the kernel made partitions of sr0 (the loop path went untested)"
boot_bus "$laptop" usb-iso "$probe" || fail "lethe.iso as a USB stick: lethe run failed"
check_ready usb-iso
grep -Eq '(^|[[:space:]])sd[a-z]3([[:space:]]|$)' "$TMP/usb-iso.out" || fail "usb-iso: the root is not the ISO's third GPT partition"

# The stick a user makes: lethe write to a block device (a loop device here), then a PC
# (QEMU, OVMF) boots that device as a USB stick.
command -v losetup >/dev/null || skip "no losetup"
truncate -s $(( $(stat -c %s "$laptop/disk.img") + 8 * 1024 * 1024 )) "$TMP/stick.img"
dev=$(losetup -f --show "$TMP/stick.img" 2>/dev/null) || skip "cannot attach a loop device here"
on_exit "losetup -d $dev"
"$LETHE" write "$laptop" "$dev" -p "$pub" --quiet || fail "lethe write to $dev failed"
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$TMP/vars.fd"
qemu-system-x86_64 -accel tcg -machine q35 -m 512 -smp 1 -display none -no-reboot -nodefaults \
	-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
	-drive "if=pflash,format=raw,unit=1,file=$TMP/vars.fd" \
	-drive "if=none,id=stick,format=raw,readonly=on,file=$dev" \
	-device qemu-xhci,id=xhci -device usb-storage,bus=xhci.0,drive=stick,bootindex=1 \
	-serial "file:$TMP/stick.log" >"$TMP/qemu.log" 2>&1 &
qpid=$!
on_exit "kill $qpid 2>/dev/null; wait $qpid 2>/dev/null"
for ((i = 0; i < 9000; i++)); do
	grep -q "lethe-init: stage 2 ready" "$TMP/stick.log" 2>/dev/null && break
	grep -q "lethe-init: halting" "$TMP/stick.log" 2>/dev/null && break
	kill -0 $qpid 2>/dev/null || break
	sleep 0.1
done
kill $qpid 2>/dev/null || true
tr -d '\r' <"$TMP/stick.log" >"$TMP/stick.clean"
grep -q "lethe-init: root verified: $rh" "$TMP/stick.clean" &&
	grep -q "lethe-init: stage 2 ready" "$TMP/stick.clean" ||
	{ tail -n 30 "$TMP/stick.clean" >&2; fail "the written stick did not boot to stage 2"; }
echo "uefi-media: the laptop image boots from USB, NVMe, SATA, its ISO from a DVD and a stick, and a written stick; the cloud kernel does not find a USB root"
