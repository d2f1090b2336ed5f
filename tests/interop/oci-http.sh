#!/usr/bin/env bash
# lethe pull of a release served as a plain directory over HTTP (issue 18.2), from
# a python3 http.server on 127.0.0.1: pulled and verified; a tampered file is refused by
# name with nothing left behind; a killed pull resumes (Range); plain HTTP needs
# --insecure and a loopback host.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
. "$LETHE_SRC/tests/interop/oci-common.bash"
out=$(build_image_or_skip minimal)
pub=$(test_pub)
cp -a "$out" "$TMP/www"
port=$(start_http "$TMP/www")
url=http://127.0.0.1:$port/
json() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }

expect_fail 2 "plain HTTP" "$LETHE" pull "$url" -o "$TMP/p0" -p "$pub"
expect_fail 2 "only for a loopback" "$LETHE" pull "http://192.0.2.1/rel/" -o "$TMP/p0" -p "$pub" --insecure
expect_ok "$LETHE" pull "$url" -o "$TMP/p1" -p "$pub" --insecure
diff -r "$out" "$TMP/p1" >/dev/null || fail "the pulled release differs"
expect_ok "$LETHE" verify "$TMP/p1" -p "$pub"
rm -rf "$TMP/p1"

# A file changed on the server: named, and nothing left.
flip_bit "$TMP/www/manifest.mtree" 100
expect_fail 1 "manifest.mtree" "$LETHE" pull "$url" -o "$TMP/p2" -p "$pub" --insecure
[ ! -e "$TMP/p2" ] && [ -z "$(ls -A "$TMP" | grep '^\.p2\.pull-')" ] || fail "a refused pull left files"
flip_bit "$TMP/www/manifest.mtree" 100
# SHA256SUMS changed on the server: the signature is checked before any file is fetched.
cp "$TMP/www/SHA256SUMS" "$TMP/sums.orig"
sed -i '1s/^./0/;1s/^0\(.*\)/1\1/' "$TMP/www/SHA256SUMS"
! cmp -s "$TMP/www/SHA256SUMS" "$TMP/sums.orig" || fail "SHA256SUMS unchanged"
: >"$TMP/http.log"
expect_fail 1 "signature" "$LETHE" pull "$url" -o "$TMP/p3" -p "$pub" --insecure
! grep -q "GET /rootfs.erofs" "$TMP/http.log" || fail "files were fetched before the signature was checked"
cp "$TMP/sums.orig" "$TMP/www/SHA256SUMS"

# Killed half-way through a throttled connection, then resumed from the server itself.
slow=$(start_throttle "$port" 8000000)
"$LETHE" pull "http://127.0.0.1:$slow/" -o "$TMP/p4" -p "$pub" --insecure -q &
lp=$!
sz=0
for ((i = 0; i < 200; i++)); do
	sz=$(stat -c %s "$TMP"/.p4.pull-*/disk.img.part 2>/dev/null || echo 0)
	[ "$sz" -gt 4000000 ] && break
	sleep 0.1
done
kill -9 "$lp" 2>/dev/null || true
wait "$lp" 2>/dev/null || true
[ "$sz" -gt 4000000 ] || fail "the throttled pull never got 4 MB into disk.img"
"$LETHE" pull "$url" -o "$TMP/p4" -p "$pub" --insecure --json >"$TMP/p4.json" || fail "the resumed pull failed"
[ "$(json "$TMP/p4.json" bytes_resumed)" -ge 4000000 ] || fail "the second pull did not resume"
grep -q '"GET /disk.img HTTP/1.1" 206' "$TMP/http.log" || fail "no Range request for disk.img"
diff -r "$out" "$TMP/p4" >/dev/null || fail "the resumed pull differs"
note "HTTP pull, tamper refusal, signature first and resume checked"
