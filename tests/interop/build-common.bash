# Shared by the build-*.sh interop tests (not a test itself: meson runs *.sh only).
# build_image_or_skip NAME: image_dir NAME, but a build that failed because the apt
# repository could not be reached skips the test (exit 77) and says so.
build_image_or_skip() {
	local name=$1 dir
	if dir=$(image_dir "$name" 2>"$TMP/image-build.err"); then
		echo "$dir"
		return 0
	fi
	if grep -Eqi 'could not resolve|temporary failure|failed to fetch|unable to connect|network is unreachable|connection (refused|timed out)|apt-get update|no route to host' \
		"$TMP/image-build.err"; then
		cat "$TMP/image-build.err" >&2
		skip "the apt repository cannot be reached: cannot build examples/$name.yaml"
	fi
	cat "$TMP/image-build.err" >&2
	fail "lethe build examples/$name.yaml failed"
}

# The secret key image_dir signs with, and its public key.
test_pub() { local k; k=$(test_key); echo "${k%.key}.pub"; }
