#!/usr/bin/env bash
# Secure Boot with the user's own keys, under OVMF (issue 12.3, 12.4): one enrolment
# boot of an image built with --sb-enroll (systemd-boot enrols PK, KEK, db in setup
# mode) whose variable store is kept as the template of every later boot; then the
# image signed with db boots with Secure Boot on (the stub and the kernel say so,
# SecureBoot=1 where efivarfs is mounted) and lockdown integrity. Each tampered medium
# is refused by the firmware with its "Access Denied" line (not a timeout): a UKI whose
# .cmdline was edited and re-assembled, the unsigned UKI, a UKI signed with another key,
# an unsigned systemd-boot. Debian's snakeoil store boots the snakeoil-signed image and
# refuses the one signed with the user's key. Measured boot (12.5) with swtpm: in the
# signed boot, PCR 11 and PCR 4 read in the guest equal pcr.json (and PCR 11 equals
# systemd-measure's value), and `lethe audit --pcr` passes boot.measured; a UKI whose
# initramfs differs by one byte gives another PCR 11 and fails boot.measured. The boot
# menu's toram entry works under Secure Boot (lethe-init reads LoaderEntrySelected).
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/vm/vm-common.bash"
. "$LETHE_SRC/tests/interop/sb-common.bash"
need_cmd qemu-system-x86_64 sbsign sbverify objcopy mcopy sfdisk openssl swtpm swtpm_setup
measure=/usr/lib/systemd/systemd-measure
[ -x "$measure" ] || skip "no $measure (install systemd)"
for f in OVMF_CODE_4M.fd OVMF_VARS_4M.fd OVMF_CODE_4M.snakeoil.fd OVMF_VARS_4M.snakeoil.fd; do
	[ -r "/usr/share/OVMF/$f" ] || skip "no /usr/share/OVMF/$f (install ovmf)"
done
pub=$(test_pub)
user=$(sb_keys user)
other=$(sb_keys other)
unsigned=$(build_image_or_skip minimal)
signed=$(sb_image minimal-sb "$user")
enroll=$(sb_image minimal-sb-enroll "$user" --sb-enroll)
snake=$(sb_image minimal-sb-snakeoil "$(sb_snakeoil_keys)")
rh=$(cat "$signed/roothash")

# efivarfs is lethe-init's (mounted read-only); the variable is 4 bytes of attributes,
# then its value (read whole: efivarfs files do not skip).
check_sb='{ od -An -tu1 -N5 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c 2>/dev/null | awk "{ print \"SB=\" \$5 }"; dmesg | grep -o "secureboot: Secure boot enabled"; echo "LOCKDOWN=$(cat /sys/kernel/security/lockdown)"; }'

# 1. The enrolment boot: the store starts empty (setup mode), systemd-boot enrols and
# resets; QEMU exits and the store is kept.
"$LETHE" run "$enroll" -p "$pub" --sb-enroll-vars "$TMP/user-vars.fd" --timeout 600 \
	--serial-log "$TMP/enroll.log" </dev/null >"$TMP/enroll.out" 2>&1 ||
	{ tail -n 30 "$TMP/enroll.log" >&2; fail "the enrolment boot failed"; }
grep -q "Enrolling secure boot keys from directory" "$TMP/enroll.log" ||
	fail "systemd-boot did not enrol the keys of loader/keys/auto"
[ -s "$TMP/user-vars.fd" ] || fail "no variable store was kept"

# measured_cmd PCR_JSON: the guest reads its PCRs and audits them against PCR_JSON,
# which comes from outside the image (typed in).
measured_cmd() {
	printf '%s' "cat /sys/class/tpm/tpm0/pcr-sha256/11 | sed s/^/PCR11=/; cat /sys/class/tpm/tpm0/pcr-sha256/4 | sed s/^/PCR4=/; printf %s '$(cat "$1")' >/run/pcr.json; lethe audit --pcr /run/pcr.json --only boot.measured,boot.secure-boot --no-color; echo AUDIT-RC=\$?"
}
json_pcr() { sed "s/.*\"pcr\":$2,\"hash\":\"\([0-9a-f]*\)\".*/\1/" "$1" | tr a-f A-F; }

