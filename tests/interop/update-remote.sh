#!/usr/bin/env bash
# lethe update from a URL (issue 18.3) on a disk image (--device): a release served as a
# directory by an HTTP server on 127.0.0.1 and one pushed to a real registry
# (docker-registry on 127.0.0.1). SHA256SUMS and its signature come first; only the
# files an update writes are fetched (disk.img never is); another key's release is
# refused with nothing but the two small files fetched and nothing written. The spec's
# update: section: its source when no SOURCE is given, its rollout waves by
# --machine-id (a machine outside the open wave exits 0 and writes nothing; --now
# overrides; a release signed a wait ago opens the next wave).
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
. "$LETHE_SRC/tests/interop/update-common.bash"
. "$LETHE_SRC/tests/interop/oci-common.bash"
need_cmd sfdisk mdir mkfs.vfat curl

pub=$(test_pub)
disk=$TMP/disk.img
"$LETHE" keygen -W -p "$TMP/other.pub" -s "$TMP/other.key" >/dev/null || fail "keygen"

# resign DIR [KEY] [EPOCH]: add a disk.img the update must not fetch, sum and sign again.
resign() {
	local dir=$1 key=${2:-$(test_key)} epoch=${3:-}
	[ -f "$dir/disk.img" ] || head -c 3000000 /dev/urandom >"$dir/disk.img"
	rm -f "$dir/SHA256SUMS" "$dir/SHA256SUMS.minisig"
	(cd "$dir" && "$LETHE" sums -o SHA256SUMS rootfs.erofs rootfs.verity roothash cmdline \
		lethe.efi disk.img >/dev/null &&
		if [ -n "$epoch" ]; then
			SOURCE_DATE_EPOCH=$epoch "$LETHE" sign -q -s "$key" SHA256SUMS
		else
			"$LETHE" sign -q -s "$key" SHA256SUMS
		fi) || fail "cannot sign '$dir'"
}
make_release "$TMP/v1" lethe-test 1.0
for v in 2 3 4 5 6; do
	make_release "$TMP/www/v$v" lethe-test $v.0
	resign "$TMP/www/v$v"
done
make_release "$TMP/www/evil" lethe-test 9.0
resign "$TMP/www/evil" "$TMP/other.key"
expect_ok "$LETHE" install "$TMP/v1" "$disk" -p "$pub" --slot-size 16
port=$(start_http "$TMP/www")
base=http://127.0.0.1:$port
unchanged_since() { [ "$(slot_sum "$disk" b)" = "$1" ] && [ "$(esp_names "$disk")" = "$2" ]; }
status_b() {
	"$LETHE" status --device "$disk" --json | /usr/bin/python3 -c 'import json, sys
s = {x["slot"]: x for x in json.load(sys.stdin)["slots"]}["b"]
print(s["state"], s["version"])'
}

# Plain HTTP needs --insecure (and a loopback host).
expect_fail 2 "plain HTTP" "$LETHE" update "$base/v2/" --device "$disk" -p "$pub"

# Another key's release: refused on the signature, only SHA256SUMS and its signature fetched.
b0=$(slot_sum "$disk" b) e0=$(esp_names "$disk")
: >"$TMP/http.log"
expect_fail 1 "was made by key|signature" "$LETHE" update "$base/evil/" --device "$disk" -p "$pub" --insecure
unchanged_since "$b0" "$e0" || fail "the release of another key changed the disk"
grep -q "GET /evil/SHA256SUMS.minisig" "$TMP/http.log" || fail "the signature was not fetched"
! grep -q "GET /evil/rootfs" "$TMP/http.log" || fail "files were fetched before the signature was checked"
[ -z "$(ls -A "${TMPDIR:-/tmp}" 2>/dev/null | grep "^lethe-update-work" | head -n1)" ] ||
	note "scratch directories of other runs exist in ${TMPDIR:-/tmp}"

# HTTP: only what the update writes is fetched; b is armed.
: >"$TMP/http.log"
expect_ok env TMPDIR="$TMP" "$LETHE" update "$base/v2/" --device "$disk" -p "$pub" --insecure
grep -q "GET /v2/rootfs.erofs" "$TMP/http.log" || fail "rootfs.erofs was not fetched over HTTP"
grep -q "GET /v2/lethe.efi" "$TMP/http.log" || fail "lethe.efi was not fetched over HTTP"
! grep -q "GET /v2/disk.img" "$TMP/http.log" || fail "disk.img was fetched: an update does not need it"
[ "$(status_b)" = "pending 2.0" ] || fail "b is not pending 2.0 after the HTTP update: $(status_b)"
[ -z "$(ls -A "$TMP" | grep '^lethe-update-work')" ] || fail "the scratch directory was left behind"

