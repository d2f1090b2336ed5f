#!/bin/bash
# The tree passes its own .clang-format: every C file git tracks is formatted as
# clang-format would write it. Prints the first differing lines of each file that is not.
set -uo pipefail
src=${LETHE_SRC:?}
cd "$src" || exit 1
command -v clang-format >/dev/null || { echo "SKIP: clang-format is not installed"; exit 77; }
files=$(git ls-files '*.c' '*.h' 2>/dev/null) || files=$(find lib src include tests fuzz bench -name '*.[ch]')
[ -n "$files" ] || { echo "no C files found"; exit 1; }
bad=0 n=0
for f in $files; do
	n=$((n + 1))
	if ! out=$(clang-format --dry-run --Werror "$f" 2>&1); then
		echo "$f is not formatted (clang-format -i $f):"
		printf '%s\n' "$out" | head -n 6
		bad=$((bad + 1))
	fi
done
echo "$n files checked, $bad not formatted"
[ "$bad" -eq 0 ]
