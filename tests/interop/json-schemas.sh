# Every --json output has a schema in docs/schemas/ and real outputs validate against it:
# each verb whose --help offers --json has docs/schemas/VERB.schema.json, each schema is
# a valid JSON Schema (draft 2020-12), and the outputs of every verb, in its passing and
# failing cases, are checked with python3-jsonschema. A control (an output with a key no
# schema knows) must be refused, so the validator cannot pass by accepting anything.
. "$LETHE_SRC/tests/lib.sh"
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import jsonschema' 2>/dev/null ||
	skip "python3-jsonschema is not installed"
schemas=$LETHE_SRC/docs/schemas
cd "$TMP"
mkdir out

# validate SCHEMA FILE...: each FILE is one JSON document valid against SCHEMA.
validate() {
	/usr/bin/python3 - "$schemas" "$@" <<-'PY'
		import json, os, sys
		import jsonschema
		d, name, files = sys.argv[1], sys.argv[2], sys.argv[3:]
		store = {}
		for f in os.listdir(d):
		    if f.endswith(".schema.json"):
		        s = json.load(open(os.path.join(d, f)))
		        store[s["$id"]] = s
		schema = json.load(open(os.path.join(d, name + ".schema.json")))
		resolver = jsonschema.RefResolver(schema["$id"], schema, store=store)
		v = jsonschema.Draft202012Validator(schema, resolver=resolver)
		bad = 0
		for f in files:
		    for e in v.iter_errors(json.load(open(f))):
		        print(f"{f}: {'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}",
		              file=sys.stderr)
		        bad += 1
		sys.exit(1 if bad else 0)
	PY
}

# Every schema is itself valid, and names itself by its file name.
/usr/bin/python3 - "$schemas" <<-'PY' || fail "a schema in docs/schemas is not valid"
	import json, os, re, sys
	import jsonschema
	for f in sorted(os.listdir(sys.argv[1])):
	    s = json.load(open(os.path.join(sys.argv[1], f)))
	    jsonschema.Draft202012Validator.check_schema(s)
	    # Lethe's own: the file's name, and the version where the output carries one
	    # (audit-1). Another project's schema (in-toto, SLSA) keeps its own $id.
	    if not s["$id"].startswith("https://lethe.invalid/"):
	        continue
	    want = "https://lethe.invalid/schemas/" + f.replace(".schema.json", "") + r"(-[0-9]+)?\.json"
	    assert re.fullmatch(want, s["$id"]), f"{f}: $id is {s['$id']}, not {want}"
PY

# Every verb that reports has its schema.
"$LETHE" --version --json >out/version.json
validate version out/version.json || fail "lethe --version --json does not match its schema"
verbs=$(/usr/bin/python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["verbs"]))' out/version.json)
[ -n "$verbs" ] || fail "lethe --version --json lists no verb"
for v in $verbs; do
	"$LETHE" --help | grep -Eq "^  $v " || fail "verb '$v' of --version --json is not in lethe --help"
	if "$LETHE" "$v" --help | grep -q -- '--json'; then
		[ -f "$schemas/$v.schema.json" ] ||
			fail "lethe $v --help offers --json but docs/schemas/$v.schema.json does not exist"
	fi
done

# Real outputs, passing and failing. rc CMD...: run CMD, keep going whatever it exits.
rc() { "$@" 2>/dev/null || true; }
key=$(test_key)
pub=${key%.key}.pub
img=$(image_dir minimal)

for y in "$LETHE_SRC"/examples/*.yaml; do
	"$LETHE" spec check --json "$y" >"out/spec-$(basename "$y" .yaml).json"
done
validate spec out/spec-*.json || fail "lethe spec check --json does not match its schema"

validate build "$(build_json minimal)" || fail "lethe build --json does not match its schema"

"$LETHE" sums -c "$img/SHA256SUMS" --json >out/sums-ok.json
cp -r "$img" bad
printf 'X' | dd of=bad/roothash bs=1 seek=0 conv=notrunc status=none
rm bad/cmdline
rc "$LETHE" sums -c bad/SHA256SUMS --json >out/sums-bad.json
grep -q '"mismatch"' out/sums-bad.json && grep -q '"missing"' out/sums-bad.json ||
	{ cat out/sums-bad.json; fail "the failing sums case did not fail as meant"; }
validate sums out/sums-*.json || fail "lethe sums -c --json does not match its schema"

echo hello >f
"$LETHE" sign -s "$key" -t "tc" f
"$LETHE" verify -p "$pub" --json f >out/verify-file.json
echo changed >f
rc "$LETHE" verify -p "$pub" --json f >out/verify-file-bad.json
"$LETHE" verify --sums "$img/SHA256SUMS" -p "$pub" --json >out/verify-sums.json
rc "$LETHE" verify --sums bad/SHA256SUMS -p "$pub" --json >out/verify-sums-bad.json
"$LETHE" verify "$img" -p "$pub" --json >out/verify-release.json
rc "$LETHE" verify bad -p "$pub" --json >out/verify-release-bad.json
"$LETHE" verify --media "$img/disk.img" "$img" -p "$pub" --json >out/verify-media.json
validate verify out/verify-*.json || fail "lethe verify --json does not match its schema"

head -c 2097152 /dev/urandom >data
"$LETHE" verity format data hash --json >out/verity-format.json
"$LETHE" verity dump hash --json >out/verity-dump.json
validate verity out/verity-*.json || fail "lethe verity --json does not match its schema"

# On the host the live ruleset is not the spec's: a drift report.
rc "$LETHE" firewall check "$LETHE_SRC/examples/minimal.yaml" --json >out/firewall.json
validate firewall out/firewall.json || fail "lethe firewall check --json does not match its schema"

rc "$LETHE" audit --json >out/audit.json
validate audit out/audit.json || fail "lethe audit --json does not match its schema"

export XDG_CACHE_HOME="$LETHE_BUILD/test-cache" XDG_CONFIG_HOME="$TMP/config"
if "$LETHE" lock "$LETHE_SRC/examples/minimal.yaml" -o lethe.lock --json >out/lock.json 2>lock.err; then
	validate lock out/lock.json || fail "lethe lock --json does not match its schema"
elif grep -Eqi 'could not resolve|temporary failure|failed to fetch|unable to connect' lock.err; then
	note "lock: the apt repository cannot be reached; its schema is not checked"
else
	cat lock.err >&2
	fail "lethe lock failed"
fi

# The control: one key too many is refused.
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["surprise"]=1; json.dump(d,open(sys.argv[2],"w"))' \
	out/verity-dump.json control.json
if validate verity control.json 2>/dev/null; then
	fail "the validator accepted an output with a key the schema does not have"
fi
note "$(ls out | wc -l) outputs of $(ls "$schemas" | wc -l) schemas validated"
