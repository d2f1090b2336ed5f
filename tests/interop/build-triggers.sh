#!/usr/bin/env bash
# Build-time triggers (issue 13.1): a spec with fontconfig, fonts-dejavu-core and
# libglib2.0-bin (+ GNOME's schemas) builds with fc-cache and glib-compile-schemas run
# on the staged root and listed in the build output; in the image (extracted with
# fsck.erofs, run with chroot) fontconfig finds the fonts from its build-time cache and
# GLib finds its schemas (control: without gschemas.compiled it does not); a second
# build of the same spec and lock is bit-for-bit the same (SHA256SUMS).
. "$LETHE_SRC/tests/lib.sh"
need_cmd fsck.erofs chroot fc-cache glib-compile-schemas
[ "$(id -u)" = 0 ] || skip "chroot and the image's owners need root"
mkdir -p "$TMP/spec"
cat >"$TMP/spec/triggers.yaml" <<'YAML'
name: triggers-test
version: "1"
apt:
  suite: bookworm
packages:
  - busybox-static
  - fontconfig
  - fonts-dejavu-core
  - libglib2.0-bin
  - gsettings-desktop-schemas
  # what /usr/bin/lethe links against
  - libsodium23
  - libssl3
  - libyaml-0-2
  - libjson-c5
  - libnftables1
# dconf's D-Bus service pulls systemd; GLib's memory backend reads the schemas alone.
drop:
  - dconf-gsettings-backend
  - dconf-service
  - dbus
  - dbus-bin
  - dbus-daemon
  - dbus-session-bus-common
  - dbus-system-bus-common
  - dbus-user-session
  - systemd
  - systemd-sysv
  - libsystemd-shared
YAML
key=$(test_key)
if ! "$LETHE" build "$TMP/spec/triggers.yaml" -o "$TMP/a" --key "$key" >"$TMP/build.log" 2>&1; then
	if grep -Eqi 'could not resolve|temporary failure|failed to fetch|unable to connect|network is unreachable' "$TMP/build.log"; then
		cat "$TMP/build.log" >&2
		skip "the apt repository cannot be reached"
	fi
	cat "$TMP/build.log" >&2
	fail "the triggers spec did not build"
fi
grep -q '^trigger fc-cache: /var/cache/fontconfig$' "$TMP/build.log" || { cat "$TMP/build.log"; fail "fc-cache is not listed in the build output"; }
grep -q '^trigger glib-compile-schemas: /usr/share/glib-2.0/schemas/gschemas.compiled$' "$TMP/build.log" ||
	fail "glib-compile-schemas is not listed in the build output"
grep -q '^\./usr/share/glib-2.0/schemas/gschemas.compiled type=file mode=0644 uid=0 gid=0 ' "$TMP/a/manifest.mtree" ||
	fail "no gschemas.compiled in the manifest"
grep -Eq '^\./var/cache/fontconfig/[0-9a-f]{32}-le64\.cache-[0-9]+ type=file' "$TMP/a/manifest.mtree" ||
	fail "no fontconfig cache in the manifest"

fsck.erofs --extract="$TMP/root" "$TMP/a/rootfs.erofs" >/dev/null || fail "fsck.erofs cannot extract the image"
chroot "$TMP/root" /usr/bin/fc-list >"$TMP/fc-list" || fail "fc-list failed in the image"
grep -q '^/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf: DejaVu Sans:style=Book$' "$TMP/fc-list" ||
	{ cat "$TMP/fc-list"; fail "fc-list does not find DejaVu Sans"; }
# The build-time cache itself is valid for the image's font directory.
chroot "$TMP/root" /usr/bin/fc-cat /usr/share/fonts/truetype/dejavu >"$TMP/fc-cat" 2>&1 || true
grep -q '^"DejaVuSans.ttf" 0 ' "$TMP/fc-cat" ||
	fail "fc-cat finds no valid cache for the DejaVu directory"
got=$(GSETTINGS_BACKEND=memory chroot "$TMP/root" /usr/bin/gsettings get org.gnome.desktop.interface font-name 2>&1) ||
	fail "gsettings failed in the image: $got"
[ "$got" = "'Cantarell 11'" ] || fail "gsettings read '$got'"
# Control: without the compiled schemas GLib finds none.
rm "$TMP/root/usr/share/glib-2.0/schemas/gschemas.compiled"
! GSETTINGS_BACKEND=memory chroot "$TMP/root" /usr/bin/gsettings get org.gnome.desktop.interface font-name >/dev/null 2>&1 ||
	fail "gsettings works without gschemas.compiled: the check proves nothing"

"$LETHE" build "$TMP/spec/triggers.yaml" -o "$TMP/b" --lock "$TMP/a/lethe.lock" --key "$key" --quiet ||
	fail "the second build failed"
diff "$TMP/a/SHA256SUMS" "$TMP/b/SHA256SUMS" || fail "two builds of the same spec and lock differ"
echo "build-triggers: fc-cache and glib-compile-schemas ran, fonts and schemas found in the image, two builds identical"
