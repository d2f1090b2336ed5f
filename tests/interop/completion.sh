#!/usr/bin/env bash
# The bash completion (completion/gen-bash.sh, generated at build time from the lethe
# just built) loads into bash with bash-completion, registers with `complete -p`, and
# completes: every verb `lethe --help` lists, every option of each verb's --help and
# getopt table, the subcommands of spec, firewall and verity, and argument values.
. "$LETHE_SRC/tests/lib.sh"
comp=${LETHE_COMPLETION:-$LETHE_BUILD/completion/lethe}
[ -f "$comp" ] || fail "no generated completion at $comp"
bc=/usr/share/bash-completion/bash_completion
[ -f "$bc" ] || fail "bash-completion is not installed (scripts/deps.sh)"

# complete WORD...: what bash's completion function for lethe offers for the last WORD,
# one per line, in a fresh interactive-like bash with bash-completion loaded.
complete_words() {
	bash --norc --noprofile -c '
		. "$1"; . "$2"; shift 2
		spec=$(complete -p lethe) || { echo "no complete spec for lethe" >&2; exit 1; }
		fn=$(sed -E "s/.*-F ([^ ]+).*/\1/" <<<"$spec")
		COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		"$fn" lethe "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' complete "$bc" "$comp" "$@"
}
errors=0
err() { echo "FAIL: $*" >&2; errors=$((errors + 1)); }
expect() { # expect WORD WORD... :: COMPLETIONS...
	local words=() got w
	while [ "$1" != :: ]; do words+=("$1"); shift; done
	shift
	got=$(complete_words "${words[@]}") || { err "completing '${words[*]}' failed"; return; }
	for w in "$@"; do
		grep -qxF -- "$w" <<<"$got" || err "'${words[*]}<TAB>' does not offer '$w' (got: $(echo $got))"
	done
}

verbs=$("$LETHE" --help | awk '/^verbs:/ { v = 1; next } v && /^$/ { exit } v { print $1 }')
[ -n "$verbs" ] || fail "'lethe --help' lists no verbs"
# shellcheck disable=SC2086
expect lethe '' :: $verbs --help --version
for v in $verbs; do
	expect lethe "${v:0:2}" :: "$v"
	opts=$("$LETHE" "$v" --help | grep -E '^ {1,8}-' | grep -oE -- '--[a-z0-9][a-z0-9-]*' | sort -u)
	src=$LETHE_SRC/src/lethe/cmd-$v.c
	[ -f "$src" ] && opts+=$'\n'$(grep -oE '\{ *"[a-z][a-z0-9-]*", *(no|required|optional)_argument' "$src" |
		sed -E 's/\{ *"([^"]*)".*/--\1/')
	# shellcheck disable=SC2086
	expect lethe "$v" -- :: $(echo "$opts" | sort -u)
done
expect lethe spec '' :: check
expect lethe firewall '' :: show apply check
expect lethe verity '' :: format verify dump
expect lethe run out --accel '' :: tcg kvm
expect lethe verity format --hash '' :: sha256 sha512
expect lethe build spec.yaml --ou :: --output
# An option's argument is a file: the completion offers this test's file.
touch "$TMP/spec-file.yaml"
expect lethe spec check "$TMP/spec-f" :: "$TMP/spec-file.yaml"
[ "$(complete_words lethe nosuchverb '')" = "" ] || err "an unknown verb completes something"

[ "$errors" -eq 0 ] || fail "$errors completions missing"
note "bash completes $(echo $verbs | wc -w) verbs, their options and subcommands"
