#!/usr/bin/env bash
# lethe fim against mtree-netbsd: `mtree -f` accepts Lethe's baseline of a tree; Lethe
# accepts the baseline `mtree -c -K sha256digest` wrote; on a changed tree both name the
# same entries. A signed baseline verifies with minisign, and one changed byte, a missing
# signature or another key is refused with -p before any scan.
. "$LETHE_SRC/tests/lib.sh"
need_cmd mtree

cd "$TMP"
mkdir -p tree/etc/sub tree/bin
printf 'root:x:0:0\n' >tree/etc/passwd
printf 'lethe\n' >tree/etc/hostname
printf 'keep\n' >tree/etc/sub/keep
printf 'gone\n' >tree/etc/gone
printf '\177ELF' >tree/bin/tool
chmod 755 tree/bin/tool
ln -s ../etc/hostname tree/bin/link
printf 'odd\n' >"tree/etc/sp ace#$(printf '\351')"
mkfifo tree/fifo
all=$TMP/all.rules
printf 'attrs / all\n' >"$all"

# The paths one report names, sorted, as "./a/b" (mtree: "a/b:", "extra: a/b",
# "missing: ./a/b"; lethe: "KIND ./a/b ...").
mtree_paths() {
	sed -nE 's/^extra: (.*)$/.\/\1/p; s/^missing: (.*)$/\1/p; s/^([^ \t][^:]*):[ \t].*$/\1/p' |
		sed -E 's/^\.\/\.\//.\//; s/^([^.])/.\/\1/; s/^\.\/\.$/./' | sort -u
}
lethe_paths() { sed -nE 's/^[a-z-]+ ([^ :]+).*$/\1/p' | sort -u; }

note "mtree -f accepts lethe's baseline of the unchanged tree"
expect_ok "$LETHE" fim init tree -o lethe.mtree -q
grep -q 'sha256digest=' lethe.mtree || fail "no sha256digest in the baseline"
mtree -f lethe.mtree -p tree >mtree.out 2>&1 || { cat mtree.out; fail "mtree -f rejects lethe's baseline"; }
[ ! -s mtree.out ] || { cat mtree.out; fail "mtree -f reports drift on an unchanged tree"; }
expect_ok "$LETHE" fim check lethe.mtree tree -q

note "lethe accepts mtree -c -K sha256digest's baseline, no drift"
mtree -c -K sha256digest,uid,gid,mode,size,link,type -p tree >netbsd.mtree
grep -q '^/set' netbsd.mtree || fail "mtree -c wrote no /set (not the hierarchical form?)"
"$LETHE" fim check netbsd.mtree tree --rules "$all" >lethe-nb.out ||
	{ cat lethe-nb.out; fail "lethe reports drift against mtree's baseline of the same tree"; }

note "a changed tree: both tools name the same entries"
sleep 0.05
printf 'root:x:0:0\nmallory:x:0:0\n' >tree/etc/passwd
chmod 600 tree/etc/hostname
rm tree/etc/gone
printf 'new\n' >tree/etc/new
rm tree/bin/link
ln -s ../etc/passwd tree/bin/link
expect_fail 1 "" "$LETHE" fim check lethe.mtree tree
"$LETHE" fim check lethe.mtree tree 2>/dev/null | lethe_paths >lethe-l.paths || true
rc=0
mtree -f lethe.mtree -p tree >mtree-l.out 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "mtree -f finds no drift against lethe's baseline"
mtree_paths <mtree-l.out >mtree-l.paths
diff -u mtree-l.paths lethe-l.paths || fail "lethe and mtree disagree on lethe's baseline"
grep -qx './etc/passwd' lethe-l.paths && grep -qx './etc/new' lethe-l.paths &&
	grep -qx './etc/gone' lethe-l.paths && grep -qx './bin/link' lethe-l.paths ||
	fail "a drift is missing: $(tr '\n' ' ' <lethe-l.paths)"
# mtree's own baseline: mtree counts the time of every entry, so does lethe with "all"
"$LETHE" fim check netbsd.mtree tree --rules "$all" 2>/dev/null | lethe_paths >lethe-n.paths || true
mtree -f netbsd.mtree -p tree >mtree-n.out 2>&1 || true
mtree_paths <mtree-n.out >mtree-n.paths
diff -u mtree-n.paths lethe-n.paths || fail "lethe and mtree disagree on mtree's baseline"
"$LETHE" fim check lethe.mtree tree --json >report.json 2>/dev/null || true
/usr/bin/python3 - report.json "$LETHE_SRC/docs/schemas/fim.schema.json" <<'EOF' || fail "--json does not say old -> new"
import json, sys
r = json.load(open(sys.argv[1]))
try:
    import jsonschema
    jsonschema.validate(r, json.load(open(sys.argv[2])))
