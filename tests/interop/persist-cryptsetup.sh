#!/usr/bin/env bash
# The persistent store against cryptsetup (issue 15.2), on image files (no
# device-mapper needed): `lethe persist init` makes a LUKS2 volume that `cryptsetup
# luksDump` and `cryptsetup open --test-passphrase` accept with the spec's pinned
# Argon2id cost, whose data area decrypts with the volume key cryptsetup dumps to an
# ext4 file system that e2fsck finds clean; Lethe accepts a volume `cryptsetup
# luksFormat` made with the same parameters; change-passphrase and backup-header work
# with cryptsetup's view; a device in use, a spec without persistence and a missing
# confirmation are refused before anything is written.
. "$LETHE_SRC/tests/lib.sh"
need_cmd cryptsetup mkfs.ext4 e2fsck setsid
/usr/bin/python3 -c 'import cryptography' 2>/dev/null || skip "python3-cryptography is not installed"
cd "$TMP"
spec=s.yaml
cat >$spec <<'YAML'
name: t
version: "1"
packages: [busybox-static]
persistence:
  device: PARTLABEL=lethe-store
  directories: [/home/user]
  cipher: aes-xts
  kdf: {memory: 32m, iterations: 5, parallel: 1}
YAML
printf 'correct horse' >pw
printf 'wrong horse' >bad
printf 'battery staple' >pw2

note "lethe persist init, checked by cryptsetup"
truncate -s 80M store.img
expect_ok "$LETHE" persist init store.img --spec $spec --yes --passphrase-file pw
cryptsetup luksDump store.img >dump
grep -Eq '^Version:[[:space:]]+2$' dump || fail "not LUKS2"
grep -Eq 'PBKDF:[[:space:]]+argon2id' dump || fail "the keyslot is not Argon2id"
grep -Eq 'Memory:[[:space:]]+32768$' dump || fail "the Argon2id memory is not the spec's 32 MiB"
grep -Eq 'Time cost:[[:space:]]+5$' dump || fail "the Argon2id iterations are not the spec's 5"
grep -Eq 'Threads:[[:space:]]+1$' dump || fail "the Argon2id threads are not the spec's 1"
grep -Eq 'cipher:[[:space:]]+aes-xts-plain64' dump || fail "the data is not aes-xts-plain64"
grep -Eq 'Label:[[:space:]]+lethe-persist' dump || fail "no lethe-persist label"
cryptsetup open --test-passphrase --key-file pw store.img || fail "cryptsetup refuses Lethe's passphrase"
! cryptsetup open --test-passphrase --key-file bad store.img 2>/dev/null ||
	fail "cryptsetup accepts a wrong passphrase"

note "the data area is an ext4 file system under the volume key"
/usr/bin/python3 - store.img pw plain.img <<'PY'
import re, subprocess, sys
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
dev, pwf, out = sys.argv[1:]
dump = subprocess.run(["cryptsetup", "luksDump", "--dump-volume-key", "--batch-mode",
                       "--key-file", pwf, dev], capture_output=True, text=True, check=True).stdout
key = bytes.fromhex("".join(re.findall(r"[0-9a-f]{2}", dump.split("MK dump:")[1])))
assert len(key) == 64
src, dst, off, n = open(dev, "rb"), open(out, "wb"), 16 << 20, 0
src.seek(off)
while True:
    c = src.read(512)
    if not c:
        break
    d = Cipher(algorithms.AES(key), modes.XTS(n.to_bytes(16, "little"))).decryptor()
    dst.write(d.update(c) + d.finalize())
    n += 1
PY
e2fsck -fn plain.img >fsck.log 2>&1 || { cat fsck.log; fail "the decrypted store is no clean ext4"; }
dumpe2fs -h plain.img 2>/dev/null | grep -q 'has_journal' || fail "the store's ext4 has no journal"
dumpe2fs -h plain.img 2>/dev/null | grep -Eq 'volume name:[[:space:]]+lethe-persist' ||
	fail "the store's ext4 is not labelled lethe-persist"
# Control: the raw data area is not that file system.
! cmp -s <(tail -c +$((16 * 1048576 + 1)) store.img | head -c 4096) <(head -c 4096 plain.img) ||
	fail "the data area is stored in the clear"

note "lethe persist status and test-passphrase"
expect_ok "$LETHE" persist status store.img --json
/usr/bin/python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); s=j["keyslots"][0]
assert j["cipher"]=="aes-xts-plain64" and j["key_bits"]==512 and s["kdf"]=="argon2id", j
assert s["memory_kib"]==32768 and s["iterations"]==5 and s["parallel"]==1, s' "$TMP/out" ||
	fail "status --json does not show the spec's parameters"
