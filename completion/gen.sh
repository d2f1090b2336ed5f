#!/usr/bin/env bash
# Write lethe's bash or zsh completion on stdout, read from the program itself: the verbs
# from `lethe --help`, each verb's subcommands (the lowercase words of its usage lines),
# its options and what their arguments are (the option lines of `lethe VERB --help`).
# The build runs it on the lethe it just linked, so neither completion can drift from
# the verb table or the options. Both shells get the same tables (shell functions that
# bash and zsh read alike); only the function that answers the shell differs.
# Usage: gen.sh bash|zsh LETHE
set -euo pipefail
shell=${1:?usage: gen.sh bash|zsh LETHE}
lethe=${2:?usage: gen.sh bash|zsh LETHE}
case $shell in bash | zsh) ;; *) echo "gen.sh: no completion for '$shell'" >&2; exit 2 ;; esac

verbs=$("$lethe" --help | awk '/^verbs:/ { v = 1; next } v && /^$/ { exit } v && /^  [a-z]/ { print $1 }')
[ -n "$verbs" ] || { echo "gen.sh: '$lethe --help' lists no verbs" >&2; exit 1; }

# One verb's help on stdin; prints three lines: subcommands, options, then the argument
# kind of each option that takes one, as "OPT=KIND" words (KIND: file, dir, none, or
# the alternatives a|b).
parse_help() {
	awk -v verb="$1" '
	function kind(meta) {
		gsub(/'\''/, "", meta)
		if (meta ~ /^[a-z0-9]+(\|[a-z0-9]+)+$/) return meta
		if (meta ~ /DIR$|^D$/) return "dir"
		if (meta ~ /^(FILE|F|SPEC|SECKEY|PUBKEY|SIG|SHA256SUMS|PATH|DEVICE)$/) return "file"
		return "none"
	}
	/^(usage:)? +lethe / {
		sub(/^usage:/, "")
		if ($1 == "lethe" && $2 == verb && $3 ~ /^[a-z]+$/ && !(($3) in seen_sub)) {
			seen_sub[$3] = 1; subs = subs " " $3
		}
	}
	# Option lines are indented a little; continuation lines more.
	/^ +-/ && match($0, /^ +/) && RLENGTH <= 8 {
		line = $0
		sub(/^ +/, "", line)
		# "-p, --public-key FILE  text", "--json  text", "-q, --quiet  text"
		n = split(line, w, / /)
		i = 1; nl = 0
		while (i <= n && w[i] ~ /^(-[A-Za-z]|--[a-z0-9][a-z0-9-]*),?$/) {
			opt = w[i]; sub(/,$/, "", opt)
			comma = (w[i] ~ /,$/)
			if (!(opt in seen_opt)) { seen_opt[opt] = 1; opts = opts " " opt }
			lineopt[++nl] = opt
			i++
			if (!comma) break
		}
		# An argument is the word right after the option, one space away.
		if (nl && i <= n && w[i] ~ /^[A-Za-z'\''][^ ]*$/ &&
		    (w[i] ~ /[A-Z|'\'']/ || w[i] ~ /^[a-z0-9]+\|/)) {
			k = kind(w[i])
			for (j = 1; j <= nl; j++) args = args " " lineopt[j] "=" k
		}
	}
	END {
		if (!("--help" in seen_opt)) opts = opts " -h --help"
		print substr(subs, 2); print substr(opts, 2); print substr(args, 2)
	}'
}

# zsh finds a completion function by the #compdef line its file starts with.
[ "$shell" = bash ] || echo '#compdef lethe'
echo "# $shell completion for lethe(1). Generated from 'lethe --help' and 'lethe VERB --help'"
echo '# by completion/gen.sh when Lethe is built: do not edit.'
printf '_lethe_verbs=%q\n\n' "$(echo $verbs)"
echo '_lethe_verb_words() {'
echo '	case $1 in'
arg_cases=
for v in $verbs; do
	{ read -r subs; read -r opts; read -r args; } < <("$lethe" "$v" --help | parse_help "$v")
	printf '\t%s) _lethe_subs=%q _lethe_opts=%q ;;\n' "$v" "$subs" "$opts"
	for a in $args; do
		arg_cases+=$(printf '\t%q) echo %q ;;' "$v ${a%%=*}" "${a#*=}")$'\n'
	done