# 2. The signed image boots with Secure Boot on, and a TPM.
rc=0
"$LETHE" run "$signed" -p "$pub" --secure-boot --sb-vars "$TMP/user-vars.fd" --tpm --timeout 900 \
	--serial-log "$TMP/ok.log" --quiet --exec "$check_sb; $(measured_cmd "$signed/pcr.json")" \
	>"$TMP/ok.out" 2>"$TMP/ok.err" || rc=$?
cat "$TMP/ok.out"
[ "$rc" -eq 0 ] || { cat "$TMP/ok.err" >&2; tail -n 30 "$TMP/ok.log" >&2; fail "the signed image did not boot under Secure Boot"; }
grep -q "EFI stub: UEFI Secure Boot is enabled" "$TMP/ok.log" || fail "the stub did not see Secure Boot"
grep -qx "secureboot: Secure boot enabled" "$TMP/ok.out" || fail "the kernel did not see Secure Boot"
grep -qx "SB=1" "$TMP/ok.out" || fail "SecureBoot in efivarfs is not 1: $(grep '^SB=' "$TMP/ok.out")"
grep -qx "LOCKDOWN=none \[integrity\] confidentiality" "$TMP/ok.out" || fail "lockdown is not integrity"
grep -q "lethe-init: root verified: $rh" "$TMP/ok.log" || fail "no verified root under Secure Boot"
# Measured boot: the guest's PCRs are the prediction, and systemd-measure's.
grep -qx "PCR11=$(json_pcr "$signed/pcr.json" 11)" "$TMP/ok.out" || fail "PCR 11 in the guest is not pcr.json's"
grep -qx "PCR4=$(json_pcr "$signed/pcr.json" 4)" "$TMP/ok.out" || fail "PCR 4 in the guest is not pcr.json's"
for sec in linux osrel cmdline initrd; do objcopy -O binary --only-section=.$sec "$signed/lethe.efi" "$TMP/s.$sec"; done
sm=$("$measure" calculate --linux="$TMP/s.linux" --osrel="$TMP/s.osrel" --cmdline="$TMP/s.cmdline" \
	--initrd="$TMP/s.initrd" --bank=sha256 --phase= | sed -n 's/^11:sha256=//p' | tr a-f A-F)
grep -qx "PCR11=$sm" "$TMP/ok.out" || fail "PCR 11 in the guest is not systemd-measure's $sm"
grep -q "^pass .*boot.measured .*equal the release's prediction" "$TMP/ok.out" || fail "boot.measured did not pass"
# lethe-init mounts efivarfs read-only: the audit reads the firmware's own state and db.
grep -q "^pass .*boot.secure-boot .*enabled (user mode); db: CN=Lethe test user db" "$TMP/ok.out" ||
	fail "boot.secure-boot did not read Secure Boot and the user's db: $(grep boot.secure-boot "$TMP/ok.out")"

# 2b. The boot menu's toram entry under Secure Boot (issue 11.3): the stub ignores load
# options, so the entry carries none; lethe-init reads LoaderEntrySelected. Chosen as
# the menu would be: the copy's loader.conf names it as the default (not signed).
d=$TMP/toram-sb
mkdir "$d" && cp "$signed"/* "$d/"
esp_extract "$d/disk.img" loader/loader.conf "$TMP/loader.conf"
grep -qx 'default lethe.efi' "$TMP/loader.conf" || fail "loader.conf's default is not lethe.efi"
sed 's/^default .*/default lethe-toram.conf/' "$TMP/loader.conf" >"$TMP/loader.toram"
esp_replace "$d" loader/loader.conf "$TMP/loader.toram"
rc=0
"$LETHE" run "$d" --secure-boot --sb-vars "$TMP/user-vars.fd" --timeout 900 \
	--serial-log "$TMP/toram.log" --quiet --exec 'echo SLAVES=$(ls /sys/block/dm-0/slaves | tr "\n" " "); cat /proc/cmdline' \
	>"$TMP/toram.out" 2>"$TMP/toram.err" || rc=$?
