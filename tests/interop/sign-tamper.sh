#!/usr/bin/env bash
# One flipped bit anywhere a signature depends on is caught, with a message that says
# what and where; malformed, empty and truncated files give clear errors and the
# documented exit codes (1 check failed, 2 usage, 3 runtime), never a crash.
. "$LETHE_SRC/tests/lib.sh"

cd "$TMP"
"$LETHE" keygen -q -W -p k.pub -s k.key
"$LETHE" keygen -q -W -p other.pub -s other.key
printf 'release contents\n' >file
"$LETHE" sign -q -s k.key -t "release 1" file
expect_ok "$LETHE" verify -p k.pub file
cp file.minisig good.sig
cp k.pub good.pub

# Byte offset of the start of line N of FILE.
line_off() { head -n $(($2 - 1)) "$1" | wc -c; }
restore() { cp good.sig file.minisig; cp good.pub k.pub; printf 'release contents\n' >file; }
# Like expect_fail, but a crash (exit > 128) is named as one.
check() {
	local code=$1 pattern=$2 rc=0
	shift 2
	"$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ "$rc" -lt 128 ] || fail "'$*' crashed (exit $rc)"
	[ "$rc" -eq "$code" ] || { cat "$TMP/err" >&2; fail "'$*' exited $rc, expected $code"; }
	grep -Eq -- "$pattern" "$TMP/err" || { cat "$TMP/err" >&2; fail "'$*': stderr does not match '$pattern'"; }
	head -n1 "$TMP/err" | grep -Eq '^lethe( [a-z]+)?: ' ||
		{ cat "$TMP/err" >&2; fail "'$*': no 'lethe: ' message"; }
}

note "signature line (algorithm, key id, signature): every 7th character"
off=$(line_off file.minisig 2)
for i in $(seq 0 7 99); do
	restore
	flip_bit file.minisig $((off + i)) 1
	check 1 "file.minisig' (line 2|was made by key)|'file' does not match its signature" \
		"$LETHE" verify -p k.pub file
done

note "trusted comment"
restore
flip_bit file.minisig $(($(line_off file.minisig 3) + 18)) 0
check 1 "file.minisig' line 3: the trusted comment does not match" "$LETHE" verify -p k.pub file

note "global signature"
restore
flip_bit file.minisig $(($(line_off file.minisig 4) + 10)) 1
check 1 "file.minisig' line (3|4)" "$LETHE" verify -p k.pub file

note "public key: every 5th character"
for i in $(seq 0 5 55); do
	restore
	flip_bit k.pub $(($(line_off k.pub 2) + i)) 1
	check 1 "k.pub' line 2|was made by key|does not match its signature|trusted comment" \
		"$LETHE" verify -p k.pub file
done

note "signed file"
restore
flip_bit file 3 2
check 1 "'file' does not match its signature 'file.minisig'" "$LETHE" verify -p k.pub file

note "secret key"
cp k.key k2.key
flip_bit k2.key $(($(line_off k2.key 2) + 120)) 1
check 1 "k2.key' line 2" "$LETHE" sign -s k2.key -x x.sig file

note "wrong key id names both ids"
restore
want=$(grep -o '[0-9A-F]\{16\}' other.pub)
have=$(grep -o '[0-9A-F]\{16\}' k.pub)
check 1 "was made by key $have, but the public key is $want" "$LETHE" verify -p other.pub file

note "malformed base64"
restore
sed -i '2s/.*/!!!!not-base64!!!!/' file.minisig
check 1 "file.minisig' line 2: signature has 18 base64 characters, expected 100" \
	"$LETHE" verify -p k.pub file
restore
sed -i '2s/^./*/' file.minisig
check 1 "file.minisig' line 2: signature is not valid base64" "$LETHE" verify -p k.pub file

note "empty files"
restore
: >file.minisig
check 1 "file.minisig' line 1: missing untrusted comment \(the file is truncated\)" \
	"$LETHE" verify -p k.pub file
: >empty.pub
check 1 "empty.pub' line 1: missing untrusted comment" "$LETHE" verify -p empty.pub file
: >empty.key
check 1 "empty.key' line 1: missing" "$LETHE" sign -s empty.key -x x.sig file
: >emptyfile
expect_ok "$LETHE" sign -s k.key emptyfile
expect_ok "$LETHE" verify -p k.pub emptyfile

note "truncated files"
for n in 10 60 150 200 $(($(wc -c <good.sig) - 20)); do
	head -c "$n" good.sig >file.minisig
	check 1 "file.minisig' line [1-4]" "$LETHE" verify -p k.pub file
done
head -c 30 good.pub >k.pub
check 1 "k.pub' line (1|2)" "$LETHE" verify -p k.pub file
restore

note "garbage and oversized input"
head -c 3000 /dev/urandom >file.minisig
check 1 "file.minisig' line" "$LETHE" verify -p k.pub file
head -c 100000 /dev/zero | tr '\0' a >file.minisig
check 1 "file.minisig' is too large" "$LETHE" verify -p k.pub file
restore

note "sums file"
mkdir rel
printf 'one\n' >rel/one
printf 'two\n' >rel/two
"$LETHE" sums -C rel -o rel/SHA256SUMS one two
"$LETHE" sign -q -s k.key rel/SHA256SUMS
expect_ok "$LETHE" verify --sums rel/SHA256SUMS -p k.pub
cp rel/SHA256SUMS sums.good
flip_bit rel/SHA256SUMS 5 0
check 1 "'rel/SHA256SUMS' does not match its signature" "$LETHE" verify --sums rel/SHA256SUMS -p k.pub
cp sums.good rel/SHA256SUMS
flip_bit rel/SHA256SUMS 5 0
check 1 "'rel/SHA256SUMS' line 1: " "$LETHE" sums -c rel/SHA256SUMS

note "runtime and usage errors"
check 3 "cannot open 'nosuch.minisig'" "$LETHE" verify -p k.pub -x nosuch.minisig file
check 3 "cannot open 'nosuch.pub'" "$LETHE" verify -p nosuch.pub file
check 2 "give the public key" "$LETHE" verify file
check 2 "-s SECKEY is required" "$LETHE" sign file
before=$(sha256sum <k.key)
check 3 "'k.key' already exists" "$LETHE" keygen -W -p k.pub -s k.key
[ "$(sha256sum <k.key)" = "$before" ] || fail "keygen replaced a key without -f"
expect_ok "$LETHE" keygen -W -f -p k.pub -s k.key
[ "$(sha256sum <k.key)" != "$before" ] || fail "keygen -f did not replace the key"
expect_ok "$LETHE" verify --help
note "ok"
