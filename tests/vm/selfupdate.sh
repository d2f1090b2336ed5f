#!/usr/bin/env bash
# A running system updates itself (issues 14.3, 18.3), through OVMF on one raw disk image
# across a reboot: slot a (0.1) installed and booted; inside the guest, from the console
# shell, against an HTTPS server on the host's loopback reached through QEMU user
# networking (restrict=on, guestfwd 10.0.2.100:443):
#  1. control: a release signed by another key is refused, only SHA256SUMS and its
#     signature fetched, slot b's bytes unchanged;
#  2. the spec's waves (update: waves [50, 100], wait 1d; the release signed now): a
#     machine id outside the first wave (--machine-id) says "not yet", exits 0, fetches
#     and writes nothing;
#  3. `lethe update` with no SOURCE: the spec's source and channel, the machine id from
#     SMBIOS (QEMU -uuid, in the first wave), /etc/lethe/update.pub: slot b written,
#     lethe-0.2+3.efi installed; only the five files an update needs fetched;
#  4. the same release again from a registry: `lethe update oci://10.0.2.100:5000/...`
#     (docker-registry over TLS, guestfwd 10.0.2.100:5000), slot b written again;
#  5. reboot (SIGTERM to PID 1): b boots, passes the gate, is blessed; a stays good.
# The two images are built once per build tree from tests/vm/selfupdate-image.yaml.in
# (with a test CA and the test key, also kept per build tree).
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
. "$LETHE_SRC/tests/interop/update-common.bash" # slot_sum
. "$LETHE_SRC/tests/interop/oci-common.bash"    # start_registry
need_cmd qemu-system-x86_64 sfdisk mcopy mkfs.vfat openssl docker-registry curl
[ -r /usr/share/OVMF/OVMF_CODE_4M.fd ] || skip "no OVMF (install ovmf)"
[ -x "$LETHE_BUILD/src/lethe/lethe-update" ] || skip "no lethe-update in the build tree"
pub=$(test_pub)
BOOT_S=900 # one boot under a loaded TCG host can take minutes
CMD_S=600  # one update inside the guest: fetch, verity check, write, read back

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

