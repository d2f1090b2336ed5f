#!/usr/bin/env bash
# An interrupted build (issue 10.9): SIGINT, SIGTERM and SIGHUP while a tool of the
# build runs (a stand-in mkfs.erofs that starts a child of its own and waits) stop that
# tool and its child, remove the build's temporary directories, leave the output
# directory (an earlier build) as it was, and lethe dies of the signal.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
need_cmd env

ref=$(build_image_or_skip minimal)
spec=$LETHE_SRC/examples/minimal.yaml
key=$(test_key)
mkdir -p "$TMP/p"
cp -a "$ref" "$TMP/p/out"
before=$(cd "$TMP/p/out" && sha256sum SHA256SUMS && stat -c %i .)

cat >"$TMP/slow-mkfs" <<EOS
#!/bin/sh
sleep 300 &
echo "\$\$ \$!" >"$TMP/pids.tmp" && mv "$TMP/pids.tmp" "$TMP/pids"
wait
EOS
chmod +x "$TMP/slow-mkfs"

gone() { # PID: no such process, or a zombie
	local st
	st=$(sed -n 's/^[0-9]* (.*) \(.\) .*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 0
	[ -z "$st" ] || [ "$st" = Z ]
}

for sig in INT TERM HUP; do
	rm -f "$TMP/pids"
	# env --default-signal: a background job of a script starts with SIGINT ignored.
	LETHE_MKFS_EROFS=$TMP/slow-mkfs env --default-signal="$sig" "$LETHE" build "$spec" \
		-o "$TMP/p/out" --lock "$ref/lethe.lock" --key "$key" --quiet 2>"$TMP/err-$sig" &
	pid=$!
	for _ in $(seq 600); do [ -f "$TMP/pids" ] && break; sleep 0.2; done
	[ -f "$TMP/pids" ] || { kill -KILL "$pid"; fail "SIG$sig: the build never reached mkfs.erofs"; }
	read -r tool child <"$TMP/pids"
	on_exit "kill -KILL $tool $child 2>/dev/null"
	kill -s "$sig" "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -ne 0 ] || fail "SIG$sig: the build succeeded"
	for _ in $(seq 50); do gone "$tool" && gone "$child" && break; sleep 0.1; done
	gone "$tool" || { kill -KILL "$tool"; fail "SIG$sig: mkfs.erofs ($tool) still runs"; }
	gone "$child" || { kill -KILL "$child"; fail "SIG$sig: the child of mkfs.erofs ($child) still runs"; }
	left=$(find "$TMP/p" -mindepth 1 -maxdepth 1 -name '.*')
	[ -z "$left" ] || fail "SIG$sig: temporaries left: $left"
	[ "$(cd "$TMP/p/out" && sha256sum SHA256SUMS && stat -c %i .)" = "$before" ] ||
		fail "SIG$sig: the output directory changed"
	[ "$rc" -eq $((128 + $(kill -l "$sig"))) ] ||
		{ cat "$TMP/err-$sig" >&2; fail "SIG$sig: lethe exited $rc, not of the signal"; }
	grep -q "interrupted" "$TMP/err-$sig" || { cat "$TMP/err-$sig" >&2; fail "SIG$sig: no message"; }
	note "SIG$sig: tool and child stopped, temporaries removed, output kept"
done