except ImportError:
    pass
assert r["clean"] is False
by = {d["path"]: d for d in r["drift"]}
assert by["./etc/new"]["kind"] == "added" and by["./etc/gone"]["kind"] == "removed"
ch = {c["attribute"]: c for c in by["./etc/hostname"]["changes"]}
assert ch["mode"]["old"] == "0644" and ch["mode"]["new"] == "0600", ch
ln = {c["attribute"]: c for c in by["./bin/link"]["changes"]}
assert ln["link"]["new"] == "../etc/passwd", ln
EOF

note "a signed baseline: minisign verifies it, lethe checks it with -p"
"$LETHE" keygen -q -W -p k.pub -s k.key
"$LETHE" keygen -q -W -p other.pub -s other.key
expect_ok "$LETHE" fim init tree -o signed.mtree --key k.key -q
[ -f signed.mtree.minisig ] || fail "no signed.mtree.minisig"
if command -v minisign >/dev/null; then
	minisign -Vm signed.mtree -p k.pub -q || fail "minisign rejects the baseline's signature"
fi
expect_ok "$LETHE" fim check signed.mtree tree -p k.pub -q
note "one changed byte, no signature, another key: refused before any scan"
cp signed.mtree tampered.mtree
cp signed.mtree.minisig tampered.mtree.minisig
# one byte of a digest, whatever it is, becomes another
/usr/bin/python3 - tampered.mtree <<'EOF'
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read())
i = b.index(b"sha256digest=") + len(b"sha256digest=")
b[i] = ord("0") if b[i] != ord("0") else ord("1")
open(p, "wb").write(bytes(b))
EOF
cmp -s signed.mtree tampered.mtree && fail "the tampered copy is unchanged"
# without -p the tampered digest is only drift
expect_fail 1 "" "$LETHE" fim check tampered.mtree tree
# a tree that does not exist: a scan would fail otherwise (exit 3); refusal is exit 1
expect_fail 1 "signature|does not verify|rejected" "$LETHE" fim check tampered.mtree no-such-tree -p k.pub
expect_fail 1 "not signed" "$LETHE" fim check lethe.mtree no-such-tree -p k.pub
expect_fail 1 "key|signature" "$LETHE" fim check signed.mtree no-such-tree -p other.pub
# the control: the good baseline goes on to the scan, which fails for the missing tree
expect_fail 3 "no-such-tree" "$LETHE" fim check signed.mtree no-such-tree -p k.pub
note "a signal during init leaves no partial baseline"
mkdir sig
"$LETHE" fim init /usr -o sig/usr.mtree -q 2>sig.err &
p=$!
sleep 0.5
kill -INT "$p"
rc=0
wait "$p" || rc=$?
[ "$rc" -ne 0 ] || fail "init of /usr finished within half a second: no signal tested"
grep -q 'interrupted' sig.err || { cat sig.err; fail "init does not say it was interrupted"; }
[ -z "$(ls -A sig)" ] || { ls -la sig; fail "an interrupted init left files behind"; }

note "an unreadable file, checked as an unprivileged user: reported as such"
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	mkdir -p priv/open
	printf 'secret\n' >priv/secret
	printf 'x\n' >priv/open/x
	chmod 600 priv/secret
	chmod 755 "$TMP" priv priv/open
	"$LETHE" fim init priv -o priv.mtree -q
	chmod 644 priv.mtree
	rc=0
	setpriv --reuid=65534 --regid=65534 --clear-groups "$LETHE" fim check priv.mtree priv \
		>priv.out 2>&1 || rc=$?
	[ "$rc" -eq 1 ] || { cat priv.out; fail "check as nobody exited $rc, expected 1"; }
	grep -qx 'unreadable ./secret' priv.out || { cat priv.out; fail "the unreadable file is not named"; }
	! grep -q 'open/x' priv.out || { cat priv.out; fail "a readable file is reported"; }
	# init as nobody: recorded without its digest, with a warning
	mkdir -m 777 nob
	setpriv --reuid=65534 --regid=65534 --clear-groups "$LETHE" fim init priv -o nob/nobody.mtree \
		>priv-init.out 2>&1 || { cat priv-init.out; fail "init as nobody failed"; }
	grep -q "'./secret' is unreadable" priv-init.out || { cat priv-init.out; fail "init gives no warning"; }
	grep -q '^./secret type=file .*size=7' nob/nobody.mtree &&
		! grep -q '^./secret .*sha256digest' nob/nobody.mtree ||
		{ cat nob/nobody.mtree; fail "the unreadable file is not recorded without its digest"; }
else
	note "(skipped: needs root and setpriv)"
fi
echo "ok"
