#!/usr/bin/env bash
# The private desktop (issue 13.4, 13.5): examples/desktop.yaml with Firefox's proxy
# pointed at a stand-in for Tor boots to the browser in cage, as the session user, and
# the browser speaks only through the SOCKS proxy. One boot checks:
#  * the screen (QMP screendump, PPM) is blank before cage draws (the control) and
#    shows the browser's page after: many colours, none covering most of the screen;
#  * cage and every Firefox process run as user (uid 1000), never root;
#  * Firefox reaches the test page through the SOCKS5 server on the host's loopback
#    (tests/vm/socks-server.py, reached through QEMU's guestfwd at 10.0.2.100:9050,
#    which stands in for Tor's 127.0.0.1:9050), naming the host to the proxy (remote
#    DNS: a domain CONNECT, never a DNS query);
#  * with the proxy stopped, the page's refresh to a second page does not load: the
#    only attempt is again to the proxy, and the capture of everything the guest sent
#    (filter-dump) holds no connection and no datagram to anywhere else.
# The test image differs from examples/desktop.yaml in the proxy's address, an
# interface, the firewall rule to the stand-in and no tor service (it would try to
# reach relays); it is built once per build tree like image_dir's images.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
. "$LETHE_SRC/tests/vm/init-vm.bash"
need_vm
need_cmd /usr/bin/python3
t0=$(date +%s)
CHECK="/usr/bin/python3 $LETHE_SRC/tests/vm/desktop-check.py"
SOCKS="$LETHE_SRC/tests/vm/socks-server.py"
case "$SOCKS$TMP" in *,*) skip "a comma in '$SOCKS' or '$TMP' cannot go into QEMU's options" ;; esac

# The test spec, derived from examples/desktop.yaml.
derive_spec() { # DIR
	cp -r "$LETHE_SRC/examples/desktop" "$LETHE_SRC/examples/privacy" "$1/"
	/usr/bin/python3 - "$LETHE_SRC/examples/desktop.yaml" "$1" <<'EOF'
import re, sys
src, out = sys.argv[1], sys.argv[2]
pol = open(out + "/desktop/policies.json").read()
assert '"127.0.0.1:9050"' in pol
open(out + "/desktop/policies.json", "w").write(pol.replace('"127.0.0.1:9050"', '"10.0.2.100:9050"'))
s = open(src).read()
def sub(old, new):
    global s
    assert old in s, old
    s = s.replace(old, new, 1)
sub("name: lethe-desktop", "name: lethe-desktop-socks")
sub("command: [/usr/bin/firefox-esr, --private-window]",
    "command: [/usr/bin/firefox-esr, --private-window, \"http://one.lethe.test/\"]")
sub("    - evdev\n", "    - evdev\n    - virtio_net\n")
s = re.sub(r"\nservices:\n(  .*\n|\n)*", "\n", s)
sub("network:\n  hostname: localhost\n",
    "network:\n  hostname: localhost\n  interfaces:\n    - name: eth0\n      addresses: [10.0.2.15/24]\n")
sub("        user: debian-tor\n",
    "        user: debian-tor\n      - { proto: tcp, port: 9050, to: 10.0.2.100, user: user }\n")
assert "services:" not in s
open(out + "/desktop.yaml", "w").write(s)
EOF
}

img="$LETHE_BUILD/test-images/desktop-socks"
mkdir -p "$LETHE_BUILD/test-images"
(
	flock 9
	if [ ! -f "$img/SHA256SUMS" ] || [ "$LETHE" -nt "$img/SHA256SUMS" ] ||
		[ "$LETHE_INIT" -nt "$img/SHA256SUMS" ] ||
		[ -n "$(find "$LETHE_SRC/examples/desktop.yaml" "$LETHE_SRC/examples/desktop" \
			"$LETHE_SRC/tests/vm/desktop.sh" -newer "$img/SHA256SUMS" 2>/dev/null)" ]; then
		rm -rf "$img" "$img.spec"
		mkdir -p "$img.spec"
		derive_spec "$img.spec"
		b0=$(date +%s)
		"$LETHE" build --quiet "$img.spec/desktop.yaml" -o "$img" --key "$(test_key)" \
			>"$TMP/build.log" 2>&1 || { tail -n 20 "$TMP/build.log" >&2; exit 1; }
		note "built the desktop test image in $(($(date +%s) - b0)) s"
	fi
) 9>"$LETHE_BUILD/test-images/.lock" || fail "cannot build the desktop test image"
note "image: rootfs.erofs $(($(stat -c %s "$img/rootfs.erofs") / 1048576)) MiB, disk.img $(($(stat -c %s "$img/disk.img") / 1048576)) MiB"

# The stand-in for Tor: a SOCKS5 server on the loopback; guestfwd runs one relay to it
# per guest connection, which logs the attempt.
PORT=$((20000 + $$ % 20000))
: >"$TMP/socks.log"
REFRESH=45 # seconds page one waits before it sends Firefox to page two
/usr/bin/python3 "$SOCKS" serve "$PORT" "$TMP/socks.log" "$REFRESH" 2>"$TMP/socks.err" &
SOCKS_PID=$!
on_exit "kill $SOCKS_PID 2>/dev/null"
for ((i = 0; i < 50; i++)); do grep -q LISTENING "$TMP/socks.log" && break; sleep 0.1; done
grep -q LISTENING "$TMP/socks.log" || fail "the SOCKS server did not start: $(cat "$TMP/socks.err")"

