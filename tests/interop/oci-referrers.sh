#!/usr/bin/env bash
# The referrers API (issue 18.1): docker-registry 2.8 has none, so the test puts a small
# python3 proxy in front of it that does what the distribution spec asks of a registry
# with one: a manifest PUT with a subject is answered with OCI-Subject, and GET
# /v2/NAME/referrers/DIGEST lists the manifests that name it. lethe push through the
# proxy attaches the signature, both SBOMs and the provenance as referrers through the
# API (its --json says so) and writes no sha256-HEX tag; the control, a push to the
# registry itself, writes the tag.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
. "$LETHE_SRC/tests/interop/oci-common.bash"
need_cmd docker-registry curl
rel=$(build_image_or_skip minimal)
pub=$(test_pub)
reg=$(start_registry reg)
pport=$(free_port)
/usr/bin/python3 - "$pport" "$reg" >"$TMP/proxy.log" 2>&1 <<'PY' &
import hashlib, http.client, http.server, json, sys
port, upstream = int(sys.argv[1]), sys.argv[2]
referrers = {}  # subject digest -> descriptors
class P(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def forward(self):
        parts = self.path.split("/referrers/")
        if self.command == "GET" and len(parts) == 2:
            body = json.dumps({"schemaVersion": 2,
                               "mediaType": "application/vnd.oci.image.index.v1+json",
                               "manifests": referrers.get(parts[1], [])}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.oci.image.index.v1+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        c = http.client.HTTPConnection(upstream)
        h = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        c.request(self.command, self.path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        subject = None
        if self.command == "PUT" and "/manifests/" in self.path and r.status == 201 and body:
            m = json.loads(body)
            if "subject" in m:
                subject = m["subject"]["digest"]
                referrers.setdefault(subject, []).append({
                    "mediaType": m["mediaType"], "size": len(body),
                    "digest": "sha256:" + hashlib.sha256(body).hexdigest(),
                    "artifactType": m.get("artifactType")})
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                self.send_header(k, v.replace(upstream, "127.0.0.1:%d" % port))
        if subject:
            self.send_header("OCI-Subject", subject)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = forward
http.server.ThreadingHTTPServer(("127.0.0.1", port), P).serve_forever()
PY
on_exit "kill $! 2>/dev/null"
for ((i = 0; i < 50; i++)); do curl -s -o /dev/null "http://127.0.0.1:$pport/v2/" && break; sleep 0.1; done
json() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }
tags() { curl -sf "http://$reg/v2/$1/tags/list" | /usr/bin/python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin)["tags"])))'; }

# Through the API.
expect_ok "$LETHE" push "$rel" "127.0.0.1:$pport/lethe/api:v1" -p "$pub" --insecure --json
cp "$TMP/out" "$TMP/api.json"
[ "$(json "$TMP/api.json" referrers_api)" = True ] || { cat "$TMP/api.json" >&2; fail "push did not see the referrers API"; }
digest=$(json "$TMP/api.json" digest)
[ "$(tags lethe/api)" = v1 ] || fail "a push through the referrers API wrote the tags: $(tags lethe/api)"
curl -sf "http://127.0.0.1:$pport/v2/lethe/api/referrers/$digest" >"$TMP/referrers.json" ||
	fail "the referrers of $digest cannot be listed"
types=$(/usr/bin/python3 -c 'import json,sys; print(" ".join(sorted(m["artifactType"] for m in json.load(open(sys.argv[1]))["manifests"])))' "$TMP/referrers.json")
[ "$types" = "application/spdx+json application/vnd.cyclonedx+json application/vnd.in-toto+json application/vnd.lethe.minisig.v1" ] ||
	fail "the referrers' artifact types are: $types"
[ "$(wc -w <<<"$types")" -eq 4 ] || fail "not 4 referrers through the API: $types"
# The pull of it still works through the proxy.
expect_ok "$LETHE" pull "127.0.0.1:$pport/lethe/api:v1" -o "$TMP/pulled" -p "$pub" --insecure
diff -r "$rel" "$TMP/pulled" >/dev/null || fail "the pulled release differs"

# Control: the registry itself has no API, so the sha256-HEX tag holds them.
expect_ok "$LETHE" push "$rel" "$reg/lethe/tag:v1" -p "$pub" --insecure --json
[ "$(json "$TMP/out" referrers_api)" = False ] || fail "docker-registry was taken for one with the referrers API"
[ "$(tags lethe/tag)" = "sha256-${digest#sha256:} v1" ] || fail "no sha256- tag without the API: $(tags lethe/tag)"
note "ok: 4 referrers through the API and no fallback tag; the fallback tag without it"
