# Shared by the VM tests in which the running system updates itself (selfupdate.sh,
# powerloss.sh; not a test itself): the two images (slot a 0.1, slot b 0.2), built once
# per build tree from tests/vm/selfupdate-image.yaml.in with a test CA and the test key;
# an HTTPS server on the host's loopback that the guest reaches as 10.0.2.100:443
# through QEMU's guestfwd; and the guest, through OVMF on one raw disk, its console on
# FIFOs, with helpers to wait for it and type into its shell.
. "$LETHE_SRC/tests/interop/build-common.bash"
. "$LETHE_SRC/tests/interop/update-common.bash" # slot_sum, esp_names
need_cmd qemu-system-x86_64 sfdisk mcopy mkfs.vfat openssl docker-registry curl
[ -r /usr/share/OVMF/OVMF_CODE_4M.fd ] || skip "no OVMF (install ovmf)"
[ -x "$LETHE_BUILD/src/lethe/lethe-update" ] || skip "no lethe-update in the build tree"
pub=$(test_pub)
: "${BOOT_S:=900}" # one boot under a loaded TCG host can take minutes
: "${CMD_S:=600}"  # one update inside the guest: fetch, verity check, write, read back

# The test CA and server certificate (IP 10.0.2.100), and the key the images trust.
tls=$LETHE_BUILD/test-images/selfupdate-tls
mkdir -p "$LETHE_BUILD/test-images"
(
	flock 9
	if [ ! -f "$tls/server.crt" ]; then
		rm -rf "$tls" && mkdir -p "$tls"
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
			-subj /CN=lethe-test-ca -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>/dev/null &&
			openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
				-subj /CN=10.0.2.100 -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null &&
			printf 'subjectAltName=IP:10.0.2.100\nbasicConstraints=CA:FALSE\n' >"$tls/ext" &&
			openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" \
				-CAcreateserial -days 3650 -extfile "$tls/ext" -out "$tls/server.crt" 2>/dev/null ||
			exit 1
	fi
	cmp -s "$pub" "$tls/update.pub" || cp "$pub" "$tls/update.pub"
) 9>"$LETHE_BUILD/test-images/.lock" || fail "cannot make the test CA"

su_image() { # NAME VERSION: the release directory
	local dir=$LETHE_BUILD/test-images/selfupdate-$1 t
	(
		flock 9
		if [ ! -f "$dir/SHA256SUMS" ]; then
			t=1
		else
			t=0
			for f in "$LETHE" "$LETHE_BUILD/src/lethe/lethe-update" "$LETHE_IMAGE_TOOL" \
				"$LETHE_INIT" "$LETHE_SRC/tests/vm/selfupdate-image.yaml.in" "$tls/update.pub"; do
				[ "$f" -nt "$dir/SHA256SUMS" ] && t=1
			done
		fi
		if [ "$t" = 1 ]; then
			sed "s/@VERSION@/$2/; s|@DIR@|$tls|" "$LETHE_SRC/tests/vm/selfupdate-image.yaml.in" \
				>"$tls/$1.yaml"
			rm -rf "$dir"
			"$LETHE" build --quiet "$tls/$1.yaml" -o "$dir" --key "$(test_key)" >&2 || exit 1
		fi
	) 9>"$LETHE_BUILD/test-images/.lock" || fail "cannot build the self-update image $1"
	echo "$dir"
}
va=$(su_image a 0.1)
vb=$(su_image b 0.2)
grep -q '^\./usr/lib/lethe/lethe-update ' "$va/manifest.mtree" || fail "the image lacks lethe-update"
grep -q '^\./usr/bin/mcopy ' "$va/manifest.mtree" || fail "the image lacks mtools"
ha=$(cat "$va/roothash") hb=$(cat "$vb/roothash")