# The served releases: next = b signed now (so that the waves count from now), evil = b
# signed by another key.
www=$TMP/www
mkdir -p "$www/next" "$www/evil"
# Linked where TMPDIR is the build tree's file system, else copied (/tmp a tmpfs).
for d in next evil; do
	cp -l "$vb"/* "$www/$d/" 2>/dev/null || cp "$vb"/* "$www/$d/" || fail "cannot copy the releases"
done
rm -f "$www/next/SHA256SUMS.minisig" "$www/evil/SHA256SUMS.minisig"
"$LETHE" keygen -W -p "$TMP/other.pub" -s "$TMP/other.key" >/dev/null || fail "keygen"
(cd "$www/next" && env -u SOURCE_DATE_EPOCH "$LETHE" sign -q -s "$(test_key)" SHA256SUMS) &&
	(cd "$www/evil" && "$LETHE" sign -q -s "$TMP/other.key" SHA256SUMS) || fail "cannot sign the served releases"

# The HTTPS server (TLS with the test CA's certificate), its requests in $TMP/https.log,
# and the relay QEMU's guestfwd runs for each guest connection to 10.0.2.100:443.
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
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
		"https://10.0.2.100:$port/next/SHA256SUMS" 2>/dev/null && break
	sleep 0.1
done
[ "$i" -lt 50 ] || { cat "$TMP/https.log"; fail "the HTTPS server did not start"; }

# A registry: pushed to over plain HTTP on loopback, served to the guest over TLS by a
# second docker-registry on the same storage.
reg=$(start_registry reg)
expect_ok "$LETHE" push "$www/next" "$reg/lethe/selfupdate:next" -p "$pub" --insecure
rport=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$TMP/reg-tls.yml" <<EOF
version: 0.1
log: { level: info }
storage: { filesystem: { rootdirectory: $TMP/reg } }
http: { addr: 127.0.0.1:$rport, secret: lethe-test-tls, tls: { certificate: $tls/server.crt, key: $tls/server.key } }
EOF
docker-registry serve "$TMP/reg-tls.yml" >"$TMP/reg-tls.log" 2>&1 &
on_exit "kill $! 2>/dev/null"
for ((i = 0; i < 100; i++)); do
	curl -s --cacert "$tls/ca.crt" --resolve 10.0.2.100:$rport:127.0.0.1 -o /dev/null \
		"https://10.0.2.100:$rport/v2/" 2>/dev/null && break
	sleep 0.1
done
[ "$i" -lt 100 ] || { cat "$TMP/reg-tls.log"; fail "the TLS registry did not start"; }

# Machine ids (SMBIOS UUIDs) by their bucket, in either byte order the kernel may print.
read -r early late < <(/usr/bin/python3 - <<'PY'
import hashlib, uuid
def b(s):
    return int.from_bytes(hashlib.sha256(b"lethe-rollout\n" + s.replace("-", "").encode()).digest()[:8], "big") % 100
early = late = None
while not (early and late):
    u = uuid.uuid4()
    s, le = str(u), str(uuid.UUID(bytes_le=u.bytes))
    if not early and b(s) < 50 and b(le) < 50:
        early = s
    if not late and b(s) >= 50:
        late = s
print(early, late)
PY
)
[ -n "$late" ] || fail "no machine ids"

disk=$TMP/disk.img
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$TMP/vars.fd"
expect_ok "$LETHE" install "$va" "$disk" -p "$pub" --slot-size 64
b_before=$(slot_sum "$disk" b)

# The guest: OVMF, the disk read-write across reboots, the console on FIFOs.
log=$TMP/console.log
rm -f "$TMP"/con.{in,out}
mkfifo "$TMP/con.in" "$TMP/con.out"
: >"$log"
qemu-system-x86_64 -accel tcg -machine q35 -m 512 -smp 1 -nodefaults -no-user-config \
	-display none -uuid "$early" \
	-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
	-drive if=pflash,format=raw,unit=1,file="$TMP/vars.fd" \
	-drive if=none,id=boot,format=raw,file="$disk" \
	-device virtio-blk-pci,drive=boot,bootindex=1 \
	-nic "user,model=virtio-net-pci,restrict=on,guestfwd=tcp:10.0.2.100:443-cmd:/usr/bin/python3 $TMP/relay.py $port,guestfwd=tcp:10.0.2.100:5000-cmd:/usr/bin/python3 $TMP/relay.py $rport" \
	-chardev pipe,id=con,path="$TMP/con" -serial chardev:con \
	</dev/null >"$TMP/qemu.log" 2>&1 &
VM_PID=$!
on_exit "kill -9 $VM_PID 2>/dev/null || true"
cat "$TMP/con.out" >>"$log" &
exec 7>"$TMP/con.in"

console_tail() { tail -n 40 "$log" | tr -d '\r' | sed 's/^/console: /' >&2; }
# vm_wait PATTERN SECONDS: until the console shows PATTERN (ERE).
vm_wait() {
	local deadline=$((SECONDS + $2))
	while ! tr -d '\r' <"$log" | grep -Eq -- "$1"; do
		kill -0 "$VM_PID" 2>/dev/null || { console_tail; cat "$TMP/qemu.log" >&2; fail "QEMU ended before '$1'"; }
		[ $SECONDS -lt $deadline ] || { console_tail; fail "no '$1' within $2 s"; }
		sleep 1
	done
}
send() { printf '%s\n' "$*" >&7; }
# shell_ready: the console shell answers (the typed line's echo cannot hold "RDY-42").
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
boots() { tr -d '\r' <"$log" | sed -n 's/.*lethe-init: root verified: \([0-9a-f]*\).*/\1/p'; }

vm_wait "lethe-init: stage 2 ready" $BOOT_S
shell_ready 1
send "busybox dmesg -n 1"

