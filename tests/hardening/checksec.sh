#!/usr/bin/env bash
# Lethe's own binaries are built as a hardening project's should be (issue 10.17):
# full RELRO, a stack canary, NX and PIE for lethe, lethe-image and the static-pie
# lethe-init, and _FORTIFY_SOURCE in effect (fortified libc calls linked in).
#   checksec.sh                       check the three binaries of this build tree
#   checksec.sh [-d FILE]... [-s FILE]...   check dynamic (-d) or static (-s) FILEs
# A sanitizer or fuzz tree is built without fortify on purpose: there it skips.
. "$LETHE_SRC/tests/lib.sh"
need_cmd checksec readelf

dynamic=() static=()
while [ $# -gt 0 ]; do
	case $1 in
	-d) dynamic+=("$2"); shift 2 ;;
	-s) static+=("$2"); shift 2 ;;
	*) fail "usage: checksec.sh [-d FILE]... [-s FILE]..." ;;
	esac
done
if [ ${#dynamic[@]} -eq 0 ] && [ ${#static[@]} -eq 0 ]; then
	[ "${LETHE_SANITIZED:-false}" = false ] ||
		skip "a sanitizer build goes without _FORTIFY_SOURCE by design"
	dynamic=("$LETHE" "$LETHE_IMAGE_TOOL")
	static=("$LETHE_INIT")
fi

bad=0
problem() { echo "FAIL: $1: $2" >&2; bad=1; }

# checksec's CSV: RELRO,Canary,NX,PIE,RPATH,RUNPATH,Symbols,FORTIFY,Fortified,Fortifiable,file
check() { # FILE KIND
	local file=$1 kind=$2 csv relro canary nx pie fortify fortified
	[ -f "$file" ] || { problem "$file" "no such file"; return; }
	csv=$(checksec --file="$file" --output=csv) || { problem "$file" "checksec failed"; return; }
	IFS=, read -r relro canary nx pie _ _ _ fortify fortified _ <<<"$csv"
	note "$kind $file: $csv"
	[ "$relro" = "Full RELRO" ] || problem "$file" "$relro, not Full RELRO (-Wl,-z,relro -Wl,-z,now)"
	[ "$canary" = "Canary found" ] || problem "$file" "no stack canary (-fstack-protector-strong)"
	[ "$nx" = "NX enabled" ] || problem "$file" "NX disabled (an executable stack)"
	[ "$pie" = "PIE enabled" ] || problem "$file" "$pie (-fPIE -pie, or -static-pie)"
	if [ "$kind" = dynamic ]; then
		[ "$fortify" = Yes ] && [ "${fortified:-0}" -gt 0 ] ||
			problem "$file" "no fortified libc call (_FORTIFY_SOURCE)"
	else
		# checksec reads FORTIFY from the dynamic symbols; a static binary carries
		# the fortified functions themselves.
		file "$file" | grep -q 'static-pie linked' || problem "$file" "not static-pie"
		readelf -sW "$file" | awk '$4 == "FUNC" && $8 ~ /^__[a-z0-9_]+_chk$/' |
			grep -q . || problem "$file" "no fortified libc call (_FORTIFY_SOURCE)"
	fi
}

for f in "${dynamic[@]}"; do check "$f" dynamic; done
for f in "${static[@]}"; do check "$f" static; done
exit $bad