# The served releases, under $www: su_publish NAME SECRET_KEY puts b there as
# $www/NAME, signed now by SECRET_KEY (so that the waves count from now).
www=$TMP/www
su_publish() {
	mkdir -p "$www/$1"
	# Linked where TMPDIR is the build tree's file system, else copied (/tmp a tmpfs).
	cp -l "$vb"/* "$www/$1/" 2>/dev/null || cp "$vb"/* "$www/$1/" || fail "cannot copy the release"
	rm -f "$www/$1/SHA256SUMS.minisig"
	(cd "$www/$1" && env -u SOURCE_DATE_EPOCH "$LETHE" sign -q -s "$2" SHA256SUMS) ||
		fail "cannot sign the served release $1"
}

free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# su_serve: the HTTPS server of $www (TLS with the test CA's certificate) on $port, its
# requests in $TMP/https.log, and $TMP/relay.py, which QEMU's guestfwd runs for each
# guest connection (relay.py PORT: stdin/stdout to 127.0.0.1:PORT).
su_serve() {
	local i
	mkdir -p "$www"
	port=$(free_port)
	/usr/bin/python3 - "$www" "$port" "$tls/server.crt" "$tls/server.key" >"$TMP/https.log" 2>&1 <<'PY' &
import functools, http.server, ssl, sys
d, port, crt, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
srv = http.server.ThreadingHTTPServer(("127.0.0.1", port),
    functools.partial(http.server.SimpleHTTPRequestHandler, directory=d))
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(crt, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
sys.stderr.reconfigure(line_buffering=True)
srv.serve_forever()
PY
	on_exit "kill $! 2>/dev/null"
	cat >"$TMP/relay.py" <<'PY'
import os, socket, sys, threading
up = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
guest = socket.socket(fileno=os.dup(0))
def pipe(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    try:
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass
t = threading.Thread(target=pipe, args=(guest, up))
t.start()
pipe(up, guest)
t.join()
PY
	for ((i = 0; i < 50; i++)); do
		curl -sf --cacert "$tls/ca.crt" --resolve 10.0.2.100:$port:127.0.0.1 -o /dev/null \
			"https://10.0.2.100:$port/" 2>/dev/null && break
		sleep 0.1
	done
	[ "$i" -lt 50 ] || { cat "$TMP/https.log"; fail "the HTTPS server did not start"; }
}
# su_fwd GUEST_PORT HOST_PORT: a guestfwd of 10.0.2.100:GUEST_PORT, for -nic user.
su_fwd() { echo "guestfwd=tcp:10.0.2.100:$1-cmd:/usr/bin/python3 $TMP/relay.py $2"; }

# su_vm_start DISK VARS LOG [QEMU ARGS...]: power on (OVMF, DISK read-write, VARS the
# firmware's variables), the console through the FIFOs $TMP/con.{in,out} appended to
# LOG, which becomes $log; $VM_PID is QEMU. One power-on at a time.
su_vm_start() {
	local disk=$1 vars=$2
	log=$3
	shift 3
	[ -p "$TMP/con.in" ] || mkfifo "$TMP/con.in" "$TMP/con.out"
	touch "$log"
	qemu-system-x86_64 -accel tcg -machine q35 -m 512 -smp 1 -nodefaults -no-user-config \
		-display none \
		-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
		-drive if=pflash,format=raw,unit=1,file="$vars" \
		-drive if=none,id=boot,format=raw,file="$disk" \
		-device virtio-blk-pci,drive=boot,bootindex=1 \
		-chardev pipe,id=con,path="$TMP/con" -serial chardev:con "$@" \
		</dev/null >>"$log.qemu" 2>&1 &
	VM_PID=$!
	on_exit "kill -9 $VM_PID 2>/dev/null || true"
	cat "$TMP/con.out" >>"$log" &
	CON_PID=$!
	# Read-write: the open neither waits for QEMU nor leaves a later write without a
	# reader (SIGPIPE) once QEMU is gone.
	exec 7<>"$TMP/con.in"
}

# su_vm_kill: power off hard (SIGKILL to QEMU, as a power cut); the console reader ends.
su_vm_kill() {
	local i
	exec 7>&-
	kill -9 "$VM_PID" 2>/dev/null || true
	wait "$VM_PID" 2>/dev/null || true
	# The reader drains what QEMU wrote, then sees the end (unless QEMU never opened
	# the FIFO: then it is ended here).
	for ((i = 0; i < 100; i++)); do
		kill -0 "$CON_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill "$CON_PID" 2>/dev/null || true
	wait "$CON_PID" 2>/dev/null || true
}

console_tail() { tail -n 40 "$log" | tr -d '\r' | sed 's/^/console: /' >&2; }
# vm_wait PATTERN SECONDS: until the console shows PATTERN (ERE).
vm_wait() {
	local deadline=$((SECONDS + $2))
	while ! tr -d '\r' <"$log" | grep -Eq -- "$1"; do
		kill -0 "$VM_PID" 2>/dev/null || { console_tail; cat "$log.qemu" >&2; fail "QEMU ended before '$1'"; }
		[ $SECONDS -lt $deadline ] || { console_tail; fail "no '$1' within $2 s"; }
		sleep 1
	done
}
send() { printf '%s\n' "$*" >&7; }
# shell_ready TAG: the console shell answers (the typed line's echo cannot hold "RDY-42").
shell_ready() {
	local deadline=$((SECONDS + 120))
	while ! tr -d '\r' <"$log" | grep -q "^RDY-42-$1"; do
		[ $SECONDS -lt $deadline ] || { console_tail; fail "the console shell does not answer"; }
		send "echo RDY-\$((6*7))-$1"
		sleep 3
	done
}
# guest TAG SECONDS CMD: run CMD in the console shell; prints its exit status.
guest() {
	local tag=$1 t=$2
	shift 2
	send "$*; echo @$tag=\$?"
	vm_wait "^@$tag=[0-9]+" "$t"
	tr -d '\r' <"$log" | sed -n "s/^@$tag=\([0-9]*\).*/\1/p" | tail -n1
}
# boots [LOG...]: the root hash of each boot that reached stage 1's verification.
boots() { cat "${@:-$log}" | tr -d '\r' | sed -n 's/.*lethe-init: root verified: \([0-9a-f]*\).*/\1/p'; }