# OCI: the same through a registry.
if command -v docker-registry >/dev/null; then
	reg=$(start_registry reg)
	expect_ok "$LETHE" push "$TMP/www/v3" "$reg/lethe/test:v3" -p "$pub" --insecure
	expect_ok "$LETHE" push "$TMP/www/evil" "$reg/lethe/test:evil" --insecure
	b0=$(slot_sum "$disk" b) e0=$(esp_names "$disk")
	expect_fail 1 "was made by key|signature" "$LETHE" update "oci://$reg/lethe/test:evil" \
		--device "$disk" -p "$pub" --insecure
	unchanged_since "$b0" "$e0" || fail "the registry release of another key changed the disk"
	expect_ok env TMPDIR="$TMP" "$LETHE" update "oci://$reg/lethe/test:v3" --device "$disk" -p "$pub" --insecure
	[ "$(status_b)" = "pending 3.0" ] || fail "b is not pending 3.0 after the OCI update: $(status_b)"
else
	note "no docker-registry: the oci:// update is not checked"
fi

# The spec's update: section. Machine ids by their bucket (SHA-256 of "lethe-rollout\n" + the
# id lowercased, without dashes).
bucket() { /usr/bin/python3 -c 'import hashlib, sys
i = "".join(c.lower() for c in sys.argv[1] if c != "-" and not c.isspace())
print(int.from_bytes(hashlib.sha256(b"lethe-rollout\n" + i.encode()).digest()[:8], "big") % 100)' "$1"; }
early= late=
for i in $(seq 1 500); do
	b=$(bucket "machine-$i")
	[ -z "$early" ] && [ "$b" -lt 10 ] && early=machine-$i
	[ -z "$late" ] && [ "$b" -ge 50 ] && late=machine-$i
	[ -n "$early" ] && [ -n "$late" ] && break
done
cp "$pub" "$TMP/update.pub"
spec() { # spec SOURCE_PATH: a spec whose update: section follows $base/SOURCE_PATH/
	cat >"$TMP/spec.yaml" <<EOF
name: lethe-test
version: "1.0"
packages: [busybox-static]
kernel: {package: linux-image-cloud-amd64}
files: [{source: update.pub, destination: /etc/lethe/update.pub}]
boot: {layout: ab}
update:
  source: $base/
  channel: $1
  waves: [10, 50, 100]
  wait: 1d
EOF
}
spec v4
expect_fail 2 "expected SOURCE" "$LETHE" update --device "$disk" -p "$pub"
b0=$(slot_sum "$disk" b) e0=$(esp_names "$disk")
: >"$TMP/http.log"
"$LETHE" update --device "$disk" -p "$pub" --spec "$TMP/spec.yaml" --insecure --machine-id "$late" \
	>"$TMP/out" 2>&1 || { cat "$TMP/out"; fail "a machine outside the wave did not exit 0"; }
grep -q "not yet:.*bucket $(bucket "$late") of 100.*wave 3.*nothing written" "$TMP/out" ||
	{ cat "$TMP/out"; fail "the machine outside the wave did not say so"; }
unchanged_since "$b0" "$e0" || fail "a machine outside the wave wrote its disk"
! grep -q "GET /v4/rootfs" "$TMP/http.log" || fail "a machine outside the wave fetched the release"
"$LETHE" update --device "$disk" -p "$pub" --spec "$TMP/spec.yaml" --insecure --machine-id "$late" --json \
	>"$TMP/w.json" || fail "update --json outside the wave"
/usr/bin/python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))
assert d["updated"] is False and d["rollout"]["in"] is False and d["rollout"]["percent"] == 10, d' "$TMP/w.json" ||
	fail "the JSON does not say the machine is outside the open wave"
expect_ok "$LETHE" update --device "$disk" -p "$pub" --spec "$TMP/spec.yaml" --insecure --machine-id "$early" --json
cp "$TMP/out" "$TMP/u.json"
if /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
	/usr/bin/python3 - "$LETHE_SRC/docs/schemas/update.schema.json" "$TMP/w.json" "$TMP/u.json" <<'PY' ||
