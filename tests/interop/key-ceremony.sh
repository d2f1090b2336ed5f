#!/usr/bin/env bash
# The host-side walk of docs/key-ceremony.md (issue 19.3), with SoftHSM2 as the token:
# the release key is made in the token; a release arrives "on the stick" and is checked
# against the builder's key; its SHA256SUMS is signed in the token; the signature is
# carried out and checked with lethe and with minisign. A release changed on the stick
# is refused at the check, and then nothing is signed.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
need_cmd softhsm2-util minisign
MODULE=/usr/lib/softhsm/libsofthsm2.so
[ -r "$MODULE" ] || skip "the SoftHSM2 module '$MODULE' is not installed"

cd "$TMP"
mkdir tokens stick outside
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\n' "$TMP" >softhsm2.conf
export SOFTHSM2_CONF=$TMP/softhsm2.conf
softhsm2-util --init-token --free --label release --pin 97531 --so-pin 86420864 >/dev/null
printf '97531\n' >pin
URI="pkcs11:token=release;object=lethe-release?module-path=$MODULE&pin-source=file:$TMP/pin"

note "step 0: the release key is made in the token; its public key is carried out"
expect_ok "$LETHE" keygen --pkcs11 "$URI" -p stick/release.pub
cp stick/release.pub outside/release.pub

note "step 2: the release arrives on the stick, signed by the builder"
rel=$(build_image_or_skip minimal)
cp -a "$rel" stick/release
cp "$(test_pub)" stick/builder.pub

note "step 3: check it on the bastion (signature of SHA256SUMS, every file's hash)"
expect_ok "$LETHE" verify stick/release -p stick/builder.pub

note "step 4: sign its SHA256SUMS with the token, the signature onto the stick"
expect_ok "$LETHE" sign --pkcs11 "$URI" -t "lethe-minimal release approved at the ceremony" \
	-x stick/SHA256SUMS.release.minisig stick/release/SHA256SUMS

note "step 5: outside, the release is checked against the release key"
cp stick/SHA256SUMS.release.minisig outside/
expect_ok "$LETHE" verify --sums stick/release/SHA256SUMS -x outside/SHA256SUMS.release.minisig -p outside/release.pub
grep -q "lethe-minimal release approved at the ceremony" "$TMP/out" || fail "lethe verify printed another trusted comment"
minisign -Vm stick/release/SHA256SUMS -x outside/SHA256SUMS.release.minisig -p outside/release.pub >ms.out 2>&1 ||
	{ cat ms.out >&2; fail "minisign rejects the ceremony's signature"; }
(cd stick/release && sha256sum --quiet -c SHA256SUMS) || fail "sha256sum -c fails on the release"
# The builder's key does not verify the ceremony's signature, nor the reverse.
expect_fail 1 "was made by key" "$LETHE" verify --sums stick/release/SHA256SUMS \
	-x outside/SHA256SUMS.release.minisig -p stick/builder.pub

note "a release changed on the stick is refused at step 3: nothing is signed"
cp -a "$rel" stick/bad
flip_bit stick/bad/cmdline 3
expect_fail 1 "cmdline" "$LETHE" verify stick/bad -p stick/builder.pub
note "ok"
