# The privacy image's firewall at work under QEMU (TCG), with user networking that
# cannot reach anything (restrict=on) but a listener on the host's loopback, through
# guestfwd 10.0.2.100:9001. Booted, lethe-init must report "firewall applied" (the image's
# own /usr/bin/lethe loading /etc/lethe/spec.yaml into the image's kernel, modules and
# all). Then, from the console shell: the tor user (debian-tor) reaches the listener,
# root and the ordinary user do not; and nothing from outside reaches a listener in the
# guest (hostfwd to a guest port: the spec allows nothing in).
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/vm/init-vm.bash"
need_vm
need_cmd nc

# (name=... works around image_dir's `local name=$1 out=...$name` under set -u.)
img=$(name=privacy image_dir privacy 2>"$TMP/build.log") ||
	skip "the privacy image cannot be built yet: $(tail -n 1 "$TMP/build.log")"
[ -f "$img/vmlinuz" ] && [ -f "$img/initramfs.img" ] ||
	skip "the privacy image has no boot artifacts yet (vmlinuz, initramfs.img)"

PORT=$((20000 + $$ % 20000))
HPORT=$((PORT + 1))
TOKEN=lethe-fw-$$-$RANDOM
# The host side: guestfwd connects to it once when QEMU starts and carries every guest
# connection to 10.0.2.100:9001 into it, so what the guest sent is what arrives here.
timeout 300 nc -lk 127.0.0.1 "$PORT" >"$TMP/host.in" 2>/dev/null &
on_exit "kill $! 2>/dev/null"
for ((i = 0; i < 40; i++)); do ss -Hltn "sport = :$PORT" | grep -q . && break; sleep 0.05; done

nic="user,model=virtio-net-pci,restrict=on,guestfwd=tcp:10.0.2.100:9001-tcp:127.0.0.1:$PORT"
nic+=",hostfwd=tcp:127.0.0.1:$HPORT-10.0.2.15:7777"
vm_start "$img" "$img/disk.img" "$(cat "$img/cmdline")" -nic "$nic"
vm_wait "lethe-init: (firewall applied|firewall failed|no firewall to apply)" 240
grep -q "lethe-init: firewall applied" "$TMP/serial.log" ||
	fail "the image did not apply its firewall: $(grep -m1 'lethe-init: .*firewall' "$TMP/serial.log")"
vm_wait "stage 2 ready" 120
vm_kill

# The per-user checks need a shell on the console, which lethe-init starts only in an
# image with /bin/sh and no services: so they boot the privacy spec less its services
# (tor itself), with the host's static busybox as /bin/sh. Same packages, accounts and
# firewall section.
file -L "$(command -v busybox)" | grep -q 'statically linked' || skip "the host's busybox is not static"
mkdir -p "$TMP/spec"
cp -r "$LETHE_SRC/examples/privacy" "$TMP/spec/"
cp "$(command -v busybox)" "$TMP/spec/busybox"
awk '/^services:/ { skip = 1; next } skip && /^[a-z]/ { skip = 0 } !skip' \
	"$LETHE_SRC/examples/privacy.yaml" |
	sed 's|^files:$|files:\n  - { source: busybox, destination: /bin/sh, mode: "0755", owner: "root:root" }|' \
	>"$TMP/spec/privacy.yaml"
grep -q 'destination: /bin/sh' "$TMP/spec/privacy.yaml" || fail "cannot derive the shell spec"
"$LETHE" build --quiet "$TMP/spec/privacy.yaml" -o "$TMP/shell-img" --key "$(test_key)" \
	>"$TMP/build.log" 2>&1 || { cat "$TMP/build.log" >&2; fail "cannot build the privacy spec with a shell"; }
img=$TMP/shell-img
vm_start "$img" "$img/disk.img" "$(cat "$img/cmdline")" -nic "$nic"
vm_wait "lethe-init: firewall applied" 240
vm_wait "stage 2 ready" 120
sleep 1

# guest TAG CMD: run CMD on the console and wait for its status; prints the status.
guest() {
	vm_send "$2; echo \"@$1=\$?\""
	vm_wait "@$1=[0-9]+" 60
	sed -n "s/.*@$1=\([0-9]*\).*/\1/p" "$TMP/serial.log" | tail -n 1
}
bb=/bin/busybox
guest up "$bb ip link set eth0 up && $bb ip addr add 10.0.2.15/24 dev eth0" >/dev/null
# As root and as the ordinary user: refused by the output chain (EPERM), nothing sent.
guest root "echo root-$TOKEN | $bb timeout 5 $bb nc 10.0.2.100 9001" >/dev/null
guest user "echo user-$TOKEN | $bb su -s /bin/sh user -c '$bb timeout 5 $bb nc 10.0.2.100 9001'" >/dev/null
# As debian-tor: allowed.
guest tor "echo tor-$TOKEN | $bb su -s /bin/sh debian-tor -c '$bb timeout 5 $bb nc 10.0.2.100 9001'" >/dev/null
for ((i = 0; i < 50; i++)); do grep -q "tor-$TOKEN" "$TMP/host.in" && break; sleep 0.1; done
grep -q "tor-$TOKEN" "$TMP/host.in" || fail "the tor user could not reach the host listener"
! grep -q "root-$TOKEN" "$TMP/host.in" || fail "root reached the host listener"
! grep -q "user-$TOKEN" "$TMP/host.in" || fail "the ordinary user reached the host listener"

# Inbound: a listener in the guest, a connection from the host through hostfwd.
vm_send "$bb mkdir -p /tmp; $bb timeout 8 $bb nc -l -p 7777 > /tmp/in.txt &"
sleep 1
echo "in-$TOKEN" | timeout 5 nc -w 3 127.0.0.1 "$HPORT" >/dev/null 2>&1 || true
sleep 1
st=$(guest inbound "$bb grep -q in-$TOKEN /tmp/in.txt")
[ "$st" != 0 ] || fail "a connection from outside reached the guest"
[ "$st" = 1 ] || fail "the guest's listener did not run (grep said $st)"
vm_kill
echo "firewall-privacy: ok"