if /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
	/usr/bin/python3 -c 'import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' \
		"$LETHE_SRC/docs/schemas/persist.schema.json" "$TMP/out" ||
		fail "status --json does not follow docs/schemas/persist.schema.json"
fi
expect_ok "$LETHE" persist test-passphrase store.img --passphrase-file pw
expect_fail 1 "no keyslot of 'store.img' opens" "$LETHE" persist test-passphrase store.img --passphrase-file bad

note "change-passphrase keeps the pinned cost; cryptsetup agrees"
expect_ok "$LETHE" persist change-passphrase store.img --passphrase-file pw --new-passphrase-file pw2
cryptsetup open --test-passphrase --key-file pw2 store.img || fail "the new passphrase does not open"
! cryptsetup open --test-passphrase --key-file pw store.img 2>/dev/null || fail "the old passphrase still opens"
cryptsetup luksDump store.img | grep -Eq 'Memory:[[:space:]]+32768$' || fail "the new keyslot lost the pinned cost"
expect_fail 1 "old passphrase" "$LETHE" persist change-passphrase store.img --passphrase-file pw --new-passphrase-file bad

note "backup-header"
expect_ok "$LETHE" persist backup-header store.img hdr.bak
[ "$(stat -c %a hdr.bak)" = 600 ] || fail "the header backup is not mode 600"
cryptsetup luksDump hdr.bak | grep -q "$(cryptsetup luksUUID store.img)" || fail "the backup is not the store's header"
cryptsetup open --test-passphrase --key-file pw2 --header hdr.bak store.img || fail "the backup's keyslot does not open"
expect_fail 3 "exists" "$LETHE" persist backup-header store.img hdr.bak
ls -a | grep -q 'lethe-header' && fail "backup-header left a temporary directory"

note "Lethe accepts a cryptsetup luksFormat volume of the same parameters"
truncate -s 64M peer.img
cryptsetup luksFormat --batch-mode --type luks2 --cipher aes-xts-plain64 --key-size 512 \
	--pbkdf argon2id --pbkdf-memory 32768 --pbkdf-force-iterations 5 --pbkdf-parallel 1 \
	--key-file pw peer.img
expect_ok "$LETHE" persist status peer.img
grep -q "$(cryptsetup luksUUID peer.img)" "$TMP/out" || fail "status does not show the peer's UUID"
grep -Eq 'keyslot 0: +argon2id, 5 iterations, 32768 KiB, 1 thread' "$TMP/out" || fail "status misreads the peer's keyslot"
expect_ok "$LETHE" persist test-passphrase peer.img --passphrase-file pw
expect_fail 1 "opens" "$LETHE" persist test-passphrase peer.img --passphrase-file bad
truncate -s 1M nothing.img
expect_fail 1 "holds no LUKS2 header" "$LETHE" persist status nothing.img

note "refusals, before anything is written"
sum=$(sha256sum <peer.img)
# No --yes and no terminal: nothing is written.
rc=0
setsid -w "$LETHE" persist init peer.img --spec $spec --passphrase-file pw </dev/null >out 2>err || rc=$?
[ $rc -eq 2 ] || { cat err; fail "init without --yes and without a terminal exited $rc, expected 2"; }
grep -q 'there is no terminal; pass --yes' err || { cat err; fail "no message about the confirmation"; }
[ "$(sha256sum <peer.img)" = "$sum" ] || fail "init wrote to the device before confirmation"
# A spec without persistence.
printf 'name: t\nversion: "1"\npackages: [busybox-static]\n' >none.yaml
expect_fail 1 "has no persistence section" "$LETHE" persist init peer.img --spec none.yaml --yes --passphrase-file pw
[ "$(sha256sum <peer.img)" = "$sum" ] || fail "init wrote to the device for a spec without persistence"
# The running system's disk: refused before the question (which would refuse anyway:
# no --yes, no terminal, so this can never write to it).
root=$(findmnt -no SOURCE / 2>/dev/null || true)
if [ -b "$root" ]; then
	rc=0
	setsid -w "$LETHE" persist init "$root" --spec $spec --passphrase-file pw </dev/null >out 2>err || rc=$?
	[ $rc -eq 3 ] || { cat err; fail "init of the root disk '$root' exited $rc, expected 3"; }
	grep -q "is on a disk in use" err || { cat err; fail "no in-use message for '$root'"; }
	grep -q "Type YES" err && fail "init asked before refusing '$root'"
else
	note "/ is not on a block device here ($root): the in-use refusal is covered by test-persist"
fi
expect_fail 2 "run by lethe-init" "$LETHE" persist boot
echo "persist-cryptsetup: ok"