done
echo '	*) return 1 ;;'
echo '	esac'
echo '}'
echo
echo '# The kind of argument that option $2 of verb $1 takes: file, dir, none, or a|b.'
echo '_lethe_arg_kind() {'
echo '	case "$1 $2" in'
printf '%s' "$arg_cases"
echo '	esac'
echo '}'
if [ "$shell" = zsh ]; then
	cat <<'EOF'

_lethe_files() {
	if [[ $1 == dir ]]; then _files -/; else _files; fi
}

# The same walk as the bash completion's, over zsh's words (1-based) and CURRENT.
_lethe() {
	local cur=${words[CURRENT]} prev=${words[CURRENT - 1]} verb=${words[2]}
	local _lethe_subs= _lethe_opts= kind i
	if ((CURRENT == 2)); then
		compadd -- ${=_lethe_verbs} --help --version
		return
	fi
	_lethe_verb_words "$verb" || return 1
	if ((CURRENT > 3)); then
		kind=$(_lethe_arg_kind "$verb" "$prev")
		case $kind in
		'') ;;
		file | dir) _lethe_files "$kind"; return ;;
		none) return 1 ;;
		*) compadd -- ${(s:|:)kind}; return ;;
		esac
	fi
	if [[ $cur == -* ]]; then
		compadd -- ${=_lethe_opts}
		return
	fi
	if [[ -n $_lethe_subs ]]; then
		# The subcommand comes first among the words that are not options.
		for ((i = 3; i < CURRENT; i++)); do
			[[ " $_lethe_subs " == *" ${words[i]} "* ]] && break
		done
		if ((i == CURRENT)); then
			compadd -- ${=_lethe_subs}
			return
		fi
	fi
	_lethe_files file
}

_lethe "$@"
EOF
	exit 0
fi
cat <<'EOF'

_lethe_files() {
	if declare -F _filedir >/dev/null; then
		if [ "$1" = dir ]; then _filedir -d; else _filedir; fi
	else
		local IFS=$'\n'
		compopt -o filenames 2>/dev/null
		if [ "$1" = dir ]; then
			COMPREPLY=($(compgen -d -- "$cur"))
		else
			COMPREPLY=($(compgen -f -- "$cur"))
		fi
	fi
}

_lethe() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev= verb=${COMP_WORDS[1]:-}
	local _lethe_subs= _lethe_opts= kind i
	COMPREPLY=()
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	if ((COMP_CWORD == 1)); then
		COMPREPLY=($(compgen -W "$_lethe_verbs --help --version" -- "$cur"))
		return 0
	fi
	_lethe_verb_words "$verb" || return 0
	if ((COMP_CWORD > 2)); then
		kind=$(_lethe_arg_kind "$verb" "$prev")
		case $kind in
		'') ;;
		file | dir) _lethe_files "$kind"; return 0 ;;
		none) return 0 ;;
		*) COMPREPLY=($(compgen -W "${kind//|/ }" -- "$cur")); return 0 ;;
		esac
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$_lethe_opts" -- "$cur"))
		return 0
	fi
	if [ -n "$_lethe_subs" ]; then
		# The subcommand comes first among the words that are not options.
		for ((i = 2; i < COMP_CWORD; i++)); do
			[[ " $_lethe_subs " == *" ${COMP_WORDS[i]} "* ]] && break
		done
		if ((i == COMP_CWORD)); then
			COMPREPLY=($(compgen -W "$_lethe_subs" -- "$cur"))
			return 0
		fi
	fi
	_lethe_files file
}
complete -F _lethe lethe
EOF
