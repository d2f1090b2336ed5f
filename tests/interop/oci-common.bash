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
	kill_at_exit "$pid" # (this runs in $(...): an on_exit would be lost)
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
	kill_at_exit "$pid"
	for ((i = 0; i < 50; i++)); do
		/usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $port)).close()" 2>/dev/null &&
			{ echo "$port"; return 0; }
		sleep 0.1
	done
	fail "the throttling proxy did not start"
}

# A static HTTP server on 127.0.0.1 for DIR that honours "Range: bytes=N-" and
# "bytes=N-M" (python3's http.server does not), logging requests to $TMP/http.log and
# the body bytes of each answer to $TMP/http.bytes ("PATH STATUS BYTES START"): start_http DIR
# prints its port.
start_http() {
	local dir=$1 port pid i
	port=$(free_port)
	: >"$TMP/http.bytes"
	/usr/bin/python3 - "$dir" "$port" "$TMP/http.bytes" >"$TMP/http.log" 2>&1 <<'PY' &
import http.server, os, re, sys
d, port, counts = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def count(path, status, n, start=0):
    with open(counts, "a") as f:
        f.write("%s %d %d %d\n" % (path, status, n, start))
class H(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def __init__(self, *a, **k):
        super().__init__(*a, directory=d, **k)
    def send_head(self):
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        path = self.translate_path(self.path)
        if not os.path.isfile(path):
            return super().send_head()
        f = open(path, "rb")
        size = os.fstat(f.fileno()).st_size
        if not m:
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            count(self.path, 200, size)
            return f
        start = int(m.group(1))
        end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
        if start >= size or end < start:
            f.close()
            self.send_error(416)
            return None
        f.seek(start)
        self.send_response(206)
        self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        count(self.path, 206, end - start + 1, start)
        self.remaining = end - start + 1
        return f
    def copyfile(self, src, dst):
        n = getattr(self, "remaining", None)
        if n is None:
            return super().copyfile(src, dst)
        while n > 0:
            b = src.read(min(n, 65536))
            if not b:
                break
            dst.write(b)
            n -= len(b)
        self.remaining = None
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
	pid=$!
	kill_at_exit "$pid"
	for ((i = 0; i < 50; i++)); do
		curl -sf -o /dev/null "http://127.0.0.1:$port/" && { echo "$port"; return 0; }
		sleep 0.1
	done
	fail "the HTTP server did not start"
}
