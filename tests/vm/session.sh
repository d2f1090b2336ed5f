#!/usr/bin/env bash
# The session runs unprivileged (issue 13.3), in examples/minimal.yaml with a session:
# section: the console shell is session.user (uid 1000, its groups, HOME=/home/user,
# which is its own and 0700), holds no capability, and the audit's session.unprivileged
# passes. Without session.admin_password there is no setuid file and su fails even
# with a password typed; with admin_password: ask, lethe-init asks at boot on the
# console (not echoed), and su then works with that password and with no other.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
. "$LETHE_SRC/tests/vm/init-vm.bash"
need_vm
ref=$(build_image_or_skip minimal)

make_image() { # NAME SESSION-YAML: an image of minimal.yaml with that session: section
	mkdir -p "$TMP/$1"
	# (su runs root's shell: with an administration password root gets /bin/sh)
	{ if [ "$1" = admin ]; then sed 's|^      shell: /usr/sbin/nologin$|      shell: /bin/sh|' "$LETHE_SRC/examples/minimal.yaml"
	else cat "$LETHE_SRC/examples/minimal.yaml"; fi; printf '\nsession:\n%s\n' "$2"; } >"$TMP/$1/spec.yaml"
	"$LETHE" build --quiet "$TMP/$1/spec.yaml" -o "$TMP/$1/img" --lock "$ref/lethe.lock" \
		--key "$(test_key)" >&2 || fail "cannot build the $1 image"
	echo "$TMP/$1/img"
}
# console LABEL: the lines the guest printed after "LABEL " since the last vm_wait.
console() { tr -d '\r' <"$TMP/serial.log" | sed -n "s/^$1 //p"; }

# 1. session.user, no administration password.
img=$(make_image plain '  user: user')
grep -q '^\./bin/busybox type=file mode=0755 ' "$img/manifest.mtree" ||
	fail "without admin_password /bin/busybox must not be setuid: $(grep '^\./bin/busybox ' "$img/manifest.mtree")"
vm_start "$img" "$img/disk.img" "$(cat "$img/cmdline")"
vm_wait "lethe-init: stage 2 ready" 300
grep -q "lethe-init: session: user, without administration: root cannot be reached" "$TMP/serial.log" ||
	fail "lethe-init did not announce the unprivileged session"
vm_send 'dmesg -n 1; echo "S-ID $(id -u) $(id -g) $(id -un) HOME=$HOME PWD=$(pwd)"'
vm_send 'echo "S-HOME $(stat -c "%a %U %G" /home/user)"; echo "S-CAP $(grep -E "^Cap(Prm|Eff|Amb)" /proc/self/status | tr -s "\t\n" "  ")"'
vm_send 'echo "S-NNP $(grep NoNewPrivs /proc/self/status | tr -d "\t ")"; echo "S-SUID $(find / -xdev -perm -4000 2>/dev/null | wc -l)"'
vm_send 'echo anything | su -c "id -u" root; echo "S-SU rc=$?"; touch /etc/x 2>/dev/null; echo "S-ETC rc=$?"'
vm_send 'lethe audit --json --no-color --only session.unprivileged >/tmp/a.json; echo "S-AUDIT rc=$? $(grep -o "\"verdict\": *\"[a-z-]*\"" /tmp/a.json)"; echo S-END'
vm_wait "^S-END" 300
# The user may power off (through lethe-init's FIFO): with the wipe, as root would.
vm_send 'lethe poweroff; echo "S-OFF rc=$?"'
vm_wait "lethe-init: memory wiped, powering off" 120
vm_kill
grep -q "lethe-init: shutting down (asked by the session)" "$TMP/serial.log" ||
	fail "the session's poweroff did not go through /run/lethe/control"
console S-ID | grep -qx '1000 1000 user HOME=/home/user PWD=/home/user' || fail "the session is not user's: $(console S-ID)"
console S-HOME | grep -qx '700 user user' || fail "/home/user is not the user's and 0700: $(console S-HOME)"
console S-CAP | grep -qx 'CapPrm: 0000000000000000 CapEff: 0000000000000000 CapAmb: 0000000000000000 *' ||
	fail "the session holds capabilities: $(console S-CAP)"
console S-NNP | grep -qx 'NoNewPrivs:1' || fail "no_new_privs is not set: $(console S-NNP)"
console S-SUID | grep -qx '0' || fail "setuid files in an image without admin_password: $(console S-SUID)"
console S-SU | grep -qx 'rc=[1-9][0-9]*' || fail "su did not fail without an administration password: $(console S-SU)"
! tr -d '\r' <"$TMP/serial.log" | grep -qx 0 || fail "su printed uid 0"
console S-ETC | grep -qx 'rc=1' || fail "the session could write /etc"
console S-AUDIT | grep -q '^rc=0 "verdict": *"pass"$' || fail "session.unprivileged did not pass: $(console S-AUDIT)"
echo "session: user's console shell, no capabilities, no setuid file, su refused"

# 2. admin_password: ask. The password is typed at the prompt, never echoed.
pw="lethe-admin-$RANDOM$RANDOM"
img=$(make_image admin '  user: user
  admin_password: ask')
grep -q '^\./bin/busybox type=file mode=4755 uid=0 ' "$img/manifest.mtree" ||
	fail "with admin_password /bin/busybox must be setuid root for su"
vm_start "$img" "$img/disk.img" "$(cat "$img/cmdline")"
vm_wait "lethe-init: administration password" 300
sleep 1
vm_send "$pw"
vm_wait "lethe-init: stage 2 ready" 300
grep -q "lethe-init: session: administration password set" "$TMP/serial.log" ||
	fail "lethe-init did not take the administration password"
! grep -q "$pw" "$TMP/serial.log" || fail "the administration password was echoed on the console"
vm_send 'dmesg -n 1; echo "A-ID $(id -u)"; echo wrong-password | su -c "id -u" root >/dev/null 2>&1; echo "A-WRONG rc=$?"'
vm_send "echo '$pw' | su -s /bin/sh -c 'echo A-ROOT \$(id -u) \$(head -n1 /etc/shadow | cut -c1-8)' root; echo \"A-SU rc=\$?\"; echo A-END"
vm_wait "^A-END" 300
vm_kill
console A-ID | grep -qx 1000 || fail "the admin image's session is not user's: $(console A-ID)"
console A-WRONG | grep -qx 'rc=[1-9][0-9]*' || fail "su took a wrong password: $(console A-WRONG)"
console A-ROOT | grep -qxF '0 root:$6$' || fail "su with the administration password did not give root: $(console A-ROOT) $(console A-SU)"
console A-SU | grep -qx 'rc=0' || fail "su exited $(console A-SU)"
echo "session: with admin_password: ask, the password asked at boot opens su, a wrong one does not"