import json, sys, jsonschema
v = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))
bad = [f"{f}: {e.message}" for f in sys.argv[2:] for e in v.iter_errors(json.load(open(f)))]
d = json.load(open(sys.argv[3]))
if not d["updated"] or d["slot"] != "b" or not d["rollout"]["in"]:
    bad.append(f"{sys.argv[3]}: not updated into b within the wave")
print("\n".join(bad), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
		fail "lethe update --json does not match docs/schemas/update.schema.json"
fi
[ "$(status_b)" = "pending 4.0" ] || fail "a machine in the first wave did not update: $(status_b)"
spec v5
expect_ok "$LETHE" update --device "$disk" -p "$pub" --spec "$TMP/spec.yaml" --insecure --machine-id "$late" --now
[ "$(status_b)" = "pending 5.0" ] || fail "--now did not update outside the wave: $(status_b)"
# The same from a registry: the machine outside the wave fetches only the signed sums.
if [ -n "${reg:-}" ]; then
	sed -i "s|^  source: .*|  source: oci://$reg/lethe/test|; s|^  channel: .*|  channel: v3|" "$TMP/spec.yaml"
	b0=$(slot_sum "$disk" b) e0=$(esp_names "$disk")
	TMPDIR=$TMP "$LETHE" update --device "$disk" -p "$pub" --spec "$TMP/spec.yaml" --insecure \
		--machine-id "$late" >"$TMP/out" 2>&1 ||
		{ cat "$TMP/out"; fail "a machine outside the wave did not exit 0 (oci)"; }
	grep -q "oci://$reg/lethe/test:v3: not yet:" "$TMP/out" || { cat "$TMP/out"; fail "oci: no 'not yet'"; }
	unchanged_since "$b0" "$e0" || fail "a machine outside the wave wrote its disk (oci)"
	[ -z "$(ls -A "$TMP" | grep '^lethe-update-work')" ] || fail "oci: the scratch directory was left behind"
fi
# Signed three days ago: the last wave is open, every machine updates.
resign "$TMP/www/v6" "$(test_key)" $(($(date +%s) - 3 * 86400))
spec v6
expect_ok "$LETHE" update --device "$disk" -p "$pub" --spec "$TMP/spec.yaml" --insecure --machine-id "$late"
[ "$(status_b)" = "pending 6.0" ] || fail "the last wave did not update every machine: $(status_b)"
# Delta: a release whose root is 1.0's (installed in a) with its first 8 KiB changed and
# 8 KiB appended fetches only the blocks the disk lacks, by Range, and b is still
# verified whole; the control, a root of new bytes, is fetched whole.
head -c 8192 /dev/urandom >"$TMP/delta.root"
tail -c +8193 "$TMP/v1/rootfs.erofs" >>"$TMP/delta.root"
head -c 8192 /dev/urandom >>"$TMP/delta.root"
ROOTFS_FROM=$TMP/delta.root make_release "$TMP/www/v7" lethe-test 7.0
resign "$TMP/www/v7"
: >"$TMP/http.bytes"
expect_ok "$LETHE" update "$base/v7/" --device "$disk" -p "$pub" --insecure
[ "$(status_b)" = "pending 7.0" ] || fail "the delta update did not arm b: $(status_b)"
size=$(stat -c %s "$TMP/delta.root")
fetched=$(awk '$1 == "/v7/rootfs.erofs" { n += $3 } END { print n + 0 }' "$TMP/http.bytes")
grep -q '^/v7/rootfs.erofs 206 ' "$TMP/http.bytes" || fail "the delta update sent no Range request"
[ "$fetched" -le $((size / 5)) ] || fail "the delta update fetched $fetched of $size bytes of the root"
[ "$(slot_sum "$disk" b)" != "$b0" ] || fail "b was not written"
: >"$TMP/http.bytes"
make_release "$TMP/www/v8" lethe-test 8.0
resign "$TMP/www/v8"
expect_ok "$LETHE" update "$base/v8/" --device "$disk" -p "$pub" --insecure
fetched8=$(awk '$1 == "/v8/rootfs.erofs" { n += $3 } END { print n + 0 }' "$TMP/http.bytes")
[ "$fetched8" -ge "$(stat -c %s "$TMP/www/v8/rootfs.erofs")" ] ||
	fail "control: a root of new bytes was not fetched whole ($fetched8 bytes)"
note "delta update: $fetched of $size bytes of the root fetched"
note "HTTP and OCI updates (signature first, only what is needed), another key refused, waves honoured, delta"
