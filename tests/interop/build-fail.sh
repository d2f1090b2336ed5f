#!/usr/bin/env bash
# A build that fails leaves no output directory and no temporary beside it; one that
# fails over an earlier build leaves that build untouched; a directory that is not a
# Lethe build (by its layout: only a release's files, listed by its SHA256SUMS) is
# never replaced; an existing empty directory survives a failed build.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"

ref=$(build_image_or_skip minimal)
spec=$LETHE_SRC/examples/minimal.yaml
key=$(test_key)
mkdir -p "$TMP/p"

leftovers() { find "$TMP/p" -mindepth 1 -maxdepth 1 -name '.*' | grep . && return 0; return 1; }

# A failing stage late in the pipeline (mkfs.erofs), after the root was staged.
rc=0
LETHE_MKFS_EROFS=/bin/false "$LETHE" build "$spec" -o "$TMP/p/out" --lock "$ref/lethe.lock" \
	--key "$key" --quiet 2>"$TMP/err" || rc=$?
[ "$rc" -ne 0 ] || fail "the build succeeded with a failing mkfs.erofs"
grep -q "/bin/false" "$TMP/err" || { cat "$TMP/err" >&2; fail "the error does not name mkfs.erofs"; }
[ ! -e "$TMP/p/out" ] || fail "a failed build left '$TMP/p/out'"
! leftovers || fail "a failed build left temporaries in $TMP/p"

# A lock that does not match the spec fails before any package is touched.
sed 's/^busybox-static /busybox-statik /' "$ref/lethe.lock" >"$TMP/bad.lock"
expect_fail 1 "" "$LETHE" build "$spec" -o "$TMP/p/out" --lock "$TMP/bad.lock" --key "$key" --quiet
[ ! -e "$TMP/p/out" ] || fail "a failed build left '$TMP/p/out'"
! leftovers || fail "a failed build left temporaries in $TMP/p"

# A missing UKI stub or boot loader is one line before any work: no stage ran (no
# "[1/" progress), nothing was made (issue 11).
for v in LETHE_UEFI_STUB LETHE_UEFI_SYSTEMD_BOOT; do
	rc=0
	env "$v=/nonexistent/file.efi" "$LETHE" build "$spec" -o "$TMP/p/out" --lock "$ref/lethe.lock" \
		--key "$key" >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ "$rc" -eq 3 ] || { cat "$TMP/err" >&2; fail "$v missing: exit $rc, expected 3"; }
	grep -q "cannot read the .* '/nonexistent/file.efi'.*(install systemd-boot-efi)" "$TMP/err" ||
		{ cat "$TMP/err" >&2; fail "$v missing: no clear message"; }
	[ "$(grep -c . "$TMP/err")" -eq 1 ] || { cat "$TMP/err" >&2; fail "$v missing: more than one line"; }
	! grep -q '\[1/' "$TMP/out" "$TMP/err" || fail "$v missing: a stage ran"
	[ ! -e "$TMP/p/out" ] || fail "a failed build left '$TMP/p/out'"
	! leftovers || fail "a failed build left temporaries in $TMP/p"
done

# Over an earlier build: a failure keeps it as it was, a success replaces it.
cp -a "$ref" "$TMP/p/out"
before=$(sha256sum <"$TMP/p/out/SHA256SUMS")
LETHE_MKFS_EROFS=/bin/false "$LETHE" build "$spec" -o "$TMP/p/out" --lock "$ref/lethe.lock" \
	--key "$key" --quiet 2>/dev/null && fail "the build succeeded with a failing mkfs.erofs"
[ "$(sha256sum <"$TMP/p/out/SHA256SUMS")" = "$before" ] || fail "a failed build changed the earlier one"
(cd "$TMP/p/out" && sha256sum --quiet -c SHA256SUMS) || fail "a failed build damaged the earlier one"
! leftovers || fail "a failed build left temporaries in $TMP/p"

# A directory that is not a build is refused before any work, and kept.
mkdir -p "$TMP/p/precious"
echo keep >"$TMP/p/precious/file"
expect_fail 3 "does not hold a Lethe build" "$LETHE" build "$spec" -o "$TMP/p/precious" \
	--lock "$ref/lethe.lock" --key "$key" --quiet
[ "$(cat "$TMP/p/precious/file")" = keep ] || fail "a non-build directory was touched"
! leftovers || fail "a refused build left temporaries in $TMP/p"
# issue 10.4: a downloads folder that holds a SHA256SUMS among other files is no build:
# refused before any work, and every file in it kept.
mkdir -p "$TMP/p/downloads"
echo iso >"$TMP/p/downloads/debian.iso"
(cd "$TMP/p/downloads" && sha256sum debian.iso >SHA256SUMS)
tree() { (cd "$1" && find . -printf '%p %y %s\n' | sort && find . -type f -exec sha256sum {} + | sort); }
before=$(tree "$TMP/p/downloads")
expect_fail 3 "does not hold a Lethe build.*debian.iso" "$LETHE" build "$spec" \
	-o "$TMP/p/downloads" --lock "$ref/lethe.lock" --key "$key" --quiet
[ "$(tree "$TMP/p/downloads")" = "$before" ] || fail "a downloads folder was changed"
# A build with one file of someone else's added: refused too.
cp -a "$ref" "$TMP/p/notes"
echo mine >"$TMP/p/notes/notes.txt"
expect_fail 3 "notes.txt" "$LETHE" build "$spec" -o "$TMP/p/notes" --lock "$ref/lethe.lock" \
	--key "$key" --quiet
[ "$(cat "$TMP/p/notes/notes.txt")" = mine ] || fail "a file beside a build was removed"
! leftovers || fail "a refused build left temporaries in $TMP/p"

# An existing empty directory survives a build that fails.
mkdir "$TMP/p/empty"
LETHE_MKFS_EROFS=/bin/false "$LETHE" build "$spec" -o "$TMP/p/empty" --lock "$ref/lethe.lock" \
	--key "$key" --quiet 2>/dev/null && fail "the build succeeded with a failing mkfs.erofs"
[ -d "$TMP/p/empty" ] || fail "a failed build removed the existing empty directory"
[ -z "$(ls -A "$TMP/p/empty")" ] || fail "a failed build left files in the empty directory"
! leftovers || fail "a failed build left temporaries in $TMP/p"

# A previous release is replaced by a build that succeeds: a new directory, verified.
cp -a "$ref" "$TMP/p/prev"
ino=$(stat -c %i "$TMP/p/prev")
expect_ok "$LETHE" build "$spec" -o "$TMP/p/prev" --lock "$ref/lethe.lock" --key "$key" --quiet
[ "$(stat -c %i "$TMP/p/prev")" != "$ino" ] || fail "the earlier build was not replaced"
expect_ok "$LETHE" verify "$TMP/p/prev" -p "$(test_pub)"
! leftovers || fail "a replacing build left temporaries in $TMP/p"
note "failed builds leave nothing behind and never damage an earlier output"
