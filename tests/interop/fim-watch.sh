#!/usr/bin/env bash
# lethe fim watch on the host: as root, fanotify filesystem marks report a create, a
# write, a rename and a delete below the watched tree with names and the writer's pid,
# and nothing from outside it (the control); as nobody (no CAP_SYS_ADMIN), inotify
# reports the same names without pids, a directory made later included.
. "$LETHE_SRC/tests/lib.sh"
need_root
command -v setpriv >/dev/null || skip "'setpriv' is not installed"
cd "$TMP"
chmod 755 "$TMP"
mkdir -m 777 w outside

watch_run() { # OUT [setpriv args...]: watch w/ into OUT.json while changes are made
	local out=$1 pid i
	shift
	"$@" "$LETHE" fim watch "$TMP/w" --json >"$out.json" 2>"$out.err" &
	pid=$!
	on_exit "kill $pid 2>/dev/null"
	for i in $(seq 50); do grep -q watching "$out.err" && break; sleep 0.1; done
	grep -q watching "$out.err" || { cat "$out.err"; fail "watch did not start"; }
	(echo one >"$TMP/w/a") &
	wait $!
	echo "$!" >"$out.writer"
	echo out >"$TMP/outside/x"
	mkdir "$TMP/w/sub"
	sleep 0.3
	echo two >"$TMP/w/sub/b"
	mv "$TMP/w/a" "$TMP/w/c"
	rm "$TMP/w/c"
	sleep 1
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	rm -rf "$TMP/w/sub"
}

note "root: fanotify, with the writer's pid"
watch_run fan
grep -q 'fanotify' fan.err || { cat fan.err; fail "root's watch does not use fanotify"; }
/usr/bin/python3 - fan.json "$(cat fan.writer)" "$TMP" <<'PY' || { cat fan.json; fail "fanotify events are wrong"; }
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
t = sys.argv[3]
import jsonschema, os
schema = json.load(open(os.environ["LETHE_SRC"] + "/docs/schemas/fim.schema.json"))
for e in ev:
    jsonschema.validate(e, {**schema["$defs"]["event"], "$schema": schema["$schema"]})
def seen(path, kind):
    return [e for e in ev if e["path"] == path and kind in e["event"]]
w = seen(t + "/w/a", "modify") or seen(t + "/w/a", "close-write")
assert w and w[0]["pid"] == int(sys.argv[2]), ("writer pid", w)
assert seen(t + "/w/a", "create") and seen(t + "/w/sub", "create")
assert seen(t + "/w/sub/b", "create") and seen(t + "/w/a", "move-from")
assert seen(t + "/w/c", "move-to") and seen(t + "/w/c", "delete")
assert all(e["path"].startswith(t + "/w") for e in ev), "an event from outside the tree"
assert all("pid" in e for e in ev)
PY

note "nobody: inotify, names without pids"
watch_run ino setpriv --reuid=65534 --regid=65534 --clear-groups
grep -q 'inotify' ino.err || { cat ino.err; fail "an unprivileged watch does not fall back to inotify"; }
/usr/bin/python3 - ino.json "$TMP" <<'PY' || { cat ino.json; fail "inotify events are wrong"; }
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
t = sys.argv[2]
paths = {(e["path"], e["event"]) for e in ev}
for want in [("/w/a", "create"), ("/w/sub", "create"), ("/w/sub/b", "create"),
             ("/w/a", "move-from"), ("/w/c", "move-to"), ("/w/c", "delete")]:
    assert (t + want[0], want[1]) in paths, want
assert all("pid" not in e for e in ev)
assert all(e["path"].startswith(t + "/w") for e in ev)
PY
echo "ok"