# 1. Another key's release: refused, nothing written, nothing but the signed sums fetched.
rc=$(guest evil $CMD_S lethe update https://10.0.2.100/evil/)
[ "$rc" = 1 ] || { console_tail; fail "1: another key's release was not refused (exit $rc)"; }
tr -d '\r' <"$log" | grep -Eq "was made by key|signature" || { console_tail; fail "1: the refusal does not name the signature"; }
grep -q "GET /evil/SHA256SUMS.minisig" "$TMP/https.log" || fail "1: the guest did not fetch the signature over HTTPS"
! grep -q "GET /evil/rootfs" "$TMP/https.log" || fail "1: files were fetched before the signature was checked"
[ "$(slot_sum "$disk" b)" = "$b_before" ] || fail "1: the refused update changed slot b"

# 2. A machine outside the open wave: says so, exits 0, fetches and writes nothing.
rc=$(guest late $CMD_S lethe update --machine-id "$late")
[ "$rc" = 0 ] || { console_tail; fail "2: a machine outside the wave exited $rc"; }
tr -d '\r' <"$log" | grep -q "not yet: this machine (--machine-id, bucket .*nothing written" ||
	{ console_tail; fail "2: the machine outside the wave did not say so"; }
! grep -q "GET /next/rootfs" "$TMP/https.log" || fail "2: a machine outside the wave fetched the release"
[ "$(slot_sum "$disk" b)" = "$b_before" ] || fail "2: a machine outside the wave changed slot b"

# 3. The spec's source, SMBIOS machine id in the first wave, the image's own key and disk.
rc=$(guest up $CMD_S lethe update)
[ "$rc" = 0 ] || { console_tail; fail "3: the update inside the guest failed (exit $rc)"; }
tr -d '\r' <"$log" | grep -q "/dev/vda: slot b now holds 0.2, installed as EFI/Linux/lethe-0.2+3.efi" ||
	{ console_tail; fail "3: the update did not say it armed slot b"; }
for f in SHA256SUMS SHA256SUMS.minisig rootfs.erofs rootfs.verity lethe.efi cmdline; do
	grep -q "GET /next/$f " "$TMP/https.log" || fail "3: $f was not fetched"
done
! grep -Eq "GET /next/(disk.img|lethe.iso|vmlinuz|initramfs.img) " "$TMP/https.log" ||
	fail "3: files the update does not need were fetched"
rc=$(guest st $CMD_S lethe status)
[ "$rc" = 0 ] || { console_tail; fail "3: lethe status failed in the guest"; }
tr -d '\r' <"$log" | grep -Eq "^slot a: good, version 0.1, .*\[booted\]" &&
	tr -d '\r' <"$log" | grep -Eq "^slot b: pending, version 0.2, 3 tries left, .*\[boots next\]" ||
	{ console_tail; fail "3: lethe status in the guest does not say a booted, b pending and next"; }
# The fetched release lived in RAM (/tmp) only for the update.
rc=$(guest tmp 60 "if busybox ls -a /tmp | busybox grep -q lethe-update-work; then false; else true; fi")
[ "$rc" = 0 ] || { console_tail; fail "3: the scratch directory was left in the guest's /tmp"; }

# 4. The same release from the registry (TLS): b written again.
rc=$(guest oci $CMD_S lethe update oci://10.0.2.100:5000/lethe/selfupdate:next)
[ "$rc" = 0 ] || { console_tail; fail "4: the update from the registry failed (exit $rc)"; }
[ "$(tr -d '\r' <"$log" | grep -c "/dev/vda: slot b now holds 0.2, installed as EFI/Linux/lethe-0.2+3.efi")" = 2 ] ||
	{ console_tail; fail "4: the registry update did not arm slot b"; }
grep -q "/v2/lethe/selfupdate/manifests/next" "$TMP/reg-tls.log" || fail "4: the guest did not read the manifest from the registry"

# 5. Reboot: b boots (counted), passes the gate, is blessed; a stays the good fallback.
send "kill 1"
vm_wait "lethe-init: health: (passed|FAILED)" $BOOT_S
tr -d '\r' <"$log" | grep -q "health: passed" || { console_tail; fail "5: b failed its gate"; }
tr -d '\r' <"$log" | grep -q "health: blessed EFI/Linux/lethe-0.2+2-1.efi as lethe-0.2.efi" ||
	{ console_tail; fail "5: b was not blessed"; }
printf '%s\n' "$ha" "$hb" | cmp -s - <(boots) || { boots >&2; fail "5: not a, then b"; }
kill -9 "$VM_PID" 2>/dev/null
wait "$VM_PID" 2>/dev/null || true
"$LETHE" status --device "$disk" --json >"$TMP/status.json" || fail "status"
/usr/bin/python3 -c 'import json, sys
s = {x["slot"]: x for x in json.load(open(sys.argv[1]))["slots"]}
assert s["b"]["state"] == "good" and s["b"]["version"] == "0.2" and s["b"]["next"], s["b"]
assert s["a"]["state"] == "good" and s["a"]["version"] == "0.1", s["a"]' "$TMP/status.json" ||
	fail "5: status does not say b good and next, a good"
echo "selfupdate: in the guest another key refused, a late wave waits, lethe update over HTTPS and from a registry arms b; b boots and is blessed"
