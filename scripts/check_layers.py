#!/usr/bin/env python3
"""check_layers.py: the include graph of memtx runs one way. Each folder of lib/ is a layer; a file may include
headers of its own folder and of lower layers only:

    cli, capi  ->  train  ->  infer, dist  ->  model  ->  plugin, io, data  ->  tokenizer, config

plugins/ and include/memtx (the plugin author's view) include no lib/ header at all. Prints every edge that
breaks this and exits 1 when there is one. Usage: python3 scripts/check_layers.py [repository root]"""
import pathlib
import re
import sys

RANK = {"config": 0, "tokenizer": 0, "data": 1, "io": 1, "plugin": 1, "model": 2, "infer": 3, "dist": 3, "train": 4,
        "capi": 5, "cli": 6}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/[^"]+"', re.M)


def layer_of(path, root):
    parts = path.relative_to(root).parts
    if parts[0] == "lib":
        return parts[1]
    if parts[0] == "cli":
        return "cli"
    return parts[0]  # "plugins" or "include"


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
    sources = [p for d in ("lib", "cli", "plugins", "include") for p in (root / d).rglob("*")
               if p.suffix in (".cpp", ".hpp", ".h", ".cu", ".cuh")]
    broken, edges = [], 0
    for path in sorted(sources):
        layer = layer_of(path, root)
        for target in INCLUDE.findall(path.read_text(encoding="utf-8")):
            if target not in RANK:
                continue  # memtx/..., a plugin's own folder, third-party headers
            edges += 1
            if layer in ("plugins", "include"):
                broken.append(f"{path.relative_to(root)}: includes lib/{target}/ (plugins and public headers see "
                              "include/memtx only)")
            elif layer != target and RANK[target] >= RANK[layer]:
                broken.append(f"{path.relative_to(root)}: {layer} includes {target}/, which is not below it")
    for line in broken:
        print(line)
    print(f"{edges} include edges between layers checked, {len(broken)} against the direction")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
