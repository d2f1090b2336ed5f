#!/usr/bin/env bash
# Secure Boot keys and signing against sbsigntool, efitools and osslsigncode (issue
# 12.2): lethe keygen --secure-boot makes PK, KEK, db whose lists efitools reads back
# to the same certificates, whose .auth updates carry one fixed time stamp and owner
# GUID; lethe build --sb-key signs lethe.efi and the ESP's systemd-boot with db
# (sbverify accepts them with db.crt and refuses them with another certificate); the
# signature is all that differs: sbattach --remove gives back the unsigned build's
# lethe.efi bit for bit, and osslsigncode's Authenticode digests agree. Refusals before
# any work: a db key that is not its certificate's, an expired certificate, a missing
# sbsign, --sb-enroll without --sb-key.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
. "$LETHE_SRC/tests/interop/sb-common.bash"
need_cmd openssl sbsign sbverify sbattach cert-to-efi-sig-list sign-efi-sig-list \
	sig-list-to-certs osslsigncode mcopy sfdisk

# keygen: the files, their modes, their lists read back by efitools.
keys=$TMP/keys
expect_ok env SOURCE_DATE_EPOCH=1767225600 "$LETHE" keygen --secure-boot "$keys" --name "Org"
for k in PK KEK db; do
	for e in key crt cer esl auth; do [ -s "$keys/$k.$e" ] || fail "keygen made no $k.$e"; done
	[ "$(stat -c %a "$keys/$k.key")" = 600 ] || fail "$k.key is not mode 0600"
	(cd "$TMP" && sig-list-to-certs "$keys/$k.esl" "$k-back" >/dev/null) ||
		fail "efitools cannot read $k.esl"
	cmp "$TMP/$k-back-0.der" "$keys/$k.cer" || fail "$k.esl does not hold $k's certificate"
	openssl x509 -in "$keys/$k.crt" -noout -subject | grep -q "CN = Org $k" || fail "$k's subject"
	# EFI_TIME at the start of the .auth: 2026-01-01 00:00:00
	[ "$(od -An -tx1 -N7 "$keys/$k.auth" | tr -d ' ')" = "ea070101000000" ] ||
		fail "$k.auth does not carry the fixed time stamp"
done
[ "$(cat "$keys/TIMESTAMP")" = 1767225600 ] || fail "TIMESTAMP is not SOURCE_DATE_EPOCH"
guid=$(cat "$keys/GUID")
# The owner GUID of each list's entry (EFI_SIGNATURE_LIST header 28 bytes), mixed endian.
want=$(/usr/bin/python3 -c 'import uuid,sys; print(uuid.UUID(sys.argv[1]).bytes_le.hex())' "$guid")
for k in PK KEK db; do
	[ "$(od -An -tx1 -j28 -N16 "$keys/$k.esl" | tr -d ' \n')" = "$want" ] || fail "$k.esl's owner is not $guid"
done
openssl verify -CAfile "$keys/PK.crt" "$keys/PK.crt" >/dev/null || fail "PK is not self-signed"
expect_fail 3 "exists: pass --force" "$LETHE" keygen --secure-boot "$keys"
expect_fail 2 "go with --secure-boot" "$LETHE" keygen -p "$TMP/p" -s "$TMP/s" -W --days 3

# Refusals before any work: the first stage never starts.
refuse() {
	local code=$1 pattern=$2
	shift 2
	expect_fail "$code" "$pattern" "$@"
	! grep -q "resolve" "$TMP/err" || fail "'$*' started the build before refusing"
}
spec=$LETHE_SRC/examples/minimal.yaml
cp -r "$keys" "$TMP/mismatch"
cp "$keys/KEK.key" "$TMP/mismatch/db.key"
refuse 1 "mismatch/db.key' is not the key of the certificate" \
	"$LETHE" build "$spec" -o "$TMP/o1" --sb-key "$TMP/mismatch"
