# The appliance image behind its firewall under QEMU (TCG): lethe-init applies the
# spec's table before eth0 comes up, and the one port the spec opens (TCP 8080, where
# mini_httpd listens) serves the page through QEMU user networking (restrict=on, hostfwd
# from the host's loopback): the request passes the input chain and the reply, under an
# output policy of drop, passes as an established flow. The control: the same spec with
# the firewall opening another port instead serves nothing on 8080.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/vm/init-vm.bash"
need_vm
need_cmd nc

# (name=... works around image_dir's `local name=$1 out=...$name` under set -u.)
img=$(name=appliance image_dir appliance 2>"$TMP/build.log") ||
	skip "the appliance image cannot be built yet: $(tail -n 1 "$TMP/build.log")"
[ -f "$img/vmlinuz" ] && [ -f "$img/initramfs.img" ] ||
	skip "the appliance image has no boot artifacts yet (vmlinuz, initramfs.img)"

PORT=$((20000 + $$ % 20000))
# boot IMGDIR: boot with 8080 forwarded from the host's PORT, wait for the firewall.
boot() {
	vm_start "$1" "$1/disk.img" "$(cat "$1/cmdline")" \
		-nic "user,model=virtio-net-pci,restrict=on,hostfwd=tcp:127.0.0.1:$PORT-10.0.2.15:8080"
	vm_wait "lethe-init: (firewall applied|firewall failed|no firewall to apply)" 240
	grep -q "lethe-init: firewall applied" "$TMP/serial.log" ||
		fail "the image did not apply its firewall: $(grep -m1 'lethe-init: .*firewall' "$TMP/serial.log")"
	vm_wait "stage 2 ready" 120
}
# served TRIES: is the page served within TRIES attempts 2 s apart? (mini_httpd may take
# a moment under TCG.)
served() {
	local i
	for ((i = 0; i < $1; i++)); do
		printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 nc -w 3 127.0.0.1 "$PORT" >"$TMP/http" 2>/dev/null || true
		grep -q "Served by mini_httpd" "$TMP/http" && return 0
		sleep 2
	done
	return 1
}

boot "$img"
served 30 || { tail -n 20 "$TMP/serial.log" >&2; fail "port 8080 did not serve the page through the firewall"; }
grep -q "^HTTP/1.[01] 200" "$TMP/http" || fail "no 200 from mini_httpd"
vm_kill

# The control: only the firewall differs (it opens 9999, not 8080).
mkdir -p "$TMP/spec"
cp -r "$LETHE_SRC/examples/appliance" "$TMP/spec/"
sed 's/^        port: 8080$/        port: 9999/' "$LETHE_SRC/examples/appliance.yaml" >"$TMP/spec/appliance.yaml"
grep -q '^        port: 9999$' "$TMP/spec/appliance.yaml" || fail "cannot derive the control spec"
"$LETHE" build --quiet "$TMP/spec/appliance.yaml" -o "$TMP/control" --key "$(test_key)" \
	>"$TMP/build.log" 2>&1 || { cat "$TMP/build.log" >&2; fail "cannot build the control image"; }
boot "$TMP/control"
! served 10 || fail "the page was served although the firewall does not open 8080"
vm_kill
echo "firewall-appliance: ok"
