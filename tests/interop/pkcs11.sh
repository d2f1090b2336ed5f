#!/usr/bin/env bash
# Signing with a key in a PKCS#11 token (issue 19.1), SoftHSM2 as the token, in a
# private token directory: `lethe keygen --pkcs11` makes the key in it, `lethe sign
# --pkcs11` signs a file and `lethe build --key pkcs11:` a release, and the real
# `minisign -V` and `lethe verify` accept both; the private key cannot be read out of
# the token; a wrong PIN is a clear error (exit 1) and nothing is written.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
need_cmd softhsm2-util pkcs11-tool minisign
MODULE=/usr/lib/softhsm/libsofthsm2.so
[ -r "$MODULE" ] || skip "the SoftHSM2 module '$MODULE' is not installed"

cd "$TMP"
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\n' "$TMP" >softhsm2.conf
export SOFTHSM2_CONF=$TMP/softhsm2.conf
softhsm2-util --init-token --free --label release --pin 2468 --so-pin 13579753 >/dev/null
printf '2468\n' >pin
printf '1111\n' >wrong-pin
URI="pkcs11:token=release;object=lethe-release?module-path=$MODULE&pin-source=file:$TMP/pin"
WRONG="pkcs11:token=release;object=lethe-release?module-path=$MODULE&pin-source=file:$TMP/wrong-pin"
p11() { pkcs11-tool --module "$MODULE" --token-label release "$@"; }
n_objects() { p11 --login --pin 2468 --list-objects 2>/dev/null | grep -c 'Object;' || true; }

note "keygen in the token; a wrong PIN first writes nothing and makes no key"
expect_fail 1 "wrong PIN for PKCS#11 token 'release'" "$LETHE" keygen --pkcs11 "$WRONG" -p token.pub
[ ! -e token.pub ] || fail "keygen with a wrong PIN wrote the public key"
[ "$(n_objects)" -eq 0 ] || fail "keygen with a wrong PIN left objects in the token"
expect_ok "$LETHE" keygen --pkcs11 "$URI" -p token.pub
id=$(awk '/^key id:/ {print $3}' "$TMP/out")
head -n1 token.pub | grep -qxF "untrusted comment: minisign public key $id" ||
	fail "the public key file does not carry the key id $id"
