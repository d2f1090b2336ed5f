# Shared by the lethe run VM tests (boot.sh, amnesia.sh; not a test itself): the default
# image built by `lethe build`, and the console shell `lethe run --exec` needs.
. "$LETHE_SRC/tests/interop/build-common.bash"

# run_image: the output directory of examples/minimal.yaml (or of $LETHE_RUN_IMAGE, an
# image built by hand, for manual runs), or skip.
run_image() {
	need_cmd qemu-system-x86_64
	local out=${LETHE_RUN_IMAGE:-}
	[ -n "$out" ] || out=$(build_image_or_skip minimal) || exit
	[ -f "$out/initramfs.img" ] || fail "lethe build made no boot artifacts in '$out'"
	# lethe run --exec types into the console shell that lethe-init starts when the spec
	# has no services: /bin/sh, or failing that /bin/busybox (docs/boot.md).
	grep -Eq '^\./bin/(sh|busybox) ' "$out/manifest.mtree" ||
		fail "the minimal image has neither /bin/sh nor /bin/busybox: no console shell for --exec"
	echo "$out"
}
