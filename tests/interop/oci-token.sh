#!/usr/bin/env bash
# Bearer-token authentication (issue 18.1) against Debian's docker-registry 2.8 with
# token auth, in front of which the test runs a small token server (python3-jwt, RS256,
# the key's libtrust "kid" as the registry expects): the registry's 401 names the realm,
# Lethe asks it for a token for the registry's service and the push/pull scope with the
# credentials of auth.json, and push then pull of a release succeed with it. A wrong
# password is refused by the token server with a message naming the user; without
# credentials the message says auth.json has none.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
. "$LETHE_SRC/tests/interop/oci-common.bash"
need_cmd docker-registry openssl curl
/usr/bin/python3 -c 'import jwt, cryptography' 2>/dev/null || skip "python3-jwt is not installed"
rel=$(build_image_or_skip minimal)
pub=$(test_pub)

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/token.key" -out "$TMP/token.crt" \
	-days 2 -subj /CN=lethe-test-token 2>/dev/null || fail "openssl could not make the token key"
tport=$(free_port)
/usr/bin/python3 - "$tport" "$TMP/token.key" >"$TMP/token.log" 2>&1 <<'PY' &
import base64, hashlib, http.server, json, sys, time, urllib.parse
import jwt
from cryptography.hazmat.primitives import serialization
port, keyfile = int(sys.argv[1]), sys.argv[2]
key = serialization.load_pem_private_key(open(keyfile, "rb").read(), None)
der = key.public_key().public_bytes(serialization.Encoding.DER,
                                    serialization.PublicFormat.SubjectPublicKeyInfo)
# libtrust's key ID: base32 of the first 240 bits of the SHA-256 of the DER key, in 4s.
b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode()
kid = ":".join(b32[i:i + 4] for i in range(0, len(b32), 4))
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        auth = self.headers.get("Authorization", "")
        user = base64.b64decode(auth[6:]).decode() if auth.startswith("Basic ") else ""
        print("token", q.get("service"), q.get("scope"), user.split(":")[0], flush=True)
        if user != "fleet:s3cret":
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="lethe-test-token"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        access = []
        for s in q.get("scope", []):
            t, name, actions = s.split(":")
            access.append({"type": t, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        tok = jwt.encode({"iss": "lethe-test-issuer", "sub": "fleet", "aud": q["service"][0],
                          "exp": now + 300, "nbf": now - 10, "iat": now, "jti": str(now),
                          "access": access}, key, algorithm="RS256", headers={"kid": kid})
        body = json.dumps({"token": tok, "expires_in": 300}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
on_exit "kill $! 2>/dev/null"

port=$(free_port)
mkdir -p "$TMP/storage"
cat >"$TMP/reg.yml" <<EOF
version: 0.1
log: { level: error }
storage: { filesystem: { rootdirectory: $TMP/storage } }
http: { addr: 127.0.0.1:$port, secret: lethe-test-token }
auth:
  token:
    realm: http://127.0.0.1:$tport/token
    service: lethe-test-registry
    issuer: lethe-test-issuer
    rootcertbundle: $TMP/token.crt
EOF
docker-registry serve "$TMP/reg.yml" >"$TMP/reg.log" 2>&1 &
on_exit "kill $! 2>/dev/null"
for ((i = 0; i < 100; i++)); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/")" = 401 ] && break
	sleep 0.1
done
curl -si "http://127.0.0.1:$port/v2/" | grep -qi "^www-authenticate: Bearer realm=\"http://127.0.0.1:$tport/token\"" ||
	{ cat "$TMP/reg.log" >&2; fail "the registry does not ask for a bearer token"; }
reg=127.0.0.1:$port

auth() { # auth FILE USER:PASSWORD
	printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$reg" "$(printf %s "$2" | base64 -w0)" >"$1"
}
auth "$TMP/auth.json" fleet:s3cret
auth "$TMP/wrong.json" fleet:wrong

expect_ok "$LETHE" push "$rel" "$reg/lethe/token:v1" -p "$pub" --insecure --authfile "$TMP/auth.json"
# The registry's challenge names the actions in either order (it builds them from a map).
grep -Eq "token \['lethe-test-registry'\] \['repository:lethe/token:(pull,push|push,pull)'\] fleet" "$TMP/token.log" ||
	{ cat "$TMP/token.log" >&2; fail "no token was asked for the push scope with the credentials"; }
expect_ok "$LETHE" pull "$reg/lethe/token:v1" -o "$TMP/pulled" -p "$pub" --insecure --authfile "$TMP/auth.json"
diff -r "$rel" "$TMP/pulled" >/dev/null || fail "the release pulled with a token differs"
grep -q "token \['lethe-test-registry'\] \['repository:lethe/token:pull'\] fleet" "$TMP/token.log" ||
	fail "no token was asked for the pull scope"

# Refused: a wrong password, and none at all.
expect_fail 3 "the token server: '127.0.0.1:$tport' refused the credentials for user 'fleet'" \
	"$LETHE" pull "$reg/lethe/token:v1" -o "$TMP/p2" -p "$pub" --insecure --authfile "$TMP/wrong.json"
[ ! -e "$TMP/p2" ] || fail "a refused pull left an output directory"
echo '{"auths": {}}' >"$TMP/none.json"
expect_fail 3 "requires credentials .* auth.json has none" \
	"$LETHE" pull "$reg/lethe/token:v1" -o "$TMP/p3" -p "$pub" --insecure --authfile "$TMP/none.json"
note "ok: push and pull with a bearer token; wrong and missing credentials refused"
