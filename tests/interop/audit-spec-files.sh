#!/usr/bin/env bash
# `lethe audit --root DIR` on an image whose spec has files: (issue 9.6): the copy of
# the spec inside an image is loaded as such because the audit says so, not because
# of its path, so its file sources (consumed at build time) are not looked up.
. "$LETHE_SRC/tests/lib.sh"

root="$TMP/root"
mkdir -p "$root/etc/lethe"
cat >"$root/etc/lethe/spec.yaml" <<'YAML'
name: t
version: "1"
packages: [busybox-static]
files:
  - {source: motd, destination: /etc/motd}
YAML
audit() { # audit ARGS...: must exit 1 (checks failed), output in $TMP/out and $TMP/err
	local rc=0
	"$LETHE" audit "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ "$rc" -eq 1 ] || { cat "$TMP/err" >&2; fail "'lethe audit $*' exited $rc, expected 1"; }
}
# Not a booted system: checks fail (exit 1), but the spec was read and judged by.
audit --root "$root"
grep -q "does not exist" "$TMP/err" "$TMP/out" && fail "the audit looked up a file source"
grep -Eq "^FAIL +firewall.spec +1 difference from the spec" "$TMP/out" ||
	fail "the audit did not judge by the image's spec: $(cat "$TMP/out" "$TMP/err")"
# The same with the spec named explicitly.
audit --root "$root" --spec "$root/etc/lethe/spec.yaml"
grep -Eq "^FAIL +firewall.spec " "$TMP/out" || fail "--spec: the spec was not used"
# Building still looks the sources up: lethe spec check refuses the missing one.
expect_fail 1 "file source '$root/etc/lethe/motd' does not exist" \
	"$LETHE" spec check "$root/etc/lethe/spec.yaml"
note "ok: an image's spec with files: is audited from --root"
