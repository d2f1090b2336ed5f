#!/usr/bin/env bash
# Accounts that work (issue 13.2), in the image `lethe build` makes of
# examples/minimal.yaml: busybox's applets are links to /bin/busybox (so /bin/sh, su and
# nologin exist), every declared user's home is there, owned by it and 0700, and a
# build whose spec names a shell the image lacks is refused, naming the shell and the
# spec line; the same spec with a shell the image has builds.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"

ref=$(build_image_or_skip minimal)
m=$ref/manifest.mtree
has() { grep -qE "^$1( |\$)" "$m" || fail "manifest.mtree has no line '$1'"; }
has './bin/sh type=link mode=0777 uid=0 gid=0 link=busybox'
has './bin/su type=link mode=0777 uid=0 gid=0 link=busybox'
has './usr/bin/id type=link mode=0777 uid=0 gid=0 link=../../bin/busybox'
has './usr/sbin/nologin type=link .*link=../../bin/busybox'
has './home/user type=dir mode=0700 uid=1000 gid=1000'
has './root type=dir mode=0700 uid=0 gid=0'
has './home type=dir mode=0755 uid=0 gid=0'
# Applet links only where no program of a package is: /usr/bin/lethe stays a file.
has './usr/bin/lethe type=file'
n=$(grep -c 'link=\(\.\./\)*\(bin/\)\?busybox$' "$m")
[ "$n" -gt 200 ] || fail "only $n applet links in the image"

# A shell the image lacks: refused, with the file, the user's line and the shell.
mkdir -p "$TMP/spec"
line=$(grep -n '^    - name: user$' "$LETHE_SRC/examples/minimal.yaml" | cut -d: -f1)
[ -n "$line" ] || fail "examples/minimal.yaml declares no user 'user'"
sed 's|^      shell: /bin/sh$|      shell: /bin/bash|' "$LETHE_SRC/examples/minimal.yaml" >"$TMP/spec/bash.yaml"
grep -q 'shell: /bin/bash' "$TMP/spec/bash.yaml" || fail "cannot make the test spec"
expect_fail 3 "spec '$TMP/spec/bash.yaml' line $line: shell '/bin/bash' of user 'user' is not in the image" \
	"$LETHE" build "$TMP/spec/bash.yaml" -o "$TMP/img" --lock "$ref/lethe.lock" --key "$(test_key)" --quiet
[ ! -e "$TMP/img" ] || fail "a refused build left $TMP/img"
# Control: an applet link is a shell the image has.
sed 's|^      shell: /bin/sh$|      shell: /bin/ash|' "$LETHE_SRC/examples/minimal.yaml" >"$TMP/spec/ash.yaml"
expect_ok "$LETHE" build "$TMP/spec/ash.yaml" -o "$TMP/img" --lock "$ref/lethe.lock" --key "$(test_key)" --quiet
echo "build-accounts: applet links, homes 0700 and owned, a missing shell refused with its line"
