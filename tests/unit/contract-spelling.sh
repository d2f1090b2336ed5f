#!/bin/bash
# The contract (include/lethe/contract.h) is spelled once: no string literal in lib/,
# src/ or include/ repeats a cmdline key or an in-image path it defines; every user
# takes the macro. The values come from the preprocessor, so a composed macro
# (LETHE_PATH_RUN "/audit.json") is checked whole.
set -euo pipefail
src=${LETHE_SRC:?}
cc=${CC:-cc}
# Generic Linux paths and the key prefix are not Lethe's to own.
skip='^(LETHE_CMDLINE_PREFIX|LETHE_PATH_INITRAMFS_INIT|LETHE_PATH_MODULES_DIR)$'
names=$(sed -nE 's/^#define ((LETHE_CMDLINE|LETHE_PATH|LETHE_DM_ROOT)_[A-Z0-9_]+|LETHE_BOOT_ENTRY_[A-Z]+_ID)[[:space:]].*/\1/p' \
	"$src/include/lethe/contract.h" | grep -Ev "$skip")
[ -n "$names" ] || { echo "no cmdline keys or paths in contract.h"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
	echo '#include <lethe/contract.h>'
	for n in $names; do echo "@@ ${n/LETHE_/} $n"; done # the name unexpanded
} > "$tmp/v.c"
"$cc" -E -P -I"$src/include" "$tmp/v.c" | grep '^@@' > "$tmp/values"
fail=0
checked=0
while read -r _ name rest; do
	name=LETHE_$name
	# "a" "b" -> ab
	value=$(printf '%s' "$rest" | sed -E 's/" *"//g; s/^"//; s/"$//')
	re=$(printf '%s' "$value" | sed -E 's/[.[\*^$/]/\\&/g')
	rel=$(printf '%s' "${value#/}" | sed -E 's/[.[\*^$/]/\\&/g')
	# The value as a whole word: lethe-root-a (a partition name) is not lethe-root.
	end='($|[^A-Za-z0-9_.-])'
	hits=$(grep -rnE "\"[^\"]*$re$end|\"$rel$end" "$src/lib" "$src/src" "$src/include" \
		--include='*.c' --include='*.h' | grep -v 'include/lethe/contract.h:' || true)
	if [ -n "$hits" ]; then
		echo "$name ('$value') is spelled outside contract.h; use the macro:"
		echo "$hits"
		fail=1
	fi
	checked=$((checked + 1))
done < "$tmp/values"
echo "checked $checked contract values"
[ "$checked" -ge 8 ] || { echo "expected at least 8 values"; exit 1; }
exit $fail
