#!/usr/bin/env bash
# lethe push and lethe pull against a real registry (Debian's docker-registry 2.8 on
# 127.0.0.1, issue 18): push, pull, verify, write; skopeo reads (inspect --raw) and copies
# the artifact and lethe pulls the copy; a second push uploads no blob; a tampered blob
# in the registry's storage is refused with its digest named and nothing left behind; a
# pull killed half-way resumes; a wrong password fails with a clear message; --insecure
# is refused for a host that is not loopback.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
. "$LETHE_SRC/tests/interop/oci-common.bash"
need_cmd docker-registry skopeo curl htpasswd
out=$(build_image_or_skip minimal)
pub=$(test_pub)
reg=$(start_registry reg)
ref=$reg/lethe/minimal:1
json() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }

# Push: every file a blob, plus the empty config.
n_files=$(($(wc -l <"$out/SHA256SUMS") + 2))
"$LETHE" push "$out" "$ref" -p "$pub" --insecure --json >"$TMP/push1.json" || fail "lethe push failed"
[ "$(json "$TMP/push1.json" blobs_uploaded)" -eq $((n_files + 1)) ] ||
	fail "the first push uploaded $(json "$TMP/push1.json" blobs_uploaded) blobs, not $((n_files + 1))"
digest=$(json "$TMP/push1.json" digest)

# The artifact as skopeo sees it: the manifest, its layers and titles.
skopeo inspect --raw --tls-verify=false "docker://$ref" >"$TMP/manifest.json" || fail "skopeo inspect --raw failed"
[ "sha256:$(sha256sum <"$TMP/manifest.json" | cut -d' ' -f1)" = "$digest" ] ||
	fail "skopeo's manifest is not the one lethe pushed ($digest)"
/usr/bin/python3 - "$TMP/manifest.json" "$out" <<'PY' || fail "the manifest is not a Lethe release artifact"
import json, os, sys
m = json.load(open(sys.argv[1]))
assert m["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
assert m["artifactType"] == "application/vnd.lethe.release.v1"
assert m["config"]["mediaType"] == "application/vnd.oci.empty.v1+json" and m["config"]["size"] == 2
titles = {l["annotations"]["org.opencontainers.image.title"]: l for l in m["layers"]}
assert sorted(titles) == sorted(os.listdir(sys.argv[2])), sorted(titles)
assert titles["sbom.spdx.json"]["mediaType"] == "application/spdx+json"
assert titles["provenance.intoto.json"]["mediaType"] == "application/vnd.in-toto+json"
assert len({l["mediaType"] for l in m["layers"]}) == len(m["layers"]), "media types repeat"
PY
# Referrers: the registry has no referrers API, so the sha256-HEX tag holds an index.
skopeo inspect --raw --tls-verify=false "docker://$reg/lethe/minimal:sha256-${digest#sha256:}" \
	>"$TMP/referrers.json" || fail "no referrers index under the sha256- tag"
/usr/bin/python3 - "$TMP/referrers.json" <<'PY' || fail "the referrers index is wrong"
import json, sys
i = json.load(open(sys.argv[1]))
assert i["mediaType"] == "application/vnd.oci.image.index.v1+json"
types = sorted(m["artifactType"] for m in i["manifests"])
assert types == sorted(["application/vnd.lethe.minisig.v1", "application/spdx+json",
                        "application/vnd.cyclonedx+json", "application/vnd.in-toto+json"]), types
PY
first_referrer=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['manifests'][0]['digest'])" "$TMP/referrers.json")
skopeo inspect --raw --tls-verify=false "docker://$reg/lethe/minimal@$first_referrer" >"$TMP/ref1.json" ||
	fail "cannot read referrer $first_referrer"
grep -q "\"subject\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"$digest\"" "$TMP/ref1.json" ||
	fail "referrer $first_referrer has no subject $digest"

# A second push of the same release uploads no blob; the referrers index does not grow.
"$LETHE" push "$out" "$ref" --insecure --json >"$TMP/push2.json" || fail "the second push failed"
[ "$(json "$TMP/push2.json" blobs_uploaded)" -eq 0 ] || fail "the second push uploaded blobs"
[ "$(json "$TMP/push2.json" blobs_skipped)" -eq $((n_files + 1)) ] || fail "the second push skipped too few blobs"
skopeo inspect --raw --tls-verify=false "docker://$reg/lethe/minimal:sha256-${digest#sha256:}" >"$TMP/referrers2.json"
cmp -s "$TMP/referrers.json" "$TMP/referrers2.json" || fail "the second push changed the referrers index"

# Pull by tag and by digest; the result verifies and lethe write takes it.
expect_ok "$LETHE" pull "$ref" -o "$TMP/p1" -p "$pub" --insecure
diff -r "$out" "$TMP/p1" >/dev/null || fail "the pulled release differs from the pushed one"
expect_ok "$LETHE" verify "$TMP/p1" -p "$pub"
expect_ok "$LETHE" write "$TMP/p1" "$TMP/disk.out" -p "$pub"
cmp -s "$TMP/disk.out" "$out/disk.img" || fail "lethe write of the pulled release wrote something else"
rm -f "$TMP/disk.out"
"$LETHE" pull "oci://$reg/lethe/minimal@$digest" -o "$TMP/p2" -p "$pub" --insecure --json \
	>"$TMP/pull2.json" || fail "lethe pull by digest failed"
# Both reports as docs/schemas says.
if /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
	for r in push:push1 pull:pull2; do
		/usr/bin/python3 -c 'import json,sys,jsonschema
jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' \
			"$TMP/${r#*:}.json" "$LETHE_SRC/docs/schemas/${r%%:*}.schema.json" ||
			fail "lethe ${r%%:*} --json does not match its schema"
	done
