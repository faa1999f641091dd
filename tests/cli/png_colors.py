#!/usr/bin/env python3
"""png_colors.py FILE: exit 0 if the PNG (8-bit RGB/RGBA, as chromium
writes it) is not blank: it must contain the report's bar colours
(#2f6db5 blue, #c0392b red) and many distinct colours.  Stdlib only."""
import struct
import sys
import zlib


def pixels(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), "unsupported PNG"
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride = zlib.decompress(idat), w * bpp
    prev = bytearray(stride)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = line
        for x in range(0, stride, bpp * 4):
            yield tuple(line[x:x + 3])


colours = {}
for px in pixels(sys.argv[1]):
    colours[px] = colours.get(px, 0) + 1
blue, red = colours.get((0x2f, 0x6d, 0xb5), 0), colours.get((0xc0, 0x39, 0x2b), 0)
print(f"{len(colours)} colours, blue {blue}, red {red}")
sys.exit(0 if len(colours) > 20 and blue > 500 and red > 100 else 1)
