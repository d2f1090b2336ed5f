#!/usr/bin/env bash
# `lethe spec check` from the command line: exit codes 0 (valid), 1 (invalid), 2 (usage),
# 3 (unreadable), one-line messages with line and column, and --json that parses.
. "$LETHE_SRC/tests/lib.sh"
need_cmd python3

for name in minimal privacy appliance; do
	expect_ok "$LETHE" spec check "$LETHE_SRC/examples/$name.yaml"
	grep -q "valid: lethe-$name " "$TMP/out" || fail "$name: no summary line: $(cat "$TMP/out")"
	"$LETHE" spec check --json "$LETHE_SRC/examples/$name.yaml" >"$TMP/$name.json" ||
		fail "$name: --json failed"
	python3 -m json.tool "$TMP/$name.json" >/dev/null || fail "$name: --json is not JSON"
	python3 - "$TMP/$name.json" "$name" <<'PY' || fail "$name: JSON summary is wrong"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["name"] == "lethe-" + sys.argv[2], d["name"]
assert d["package_count"] == len(d["packages"]) > 0
assert d["kernel"] == "linux-image-cloud-amd64"
assert d["firewall"] is True
PY
done

# An invalid spec: exit 1, one line naming the file, line and column, and a hint.
cat >"$TMP/bad.yaml" <<'YAML'
name: t
version: "1"
pakages: [busybox-static]
YAML
expect_fail 1 "^lethe: spec '$TMP/bad.yaml' line 3 column 1: unknown key 'pakages' \(did you mean 'packages'\?\)$" \
	"$LETHE" spec check "$TMP/bad.yaml"
[ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "the error is not one line"
[ ! -s "$TMP/out" ] || fail "an invalid spec printed a summary"

printf 'name: t\nversion: "1"\npackages:\n\t- tor\n' >"$TMP/tab.yaml"
expect_fail 1 "line 4 column 1: found character that cannot start any token" \
	"$LETHE" spec check --json "$TMP/tab.yaml"
[ ! -s "$TMP/out" ] || fail "--json printed something for an invalid spec"

# Usage errors: 2. An unreadable spec: a runtime error, 3.
expect_fail 2 "missing subcommand" "$LETHE" spec
expect_fail 2 "unknown subcommand 'lint'" "$LETHE" spec lint "$TMP/bad.yaml"
expect_fail 2 "exactly one SPEC" "$LETHE" spec check
expect_fail 2 "" "$LETHE" spec check --bogus "$TMP/bad.yaml"
expect_fail 3 "cannot read spec '$TMP/none.yaml'" "$LETHE" spec check "$TMP/none.yaml"
expect_ok "$LETHE" spec --help
grep -q '^usage: lethe spec check' "$TMP/out" || fail "--help does not print the usage"

# The firewall section is checked too, so that a bad rule fails here, not at boot.
cat >"$TMP/badfw.yaml" <<'YAML'
name: t
version: "1"
packages: [busybox-static]
firewall:
  in:
    allow:
      - { proto: tcp, port: 70000 }
YAML
expect_fail 1 "^lethe: spec '$TMP/badfw.yaml' line 7 column [0-9]+: .*70000" \
	"$LETHE" spec check "$TMP/badfw.yaml"

# Debian's own deb822 file, named as in docs/spec.md, is a file and not a malformed
# "deb ..." line (issue 10.15).
printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
	>"$TMP/debian.sources"
printf 'name: t\nversion: "1"\napt:\n  sources: [debian.sources]\npackages: [busybox-static]\n' \
	>"$TMP/debsrc.yaml"
expect_ok "$LETHE" spec check "$TMP/debsrc.yaml"

# Error hygiene (issue 10.12): an encoding error names its real line and column; a spec
# that is too large is invalid input like any other (1, not 3).
printf 'name: t\nversion: "1"\npackages:\n  - a\377b\n' >"$TMP/utf8.yaml"
expect_fail 1 "^lethe: spec '$TMP/utf8.yaml' line 4 column 6: invalid leading UTF-8 octet \(#xFF at offset 36\)$" \
	"$LETHE" spec check "$TMP/utf8.yaml"
printf 'name: t\nversion: "1"\npackages: [tor]\ndescription: x\000y\n' >"$TMP/nul.yaml"
expect_fail 1 "line 4 column 15: control characters are not allowed" \
	"$LETHE" spec check "$TMP/nul.yaml"
head -c 1100000 /dev/zero | tr '\0' '#' >"$TMP/big.yaml"
expect_fail 1 "spec '$TMP/big.yaml': larger than 1048576 bytes" "$LETHE" spec check "$TMP/big.yaml"

# lethe verity format with the tree inside DATA but no offset: a usage error (2).
head -c 8192 /dev/zero >"$TMP/data.img"
expect_fail 2 "HASH is DATA: give --hash-offset" \
	"$LETHE" verity format "$TMP/data.img" "$TMP/data.img"
expect_ok "$LETHE" verity format "$TMP/data.img" "$TMP/data.img" --hash-offset 4096 --quiet
