#!/usr/bin/env bash
# lethe.toram: stage 1 copies the root and verity partitions into RAM and verifies the
# copies, so the root is served from loop devices on a tmpfs, not from the boot disk.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/vm/init-vm.bash"
need_vm
img=$(init_image)
vm_start "$img" "$img/disk.img" "$(cat "$img/cmdline") lethe.toram lethe.debug"
vm_wait "lethe-init: stage 2 ready" 120
sleep 1
vm_send 'P=TORAM; echo "$P slaves $(ls /sys/block/dm-0/slaves | tr "\n" " ")"; echo "$P files $(wc -c </run/lethe/toram/root) $(wc -c </run/lethe/toram/verity)"; echo "$P-END"'
vm_wait "^TORAM-END" 60
vm_kill
log=$(tr -d '\r' <"$TMP/serial.log")
grep -q '^lethe-init: debug: root copied into RAM, on /dev/loop' <<<"$log" || fail "stage 1 did not copy the root into RAM"
grep -q '^lethe-init: root verified: ' <<<"$log" || fail "the copy was not verified"
slaves=$(sed -n 's/^TORAM slaves //p' <<<"$log")
[ "$slaves" = "loop0 loop1 " ] || fail "the verified root sits on '$slaves', expected the two loop devices"
# The copies are the whole partitions.
# (partitions 1 and 2: root and verity; the ESP, partition 3, stays on the disk)
disk_sizes=$(sfdisk -d "$img/disk.img" | sed -n 's/.*disk.img[12] : .*size= *\([0-9]*\),.*/\1/p' | awk '{printf "%d ", $1 * 512}')
copies=$(sed -n 's/^TORAM files //p' <<<"$log")
[ "$copies " = "$disk_sizes" ] || fail "copies in RAM are '$copies' bytes, partitions '$disk_sizes'"
echo "toram: root and verity partitions served from RAM ($copies bytes), verified"
