#!/usr/bin/python3
"""Helpers of tests/vm/desktop.sh (python3's standard library only).

colours PPM: "COLOURS N SHARE" - distinct colours of a QMP screendump (binary PPM, P6)
  and the share of the pixels that the commonest colour covers.
png PPM PNG: the screendump as a PNG (zlib, no other module).
pcap FILE: one line per connection attempt that left the guest (QEMU filter-dump,
  Ethernet): "tcp DST:PORT" for every SYN, "udp DST:PORT" for every UDP datagram.
"""
import collections
import struct
import sys
import zlib


def read_ppm(path):
    data = open(path, "rb").read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P6" or fields[3] != b"255":
        raise SystemExit("%s: not a binary 8-bit PPM" % path)
    w, h = int(fields[1]), int(fields[2])
    px = data[pos + 1:pos + 1 + w * h * 3]
    if len(px) != w * h * 3:
        raise SystemExit("%s: truncated" % path)
    return w, h, px


def colours(path):
    w, h, px = read_ppm(path)
    count = collections.Counter(px[i:i + 3] for i in range(0, len(px), 3))
    print("COLOURS %d %.4f" % (len(count), count.most_common(1)[0][1] / (w * h)))


def png(src, dst):
    w, h, px = read_ppm(src)
    raw = b"".join(b"\0" + px[y * w * 3:(y + 1) * w * 3] for y in range(h))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + \
            struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff)
    with open(dst, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def pcap(path):
    data = open(path, "rb").read()
    if len(data) < 24:
        return
    endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    pos = 24
    while pos + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[pos + 8:pos + 12])[0]
        frame = data[pos + 16:pos + 16 + incl]
        pos += 16 + incl
        if len(frame) < 14:
            continue
        etype = struct.unpack(">H", frame[12:14])[0]
        if etype == 0x0800 and len(frame) >= 34:
            ihl = (frame[14] & 15) * 4
            proto, dst, l4 = frame[23], ".".join(map(str, frame[30:34])), frame[14 + ihl:]
        elif etype == 0x86DD and len(frame) >= 54:
            import ipaddress
            proto, dst, l4 = frame[20], str(ipaddress.IPv6Address(frame[38:54])), frame[54:]
        else:
            continue
        if len(l4) < 4:
            continue
        dport = struct.unpack(">H", l4[2:4])[0]
        if proto == 6 and len(l4) >= 14 and l4[13] & 0x02 and not l4[13] & 0x10:
            print("tcp %s:%d" % (dst, dport))
        elif proto == 17:
            print("udp %s:%d" % (dst, dport))


if __name__ == "__main__":
    {"colours": lambda: colours(sys.argv[2]), "png": lambda: png(sys.argv[2], sys.argv[3]),
     "pcap": lambda: pcap(sys.argv[2])}[sys.argv[1]]()
