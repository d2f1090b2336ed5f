#!/usr/bin/env bash
# Every artifact name of a release is spelled once in lib/ and src/: in the table of
# lib/release/names.c (issue 9). A quoted literal equal to a name anywhere else fails,
# except the uses below that are not the artifact (a spec or JSON key of the same
# spelling).
. "$LETHE_SRC/tests/lib.sh"

table=$LETHE_SRC/lib/release/names.c
# FILE:NAME pairs allowed, with why.
allowed=(
	"lib/spec/system.c:cmdline"      # the spec key kernel.cmdline, not the file
	"src/lethe/cmd-build.c:roothash" # a key of the --json summary
)
names=$(sed -n 's/^[[:space:]]*\[LETHE_ARTIFACT_[A-Z_]*\] = "\([^"]*\)",$/\1/p' "$table")
[ "$(echo "$names" | wc -l)" -ge 13 ] || fail "cannot read the names from $table"
bad=0
for n in $names; do
	while IFS=: read -r file _; do
		[ "$file" = "lib/release/names.c" ] && continue
		ok=0
		for a in "${allowed[@]}"; do [ "$a" = "$file:$n" ] && ok=1; done
		[ "$ok" -eq 1 ] && continue
		echo "'$n' spelled again in $file" >&2
		bad=1
	done < <(cd "$LETHE_SRC" && grep -rlF --include='*.c' --include='*.h' "\"$n\"" lib src | sed 's/$/:/')
done
[ "$bad" -eq 0 ] || fail "artifact names outside lib/release/names.c (use lethe_release_name())"
note "each of $(echo "$names" | wc -l) artifact names is spelled once, in $table"
