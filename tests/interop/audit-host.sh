# lethe audit on the test host itself, which is no Lethe system: the audit completes,
# marks what does not apply, fails what does not hold, and its JSON matches the schema.
. "$LETHE_SRC/tests/lib.sh"
need_cmd python3
python3 -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema is not installed"

rc=0
"$LETHE" audit --json --no-color >"$TMP/audit.json" 2>"$TMP/err" || rc=$?
[ "$rc" -le 1 ] || { cat "$TMP/err"; fail "audit exited $rc"; }
python3 - "$LETHE_SRC/docs/schemas/audit.schema.json" "$TMP/audit.json" "$rc" <<'PY' || fail "report check failed"
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
report = json.load(open(sys.argv[2]))
rc = int(sys.argv[3])
jsonschema.validate(report, schema)
verdicts = {c["id"]: c["verdict"] for c in report["checks"]}
assert report["lethe_system"] is False, "the host is not a Lethe system"
assert verdicts["root.hash"] == "not-applicable", verdicts
# Booted without Lethe's cmdline: the hardening flags are not all there.
assert verdicts["kernel.cmdline"] == "fail", verdicts
assert report["passed"] == (rc == 0), (report["passed"], rc)
assert report["summary"]["fail"] == sum(v == "fail" for v in verdicts.values())
assert all(c["evidence"] for c in report["checks"])
print("checks:", verdicts)
PY

# The table for people says the same and exits the same.
rc2=0
"$LETHE" audit --no-color >"$TMP/table" 2>&1 || rc2=$?
[ "$rc2" -eq "$rc" ] || fail "table run exited $rc2, JSON run $rc"
grep -Eq '^n/a +root.hash ' "$TMP/table" || { cat "$TMP/table"; fail "root.hash not marked n/a"; }
grep -q 'not a Lethe system' "$TMP/table" || fail "summary does not say this is no Lethe system"

# --only and --skip select checks; an unknown id is a usage error.
"$LETHE" audit --json --only kernel.lockdown,swap.none >"$TMP/only.json" || true
python3 -c 'import json,sys; ids=[c["id"] for c in json.load(open(sys.argv[1]))["checks"]]; assert ids==["swap.none","kernel.lockdown"], ids' "$TMP/only.json" ||
	fail "--only did not select exactly two checks"
expect_fail 2 "unknown check 'root.verty'" "$LETHE" audit --only root.verty
