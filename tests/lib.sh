# Helpers for Lethe's shell tests (interop and vm). Source it first thing:
#   . "$LETHE_SRC/tests/lib.sh"
# Exit 0 pass, 1 fail, 77 skip (meson counts 77 as skipped).
set -euo pipefail

: "${LETHE:?run through meson test or make check}"
: "${LETHE_SRC:?}" "${LETHE_BUILD:?}"

TEST_NAME=$(basename "$0" .sh)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/lethe-$TEST_NAME.XXXXXX")
_cleanups=()
_cleanup() {
	local i pid
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do eval "${_cleanups[i]}" || true; done
	if [ -f "$TMP/.servers" ]; then
		while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$TMP/.servers"
	fi
	rm -rf "$TMP"
}
trap _cleanup EXIT
# Run a command when the test ends, whatever the outcome (last added runs first).
on_exit() { _cleanups+=("$*"); }
# Stop process PID when the test ends: also from a helper that runs in a command
# substitution (port=$(start_http DIR)), whose on_exit would be lost with its subshell.
kill_at_exit() { echo "$1" >>"$TMP/.servers"; }

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }
note() { echo "# $*"; }

# Skip when a peer tool or a machine capability is missing.
need_cmd() {
	local c
	for c in "$@"; do command -v "$c" >/dev/null 2>&1 || skip "'$c' is not installed"; done
}
need_root() { [ "$(id -u)" -eq 0 ] || skip "needs root"; }

# expect_fail CODE PATTERN CMD...: CMD must exit with CODE and print PATTERN (an
# extended regex) on stderr.
expect_fail() {
	local code=$1 pattern=$2 rc=0
	shift 2
	"$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ "$rc" -eq "$code" ] || { cat "$TMP/err" >&2; fail "'$*' exited $rc, expected $code"; }
	grep -Eq -- "$pattern" "$TMP/err" ||
		{ cat "$TMP/err" >&2; fail "'$*': stderr does not match '$pattern'"; }
}

# expect_ok CMD...: CMD must succeed.
expect_ok() {
	"$@" >"$TMP/out" 2>"$TMP/err" || { cat "$TMP/err" >&2; fail "'$*' failed"; }
}

# Flip one bit of FILE at byte OFFSET (bit 0 unless given).
flip_bit() {
	local file=$1 off=$2 bit=${3:-0} byte
	byte=$(od -An -tu1 -j "$off" -N1 "$file" | tr -d ' ')
	printf "$(printf '\\%03o' $((byte ^ (1 << bit))))" |
		dd of="$file" bs=1 seek="$off" conv=notrunc status=none
}

# image_stale DIR [SOURCE...]: true when the release in DIR is missing or older than a
# Lethe program that goes into images (the CLI, lethe-init, the image's tools) or than
# one of the SOURCEs (its spec, say), so that a cached test image is built again.
image_stale() {
	local dir=$1 f
	shift
	[ -f "$dir/SHA256SUMS" ] || return 0
	for f in "$LETHE" "$LETHE_INIT" "$LETHE_BUILD"/src/lethe/lethe-* "$@"; do
		[ -e "$f" ] && [ "$f" -nt "$dir/SHA256SUMS" ] && return 0
	done
	return 1
}

# A built image for tests, shared between tests of one build tree and built once:
# image_dir SPEC_NAME prints the output directory of examples/SPEC_NAME.yaml.
image_dir() {
	local name=$1
	local out="$LETHE_BUILD/test-images/$name"
	mkdir -p "$LETHE_BUILD/test-images"
	(
		flock 9
		if [ ! -f "$out.build.json" ] || image_stale "$out" "$LETHE_SRC/examples/$name.yaml"; then
			rm -rf "$out" "$out.build.json"
			# The --json summary beside the release, for the schema test.
			"$LETHE" build --quiet --json "$LETHE_SRC/examples/$name.yaml" -o "$out" \
				--key "$(test_key)" >"$out.build.json.tmp"
			mv "$out.build.json.tmp" "$out.build.json"
		fi
	) 9>"$LETHE_BUILD/test-images/.lock"
	echo "$out"
}

# build_json NAME: the `lethe build --json` summary of image_dir NAME.
build_json() { image_dir "$1" >/dev/null && echo "$LETHE_BUILD/test-images/$1.build.json"; }

# A minisign key pair for tests, made once per build tree: prints the secret key's path;
# the public key is beside it with .pub.
test_key() {
	local dir="$LETHE_BUILD/test-key"
	mkdir -p "$dir"
	(
		flock 9
		[ -f "$dir/lethe.key" ] || "$LETHE" keygen -W -p "$dir/lethe.pub" -s "$dir/lethe.key" >/dev/null
	) 9>"$dir/.lock"
	echo "$dir/lethe.key"
}
