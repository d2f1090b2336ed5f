# Shared by the oci-*.sh interop tests (not a test itself: meson runs *.sh only).
# A real registry (Debian's docker-registry 2.8) on 127.0.0.1, a free port, storage in
# $TMP, stopped when the test ends.

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_registry NAME [HTPASSWD]: prints the host:port; storage in $TMP/NAME.
start_registry() {
	local name=$1 htpasswd=${2:-} port pid i
	port=$(free_port)
	mkdir -p "$TMP/$name"
	{
		echo "version: 0.1"
		echo "log: { level: error }"
		echo "storage: { filesystem: { rootdirectory: $TMP/$name }, delete: { enabled: true } }"
		echo "http: { addr: 127.0.0.1:$port, secret: lethe-test-$name }"
		[ -z "$htpasswd" ] || echo "auth: { htpasswd: { realm: lethe-test, path: $htpasswd } }"
	} >"$TMP/$name.yml"
	docker-registry serve "$TMP/$name.yml" >"$TMP/$name.log" 2>&1 &
	pid=$!
	on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
	for ((i = 0; i < 100; i++)); do
		if curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" 2>/dev/null | grep -Eq '200|401'; then
			echo "127.0.0.1:$port"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || { cat "$TMP/$name.log" >&2; fail "docker-registry did not start"; }
		sleep 0.1
	done
	fail "docker-registry did not answer on 127.0.0.1:$port"
}

# The registry's file for a blob: blob_path NAME sha256:HEX
blob_path() {
	local hex=${2#sha256:}
	echo "$TMP/$1/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data"
}

# A TCP proxy on 127.0.0.1 that passes at most RATE bytes per second towards the
# client: start_throttle TARGET_PORT RATE prints its port.
start_throttle() {
	local target=$1 rate=$2 port pid
	port=$(free_port)
	/usr/bin/python3 - "$port" "$target" "$rate" >"$TMP/throttle.log" 2>&1 <<'PY' &
import asyncio, sys
port, target, rate = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
async def pipe(r, w, slow):
    try:
        while True:
            data = await r.read(16384 if slow else 65536)
            if not data:
                break
            w.write(data)
            await w.drain()
            if slow:
                await asyncio.sleep(len(data) / rate)
    except Exception:
        pass
    finally:
        w.close()
async def handle(cr, cw):
    sr, sw = await asyncio.open_connection("127.0.0.1", target)
    await asyncio.gather(pipe(cr, sw, False), pipe(sr, cw, True))
async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", port)
    async with srv:
        await srv.serve_forever()
asyncio.run(main())
PY
	pid=$!
	on_exit "kill $pid 2>/dev/null"
	for ((i = 0; i < 50; i++)); do
		/usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $port)).close()" 2>/dev/null &&
			{ echo "$port"; return 0; }
		sleep 0.1
	done
	fail "the throttling proxy did not start"
}

# A static HTTP server on 127.0.0.1 for DIR that honours "Range: bytes=N-" (python3's
# http.server does not), logging requests to $TMP/http.log: start_http DIR prints its port.
start_http() {
	local dir=$1 port pid i
	port=$(free_port)
	/usr/bin/python3 - "$dir" "$port" >"$TMP/http.log" 2>&1 <<'PY' &
import http.server, os, re, sys
d, port = sys.argv[1], int(sys.argv[2])
class H(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=d, **k)
    def send_head(self):
        m = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
        path = self.translate_path(self.path)
        if not m or not os.path.isfile(path):
            return super().send_head()
        f = open(path, "rb")
        size, start = os.fstat(f.fileno()).st_size, int(m.group(1))
        if start >= size:
            f.close()
            self.send_error(416)
            return None
        f.seek(start)
        self.send_response(206)
        self.send_header("Content-Range", "bytes %d-%d/%d" % (start, size - 1, size))
        self.send_header("Content-Length", str(size - start))
        self.end_headers()
        return f
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
	pid=$!
	on_exit "kill $pid 2>/dev/null"
	for ((i = 0; i < 50; i++)); do
		curl -sf -o /dev/null "http://127.0.0.1:$port/" && { echo "$port"; return 0; }
		sleep 0.1
	done
	fail "the HTTP server did not start"
}