[ "$rc" -eq 0 ] || { cat "$TMP/toram.err" >&2; tail -n 30 "$TMP/toram.log" >&2; fail "the toram entry did not boot under Secure Boot"; }
grep -q "EFI stub: UEFI Secure Boot is enabled" "$TMP/toram.log" || fail "toram: no Secure Boot"
grep -q "lethe-init: boot menu entry 'lethe-toram.conf': lethe.toram" "$TMP/toram.log" ||
	fail "toram: lethe-init did not see the entry under Secure Boot"
grep -Eqx 'SLAVES=loop[0-9]+ loop[0-9]+' "$TMP/toram.out" || fail "toram: the root is not on loop devices in RAM"
grep -qxF "$(cat "$signed/cmdline")" "$TMP/toram.out" || fail "toram: the cmdline is not the signed one"

# refused NAME PATTERN DIR [VARS]: the firmware's refusal, said at once (well before the
# timeout), and the guest never reached stage 2.
refused() {
	local name=$1 pattern=$2 dir=$3 vars=${4:-$TMP/user-vars.fd} rc=0 t0=$SECONDS
	local opts=(--secure-boot --sb-vars "$vars")
	[ "$vars" = snakeoil ] && opts=(--secure-boot)
	"$LETHE" run "$dir" "${opts[@]}" --timeout 600 --serial-log "$TMP/$name.log" --quiet \
		--exec true >"$TMP/$name.out" 2>"$TMP/$name.err" || rc=$?
	[ "$rc" -eq 3 ] || { cat "$TMP/$name.err" >&2; fail "$name: lethe run exited $rc, not 3"; }
	grep -Eq "the firmware refused to boot: $pattern" "$TMP/$name.err" ||
		{ cat "$TMP/$name.err" >&2; fail "$name: no 'Access Denied' refusal"; }
	! grep -q "lethe-init: stage 2" "$TMP/$name.log" || fail "$name reached stage 2"
	[ $((SECONDS - t0)) -lt 550 ] || fail "$name: refused only at the timeout"
	note "$name: $(grep -o 'refused to boot: .*' "$TMP/$name.err")"
}
variant() { mkdir "$TMP/$1" && cp "$signed"/* "$TMP/$1/"; echo "$TMP/$1"; }
uki_denied='Error loading .*lethe\.efi: Access Denied'

# 3a. The .cmdline edited (another root hash) and the UKI re-assembled by objcopy.
d=$(variant edited)
objcopy -O binary --only-section=.cmdline "$signed/lethe.efi" "$TMP/cmdline"
wrong=$(printf '%s' "$rh" | tr '0-9a-f' '1-9a-f0')
sed -i "s/$rh/$wrong/" "$TMP/cmdline"
objcopy --update-section .cmdline="$TMP/cmdline" "$signed/lethe.efi" "$TMP/edited.efi" 2>/dev/null
objcopy -O binary --only-section=.cmdline "$TMP/edited.efi" /dev/stdout | grep -q "$wrong" ||
	fail "the re-assembled UKI does not carry the edited cmdline"
esp_replace "$d" EFI/Linux/lethe.efi "$TMP/edited.efi"
refused edited-cmdline "$uki_denied" "$d"
# 3b. The unsigned UKI.
d=$(variant unsigned)
esp_replace "$d" EFI/Linux/lethe.efi "$unsigned/lethe.efi"
refused unsigned-uki "$uki_denied" "$d"
# 3c. A UKI signed with another organisation's db.
d=$(variant other)
sbsign --key "$other/db.key" --cert "$other/db.crt" --output "$TMP/other.efi" "$unsigned/lethe.efi" 2>/dev/null
esp_replace "$d" EFI/Linux/lethe.efi "$TMP/other.efi"
refused other-key "$uki_denied" "$d"
# 3d. An unsigned systemd-boot (the signed UKI stays).
d=$(variant unsigned-boot)
esp_replace "$d" EFI/BOOT/BOOTX64.EFI /usr/lib/systemd/boot/efi/systemd-bootx64.efi
refused unsigned-systemd-boot 'BdsDxe: failed to load Boot0001 .*Access Denied' "$d"

# 4. Debian's snakeoil store: the snakeoil-signed image boots, the user's is refused.
rc=0
"$LETHE" run "$snake" -p "$pub" --secure-boot --timeout 900 --serial-log "$TMP/snake.log" \
	--quiet --exec "$check_sb" >"$TMP/snake.out" 2>"$TMP/snake.err" || rc=$?
[ "$rc" -eq 0 ] || { cat "$TMP/snake.err" >&2; fail "the snakeoil-signed image did not boot on the snakeoil store"; }
grep -qx "secureboot: Secure boot enabled" "$TMP/snake.out" || fail "snakeoil: no Secure Boot"
refused user-key-on-snakeoil 'BdsDxe: failed to load Boot0001 .*Access Denied' "$signed" snakeoil
# 5. One byte of the initramfs changed (the OS byte of its gzip header, which the kernel
# does not read): the UKI still boots (no Secure Boot here: the measurement is the
# point), PCR 11 differs from the release's prediction and boot.measured fails.
d=$TMP/initrd-byte
mkdir "$d" && cp "$unsigned"/* "$d/"
cp "$unsigned/lethe.efi" "$TMP/initrd.efi"
off=$(objdump -h "$TMP/initrd.efi" | awk '$2 == ".initrd" { print $6 }')
[ -n "$off" ] || fail "no .initrd in lethe.efi"
flip_bit "$TMP/initrd.efi" $((0x$off + 9)) 0
[ "$(cmp -l "$TMP/initrd.efi" "$unsigned/lethe.efi" | wc -l)" -eq 1 ] || fail "not exactly one byte changed"
esp_replace "$d" EFI/Linux/lethe.efi "$TMP/initrd.efi"
rc=0
"$LETHE" run "$d" --tpm --timeout 900 --serial-log "$TMP/byte.log" --quiet \
	--exec "$(measured_cmd "$unsigned/pcr.json")" >"$TMP/byte.out" 2>"$TMP/byte.err" || rc=$?
[ "$rc" -eq 0 ] || { cat "$TMP/byte.err" >&2; fail "the image with one initramfs byte changed did not boot"; }
grep -q "^PCR11=" "$TMP/byte.out" || fail "no PCR 11 in the changed image"
! grep -qx "PCR11=$(json_pcr "$unsigned/pcr.json" 11)" "$TMP/byte.out" || fail "one byte changed gives the same PCR 11"
# The verify of a UKI from the medium says the same before any boot.
"$LETHE" verify --uki "$TMP/initrd.efi" "$unsigned" -p "$pub" 2>"$TMP/verify.err" && fail "lethe verify --uki accepts the changed UKI"
grep -q "its PCR 11 is not the signed release's prediction" "$TMP/verify.err" || fail "lethe verify --uki: $(cat "$TMP/verify.err")"
grep -q "^FAIL .*boot.measured .*PCR 11 is" "$TMP/byte.out" || { cat "$TMP/byte.out" >&2; fail "boot.measured did not fail on the changed image"; }
grep -qx "AUDIT-RC=1" "$TMP/byte.out" || fail "lethe audit did not exit 1 on the changed image"
echo "secure-boot: enrolled keys boot the signed image with Secure Boot on; 4 tampered media and a foreign store are refused by the firmware; PCR 11 and 4 equal pcr.json; one initramfs byte changed fails boot.measured"
