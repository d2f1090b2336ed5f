#!/usr/bin/env bash
# `meson install` (what `make install` and the Debian package run) into a DESTDIR puts
# every piece in its FHS place: lethe in bin, lethe-image and lethe-init in
# libexec/lethe, liblethe (shared and static) with its headers and pkg-config file, the
# man pages and the bash completion. A program built against the installed headers and
# liblethe.pc links and runs, and each public header compiles on its own.
. "$LETHE_SRC/tests/lib.sh"
need_cmd pkg-config cc
dest=$TMP/dest
log=$LETHE_BUILD/meson-logs/install-log.txt
# The install log is what `make uninstall` reads: keep the last real install's.
[ -f "$log" ] && cp "$log" "$TMP/install-log.txt" && on_exit "cp '$TMP/install-log.txt' '$log'"
meson install -C "$LETHE_BUILD" --no-rebuild --quiet --destdir "$dest" >"$TMP/install.out" 2>&1 ||
	{ cat "$TMP/install.out" >&2; fail "meson install failed"; }
[ -f "$TMP/install-log.txt" ] || on_exit "rm -f '$log'"

opt() { meson introspect --buildoptions "$LETHE_BUILD" |
	python3 -c 'import json,sys; print({o["name"]: o["value"] for o in json.load(sys.stdin)}[sys.argv[1]])' "$1"; }
prefix=$(opt prefix) bindir=$(opt bindir) libdir=$(opt libdir) libexecdir=$(opt libexecdir)
includedir=$(opt includedir) mandir=$(opt mandir) datadir=$(opt datadir)
p() { case $1 in /*) echo "$dest$1" ;; *) echo "$dest$prefix/$1" ;; esac; }

for f in "$(p "$bindir")/lethe" "$(p "$libexecdir")/lethe/lethe-image" "$(p "$libexecdir")/lethe/lethe-init"; do
	[ -x "$f" ] || fail "not installed: ${f#"$dest"}"
done
for f in "$(p "$libdir")/liblethe.so.0" "$(p "$libdir")/liblethe.a" "$(p "$libdir")/pkgconfig/liblethe.pc" \
	"$(p "$includedir")/lethe/util.h" "$(p "$datadir")/bash-completion/completions/lethe" \
	"$(p "$datadir")/zsh/vendor-completions/_lethe" \
	"$(p "$mandir")/man1/lethe.1" "$(p "$mandir")/man1/lethe-build.1" "$(p "$mandir")/man5/lethe-spec.5" \
	"$(p "$mandir")/man8/lethe-init.8"; do
	[ -f "$f" ] || fail "not installed: ${f#"$dest"}"
done
[ ! -e "$(p "$includedir")/lethe/banned.h" ] || fail "the private banned.h is installed"
for v in $("$LETHE" --help | awk '/^verbs:/ { v = 1; next } v && /^$/ { exit } v { print $1 }'); do
	[ -f "$(p "$mandir")/man1/lethe-$v.1" ] || fail "no man page installed for verb $v"
done

"$(p "$bindir")/lethe" --version | grep -q '^lethe ' || fail "the installed lethe does not run"

# Each public header compiles alone, with the flags of the installed liblethe.pc.
export PKG_CONFIG_PATH=$(p "$libdir")/pkgconfig
pc="pkg-config --define-variable=prefix=$dest$prefix"
cflags=$($pc --cflags liblethe) || fail "pkg-config cannot read the installed liblethe.pc"
for h in "$(p "$includedir")"/lethe/*.h; do
	printf '#include <lethe/%s>\n' "$(basename "$h")" >"$TMP/h.c"
	cc -std=gnu11 -Wall -Werror $cflags -fsyntax-only "$TMP/h.c" 2>"$TMP/cc.err" ||
		{ cat "$TMP/cc.err" >&2; fail "<lethe/$(basename "$h")> does not compile on its own"; }
done
cat >"$TMP/prog.c" <<'C'
#include <stdio.h>
#include <lethe/util.h>
int main(void)
{
	const char *m = lethe_error_message();
	printf("liblethe linked: '%s'\n", m ? m : "");
	return 0;
}
C
cc -std=gnu11 $cflags "$TMP/prog.c" -o "$TMP/prog" $($pc --libs liblethe) 2>"$TMP/cc.err" ||
	{ cat "$TMP/cc.err" >&2; fail "a program cannot link the installed liblethe"; }
LD_LIBRARY_PATH=$(p "$libdir") "$TMP/prog" | grep -q 'liblethe linked' || fail "the program linked to liblethe does not run"
note "installed under $prefix: programs, library, headers, pkg-config, man pages, completion"
