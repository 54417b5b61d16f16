#!/usr/bin/env python3
"""Writes a C file defining `const char NAME[]` with the bytes of a text file (build step)."""
import sys

src, out, name = sys.argv[1:4]
data = open(src, "rb").read()
with open(out, "w") as f:
    f.write(f"/* Generated from {src.rsplit('/', 1)[-1]} by scripts/embed.py; do not edit. */\n")
    f.write(f"const char {name}[] =\n")
    for i in range(0, len(data), 60):
        chunk = data[i:i + 60]
        f.write('    "' + "".join(f"\\x{b:02x}" for b in chunk) + '"\n')
    f.write(";\n")
