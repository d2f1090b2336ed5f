#!/usr/bin/env bash
# lethe fim on a booted image: right after boot, `lethe fim check` (no argument: / against
# the image's own manifest, read from the verity-backed layer) reports nothing - the
# control; then a file written, one modified and one deleted by the test are exactly what
# it reports, and `lethe fim watch` reports a write made after it started with the
# writer's pid. One boot.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/vm/vm-common.bash"
img=$(run_image)
grep -q '^\./etc/hostname type=file' "$img/manifest.mtree" &&
	grep -q '^\./etc/group type=file' "$img/manifest.mtree" ||
	fail "the image has no /etc/hostname or /etc/group to change"

# Lines are tagged so that console noise is never read as a result.
script='lethe fim check >/tmp/c0 2>/tmp/e0; echo "RC0 $?"; while IFS= read -r l; do echo "C0 $l"; done </tmp/c0; '
script+='lethe fim watch / --json >/tmp/w 2>/tmp/we & W=$!; sleep 2; '
script+='(echo written >/etc/fim-new) & P=$!; wait $P; echo "WRITER $P"; '
script+='echo modified >>/etc/hostname; rm /etc/group; sleep 2; kill $W; '
script+='while IFS= read -r l; do echo "WE $l"; done </tmp/we; while IFS= read -r l; do echo "W $l"; done </tmp/w; '
script+='lethe fim check >/tmp/c1 2>/tmp/e1; echo "RC1 $?"; while IFS= read -r l; do echo "C1 $l"; done </tmp/c1; '
script+='while IFS= read -r l; do echo "E1 $l"; done </tmp/e1; echo FIM-DONE'
"$LETHE" run "$img" --direct --timeout 600 --exec "$script" >"$TMP/out" 2>"$TMP/console" ||
	{ tail -n 40 "$TMP/console"; fail "lethe run failed"; }
tr -d '\r' <"$TMP/out" >"$TMP/lines"
grep -q '^FIM-DONE' "$TMP/lines" || { tail -n 40 "$TMP/console"; fail "the script did not finish"; }

note "control: a fresh boot does not differ from the image"
[ "$(sed -n 's/^RC0 //p' "$TMP/lines")" = 0 ] || { cat "$TMP/lines"; fail "fim check fails right after boot"; }
! grep -q '^C0 ' "$TMP/lines" || { grep '^C0 ' "$TMP/lines"; fail "fim check reports drift right after boot"; }

note "the file written, the one modified and the one deleted, and nothing else"
[ "$(sed -n 's/^RC1 //p' "$TMP/lines")" = 1 ] || { cat "$TMP/lines"; fail "fim check passes after the changes"; }
sed -n 's/^C1 //p' "$TMP/lines" | sed -E 's/^(added|removed|changed) ([^ :]+).*/\1 \2/' >"$TMP/got"
printf '%s\n' 'removed ./etc/group' 'changed ./etc/hostname' 'added ./etc/fim-new' | sort >"$TMP/want"
sort "$TMP/got" | diff -u "$TMP/want" - || { cat "$TMP/lines"; fail "fim check does not report exactly the three changes"; }
grep -q '^C1 changed ./etc/hostname: size 6 -> 15, sha256 ' "$TMP/lines" ||
	{ grep '^C1' "$TMP/lines"; fail "the modified file's old -> new is not shown"; }

note "fim watch saw the write, with the writer's pid"
pid=$(sed -n 's/^WRITER //p' "$TMP/lines")
[ -n "$pid" ] || fail "no writer pid"
grep '^WE ' "$TMP/lines" || true
sed -n 's/^W //p' "$TMP/lines" >"$TMP/events"
/usr/bin/python3 - "$TMP/events" "$pid" <<'EOF' || { cat "$TMP/events"; fail "fim watch did not report the write with its pid"; }
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
hits = [e for e in events if e["path"] == "/etc/fim-new" and e.get("pid") == int(sys.argv[2])]
assert hits, events
assert any("modify" in e["event"] or "close-write" in e["event"] for e in hits), hits
# the other two changes were seen too (the modification with its path)
assert any(e["path"] == "/etc/hostname" for e in events), events
EOF
echo "fim: a fresh boot is clean; a write, a change and a deletion are exactly the drift; watch names the writer"
