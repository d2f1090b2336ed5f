#!/usr/bin/env bash
# The man pages (docs/man/*.scd, built by scdoc): lethe(1), lethe-spec(5), lethe-init(8)
# and a lethe-VERB(1) for every verb `lethe --help` lists; every option of `lethe VERB
# --help` and of the verb's getopt table (src/lethe/cmd-VERB.c) is in its page; every
# page passes lexgrog and `man --warnings` (groff's warnings, as lintian runs them).
# LETHE_MAN_DIR overrides the folder of the built pages (to show that a missing page fails).
. "$LETHE_SRC/tests/lib.sh"
need_cmd man lexgrog
mandir=${LETHE_MAN_DIR:-$LETHE_BUILD/docs/man}
[ -f "$mandir/lethe.1" ] || fail "no built man pages in $mandir (is scdoc installed? scripts/deps.sh)"

verbs=$("$LETHE" --help | awk '/^verbs:/ { v = 1; next } v && /^$/ { exit } v { print $1 }')
[ "$(echo "$verbs" | wc -l)" -ge 10 ] || fail "'lethe --help' lists too few verbs: $verbs"

# A page's text with roff's font escapes and \- removed: what the options are looked for in.
page_text() { sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e 's/\\&//g' "$1"; }
has_word() { grep -Eq -- "(^|[^A-Za-z0-9-])$2([^A-Za-z0-9-]|$)" <<<"$1"; }

errors=0
err() { echo "FAIL: $*" >&2; errors=$((errors + 1)); }

for page in lethe.1 lethe-spec.5 lethe-init.8; do
	[ -f "$mandir/$page" ] || err "no man page $page"
done
for v in $verbs; do
	page=$mandir/lethe-$v.1
	if [ ! -f "$page" ]; then
		err "verb '$v' has no man page lethe-$v.1"
		continue
	fi
	text=$(page_text "$page")
	has_word "$(page_text "$mandir/lethe.1")" "lethe-$v" || err "lethe(1) does not name lethe-$v(1)"
	# The options its --help shows (long and short, on the option lines)...
	opts=$("$LETHE" "$v" --help | grep -E '^ {1,8}-' | grep -oE -- '(^|[ ,])(--[a-z0-9][a-z0-9-]*|-[A-Za-z])' |
		tr -d ' ,' | sort -u)
	# ...and every long option of its getopt table, which --help might have forgotten.
	src=$LETHE_SRC/src/lethe/cmd-$v.c
	[ -f "$src" ] && opts+=$'\n'$(grep -oE '\{ *"[a-z][a-z0-9-]*", *(no|required|optional)_argument' "$src" |
		sed -E 's/\{ *"([^"]*)".*/--\1/' | sort -u)
	for o in $(echo "$opts" | sort -u); do
		has_word "$text" "$o" || err "lethe-$v.1 does not document $o (in 'lethe $v --help' or cmd-$v.c)"
	done
done

# Every page: a NAME section that lexgrog (mandb's whatis) parses, and no groff warning.
n=0
for page in "$mandir"/*.[0-9]; do
	n=$((n + 1))
	lexgrog "$page" >/dev/null 2>&1 || err "lexgrog cannot parse the NAME section of $(basename "$page")"
	warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
		man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null) || err "man -l $(basename "$page") failed"
	[ -z "$warnings" ] || err "groff warns about $(basename "$page"): $warnings"
done

[ "$errors" -eq 0 ] || fail "$errors problems in the man pages"
note "$n man pages: every verb has one, every option documented, lexgrog and groff clean"
