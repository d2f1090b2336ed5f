# lethe verify --json in every mode: a report on stdout that says what was checked,
# whether it verified and why not, with the same exit status as without --json.
. "$LETHE_SRC/tests/lib.sh"
need_cmd python3
cd "$TMP"
key=$(test_key)
pub=${key%.key}.pub
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }

# One file.
echo hello >f
"$LETHE" sign -s "$key" -t "tc for f" f
"$LETHE" verify -p "$pub" --json f >r.json
[ "$(field r.json verified)" = True ] && [ "$(field r.json mode)" = file ] ||
	{ cat r.json; fail "file mode: not verified"; }
[ "$(field r.json trusted_comment)" = "tc for f" ] || fail "file mode: trusted comment missing"
echo tampered >f
rc=0
"$LETHE" verify -p "$pub" --json f >r.json 2>err || rc=$?
[ "$rc" -eq 1 ] || fail "tampered file: exit $rc, expected 1"
[ "$(field r.json verified)" = False ] || fail "tampered file reported verified"
grep -q "f" <<<"$(field r.json error)" || fail "tampered file: no error in the report"

# A release directory and a medium written from it.
img=$(image_dir minimal)
"$LETHE" verify "$img" -p "$pub" --json >r.json || { cat r.json; fail "release did not verify"; }
[ "$(field r.json mode)" = release ] &&
	python3 -c 'import json,sys; f=json.load(open(sys.argv[1]))["files"]; assert len(f) >= 5 and "rootfs.erofs" in str(f)' r.json ||
	{ cat r.json; fail "release report lacks its files"; }
cp "$img/disk.img" medium
"$LETHE" verify --media medium "$img" -p "$pub" --json >r.json || { cat r.json; fail "medium did not verify"; }
[ "$(field r.json verified)" = True ] || fail "medium report not verified"
printf 'X' | dd of=medium bs=1 seek=1048600 conv=notrunc status=none
rc=0
"$LETHE" verify --media medium "$img" -p "$pub" --json >r.json 2>err || rc=$?
[ "$rc" -eq 1 ] && [ "$(field r.json verified)" = False ] || { cat r.json; fail "changed medium: exit $rc"; }
grep -q 1048600 <<<"$(field r.json error)" || { cat r.json; fail "changed medium: offset not in the error"; }
