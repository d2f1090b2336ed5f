#!/usr/bin/env bash
# Lethe's signatures and keys against the real minisign (0.11), both directions:
# signatures (prehashed and legacy, with trusted comments) and key pairs (encrypted and
# unencrypted) made by either must work with the other.
. "$LETHE_SRC/tests/lib.sh"
need_cmd minisign

cd "$TMP"
head -c 1000000 /dev/urandom >data
: >empty
PW=interop-password

# minisign prints "Trusted comment: X" after verifying; check that it saw ours.
ms_verify() { # FILE SIG PUB WANT_COMMENT [extra minisign options]
	local file=$1 sig=$2 pub=$3 want=$4
	shift 4
	minisign -V "$@" -m "$file" -x "$sig" -p "$pub" >ms.out 2>&1 ||
		{ cat ms.out >&2; fail "minisign rejects '$sig'"; }
	grep -qxF "Trusted comment: $want" ms.out || { cat ms.out >&2; fail "minisign saw another trusted comment"; }
}
lethe_verify() { # FILE SIG PUB WANT_COMMENT
	"$LETHE" verify -p "$3" -x "$2" "$1" >lv.out 2>lv.err ||
		{ cat lv.err >&2; fail "lethe verify rejects '$2'"; }
	grep -qxF "trusted comment: $4" lv.out || { cat lv.out >&2; fail "lethe verify printed another trusted comment"; }
}

note "lethe keys, lethe signatures, minisign verifies"
expect_ok "$LETHE" keygen -W -p l.pub -s l.key
for f in data empty; do
	expect_ok "$LETHE" sign -s l.key -t "prehashed $f" -x "$f.ph" "$f"
	ms_verify "$f" "$f.ph" l.pub "prehashed $f" -H # -H: minisign requires prehashed
	expect_ok "$LETHE" sign -l -s l.key -t "legacy $f é" -x "$f.lg" "$f"
	ms_verify "$f" "$f.lg" l.pub "legacy $f é"
	lethe_verify "$f" "$f.lg" l.pub "legacy $f é"
done
# minisign -H refuses a legacy signature: so lethe did write the legacy format.
if minisign -V -H -m data -x data.lg -p l.pub >/dev/null 2>&1; then
	fail "a legacy signature passed minisign -H"
fi
# The default trusted comment is minisign's, with SOURCE_DATE_EPOCH as timestamp.
SOURCE_DATE_EPOCH=1700000000 expect_ok "$LETHE" sign -s l.key data
ms_verify data data.minisig l.pub "$(printf 'timestamp:1700000000\tfile:data\thashed')"
# The longest trusted comment lethe writes is one minisign reads.
long=$(head -c 8173 /dev/zero | tr '\0' t)
expect_ok "$LETHE" sign -s l.key -t "$long" -x data.long data
ms_verify data data.long l.pub "$long"
expect_fail 2 "trusted comment too long" "$LETHE" sign -s l.key -t "${long}t" -x data.long2 data

note "minisign keys, minisign signatures, lethe verifies"
minisign -G -W -p m.pub -s m.key >/dev/null
minisign -S -s m.key -m data -x data.mph -t "by minisign, prehashed" >/dev/null
minisign -S -l -s m.key -m data -x data.mlg -t "by minisign, legacy" >/dev/null
lethe_verify data data.mph m.pub "by minisign, prehashed"
lethe_verify data data.mlg m.pub "by minisign, legacy"
minisign -S -s m.key -m empty -x empty.mph -t "empty" >/dev/null
lethe_verify empty empty.mph m.pub "empty"
# The public key given inline, as minisign -P takes it.
expect_ok "$LETHE" verify -P "$(tail -n1 m.pub)" -x data.mph data

note "unencrypted keys across: lethe key used by minisign, minisign key used by lethe"
minisign -S -s l.key -m data -x data.ms-lkey -t "minisign with lethe's key" >/dev/null
lethe_verify data data.ms-lkey l.pub "minisign with lethe's key"
expect_ok "$LETHE" sign -s m.key -t "lethe with minisign's key" -x data.l-mkey data
ms_verify data data.l-mkey m.pub "lethe with minisign's key"

note "encrypted keys across (scrypt, minisign's parameters)"
# minisign reads its password from standard input when that is not a terminal.
LETHE_PASSWORD=$PW expect_ok "$LETHE" keygen -p le.pub -s le.key
printf '%s\n' "$PW" | minisign -S -s le.key -m data -x data.ms-le -t "minisign, lethe's encrypted key" >/dev/null 2>&1 ||
	fail "minisign cannot use lethe's encrypted key"
lethe_verify data data.ms-le le.pub "minisign, lethe's encrypted key"
printf '%s\n%s\n' "$PW" "$PW" | minisign -G -p me.pub -s me.key >/dev/null 2>&1
printf '%s\n' "$PW" >pwfile
expect_ok "$LETHE" sign --password-file pwfile -s me.key -t "lethe, minisign's encrypted key" -x data.l-me data
ms_verify data data.l-me me.pub "lethe, minisign's encrypted key"
# A wrong password is a check failure (exit 1) that says so.
LETHE_PASSWORD=wrong expect_fail 1 "wrong password for 'me.key'" "$LETHE" sign -s me.key -x x.sig data
if printf 'wrong\n' | minisign -S -s le.key -m data -x x.sig >/dev/null 2>&1; then
	fail "minisign accepted a wrong password for lethe's key"
fi
# An encrypted key with no password source and no terminal: a clear error, exit 3.
expect_fail 3 "no terminal" setsid -w "$LETHE" sign -s le.key -x x.sig data </dev/null

note "ok"
