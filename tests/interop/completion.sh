#!/usr/bin/env bash
# The completions (completion/gen.sh, generated at build time from the lethe just built)
# load into their shells: the bash one with bash-completion, found through `complete
# -p`; the zsh one through compinit and its #compdef line, from an fpath directory. In
# each shell they complete every verb `lethe --help` lists, every option of each verb's
# --help and getopt table, the subcommands of spec, firewall and verity, and argument
# values. Without zsh the bash half still runs and the test then skips.
. "$LETHE_SRC/tests/lib.sh"
comp=${LETHE_COMPLETION:-$LETHE_BUILD/completion/lethe}
[ -f "$comp" ] || fail "no generated completion at $comp"
zcomp=${LETHE_ZSH_COMPLETION:-$LETHE_BUILD/completion/_lethe}
[ -f "$zcomp" ] || fail "no generated zsh completion at $zcomp"
bc=/usr/share/bash-completion/bash_completion
[ -f "$bc" ] || fail "bash-completion is not installed (scripts/deps.sh)"

# complete WORD...: what the completion function for lethe of $shell offers for the
# last WORD, one per line, in a fresh shell with the completion system loaded.
complete_bash() {
	bash --norc --noprofile -c '
		. "$1"; . "$2"; shift 2
		spec=$(complete -p lethe) || { echo "no complete spec for lethe" >&2; exit 1; }
		fn=$(sed -E "s/.*-F ([^ ]+).*/\1/" <<<"$spec")
		COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		"$fn" lethe "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' complete "$bc" "$comp" "$@"
}
# In zsh, compinit must find the function for lethe by the file's #compdef line; then
# the function runs with zsh's words and CURRENT, and compadd and _files (which only a
# completion widget may call) print what they are given that matches the word.
complete_zsh() {
	zsh -f -c '
		zcomp=$1; shift
		fpath=(${zcomp:h} $fpath)
		autoload -Uz compinit && compinit -u -D
		[[ $_comps[lethe] == ${zcomp:t} ]] ||
			{ print -u2 "compinit finds no function for lethe in ${zcomp:h}"; exit 1; }
		compadd() {
			while [[ $1 == -* && $1 != -- ]]; do shift; done
			[[ $1 == -- ]] && shift
			local w
			for w; do [[ $w == ${words[CURRENT]}* ]] && print -r -- $w; done
			return 0
		}
		_files() {
			local -a f
			if [[ $1 == -/ ]]; then f=(${words[CURRENT]}*(N/)); else f=(${words[CURRENT]}*(N)); fi
			print -rl -- $f
		}
		words=("$@"); CURRENT=$#words
		$_comps[lethe]
		return 0' complete "$zcomp" "$@"
}
complete_words() { "complete_$shell" "$@"; }
errors=0
err() { echo "FAIL: $*" >&2; errors=$((errors + 1)); }
expect() { # expect WORD WORD... :: COMPLETIONS...
	local words=() got w
	while [ "$1" != :: ]; do words+=("$1"); shift; done
	shift
	got=$(complete_words "${words[@]}") || { err "$shell: completing '${words[*]}' failed"; return; }
	for w in "$@"; do
		grep -qxF -- "$w" <<<"$got" || err "$shell: '${words[*]}<TAB>' does not offer '$w' (got: $(echo $got))"
	done
}

verbs=$("$LETHE" --help | awk '/^verbs:/ { v = 1; next } v && /^$/ { exit } v { print $1 }')
[ -n "$verbs" ] || fail "'lethe --help' lists no verbs"
touch "$TMP/spec-file.yaml"

check_shell() {
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
	expect lethe spec check "$TMP/spec-f" :: "$TMP/spec-file.yaml"
	[ "$(complete_words lethe nosuchverb '')" = "" ] || err "$shell: an unknown verb completes something"
}

shell=bash check_shell
zsh_skip=
if command -v zsh >/dev/null; then
	shell=zsh check_shell
else
	zsh_skip="zsh is not installed (scripts/deps.sh): the zsh completion is not checked"
fi

[ "$errors" -eq 0 ] || fail "$errors completions missing"
[ -z "$zsh_skip" ] || skip "$zsh_skip (bash completes every verb)"
note "bash and zsh complete $(echo $verbs | wc -w) verbs, their options and subcommands"
