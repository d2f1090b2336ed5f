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
# (with a test CA and the test key, also kept per build tree); they, the HTTPS server
# and the console helpers are tests/vm/selfupdate-common.bash (shared with powerloss.sh).
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/vm/selfupdate-common.bash" # images, HTTPS server, guest console
. "$LETHE_SRC/tests/interop/oci-common.bash"   # start_registry

# The served releases: next = b signed now (so that the waves count from now), evil = b
# signed by another key.
"$LETHE" keygen -W -p "$TMP/other.pub" -s "$TMP/other.key" >/dev/null || fail "keygen"
su_publish next "$(test_key)"
su_publish evil "$TMP/other.key"
su_serve

# A registry: pushed to over plain HTTP on loopback, served to the guest over TLS by a
# second docker-registry on the same storage.
reg=$(start_registry reg)
expect_ok "$LETHE" push "$www/next" "$reg/lethe/selfupdate:next" -p "$pub" --insecure
rport=$(free_port)
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
su_vm_start "$disk" "$TMP/vars.fd" "$TMP/console.log" -uuid "$early" \
	-nic "user,model=virtio-net-pci,restrict=on,$(su_fwd 443 "$port"),$(su_fwd 5000 "$rport")"

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
su_vm_kill
"$LETHE" status --device "$disk" --json >"$TMP/status.json" || fail "status"
/usr/bin/python3 -c 'import json, sys
s = {x["slot"]: x for x in json.load(open(sys.argv[1]))["slots"]}
assert s["b"]["state"] == "good" and s["b"]["version"] == "0.2" and s["b"]["next"], s["b"]
assert s["a"]["state"] == "good" and s["a"]["version"] == "0.1", s["a"]' "$TMP/status.json" ||
	fail "5: status does not say b good and next, a good"
echo "selfupdate: in the guest another key refused, a late wave waits, lethe update over HTTPS and from a registry arms b; b boots and is blessed"
