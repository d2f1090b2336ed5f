#!/usr/bin/env bash
# The SBOMs that lib/sbom writes (for the sample package set of test-sbom) pass the
# official SPDX 2.3 JSON schema (python3-jsonschema) and the CycloneDX 1.5 strict schema
# (@cyclonedx/cyclonedx-library's validator); a broken document fails both.
. "$LETHE_SRC/tests/lib.sh"
need_cmd python3 node
python3 -c 'import jsonschema' 2>/dev/null || skip "python3 jsonschema is not installed"
schema=$LETHE_SHARED/schemas/spdx-2.3.schema.json
[ -f "$schema" ] || skip "no SPDX schema at $schema"
unit=$LETHE_BUILD/tests/unit/test-sbom
[ -x "$unit" ] || fail "$unit is not built"

LETHE_SBOM_DUMP_DIR=$TMP "$unit" >/dev/null 2>&1 || fail "test-sbom failed"

spdx_check() {
	python3 - "$schema" "$1" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(doc)
PY
}
cdx_check() {
	local rc=0
	node "$LETHE_SRC/tests/interop/cdx-validate.js" "$1" || rc=$?
	[ "$rc" -ne 77 ] || skip "the CycloneDX validator is not installed (scripts/deps.sh)"
	return "$rc"
}

spdx_check "$TMP/sbom.spdx.json" || fail "sbom.spdx.json does not match the SPDX 2.3 schema"
cdx_check "$TMP/sbom.cdx.json" || fail "sbom.cdx.json is not valid CycloneDX 1.5"

# The validators can fail: one wrong enum value in each.
sed 's/"PACKAGE-MANAGER"/"PACKAGE-MANGLER"/' "$TMP/sbom.spdx.json" >"$TMP/bad.spdx.json"
if spdx_check "$TMP/bad.spdx.json" 2>/dev/null; then fail "the SPDX validator accepted a broken document"; fi
sed 's/"SHA-256"/"SHA-257"/' "$TMP/sbom.cdx.json" >"$TMP/bad.cdx.json"
if cdx_check "$TMP/bad.cdx.json" 2>/dev/null; then fail "the CycloneDX validator accepted a broken document"; fi
note "both SBOMs valid; broken copies rejected"