[ "$(n_objects)" -eq 2 ] || fail "keygen did not leave exactly one key pair in the token"
# The key id is the documented derivation from the public key (docs/signing.md).
want=$(/usr/bin/python3 -c '
import base64, hashlib, sys
blob = base64.b64decode(open(sys.argv[1]).read().split("\n")[1])
h = hashlib.blake2b(b"lethe pkcs11 key id v1" + blob[10:], digest_size=32).digest()[:8]
assert blob[2:10] == h, "key id in the file is not the derivation"
print("%016X" % int.from_bytes(h, "little"))' token.pub) || fail "the key id is not BLAKE2b-256 of the context and public key"
[ "$want" = "$id" ] || fail "keygen printed key id $id, the derivation gives $want"
# The same label again: refused, the token keeps its key, the file is not replaced.
cp token.pub token.pub.orig
expect_fail 3 "already holds an object with the label" "$LETHE" keygen --pkcs11 "$URI" -p other.pub -f
[ ! -e other.pub ] && [ "$(n_objects)" -eq 2 ] || fail "a second keygen with the same label did something"
expect_fail 3 "already exists" "$LETHE" keygen --pkcs11 "$URI" -p token.pub
cmp -s token.pub token.pub.orig || fail "keygen replaced an existing public key without -f"
expect_fail 2 "excludes -s" "$LETHE" keygen --pkcs11 "$URI" -p x.pub -s x.key

note "the private key stays in the token"
p11 --login --pin 2468 --list-objects --type privkey >objs 2>&1
grep -q 'sensitive, always sensitive, never extractable' objs || { cat objs >&2; fail "the key is not marked sensitive and never extractable"; }
grep -q 'Usage: *sign$' objs || { cat objs >&2; fail "the key may do more than sign"; }
# Reading the key's value fails; reading the public key the same way works (control).
p11 --login --pin 2468 --read-object --type privkey --label lethe-release -o priv.bin >/dev/null 2>&1 || true
[ ! -s priv.bin ] || fail "the private key's value was read out of the token"
p11 --login --pin 2468 --read-object --type pubkey --label lethe-release -o pub.der >/dev/null 2>&1 ||
	fail "cannot read the public key (the control)"
[ -s pub.der ] || fail "reading the public key gave nothing (the control)"

note "a file signed in the token: minisign and lethe verify accept it"
head -c 300000 /dev/urandom >data
expect_ok "$LETHE" sign --pkcs11 "$URI" -t "signed in the token" data
minisign -Vm data -p token.pub >ms.out 2>&1 || { cat ms.out >&2; fail "minisign rejects the token's signature"; }
grep -qxF "Trusted comment: signed in the token" ms.out || fail "minisign saw another trusted comment"
expect_ok "$LETHE" verify -p token.pub data
expect_ok "$LETHE" sign --pkcs11 "pkcs11:token=release;object=lethe-release?pin-source=file:$TMP/pin" \
	--module "$MODULE" -l -x data.legacy data
minisign -Vm data -x data.legacy -p token.pub >/dev/null 2>&1 || fail "minisign rejects a legacy token signature"
# Tampering is caught (the control that the verifiers check something).
cp data data2 && flip_bit data2 1000
if minisign -Vm data2 -x data.minisig -p token.pub >/dev/null 2>&1; then fail "minisign accepted a changed file"; fi
expect_fail 1 "does not match its signature" "$LETHE" verify -p token.pub -x data.minisig data2

note "a wrong PIN: exit 1, a clear message, no signature written"
expect_fail 1 "^lethe: wrong PIN for PKCS#11 token 'release'$" "$LETHE" sign --pkcs11 "$WRONG" -x bad.sig data
[ ! -e bad.sig ] || fail "a wrong PIN left a signature"
! grep -q 1111 "$TMP/err" || fail "the message shows the PIN"
expect_fail 3 "needs a PIN and there is no terminal" setsid "$LETHE" sign \
	--pkcs11 "pkcs11:token=release;object=lethe-release?module-path=$MODULE" -x bad.sig data </dev/null
[ ! -e bad.sig ] || fail "a missing PIN left a signature"
# The PIN asked on the terminal (a pseudo-terminal from script(1)).
if command -v script >/dev/null; then
	(sleep 2; printf '2468\n') | timeout 60 script -qec "'$LETHE' sign --pkcs11 \
		'pkcs11:token=release;object=lethe-release?module-path=$MODULE' -x tty.sig data" \
		/dev/null >tty.out 2>&1 || { cat tty.out >&2; fail "signing with the PIN asked on a terminal failed"; }
	grep -q "PIN for token 'release'" tty.out || fail "the PIN was not asked for"
	minisign -Vm data -x tty.sig -p token.pub >/dev/null 2>&1 || fail "minisign rejects tty.sig"
fi

note "a release signed in the token: lethe build --key pkcs11:"
ref=$(build_image_or_skip minimal)
spec=$LETHE_SRC/examples/minimal.yaml
expect_fail 1 "wrong PIN for PKCS#11 token 'release'" "$LETHE" build "$spec" -o rel \
	--lock "$ref/lethe.lock" --offline --key "$WRONG"
[ ! -e rel ] || fail "a build with a wrong PIN left an output directory"
! grep -q '\[1/' "$TMP/out" "$TMP/err" || fail "a build with a wrong PIN ran a stage"
expect_ok "$LETHE" build "$spec" -o rel --lock "$ref/lethe.lock" --offline --quiet \
	--key "pkcs11:token=release;object=lethe-release?pin-source=file:$TMP/pin" --pkcs11-module "$MODULE"
minisign -Vm rel/SHA256SUMS -p token.pub >/dev/null 2>&1 || fail "minisign rejects the release's SHA256SUMS.minisig"
(cd rel && sha256sum --quiet -c SHA256SUMS) || fail "sha256sum -c fails on the release"
expect_ok "$LETHE" verify rel -p token.pub
expect_ok "$LETHE" verify --sums rel/SHA256SUMS -p token.pub
# Another key's public key refuses it (the control).
expect_fail 1 "" "$LETHE" verify rel -p "$(test_pub)"
note "ok"
