#!/usr/bin/python3
# Read a pcap (Ethernet) and print one line per DHCP client message and per DNS query:
#   dhcp CHADDR SRC DST TYPE opts=N,N,... id=HEX host=NAME
#   dns SRC DST DPORT
# For tests/vm/network-dhcp.sh (and network-vpn.sh): stdlib only.
import struct
import sys

data = open(sys.argv[1], "rb").read()
endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
off = 24
while off + 16 <= len(data):
    _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
    f = data[off + 16:off + 16 + incl]
    off += 16 + incl
    if len(f) < 14:
        continue
    etype = struct.unpack(">H", f[12:14])[0]
    if etype == 0x0800 and len(f) >= 34:
        ihl = (f[14] & 15) * 4
        proto = f[23]
        src = ".".join(str(b) for b in f[26:30])
        dst = ".".join(str(b) for b in f[30:34])
        l4 = f[14 + ihl:]
    elif etype == 0x86DD and len(f) >= 54:
        proto = f[20]
        src = "v6:" + f[22:38].hex()
        dst = "v6:" + f[38:54].hex()
        l4 = f[54:]
    else:
        continue
    if proto not in (6, 17) or len(l4) < 8:
        continue
    sport, dport = struct.unpack(">HH", l4[:4])
    if dport == 53:
        print(f"dns {src} {dst} {proto}")
    if proto != 17 or sport != 68 or dport != 67:
        continue
    bootp = l4[8:]
    if len(bootp) < 240 or bootp[236:240] != b"\x63\x82\x53\x63":
        continue
    chaddr = ":".join(f"{b:02x}" for b in bootp[28:34])
    opts, i, cid, host, mtype = [], 240, "", "", 0
    while i < len(bootp) and bootp[i] != 255:
        code = bootp[i]
        if code == 0:
            i += 1
            continue
        if i + 1 >= len(bootp):
            break
        n = bootp[i + 1]
        val = bootp[i + 2:i + 2 + n]
        opts.append(code)
        if code == 61:
            cid = val.hex()
        if code == 12:
            host = val.decode(errors="replace")
        if code == 53 and val:
            mtype = val[0]
        i += 2 + n
    print(f"dhcp {chaddr} {src} {dst} {mtype} opts={','.join(map(str, opts))} id={cid} host={host}")
