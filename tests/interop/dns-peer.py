#!/usr/bin/python3
# A tiny DNS peer for the firewall tests, stdlib only (Debian 12 has no dnsmasq here).
#   dns-peer.py serve LOG ADDR...   answer every A query on UDP and TCP port 53 of each
#                                   ADDR with 192.0.2.99; one line "PROTO ADDR" per
#                                   query received goes to LOG
#   dns-peer.py query udp|tcp SERVER NAME   ask SERVER once (2 s); exit 0 when answered
import select
import socket
import struct
import sys


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def answer(query):
    if len(query) < 12:
        return None
    qid, _flags, qd = struct.unpack(">HHH", query[:6])
    end = 12
    while end < len(query) and query[end] != 0:
        end += 1 + query[end]
    end += 5  # the root label, QTYPE, QCLASS
    if qd != 1 or end > len(query):
        return None
    head = struct.pack(">HHHHHH", qid, 0x8180, 1, 1, 0, 0)
    rr = struct.pack(">HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton("192.0.2.99")
    return head + query[12:end] + rr


def serve(log, addrs):
    socks = {}
    for a in addrs:
        u = socket.socket(family(a), socket.SOCK_DGRAM)
        u.bind((a, 53))
        t = socket.socket(family(a), socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind((a, 53))
        t.listen(8)
        socks[u] = ("udp", a)
        socks[t] = ("tcp", a)
    print("ready", flush=True)
    with open(log, "a", buffering=1) as out:
        while True:
            ready, _, _ = select.select(list(socks), [], [])
            for s in ready:
                proto, a = socks[s]
                if proto == "udp":
                    q, peer = s.recvfrom(4096)
                    out.write(f"udp {a}\n")
                    r = answer(q)
                    if r:
                        s.sendto(r, peer)
                    continue
                c, _ = s.accept()
                c.settimeout(2)
                try:
                    n = struct.unpack(">H", c.recv(2))[0]
                    q = c.recv(n)
                    out.write(f"tcp {a}\n")
                    r = answer(q)
                    if r:
                        c.sendall(struct.pack(">H", len(r)) + r)
                except (OSError, struct.error):
                    pass
                c.close()


def query(proto, server, name):
    q = struct.pack(">HHHHHH", 0x4C45, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", 1, 1)
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    s = socket.socket(family(server), kind)
    s.settimeout(2)
    try:
        s.connect((server, 53))
        if proto == "udp":
            s.send(q)
            r = s.recv(4096)
        else:
            s.sendall(struct.pack(">H", len(q)) + q)
            r = s.recv(4096)[2:]
    except OSError:
        return 1
    return 0 if len(r) >= 12 and r[:2] == q[:2] and struct.unpack(">H", r[6:8])[0] == 1 else 1


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(query(sys.argv[2], sys.argv[3], sys.argv[4]))
