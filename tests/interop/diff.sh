#!/usr/bin/env bash
# lethe diff of two real builds that differ by one package (issue 18.5): it names
# exactly that package, exactly the files it brings (checked against dpkg-deb's own
# listing of the .deb) plus the files that record the package set, and the changed
# root hash and cmdline; a release against itself shows nothing; --json says the same.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
need_cmd dpkg-deb
out=$(build_image_or_skip minimal)
pub=$(test_pub)
extra=zlib1g
sed "s/^  - busybox-static\$/  - busybox-static\n  - $extra/" "$LETHE_SRC/examples/minimal.yaml" >"$TMP/plus.yaml"
grep -q "^  - $extra\$" "$TMP/plus.yaml" || fail "could not add $extra to the spec"
"$LETHE" build --quiet "$TMP/plus.yaml" -o "$TMP/plus" --key "$(test_key)" >"$TMP/build.log" 2>&1 ||
	{ cat "$TMP/build.log" >&2; fail "the build with $extra failed"; }

# Itself: nothing.
"$LETHE" diff "$out" "$out" -p "$pub" --json >"$TMP/same.json" || fail "lethe diff failed"
/usr/bin/python3 - "$TMP/same.json" <<'PY' || fail "a release differs from itself"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["packages"] == [] and d["files"] == [] and not d["roothash"]["changed"] and not d["cmdline"]["changed"], d
PY

"$LETHE" diff "$out" "$TMP/plus" -p "$pub" >"$TMP/diff.txt" || fail "lethe diff failed"
"$LETHE" diff "$out" "$TMP/plus" -p "$pub" --json >"$TMP/diff.json" || fail "lethe diff --json failed"
grep -q "^  + $extra " "$TMP/diff.txt" || { cat "$TMP/diff.txt" >&2; fail "the text diff does not name $extra"; }
grep -q "^root hash: [0-9a-f]* -> [0-9a-f]*" "$TMP/diff.txt" || fail "the text diff does not show the root hash"

# The files the package brings, as dpkg-deb lists them (directories aside).
sha=$(/usr/bin/python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
print([c['hashes'][0]['content'] for c in d['components'] if c['name'] == sys.argv[2]][0])" "$TMP/plus/sbom.cdx.json" "$extra")
deb=$(ls "${XDG_CACHE_HOME:-$HOME/.cache}/lethe/debs/$sha-"*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "cannot find the $extra .deb ($sha) in lethe's cache"
[ "$(sha256sum <"$deb" | cut -d' ' -f1)" = "$sha" ] || fail "$deb is not the .deb the SBOM names"
dpkg-deb -c "$deb" | awk '{ p = $6; sub(/^\.\//, "", p); sub(/\/$/, "", p); print "./" p }' | sort >"$TMP/deb-files"
/usr/bin/python3 - "$TMP/diff.json" "$extra" "$TMP/deb-files" "$TMP/plus/manifest.mtree" <<'PY' || fail "lethe diff does not name exactly the package and its files"
import json, sys
d, extra = json.load(open(sys.argv[1])), sys.argv[2]
deb = {l.strip() for l in open(sys.argv[3]) if l.strip()}
image = {l.split(" ", 1)[0] for l in open(sys.argv[4]) if l.startswith("./")}
assert [(p["name"], p["change"]) for p in d["packages"]] == [(extra, "added")], d["packages"]
added = {f["path"] for f in d["files"] if f["change"] == "added"}
changed = {f["path"] for f in d["files"] if f["change"] == "changed"}
assert not [f for f in d["files"] if f["change"] == "removed"], "files removed"
# Added: the package's own paths that the image keeps, and dpkg's record of them.
own = (deb & image) - {"."}
extra_paths = added - deb
assert all(p.startswith("./var/lib/dpkg/info/" + extra + ":") for p in extra_paths), extra_paths
# Every path of the package that the image has and the old image had not is named.
assert own - added <= {p for p in own if p.count("/") <= 3}, sorted(own - added)
assert any(".so" in p for p in added), "the library of %s is not named" % extra
# Changed: only what records the package set (dpkg status, the spec copy) and
# /etc/shadow, whose last-change day is the build's epoch (the newest package's date).
assert all(p.startswith(("./var/lib/dpkg/", "./etc/lethe/")) or p == "./etc/shadow" for p in changed), changed
assert d["roothash"]["changed"] and d["cmdline"]["changed"]
print("added %d paths of %s; changed %s" % (len(added), extra, sorted(changed)))
PY
if /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
	for j in same diff; do
		/usr/bin/python3 -m jsonschema -i "$TMP/$j.json" "$LETHE_SRC/docs/schemas/diff.schema.json" ||
			fail "$j.json does not match docs/schemas/diff.schema.json"
	done
fi
note "diff names $extra and its files"
