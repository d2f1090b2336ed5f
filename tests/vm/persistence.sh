#!/usr/bin/env bash
# Opt-in persistence end to end (issue 15.6), one image (tests/vm/persistence.yaml:
# /home/user and /var/lib/keep persist on the partition named lethe-store), several
# boots against one store made by `lethe persist init`:
#  A  the persistent entry (lethe.persistence), the right passphrase: a file in a listed
#     directory and one elsewhere are written; a RAM dump while the store is open holds
#     the volume key (either 256-bit half: control), the dump after poweroff holds
#     neither half nor the passphrase; the raw store holds no copy of either file's 512-byte pattern block,
#     its decryption (volume key from cryptsetup) holds the listed one only (control)
#  B  the listed file survived, the other did not; QEMU is killed during a large write
#  C  after that power loss the store opens and checks clean (e2fsck -p in the guest,
#     e2fsck -fn of its decryption on the host after a clean poweroff)
#  D  without the entry: writes into every listed directory, the store's SHA-256 stays
#  E  the entry and a wrong passphrase three times: amnesic boot, audit passes, store
#     unchanged
#  F  an image whose spec has no persistence (examples/minimal.yaml), with the entry:
#     the store is never opened
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/vm/init-vm.bash"
need_vm
need_cmd cryptsetup sfdisk e2fsck
/usr/bin/python3 -c 'import cryptography' 2>/dev/null || skip "python3-cryptography is not installed"
mem_mb=512
spec=$LETHE_SRC/tests/vm/persistence.yaml

# The image, built once per tree and again when a Lethe program or the spec is newer.
img=$LETHE_BUILD/test-images/persistence
mkdir -p "$LETHE_BUILD/test-images"
(
	flock 9
	if image_stale "$img" "$spec"; then
		rm -rf "$img"
		"$LETHE" build --quiet "$spec" -o "$img" --key "$(test_key)" >"$TMP/build.log" 2>&1 ||
			{ tail -n 20 "$TMP/build.log" >&2; fail "cannot build $spec"; }
	fi
) 9>"$LETHE_BUILD/test-images/.lock"
grep -q '^\./usr/lib/lethe/lethe-persist ' "$img/manifest.mtree" || fail "the image lacks lethe-persist"
cmdline=$(cat "$img/cmdline")

# The store: a GPT disk whose one partition (lethe-store) `lethe persist init` made.
pass=$(head -c 18 /dev/urandom | od -An -tx1 -v | tr -d ' \n')
printf '%s' "$pass" >"$TMP/pw"
printf 'wrong-%s' "$pass" >"$TMP/bad"
part_sectors=198656
truncate -s $((part_sectors * 512)) "$TMP/part.img"
"$LETHE" persist init "$TMP/part.img" --spec "$spec" --yes --passphrase-file "$TMP/pw" >/dev/null ||
	fail "lethe persist init failed"
store=$TMP/store.disk
truncate -s $(((part_sectors + 4096) * 512)) "$store"
printf 'label: gpt\nstart=2048, size=%d, name=lethe-store\n' $part_sectors | sfdisk -q "$store"
dd if="$TMP/part.img" of="$store" bs=512 seek=2048 conv=notrunc status=none
rm "$TMP/part.img"
partition() { dd if="$store" of="$TMP/part.img" bs=512 skip=2048 count=$part_sectors status=none; }
partition
vkey=$(cryptsetup luksDump --dump-volume-key --batch-mode --key-file "$TMP/pw" "$TMP/part.img" |
	sed -n '/MK dump:/,$p' | grep -oE '([0-9a-f]{2} )+' | tr -d ' \n')
