#!/usr/bin/python3
"""A tiny SOCKS5 server for tests/vm/desktop.sh, standing in for Tor's SOCKS port.

serve PORT LOG: listen on 127.0.0.1:PORT; answer every CONNECT (no authentication),
log "CONNECT HOST:PORT ATYP" (ATYP domain means the client left name resolution to the
proxy: remote DNS), then play the web server of every host itself: log "GET HOST PATH"
and send a test page. Nothing is ever connected to.
relay PORT LOG: one connection on stdin/stdout (QEMU's guestfwd cmd:) carried to
127.0.0.1:PORT; logs "ATTEMPT" and, when nothing listens, "REFUSED".
"""
import os
import select
import socket
import socketserver
import sys
import threading

PAGE_ONE = b"""<!DOCTYPE html><html><head><title>lethe one</title>
<meta http-equiv="refresh" content="%d;url=http://two.lethe.test/">
<style>body{margin:0;font:48px sans-serif}div{height:90px}</style></head><body>
<div style="background:#d62728">lethe through socks</div><div style="background:#2ca02c"></div>
<div style="background:#1f77b4"></div><div style="background:#ff7f0e"></div>
<div style="background:#9467bd"></div><div style="background:#8c564b"></div>
<div style="background:linear-gradient(90deg,#000,#fff)"></div></body></html>
"""
PAGE_TWO = b"<!DOCTYPE html><html><body>lethe two</body></html>"

lock = threading.Lock()


def log(path, line):
    with lock, open(path, "a") as f:
        f.write(line + "\n")


def read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


class Socks(socketserver.BaseRequestHandler):
    def handle(self):
        s, logf = self.request, self.server.logf
        try:
            ver, n = read_exact(s, 2)
            read_exact(s, n)
            if ver != 5:
                return
            s.sendall(b"\x05\x00")
            ver, cmd, _, atyp = read_exact(s, 4)
            if atyp == 3:
                host, kind = read_exact(s, read_exact(s, 1)[0]).decode(), "domain"
            elif atyp == 1:
                host, kind = socket.inet_ntop(socket.AF_INET, read_exact(s, 4)), "ipv4"
            else:
                host, kind = socket.inet_ntop(socket.AF_INET6, read_exact(s, 16)), "ipv6"
            port = int.from_bytes(read_exact(s, 2), "big")
            log(logf, "CONNECT %s:%d %s" % (host, port, kind))
            s.sendall(b"\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x50")
            req = b""
            while b"\r\n\r\n" not in req:
                chunk = s.recv(4096)
                if not chunk:
                    return
                req += chunk
            path = req.split(b" ", 2)[1].decode(errors="replace")
            log(logf, "GET %s %s" % (host, path))
            body = PAGE_ONE % self.server.refresh if host.startswith("one.") else PAGE_TWO
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nCache-Control: no-store\r\n"
                      b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        except (EOFError, OSError, ValueError, IndexError):
            pass


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def relay(port, logf):
    log(logf, "ATTEMPT")
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        log(logf, "REFUSED")
        return
    s.settimeout(None)
    fds = [0, s]
    while True:
        r, _, _ = select.select(fds, [], [], 120)
        if not r:
            return
        if 0 in r:
            data = os.read(0, 65536)
            if not data:
                s.shutdown(socket.SHUT_WR)
                fds.remove(0)
            else:
                s.sendall(data)
        if s in r:
            data = s.recv(65536)
            if not data:
                return
            os.write(1, data)


if __name__ == "__main__":
    mode, port, logf = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if mode == "relay":
        relay(port, logf)
    else:
        srv = Server(("127.0.0.1", port), Socks)
        srv.logf = logf
        srv.refresh = int(sys.argv[4]) if len(sys.argv) > 4 else 30
        log(logf, "LISTENING")
        srv.serve_forever()
