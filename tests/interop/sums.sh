#!/usr/bin/env bash
# SHA256SUMS against coreutils: sha256sum -c accepts lethe's, lethe accepts sha256sum's
# (text and binary mode); verify --sums checks signature and files in one command.
. "$LETHE_SRC/tests/lib.sh"
need_cmd sha256sum

cd "$TMP"
mkdir rel rel/boot
head -c 300000 /dev/urandom >rel/disk.img
printf 'console=ttyS0\n' >rel/cmdline
: >rel/empty
printf 'k\n' >rel/boot/vmlinuz

note "lethe writes, sha256sum checks; byte for byte what sha256sum writes"
expect_ok "$LETHE" sums -C rel -o rel/SHA256SUMS disk.img cmdline empty boot/vmlinuz
(cd rel && sha256sum --strict -c SHA256SUMS >/dev/null) || fail "sha256sum -c rejects lethe's SHA256SUMS"
(cd rel && sha256sum boot/vmlinuz cmdline disk.img empty) >coreutils.sums
cmp coreutils.sums rel/SHA256SUMS || fail "lethe's SHA256SUMS differs from sha256sum's"
# Without -o, to standard output.
(cd rel && "$LETHE" sums empty cmdline) >stdout.sums
[ "$(cut -d' ' -f3 stdout.sums | tr '\n' ' ')" = "cmdline empty " ] || fail "not sorted by name"

note "sha256sum writes (text and binary mode), lethe checks"
(cd rel && sha256sum disk.img cmdline >text.sums && sha256sum -b empty boot/vmlinuz >binary.sums)
expect_ok "$LETHE" sums -c rel/text.sums
expect_ok "$LETHE" sums -c rel/binary.sums
grep -q '^[0-9a-f]\{64\} \*empty$' rel/binary.sums || fail "sha256sum -b wrote no binary-mode line"

note "a changed file is named, with its line; sha256sum agrees"
cp rel/cmdline cmdline.good
printf 'console=ttyS1\n' >rel/cmdline
expect_fail 1 "'rel/SHA256SUMS' line 2: 'cmdline' does not match" "$LETHE" sums -c rel/SHA256SUMS
(cd rel && ! sha256sum -c SHA256SUMS >/dev/null 2>&1) || fail "sha256sum accepts a changed file"
"$LETHE" sums -c rel/SHA256SUMS --json >report.json || true
grep -q '"status": "mismatch"' report.json || fail "--json does not report the mismatch"
cp cmdline.good rel/cmdline

note "verify --sums, end to end"
"$LETHE" keygen -q -W -p k.pub -s k.key
"$LETHE" sign -q -s k.key -t "release 1" rel/SHA256SUMS
expect_ok "$LETHE" verify --sums rel/SHA256SUMS -p k.pub
grep -qxF "trusted comment: release 1" "$TMP/out" || fail "verify --sums does not print the trusted comment"
grep -qxF "disk.img: OK" "$TMP/out" || fail "verify --sums does not list the files"
if command -v minisign >/dev/null; then # what DESIGN.md promises users without lethe
	minisign -Vm rel/SHA256SUMS -p k.pub >/dev/null || fail "minisign rejects the signed SHA256SUMS"
fi
flip_bit rel/disk.img 1000 3
expect_fail 1 "'rel/SHA256SUMS' line 3: 'disk.img' does not match" \
	"$LETHE" verify --sums rel/SHA256SUMS -p k.pub
grep -q "1 of 4 files failed" "$TMP/err" || fail "no count of failures"
flip_bit rel/disk.img 1000 3
rm rel/empty
expect_fail 1 "'rel/SHA256SUMS' line 4: 'empty' is missing" "$LETHE" verify --sums rel/SHA256SUMS -p k.pub
: >rel/empty
expect_ok "$LETHE" verify -q --sums rel/SHA256SUMS -p k.pub
[ ! -s "$TMP/out" ] || fail "-q printed something"
"$LETHE" verify --sums rel/SHA256SUMS -p k.pub --json >report.json
grep -q '"ok": true' report.json || fail "--json does not say ok"

note "unsafe names in a SHA256SUMS are refused before any file is read"
printf '%s  ../../etc/passwd\n' "$(sha256sum </etc/hostname | cut -d' ' -f1)" >rel/evil.sums
expect_fail 1 "'rel/evil.sums' line 1: unsafe file name" "$LETHE" sums -c rel/evil.sums
note "ok"
