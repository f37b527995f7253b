#!/usr/bin/env python3
"""check_gloo_surface.py: lib/dist compiles against Debian's gloo headers while the gloo inside libtorch_cpu.so
(another version) does the work. That is safe only while memtx's own code calls no gloo function and reads no
gloo object: the only gloo type it may touch is std::shared_ptr<gloo::transport::Device>, held and passed on.
This reads the symbols of the given object files (nm -C) and fails on any other mention of gloo::, and on a
shared library that links Debian's libgloo. Usage: check_gloo_surface.py OBJECT... [--library libmemtx.so]"""
import subprocess
import sys

ALLOWED = "std::shared_ptr<gloo::transport::Device>"
# The same pointer's libstdc++ base class, whose destructor clang emits as a symbol of its own.
ALLOWED_BASE = "std::__shared_ptr<gloo::transport::Device, (__gnu_cxx::_Lock_policy)2>"


def main():
    args = sys.argv[1:]
    library = None
    if "--library" in args:
        i = args.index("--library")
        library = args[i + 1]
        del args[i:i + 2]
    objects = [o for arg in args for o in arg.split(";") if o]  # CMake may pass its list as one argument
    bad = []
    for obj in objects:
        out = subprocess.run(["nm", "-C", obj], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            name = line[19:] if len(line) > 19 else line
            if "gloo::" in name.replace(ALLOWED, "").replace(ALLOWED_BASE, ""):
                bad.append(f"{obj}: {name}")
    if library:
        ldd = subprocess.run(["ldd", library], capture_output=True, text=True, check=True).stdout
        bad += [f"{library} links {line.split()[0]}" for line in ldd.splitlines() if "libgloo" in line]
    for line in bad:
        print(line)
    print(f"{len(objects)} objects checked, {len(bad)} gloo uses outside {ALLOWED}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
