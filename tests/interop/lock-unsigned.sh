#!/usr/bin/env bash
# Unsigned repositories never get into a lock or a build (issue 10.1), against the
# host's real apt with local file:// repositories (no network): a flat repository
# without a Release file is refused by apt itself (the -o options Lethe passes), and
# every source option that would make apt accept it (Trusted: yes, in any case, and
# the other weakening options) is refused by Lethe naming the file and line. The same
# repository, signed with a throw-away key, locks: so the refusals are about the
# signature, not about the repository.
. "$LETHE_SRC/tests/lib.sh"

need_cmd apt-get apt-cache dpkg-deb dpkg-scanpackages gpg gpgv sha256sum

export XDG_CACHE_HOME="$TMP/cache" XDG_CONFIG_HOME="$TMP/config"

# One package, in a flat repository with a Packages file and nothing else.
mkdir -p "$TMP/pkg/DEBIAN" "$TMP/repo"
cat >"$TMP/pkg/DEBIAN/control" <<'EOF'
Package: lethe-unsigned-test
Version: 1.0
Architecture: amd64
Maintainer: Lethe tests <tests@example.org>
Description: a package of an unsigned repository
EOF
dpkg-deb --build --root-owner-group "$TMP/pkg" "$TMP/repo/lethe-unsigned-test_1.0_amd64.deb" \
	>/dev/null
(cd "$TMP/repo" && dpkg-scanpackages . /dev/null >Packages 2>/dev/null)
grep -q '^SHA256: ' "$TMP/repo/Packages" || fail "dpkg-scanpackages wrote no Packages"

spec() { # spec FILE SOURCE: a spec whose only apt source is SOURCE
	cat >"$1" <<EOF
name: t
version: "1"
apt:
  sources:
    - "$2"
packages: [lethe-unsigned-test]
EOF
}

# 1. No options at all: apt itself refuses the repository, for lock and build.
spec "$TMP/flat.yaml" "deb file://$TMP/repo ./"
expect_ok "$LETHE" spec check "$TMP/flat.yaml"
expect_fail 1 "apt-get update failed: E: The repository 'file:$TMP/repo \./ Release' does not have a Release file" \
	"$LETHE" lock "$TMP/flat.yaml" -o "$TMP/flat.lock" --quiet
[ ! -e "$TMP/flat.lock" ] || fail "a lock was written for an unsigned repository"
expect_fail 1 "does not have a Release file" \
	"$LETHE" build "$TMP/flat.yaml" -o "$TMP/image" --quiet
[ ! -e "$TMP/image" ] || fail "an image was built from an unsigned repository"

# 2. Options that would make apt take it, in deb822 files and one-line entries: each
#    refused by spec check, lock and build with the file and line.
refused() { # refused SPEC PATTERN
	expect_fail 1 "$2" "$LETHE" spec check "$1"
	expect_fail 1 "$2" "$LETHE" lock "$1" -o "$TMP/x.lock" --quiet
	[ ! -e "$TMP/x.lock" ] || fail "$1: a lock was written"
	expect_fail 1 "$2" "$LETHE" build "$1" -o "$TMP/image" --quiet
	[ ! -e "$TMP/image" ] || fail "$1: an image was built"
}
n=0
for field in "Trusted: yes" "TRUSTED: YES" "trusted:  true" "Allow-Insecure: yes" \
	"Allow-Weak: yes" "Allow-Downgrade-To-Insecure: yes" "Check-Valid-Until: no" \
	"Check-Date: no" "Valid-Until-Min: 99999999" "Date-Max-Future: 99999999"; do
	n=$((n + 1))
	mkdir -p "$TMP/d$n"
	printf 'Types: deb\nURIs: file://%s\nSuites: ./\n%s\n' "$TMP/repo" "$field" \
		>"$TMP/d$n/flat.sources"
	cat >"$TMP/d$n/spec.yaml" <<EOF
name: t
version: "1"
apt:
  sources: [flat.sources]
packages: [lethe-unsigned-test]
EOF
	name=${field%%:*}
	refused "$TMP/d$n/spec.yaml" "apt source '.*/d$n/flat.sources' line 4: '$name: "
done
for opt in "trusted=yes" "TRUSTED=YES" "allow-insecure=yes" "allow-weak=yes" \
	"allow-downgrade-to-insecure=yes" "check-valid-until=no" "check-date=no"; do
	spec "$TMP/one.yaml" "deb [ $opt ] file://$TMP/repo ./"
	refused "$TMP/one.yaml" "line 5 column 7: apt source 'deb \[ $opt \].*': '$opt'"
done
# The host's own sources.list.d is checked the same way when the spec names none:
# here, as a file the spec lists, with a one-line entry.
printf '# a comment\ndeb [arch=amd64 trusted=yes] file://%s ./\n' "$TMP/repo" >"$TMP/flat.list"
spec "$TMP/list.yaml" "flat.list"
refused "$TMP/list.yaml" "apt source '.*flat.list' line 2: 'trusted=yes'"

# 3. Harmless text passes: trusted=no, check-valid-until=yes, comments. apt then
#    still refuses the unsigned repository.
printf 'Types: deb\nURIs: file://%s\nSuites: ./\nTrusted: no\n# Trusted: yes\nCheck-Valid-Until: yes\nX-Repolib-Name: test\n' \
	"$TMP/repo" >"$TMP/harmless.sources"
spec "$TMP/harmless.yaml" "harmless.sources"
expect_ok "$LETHE" spec check "$TMP/harmless.yaml"
expect_fail 1 "does not have a Release file" \
	"$LETHE" lock "$TMP/harmless.yaml" -o "$TMP/x.lock" --quiet

# 4. The same repository with a signed InRelease and Signed-By: it locks.
export GNUPGHOME="$TMP/gnupg"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key "Lethe test <tests@example.org>" \
	ed25519 sign never 2>/dev/null
gpg --batch --export >"$TMP/repo.gpg"
{
	echo "Date: $(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S UTC')"
	echo "SHA256:"
	echo " $(sha256sum <"$TMP/repo/Packages" | cut -d' ' -f1) $(stat -c %s "$TMP/repo/Packages") Packages"
} >"$TMP/repo/Release"
gpg --batch --quiet --yes --clearsign -o "$TMP/repo/InRelease" "$TMP/repo/Release"
printf 'Types: deb\nURIs: file://%s\nSuites: ./\nSigned-By: %s\n' \
	"$TMP/repo" "$TMP/repo.gpg" >"$TMP/signed.sources"
spec "$TMP/signed.yaml" "signed.sources"
expect_ok "$LETHE" lock "$TMP/signed.yaml" -o "$TMP/signed.lock" --quiet
grep -q '^lethe-unsigned-test 1.0 amd64 ' "$TMP/signed.lock" || fail "the signed repository did not lock"

# 5. A signature by a key the source does not trust: apt refuses it.
gpg --batch --quiet --passphrase '' --quick-gen-key "Other <other@example.org>" \
	ed25519 sign never 2>/dev/null
gpg --batch --export "other@example.org" >"$TMP/other.gpg"
sed "s|$TMP/repo.gpg|$TMP/other.gpg|" "$TMP/signed.sources" >"$TMP/other.sources"
spec "$TMP/other.yaml" "other.sources"
expect_fail 1 "apt-get update failed: .*(NO_PUBKEY|not signed|verified)" \
	"$LETHE" lock "$TMP/other.yaml" -o "$TMP/x.lock" --quiet
note "ok: unsigned and untrusted repositories refused ($n deb822 fields, one-line options); a signed one locks"