mkdir "$TMP/ca" && (
	cd "$TMP/ca" && touch index.txt && echo 01 >serial &&
		printf '[ca]\ndefault_ca=c\n[c]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n' >ca.cnf &&
		openssl req -new -newkey rsa:2048 -nodes -subj "/CN=old db/" -keyout db.key -out db.csr 2>/dev/null &&
		openssl ca -batch -config ca.cnf -selfsign -keyfile db.key -in db.csr -out db.crt \
			-startdate 20200101000000Z -enddate 20200102000000Z -notext >/dev/null 2>&1
) || fail "cannot make an expired certificate"
cp -r "$keys" "$TMP/expired"
cp "$TMP/ca/db.key" "$TMP/ca/db.crt" "$TMP/expired/"
refuse 1 "the certificate '.*expired/db.crt' has expired" \
	"$LETHE" build "$spec" -o "$TMP/o2" --sb-key "$TMP/expired"
refuse 3 "cannot run '/nonexistent/sbsign' for Secure Boot.*install sbsigntool" \
	env LETHE_SBSIGN=/nonexistent/sbsign "$LETHE" build "$spec" -o "$TMP/o3" --sb-key "$keys"
refuse 3 "cannot read '.*nokeys/db.key'" "$LETHE" build "$spec" -o "$TMP/o4" --sb-key "$TMP/nokeys"
expect_fail 2 "needs --sb-key" "$LETHE" build "$spec" -o "$TMP/o5" --sb-enroll
[ ! -e "$TMP/o1" ] && [ ! -e "$TMP/o2" ] && [ ! -e "$TMP/o3" ] || fail "a refused build left an output"

# The signed build.
unsigned=$(build_image_or_skip minimal)
out=$(sb_image minimal-sb "$(sb_keys user)")
db=$(sb_keys user)/db.crt
sbverify --cert "$db" "$out/lethe.efi" >/dev/null 2>&1 || fail "sbverify refuses the signed lethe.efi"
! sbverify --cert "$keys/db.crt" "$out/lethe.efi" >/dev/null 2>&1 || fail "sbverify accepts another db"
! sbverify --cert "$db" "$unsigned/lethe.efi" >/dev/null 2>&1 || fail "sbverify accepts the unsigned lethe.efi"
for f in EFI/BOOT/BOOTX64.EFI EFI/systemd/systemd-bootx64.efi EFI/Linux/lethe.efi; do
	esp_extract "$out/disk.img" "$f" "$TMP/esp.efi" || fail "no $f on the ESP"
	sbverify --cert "$db" "$TMP/esp.efi" >/dev/null 2>&1 || fail "the ESP's $f is not signed with db"
done
cmp "$TMP/esp.efi" "$out/lethe.efi" || fail "the ESP's UKI is not the release's lethe.efi"
esp_extract "$out/disk.img" loader/loader.conf "$TMP/loader.conf"
! grep -q secure-boot-enroll "$TMP/loader.conf" || fail "enrolment without --sb-enroll"

# Reproducible: the signature is all that differs from the unsigned build.
cp "$out/lethe.efi" "$TMP/stripped.efi"
sbattach --remove "$TMP/stripped.efi" 2>/dev/null || fail "sbattach cannot remove the signature"
cmp "$TMP/stripped.efi" "$unsigned/lethe.efi" ||
	fail "lethe.efi without its signature is not the unsigned build's lethe.efi"
