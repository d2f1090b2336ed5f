#!/usr/bin/env bash
# provenance.intoto.json of a real build (issue 18.4): an in-toto Statement v1 and an
# SLSA Provenance v1 predicate by their JSON schemas (docs/schemas/), listed in the
# signed SHA256SUMS, its subjects exactly the release's files; and `lethe verify` names
# the file when one byte of an output changes, whether or not SHA256SUMS was re-signed
# over the change.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
/usr/bin/python3 -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema is not installed"
out=$(build_image_or_skip minimal)
pub=$(test_pub)
key=$(test_key)
prov=provenance.intoto.json
schemas=$LETHE_SRC/docs/schemas

validate() { # DOC: the statement, then its predicate
	/usr/bin/python3 - "$schemas" "$1" <<'PY'
import json, sys, jsonschema
d, doc = sys.argv[1], json.load(open(sys.argv[2]))
fc = jsonschema.FormatChecker()
st = json.load(open(d + "/in-toto-statement-v1.schema.json"))
sl = json.load(open(d + "/slsa-provenance-v1.schema.json"))
jsonschema.Draft7Validator(st, format_checker=fc).validate(doc)
assert doc["predicateType"] == "https://slsa.dev/provenance/v1", "predicateType"
jsonschema.Draft7Validator(sl, format_checker=fc).validate(doc["predicate"])
PY
}

[ -f "$out/$prov" ] || fail "the build wrote no $prov"
grep -q "  $prov\$" "$out/SHA256SUMS" || fail "SHA256SUMS does not list $prov"
validate "$out/$prov" || fail "$prov does not pass the in-toto Statement v1 / SLSA v1 schemas"

# Subjects: every listed file but the provenance, with the digests SHA256SUMS signs.
/usr/bin/python3 - "$out" <<'PY' || fail "the subjects are not the release's files"
import json, sys
d = sys.argv[1]
doc = json.load(open(d + "/provenance.intoto.json"))
subj = {s["name"]: s["digest"]["sha256"] for s in doc["subject"]}
sums = {}
for line in open(d + "/SHA256SUMS"):
    h, n = line.rstrip("\n").split("  ", 1)
    sums[n] = h
del sums["provenance.intoto.json"]
assert subj == sums, (sorted(subj), sorted(sums))
deps = {x["name"]: x for x in doc["predicate"]["buildDefinition"]["resolvedDependencies"]}
assert "minimal.yaml" in deps and "lethe.lock" in deps, sorted(deps)
assert any(x.get("uri", "").startswith("pkg:deb/debian/") for x in deps.values())
PY
# Nothing of the machine: no source, build or temporary path, no host name.
for word in "$LETHE_BUILD" "$LETHE_SRC" "$(hostname)" /tmp/; do
	[ "${#word}" -ge 4 ] || continue # too short to tell from other text
	! grep -qF -- "$word" "$out/$prov" || fail "$prov holds '$word'"
done

# The schemas can fail: a wrong _type, a builder without id, a short digest.
sed 's|"https://in-toto.io/Statement/v1"|"https://in-toto.io/Statement/v0.1"|' "$out/$prov" >"$TMP/bad1.json"
sed 's|"id": "urn:lethe:builder:lethe-build"|"ident": "x"|' "$out/$prov" >"$TMP/bad2.json"
sed '0,/"sha256": "[0-9a-f]*"/s//"sha256": "abc"/' "$out/$prov" >"$TMP/bad3.json"
for b in 1 2 3; do
	! cmp -s "$TMP/bad$b.json" "$out/$prov" || fail "broken copy $b is unchanged"
	if validate "$TMP/bad$b.json" 2>/dev/null; then fail "the schemas accepted broken copy $b"; fi
done

expect_ok "$LETHE" verify "$out" -p "$pub"

# One byte of an output changed: the signed sums name it.
cp -a "$out" "$TMP/rel"
printf 'X' | dd of="$TMP/rel/manifest.mtree" bs=1 seek=3 conv=notrunc status=none
expect_fail 1 "manifest.mtree" "$LETHE" verify "$TMP/rel" -p "$pub"
# SHA256SUMS made again and re-signed over the change (a rebuilt, re-signed release
# with a stale provenance): the provenance check names the file.
resign() {
	local names
	names=$(cd "$TMP/rel" && ls | grep -vx 'SHA256SUMS\|SHA256SUMS.minisig')
	(cd "$TMP/rel" && "$LETHE" sums -o SHA256SUMS $names) || fail "lethe sums failed"
	"$LETHE" sign -q -s "$key" "$TMP/rel/SHA256SUMS" || fail "lethe sign failed"
}
resign
expect_ok "$LETHE" sums -c "$TMP/rel/SHA256SUMS"
expect_fail 1 "$prov.*SHA-256 of 'manifest.mtree' does not match" "$LETHE" verify "$TMP/rel" -p "$pub"
"$LETHE" verify "$TMP/rel" -p "$pub" --json >"$TMP/v.json" 2>/dev/null || true
grep -q "manifest.mtree" "$TMP/v.json" || fail "the --json report does not name manifest.mtree"

# A provenance that leaves out a listed file, re-signed: named as missing.
rm -rf "$TMP/rel" && cp -a "$out" "$TMP/rel"
/usr/bin/python3 - "$TMP/rel/$prov" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
doc["subject"] = [s for s in doc["subject"] if s["name"] != "sbom.cdx.json"]
json.dump(doc, open(sys.argv[1], "w"), indent=2)
PY
resign
expect_fail 1 "does not name 'sbom.cdx.json'" "$LETHE" verify "$TMP/rel" -p "$pub"
note "provenance valid (in-toto v1, SLSA v1), signed, and checked by lethe verify"
