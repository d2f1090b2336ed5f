#!/usr/bin/env bash
# lethe lock --outdated (issue 18.5) against the host's real apt and two local file://
# repositories that the test builds with dpkg-deb and dpkg-scanpackages and signs with a
# throw-away gpg key: "main" (Suite lethe-test) and "security" (Suite
# lethe-test-security, Label Debian-Security, as Debian's security archive is labelled).
# Locked against version 1, nothing is outdated (exit 0); once main publishes a newer
# lethe-outdated-app and the security suite a fixed lethe-outdated-lib, --outdated lists
# exactly those two, the second marked as a security update, and exits 1; the JSON report
# validates against docs/schemas/lock.schema.json. --offline reads the lists as they are.
. "$LETHE_SRC/tests/lib.sh"

need_cmd apt-get apt-cache dpkg-deb dpkg-scanpackages gpg sha256sum

export XDG_CACHE_HOME="$TMP/cache" XDG_CONFIG_HOME="$TMP/config"
export GNUPGHOME="$TMP/gnupg"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key "Lethe test <tests@example.org>" \
	ed25519 sign never 2>/dev/null
gpg --batch --export >"$TMP/repo.gpg"

deb() { # deb NAME VERSION REPO [DEPENDS]: build NAME_VERSION_amd64.deb into REPO
	local d="$TMP/src/$1-$2"
	mkdir -p "$d/DEBIAN" "$TMP/$3"
	{
		echo "Package: $1"
		echo "Version: $2"
		echo "Architecture: amd64"
		echo "Maintainer: Lethe tests <tests@example.org>"
		[ -z "${4:-}" ] || echo "Depends: $4"
		echo "Description: a package of the --outdated test"
	} >"$d/DEBIAN/control"
	dpkg-deb --build --root-owner-group "$d" "$TMP/$3/$1_$2_amd64.deb" >/dev/null
}
publish() { # publish REPO SUITE LABEL: index and sign REPO (a flat repository)
	# Compressed only: apt links an uncompressed file:// index in place (so even
	# --offline would see it change), and copies what it decompresses.
	# (The Release file lists the uncompressed index too, as Debian's do: apt asks for
	# the index by that name.)
	(cd "$TMP/$1" && dpkg-scanpackages -m . /dev/null 2>/dev/null >"$TMP/Packages")
	gzip -9n <"$TMP/Packages" >"$TMP/$1/Packages.gz"
	{
		echo "Origin: Lethe tests"
		echo "Label: $3"
		echo "Suite: $2"
		echo "Codename: $2"
		echo "Date: $(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S UTC')"
		echo "SHA256:"
		for f in "$TMP/Packages" "$TMP/$1/Packages.gz"; do
			echo " $(sha256sum <"$f" | cut -d' ' -f1) $(stat -c %s "$f") ${f##*/}"
		done
	} >"$TMP/$1/Release"
	gpg --batch --quiet --yes --clearsign -o "$TMP/$1/InRelease" "$TMP/$1/Release"
}

deb lethe-outdated-lib 1.0-1 main
deb lethe-outdated-app 1.0-1 main "lethe-outdated-lib"
deb lethe-outdated-tool 2.0 main
mkdir -p "$TMP/security"
publish main lethe-test "Lethe tests"
publish security lethe-test-security Debian-Security
cat >"$TMP/spec.yaml" <<EOF
name: t
version: "1"
apt:
  sources:
    - "deb [signed-by=$TMP/repo.gpg] file://$TMP/main ./"
    - "deb [signed-by=$TMP/repo.gpg] file://$TMP/security ./"
packages: [lethe-outdated-app, lethe-outdated-tool]
EOF

# 1. Locked against version 1: nothing newer.
expect_ok "$LETHE" lock "$TMP/spec.yaml" --quiet
grep -q '^lethe-outdated-lib 1.0-1 amd64 ' "$TMP/lethe.lock" || fail "the lock lacks lethe-outdated-lib 1.0-1"
expect_ok "$LETHE" lock --outdated "$TMP/spec.yaml"
[ ! -s "$TMP/out" ] || { cat "$TMP/out" >&2; fail "a fresh lock is reported outdated"; }
grep -q "none of 3 packages is outdated" "$TMP/err" || { cat "$TMP/err" >&2; fail "no summary"; }