# osslsigncode verifies against db itself (not the system's CA store). Before 2.9 (Debian
# 12 has 2.5) it refuses every sbsign signature as "Invalid signature", systemd-boot's
# too: there its Authenticode digest comes from its own signature of the unsigned build,
# which must then be the digest the sbsign signature covers.
oss_version=$(osslsigncode --version 2>&1 | sed -n '1s/^osslsigncode \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
if [ -n "$oss_version" ] && [ "$(printf '%d%03d' $oss_version)" -ge 2009 ]; then
	osslsigncode verify -CAfile "$db" -in "$out/lethe.efi" >"$TMP/oss" 2>&1 ||
		{ cat "$TMP/oss" >&2; fail "osslsigncode does not verify lethe.efi against db.crt"; }
else
	note "osslsigncode ${oss_version/ /.} cannot read sbsign's signatures: its digest is taken from its own signature"
	osslsigncode sign -certs "$db" -key "${db%.crt}.key" -in "$unsigned/lethe.efi" \
		-out "$TMP/oss.efi" >/dev/null 2>&1 || fail "osslsigncode cannot sign the unsigned lethe.efi"
	osslsigncode verify -CAfile "$db" -in "$TMP/oss.efi" >"$TMP/oss" 2>&1 ||
		{ cat "$TMP/oss" >&2; fail "osslsigncode does not verify its own signature of lethe.efi"; }
fi
cur=$(sed -n 's/^Current message digest *: *\([0-9A-F]*\).*/\1/p' "$TMP/oss")
calc=$(sed -n 's/^Calculated message digest *: *\([0-9A-F]*\).*/\1/p' "$TMP/oss")
[ -n "$cur" ] && [ "$cur" = "$calc" ] || fail "osslsigncode: signed digest '$cur' is not the image's '$calc'"
# lethe verify --uki: the signature against db, the root hash against the release, and
# Lethe's own Authenticode digest equal to osslsigncode's, signed or not.
"$LETHE" verify --uki "$out/lethe.efi" --sb-cert "$db" "$out" -p "$(test_pub)" --json >"$TMP/v.json" ||
	fail "lethe verify --uki refuses the signed lethe.efi"
mine=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["authenticode_sha256"].upper())' "$TMP/v.json")
[ "$mine" = "$calc" ] || fail "Lethe's Authenticode digest $mine is not osslsigncode's $calc"
"$LETHE" verify --uki "$unsigned/lethe.efi" "$unsigned" -p "$(test_pub)" --json >"$TMP/u.json" ||
	fail "lethe verify --uki refuses the unsigned lethe.efi without --sb-cert"
grep -qi "\"authenticode_sha256\": \"$calc\"" "$TMP/u.json" || fail "the unsigned UKI's Authenticode digest is not the signed one's"
expect_fail 1 "is not signed by" "$LETHE" verify --uki "$out/lethe.efi" --sb-cert "$keys/db.crt" "$out" -p "$(test_pub)"
expect_fail 1 "is not signed by" "$LETHE" verify --uki "$unsigned/lethe.efi" --sb-cert "$db" "$unsigned" -p "$(test_pub)"
rh=$(cat "$unsigned/roothash")
objcopy -O binary --only-section=.cmdline "$unsigned/lethe.efi" "$TMP/cmdline"
sed -i "s/$rh/$(printf '%s' "$rh" | tr '0-9a-f' '1-9a-f0')/" "$TMP/cmdline"
objcopy --update-section .cmdline="$TMP/cmdline" "$unsigned/lethe.efi" "$TMP/edited.efi"
expect_fail 1 "its .cmdline's root hash [0-9a-f]*... is not the signed release's" \
	"$LETHE" verify --uki "$TMP/edited.efi" "$unsigned" -p "$(test_pub)"
grep -q '"pcr":11' "$out/pcr.json" && grep -q '"pcr":4' "$out/pcr.json" ||
	fail "the signed release's pcr.json lacks PCR 4 or 11"
[ "$(sed 's/.*"pcr":11,"hash":"\([0-9a-f]*\)".*/\1/' "$out/pcr.json")" = \
	"$(sed 's/.*"pcr":11,"hash":"\([0-9a-f]*\)".*/\1/' "$unsigned/pcr.json")" ] ||
	fail "signing changed the PCR 11 prediction"
note "signed with db; unsigned lethe.efi reproduced by sbattach --remove; Authenticode $cur"
