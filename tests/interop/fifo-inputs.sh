#!/usr/bin/env bash
# A FIFO (or another non-regular file) given where Lethe reads a file - a spec, a public
# or secret key, a signature, a signed file, verity data - is refused at once with a
# message naming it; it never hangs waiting for a writer (issue 10.8). Every command
# runs under `timeout 10`: a hang is exit 124, a failure.
. "$LETHE_SRC/tests/lib.sh"
need_cmd mkfifo timeout

cd "$TMP"
mkfifo fifo
printf 'hello\n' >msg
expect_ok "$LETHE" keygen -W -p k.pub -s k.key
expect_ok "$LETHE" sign -s k.key -x msg.minisig msg

# expect_refused WHAT CMD...: CMD exits promptly, not 0 and not by the timeout, and
# names the FIFO.
expect_refused() {
	local what=$1 rc=0
	shift
	timeout 10 "$@" >out 2>err </dev/null || rc=$?
	[ "$rc" -ne 124 ] || fail "$what: '$*' hung on a FIFO"
	[ "$rc" -ne 0 ] || fail "$what: '$*' accepted a FIFO"
	grep -qF "'$TMP/fifo'" err || grep -qF "'fifo'" err ||
		{ cat err >&2; fail "$what: the message does not name the FIFO"; }
	grep -qi "regular file\|a fifo" err ||
		{ cat err >&2; fail "$what: the message does not say why"; }
}

expect_refused "spec" "$LETHE" spec check "$TMP/fifo"
expect_refused "public key" "$LETHE" verify -p fifo -x msg.minisig msg
expect_refused "signature" "$LETHE" verify -p k.pub -x fifo msg
expect_refused "signed file" "$LETHE" verify -p k.pub -x msg.minisig fifo
expect_refused "secret key" "$LETHE" sign -s fifo -x out.minisig msg
expect_refused "file to sign" "$LETHE" sign -s k.key -x out.minisig fifo
expect_refused "sums" "$LETHE" verify --sums fifo -p k.pub -x msg.minisig
expect_refused "firewall spec" "$LETHE" firewall check "$TMP/fifo"
expect_refused "verity data" "$LETHE" verity format fifo "$TMP/hash"
expect_refused "verity hash" "$LETHE" verity verify msg fifo \
	0000000000000000000000000000000000000000000000000000000000000000
# A directory is refused the same way, with its kind named.
mkdir dir
rc=0
timeout 10 "$LETHE" spec check "$TMP/dir" >out 2>err || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "a directory as spec: exit $rc"
grep -qF "'$TMP/dir'" err || { cat err >&2; fail "a directory as spec: not named"; }