# 2. The archive moves on: main gets app 1.1-1 (and an older tool, which is no update),
#    the security suite a fixed lib. Neither is in apt's lists until they are updated.
deb lethe-outdated-app 1.1-1 main "lethe-outdated-lib"
rm "$TMP/main/lethe-outdated-tool_2.0_amd64.deb"
deb lethe-outdated-tool 1:0.9 main # an epoch: newer than 2.0 as dpkg compares
deb lethe-outdated-lib 1.0-1+deb12u1 security
sleep 1 # a Date apt sees as newer
publish main lethe-test "Lethe tests"
publish security lethe-test-security Debian-Security

expect_ok "$LETHE" lock --outdated --offline "$TMP/spec.yaml"
[ ! -s "$TMP/out" ] || fail "--offline updated apt's lists"

expect_fail 1 "3 of 3 packages outdated \(1 from a security suite\)" \
	"$LETHE" lock --outdated "$TMP/spec.yaml"
cat "$TMP/out"
grep -Eq '^lethe-outdated-app +1\.0-1 +1\.1-1 +lethe-test$' "$TMP/out" ||
	fail "lethe-outdated-app 1.0-1 -> 1.1-1 from lethe-test is not listed"
grep -Eq '^lethe-outdated-lib +1\.0-1 +1\.0-1\+deb12u1 +lethe-test-security +security$' "$TMP/out" ||
	fail "lethe-outdated-lib is not listed as a security update"
grep -Eq '^lethe-outdated-tool +2\.0 +1:0\.9 +lethe-test$' "$TMP/out" ||
	fail "the epoch of lethe-outdated-tool 1:0.9 did not make it newer than 2.0"
[ "$(grep -c '^lethe-outdated-' "$TMP/out")" -eq 3 ] || fail "more than the three packages listed"

# The JSON report, checked against its schema.
expect_fail 1 "" "$LETHE" lock --outdated --json "$TMP/spec.yaml"
cp "$TMP/out" "$TMP/outdated.json"
/usr/bin/python3 - "$TMP/outdated.json" <<'PY' || fail "the --json report is not what the text said"
import json, sys
d = json.load(open(sys.argv[1]))
by = {p["name"]: p for p in d["outdated"]}
assert d["checked"] == 3 and d["security"] == 1 and d["absent"] == [], d
assert by["lethe-outdated-lib"]["security"] is True, by
assert by["lethe-outdated-lib"]["suite"] == "lethe-test-security", by
assert by["lethe-outdated-app"]["security"] is False, by
assert by["lethe-outdated-app"]["available"] == "1.1-1", by
PY
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
	/usr/bin/python3 - "$LETHE_SRC/docs/schemas/lock.schema.json" "$TMP/outdated.json" <<'PY' ||
import json, sys, jsonschema
jsonschema.Draft202012Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2])))
PY
		fail "the --outdated --json report does not match docs/schemas/lock.schema.json"
else
	note "python3-jsonschema is not installed: the report's schema is not checked"
fi

# 3. Locked again, nothing is outdated: the lock took what --outdated named.
expect_ok "$LETHE" lock "$TMP/spec.yaml" --quiet
grep -q '^lethe-outdated-lib 1.0-1+deb12u1 amd64 ' "$TMP/lethe.lock" || fail "the new lock lacks the security update"
expect_ok "$LETHE" lock --outdated "$TMP/spec.yaml" --json
/usr/bin/python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["outdated"] != [])' "$TMP/out" ||
	{ cat "$TMP/out" >&2; fail "a new lock is still outdated"; }

# 4. A package the archive dropped is named, and is no update.
rm "$TMP/main/lethe-outdated-tool_1:0.9_amd64.deb"
sleep 1
publish main lethe-test "Lethe tests"
expect_ok "$LETHE" lock --outdated "$TMP/spec.yaml"
grep -q '^lethe-outdated-tool: no longer in the archive$' "$TMP/out" || fail "a dropped package is not named"
note "ok: 3 updates (1 security) found after publishing, none before or after locking again"