[ ${#vkey} -eq 128 ] || fail "no 64-byte volume key from cryptsetup"
store_sum() { sha256sum <"$store" | cut -d' ' -f1; }

# decrypt OUT: the partition's data area, decrypted with the volume key (aes-xts-plain64).
decrypt() {
	partition
	/usr/bin/python3 - "$vkey" "$TMP/part.img" "$1" <<'PY'
import sys
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
key, src, dst = bytes.fromhex(sys.argv[1]), open(sys.argv[2], "rb"), open(sys.argv[3], "wb")
src.seek(16 << 20)
n = 0
while True:
    c = src.read(1 << 16)
    if not c:
        break
    out = bytearray()
    for i in range(0, len(c), 512):
        d = Cipher(algorithms.AES(key), modes.XTS((n).to_bytes(16, "little"))).decryptor()
        out += d.update(c[i:i + 512]) + d.finalize()
        n += 1
    dst.write(out)
PY
}
# count FILE HEXBLOCK: whole copies of a 512-byte block in FILE.
count() {
	/usr/bin/python3 -c 'import sys; print(open(sys.argv[1],"rb").read().count(bytes.fromhex(sys.argv[2])))' "$1" "$2"
}
# keycount FILE: copies of either 256-bit half of the volume key (AES-XTS's data and
# tweak keys; each is also the first round keys of its AES key schedule) in FILE.
keycount() {
	/usr/bin/python3 -c 'import sys; m=open(sys.argv[1],"rb").read(); k=bytes.fromhex(sys.argv[2])
print(m.count(k[:32]) + m.count(k[32:]))' "$1" "$vkey"
}

boot() { # boot IMG CMDLINE
	VM_MEM=$mem_mb vm_start "$1" "$1/disk.img" "$2" -drive "file=$store,if=virtio,format=raw"
}
unlock() { # type the passphrase at each of the given tries
	local p
	for p in "$@"; do
		vm_wait "Passphrase for the persistent store .* try $((++_try)) of 3" 300
		vm_send "$p"
	done
}
ready() { vm_wait "lethe-init: stage 2 ready" 400; sleep 1; vm_send "dmesg -n 1"; }
# guest CMD MARK: run CMD in the console shell, wait for MARK-ok.
guest() {
	vm_send "$1 && echo $2-\$((6*7))"
	vm_wait "^$2-42" 180
}
off() {
	vm_send "lethe poweroff || poweroff"
	vm_wait "lethe-init: memory wiped, powering off" 180
}
# dump FILE: all guest RAM, QEMU stopped meanwhile (cont afterwards unless "final").
dump() {
	local n
	n=$(grep -c '"return"' "$TMP/qmp.log" 2>/dev/null || true)
	vm_qmp '{"execute":"stop"}'
	vm_qmp "{\"execute\":\"pmemsave\",\"arguments\":{\"val\":0,\"size\":$((mem_mb << 20)),\"filename\":\"$1\"}}"
	for _ in $(seq 1200); do
		[ "$(grep -c '"return"' "$TMP/qmp.log" 2>/dev/null || echo 0)" -ge $((n + 2)) ] && break
		sleep 0.1
	done
	[ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -eq $((mem_mb << 20)) ] || fail "pmemsave wrote no full dump"
	[ "${2:-}" = final ] || vm_qmp '{"execute":"cont"}'
}
hexblock() { # the last 1024-hex-digit line of the console
	tr -d '\r' <"$TMP/serial.log" | grep -Eo '^[0-9a-f]{1024}$' | tail -n1
}

note "A: the persistent entry, the right passphrase"
_try=0
boot "$img" "$cmdline lethe.persistence"
unlock "$pass"
vm_wait "lethe-init: persistence: the store is open" 300
ready
grep -qF "$pass" "$TMP/serial.log" && fail "the passphrase was echoed on the console"
guest "mount | grep -c ' on /home/user type ext4' | grep -qx 1 && mount | grep -c ' on /var/lib/keep type ext4' | grep -qx 1" MOUNTED
vm_send "head -c 512 /dev/urandom >/tmp/k && od -An -tx1 -v /tmp/k | tr -d ' \\n' && echo"
vm_wait '^[0-9a-f]{1024}' 60
keep=$(hexblock)
vm_send "head -c 512 /dev/urandom >/tmp/g && od -An -tx1 -v /tmp/g | tr -d ' \\n' && echo"
for _ in $(seq 600); do [ "$(hexblock)" != "$keep" ] && break; sleep 0.1; done
gone=$(hexblock)
[ ${#keep} -eq 1024 ] && [ ${#gone} -eq 1024 ] && [ "$keep" != "$gone" ] || fail "no pattern blocks on the console"
guest "for i in 1 2 3 4 5 6 7 8; do cat /tmp/k /tmp/k /tmp/k /tmp/k /tmp/k /tmp/k /tmp/k /tmp/k; done >/home/user/keep.bin && for i in 1 2 3 4 5 6 7 8; do cat /tmp/g /tmp/g /tmp/g /tmp/g /tmp/g /tmp/g /tmp/g /tmp/g; done >/home/gone.bin && rm /tmp/k /tmp/g && sync" WROTE
dump "$TMP/mem-open"
open_keys=$(keycount "$TMP/mem-open")
rm -f "$TMP/mem-open"
note "A: volume key copies in RAM while the store is open (control): $open_keys"
[ "$open_keys" -ge 1 ] || fail "control: the open store's volume key is not found in RAM: the dump cannot see it"
off
vm_wait "lethe-init: persistence: store closed" 5
dump "$TMP/mem-off" final
left_keys=$(keycount "$TMP/mem-off")
left_pass=$(grep -c -aF "$pass" "$TMP/mem-off" || true)
rm -f "$TMP/mem-off"
vm_kill
note "A: after poweroff: $left_keys volume key copies, $left_pass passphrase copies"
[ "$left_keys" -eq 0 ] || fail "the volume key is still in RAM after poweroff ($left_keys copies)"
[ "$left_pass" -eq 0 ] || fail "the passphrase is still in RAM after poweroff ($left_pass copies)"
partition
raw_keep=$(count "$TMP/part.img" "$keep")
raw_gone=$(count "$TMP/part.img" "$gone")
decrypt "$TMP/plain.img"
plain_keep=$(count "$TMP/plain.img" "$keep")
plain_gone=$(count "$TMP/plain.img" "$gone")
note "A: pattern blocks: raw store $raw_keep/$raw_gone, decrypted $plain_keep/$plain_gone (listed/elsewhere)"
[ "$plain_keep" -ge 64 ] || fail "control: the decrypted store holds $plain_keep copies of the listed file's block"
[ "$raw_keep" -eq 0 ] && [ "$raw_gone" -eq 0 ] || fail "the raw store holds plaintext"
[ "$plain_gone" -eq 0 ] || fail "the file outside the listed directories reached the store"
e2fsck -fn "$TMP/plain.img" >"$TMP/fsck.log" 2>&1 || { cat "$TMP/fsck.log"; fail "the store is not clean after a clean poweroff"; }

note "B: the listed file survived, the other did not; power loss during a large write"
_try=0
boot "$img" "$cmdline lethe.persistence"
unlock "$pass"
ready
guest "test -f /home/user/keep.bin && test ! -e /home/gone.bin && test \$(wc -c </home/user/keep.bin) -eq 32768" SURVIVED
vm_send "dd if=/dev/zero of=/home/user/big bs=1M count=60 2>/dev/null & echo STARTED-\$((6*7))"
vm_wait "^STARTED-42" 60
sleep 4
vm_kill # power loss: no sync, no unmount

note "C: after the power loss the store opens and checks clean"
_try=0
boot "$img" "$cmdline lethe.persistence"
unlock "$pass"
vm_wait "lethe-init: persistence: the store is open" 300
ready
guest "test -f /home/user/keep.bin" STILL
off
vm_kill
decrypt "$TMP/plain.img"
e2fsck -fn "$TMP/plain.img" >"$TMP/fsck.log" 2>&1 || { cat "$TMP/fsck.log"; fail "the store is not clean after the power loss"; }
[ "$(count "$TMP/plain.img" "$keep")" -ge 64 ] || fail "the listed file is gone from the store after the power loss"
rm -f "$TMP/plain.img"

note "D: without the entry the store is never written"
before=$(store_sum)
boot "$img" "$cmdline"
ready
grep -q 'persistence:' "$TMP/serial.log" && fail "lethe-init touched persistence without the entry"
guest "mkdir -p /home/user /var/lib/keep && echo amnesic >/home/user/amnesic && echo amnesic >/var/lib/keep/amnesic && sync" AMNESIC
off
vm_kill
[ "$(store_sum)" = "$before" ] || fail "the store changed in a boot without the persistent entry"

note "E: a wrong passphrase three times"
_try=0
boot "$img" "$cmdline lethe.persistence"
unlock "$(cat "$TMP/bad")" "x$pass" "$pass-"
vm_wait "lethe-init: persistence: the store is not open .* this boot stays amnesic" 300
ready
vm_wait "lethe-init: audit: every check passed" 5
guest "! mount | grep -q lethe-persist && test ! -e /home/user/keep.bin" NOTMOUNTED
off
vm_kill
[ "$(store_sum)" = "$before" ] || fail "the store changed after three wrong passphrases"

note "F: a spec without persistence, with the entry"
minimal=$(init_image)
boot "$minimal" "$(cat "$minimal/cmdline") lethe.persistence"
vm_wait "spec allows no persistence: no device is opened" 300
ready
grep -q 'Passphrase for the persistent store' "$TMP/serial.log" && fail "asked for a passphrase without a persistence spec"
off
vm_kill
[ "$(store_sum)" = "$before" ] || fail "the store changed under an image without persistence"
echo "persistence: ok (RAM after poweroff: 0 keys, 0 passphrases; control $open_keys keys)"