# wait_log REGEX SECONDS: until the SOCKS log has a line matching REGEX.
wait_log() {
	local i
	for ((i = 0; i < $2 * 2; i++)); do
		grep -Eq -- "$1" "$TMP/socks.log" && return 0
		kill -0 "$VM_PID" 2>/dev/null || break
		sleep 0.5
	done
	tail -n 40 "$TMP/serial.log" >&2
	echo "--- SOCKS log:" >&2
	tail -n 20 "$TMP/socks.log" >&2
	fail "no SOCKS log line matching '$1' after $2 s"
}
# shot NAME: a screendump, to $TMP/NAME.ppm; prints "COLOURS N SHARE".
shot() {
	rm -f "$TMP/$1.ppm"
	vm_qmp "{\"execute\":\"screendump\",\"arguments\":{\"filename\":\"$TMP/$1.ppm\"}}"
	for ((i = 0; i < 100; i++)); do
		[ -s "$TMP/$1.ppm" ] && $CHECK colours "$TMP/$1.ppm" 2>/dev/null && return 0
		sleep 0.2
	done
	fail "no screendump $1"
}

fwd="guestfwd=tcp:10.0.2.100:9050-cmd:/usr/bin/python3 $SOCKS relay $PORT $TMP/socks.log"
VM_MEM=2048 vm_start "$img" "$img/disk.img" "$(cat "$img/cmdline")" -smp 2 -vga std \
	-netdev "user,id=n0,restrict=on,$fwd" -device virtio-net-pci,netdev=n0 \
	-object "filter-dump,id=cap,netdev=n0,file=$TMP/guest.pcap"
vm_wait "lethe-init: graphical: cage for user" 600
boot0=$(date +%s)
# The control: before cage has drawn, the screen is the console's two colours.
read -r _ ctl_n ctl_share < <(shot control)
note "before cage: $ctl_n colours, the commonest on $ctl_share of the screen"
[ "$ctl_n" -lt 16 ] || fail "the control screendump already has $ctl_n colours: the check cannot tell a blank screen"

# Page one, through the proxy, its host named to the proxy.
wait_log "^GET one\.lethe\.test /" 900
t_page=$(($(date +%s) - boot0))
note "boot to the browser's first page: $t_page s after lethe-init started cage (total $(($(date +%s) - t0)) s)"
grep -q "^CONNECT one\.lethe\.test:80 domain$" "$TMP/socks.log" ||
	fail "Firefox did not leave the name to the proxy (no domain CONNECT): $(grep CONNECT "$TMP/socks.log" | head -n 3)"
sleep 10 # the page's paint
read -r _ n share < <(shot page)
$CHECK png "$TMP/page.ppm" "$LETHE_BUILD/test-images/desktop-screenshot.png"
note "with the page: $n colours, the commonest on $share of the screen ($LETHE_BUILD/test-images/desktop-screenshot.png)"
[ "$n" -ge 64 ] || fail "the screen is blank: $n colours"
/usr/bin/python3 -c "import sys; sys.exit(float(sys.argv[1]) >= 0.9)" "$share" ||
	fail "the screen is blank: one colour covers $share of it"

# Who runs the browser (the console shell is the session user's too).
vm_send 'for p in $(pidof cage firefox-esr); do echo "PROC $(cat /proc/$p/comm) $(awk "/^Uid:/ {print \$2, \$3, \$4, \$5}" /proc/$p/status)"; done; echo PROC-END'
vm_wait "^PROC-END" 120
procs=$(tr -d '\r' <"$TMP/serial.log" | sed -n 's/^PROC //p')
grep -q "^cage 1000 1000 1000 1000$" <<<"$procs" || fail "cage does not run as user: $procs"
grep -Eq "^firefox-esr 1000 1000 1000 1000$" <<<"$procs" || fail "firefox-esr does not run as user: $procs"
! grep -Ev " 1000 1000 1000 1000$" <<<"$procs" || fail "a graphical process is not user's: $procs"

# The proxy stops; page one's refresh sends Firefox to page two, which cannot load.
kill "$SOCKS_PID"
wait "$SOCKS_PID" 2>/dev/null || true
echo STOPPED >>"$TMP/socks.log"
wait_log "^STOPPED$" 1
# The first attempt after the stop: to the proxy, refused.
for ((i = 0; i < (REFRESH + 180) * 2; i++)); do
	sed -n '/^STOPPED$/,$p' "$TMP/socks.log" | grep -q "^REFUSED$" && break
	sleep 0.5
done
sed -n '/^STOPPED$/,$p' "$TMP/socks.log" | grep -q "^REFUSED$" ||
	{ tail -n 30 "$TMP/serial.log" >&2; fail "Firefox made no attempt after the proxy stopped"; }
sleep $((REFRESH + 10)) # past the refresh, whenever page one loaded
vm_kill
! grep -q "two\.lethe\.test" "$TMP/socks.log" || fail "page two loaded without the proxy"
$CHECK pcap "$TMP/guest.pcap" >"$TMP/attempts"
note "the guest sent $(wc -l <"$TMP/attempts") connection attempts: $(sort "$TMP/attempts" | uniq -c | tr -s ' \n' '  ')"
grep -qx "tcp 10.0.2.100:9050" "$TMP/attempts" || fail "the capture shows no connection to the proxy: is it empty?"
! grep -vx "tcp 10.0.2.100:9050" "$TMP/attempts" || fail "the guest tried to reach something other than the proxy"
echo "desktop: Firefox in cage as user, only through the SOCKS proxy ($(($(date +%s) - t0)) s)"