fi
[ -z "$(ls -A "$TMP" | grep '^\.p.\.pull-')" ] || fail "a staging directory was left behind"
rm -rf "$TMP/p1" "$TMP/p2"

# skopeo copy: the artifact copied to another repository is still a release lethe pulls.
skopeo copy --quiet --src-tls-verify=false --dest-tls-verify=false "docker://$ref" \
	"docker://$reg/copied/minimal:1" || fail "skopeo copy failed"
expect_ok "$LETHE" pull "$reg/copied/minimal:1" -o "$TMP/copied" -p "$pub" --insecure
diff -r "$out" "$TMP/copied" >/dev/null || fail "the release pulled from skopeo's copy differs"
rm -rf "$TMP/copied"

# Another key: refused, nothing left.
"$LETHE" keygen -W -p "$TMP/other.pub" -s "$TMP/other.key" >/dev/null
expect_fail 1 "signature|key" "$LETHE" pull "$ref" -o "$TMP/p3" -p "$TMP/other.pub" --insecure
[ ! -e "$TMP/p3" ] || fail "a pull with the wrong key left '$TMP/p3'"

# A tampered blob in the registry's storage: refused, its digest named, nothing left.
victim=$(/usr/bin/python3 -c "
import json, sys
m = json.load(open(sys.argv[1]))
print([l['digest'] for l in m['layers'] if l['annotations']['org.opencontainers.image.title'] == 'sbom.cdx.json'][0])" "$TMP/manifest.json")
blob=$(blob_path reg "$victim")
[ -f "$blob" ] || fail "no blob file at $blob"
cp "$blob" "$TMP/blob.orig"
flip_bit "$blob" 10
expect_fail 1 "$victim" "$LETHE" pull "$ref" -o "$TMP/p4" -p "$pub" --insecure
[ ! -e "$TMP/p4" ] || fail "a refused pull left '$TMP/p4'"
[ -z "$(ls -A "$TMP" | grep '^\.p4\.pull-')" ] || fail "a refused pull left its staging directory"
cp "$TMP/blob.orig" "$blob"

# A pull killed half-way (through a proxy that passes 8 MB/s) resumes where it stopped.
slow=$(start_throttle "${reg#*:}" 8000000)
"$LETHE" pull "127.0.0.1:$slow/lethe/minimal:1" -o "$TMP/p5" -p "$pub" --insecure -q &
pid=$!
for ((i = 0; i < 200; i++)); do
	sz=$(stat -c %s "$TMP"/.p5.pull-*/disk.img.part 2>/dev/null || echo 0)
	[ "$sz" -gt 4000000 ] && break
	sleep 0.1
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
[ "${sz:-0}" -gt 4000000 ] || fail "the throttled pull never got 4 MB into disk.img"
[ ! -e "$TMP/p5" ] || fail "the killed pull left '$TMP/p5'"
"$LETHE" pull "$ref" -o "$TMP/p5" -p "$pub" --insecure --json >"$TMP/pull5.json" || fail "the resumed pull failed"
resumed=$(json "$TMP/pull5.json" bytes_resumed)
[ "$resumed" -ge 4000000 ] || fail "the second pull did not resume (bytes_resumed $resumed)"
diff -r "$out" "$TMP/p5" >/dev/null || fail "the resumed pull differs from the release"
note "resumed after $resumed bytes"
rm -rf "$TMP/p5"

# Basic auth (htpasswd, bcrypt): the right password works, a wrong one says so.
htpasswd -Bbc "$TMP/htpasswd" lethe right-password 2>/dev/null
areg=$(start_registry areg "$TMP/htpasswd")
auth() { printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$areg" "$(printf 'lethe:%s' "$1" | base64 -w0)"; }
auth right-password >"$TMP/auth-good.json"
auth wrong-password >"$TMP/auth-bad.json"
expect_fail 3 "refused the credentials for user 'lethe'" \
	env REGISTRY_AUTH_FILE="$TMP/auth-bad.json" "$LETHE" push "$out" "$areg/lethe/minimal:1" --insecure
expect_fail 3 "requires credentials" \
	env REGISTRY_AUTH_FILE=/nonexistent HOME="$TMP" XDG_RUNTIME_DIR="$TMP" "$LETHE" push "$out" "$areg/lethe/minimal:1" --insecure
# The conventions: $REGISTRY_AUTH_FILE, then $XDG_RUNTIME_DIR/containers/auth.json.
expect_ok env REGISTRY_AUTH_FILE="$TMP/auth-good.json" "$LETHE" push "$out" "$areg/lethe/minimal:1" --insecure
mkdir -p "$TMP/xdg/containers" && cp "$TMP/auth-good.json" "$TMP/xdg/containers/auth.json"
expect_ok env -u REGISTRY_AUTH_FILE XDG_RUNTIME_DIR="$TMP/xdg" "$LETHE" pull "$areg/lethe/minimal:1" \
	-o "$TMP/p6" -p "$pub" --insecure
expect_ok "$LETHE" verify "$TMP/p6" -p "$pub"
expect_fail 3 "refused the credentials" "$LETHE" pull "$areg/lethe/minimal:1" -o "$TMP/p7" -p "$pub" \
	--insecure --authfile "$TMP/auth-bad.json"

# --insecure only for loopback; a bad reference is a usage error.
expect_fail 2 "only for a loopback" "$LETHE" push "$out" "192.0.2.1:5000/lethe/minimal:1" --insecure
expect_fail 2 "no registry" "$LETHE" pull "minimal:1" -o "$TMP/p8" -p "$pub"
note "push, pull, skopeo inspect/copy, dedup, tamper, resume and auth checked"
