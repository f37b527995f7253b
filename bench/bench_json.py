"""bench/bench_json.py: reading the JSON lines the benchmark programs print (shared by the peers and reports).

json_lines(lines): the JSON objects among text lines (lines not starting with '{', or not valid JSON, are
passed over). memtx_train_step(path): the last train_step_bench line of memtx's own run in a file (skipped runs
left out), or None.
"""
import json


def json_lines(lines):
    out = []
    for line in lines:
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return out


def memtx_train_step(path):
    with open(path) as f:
        rows = [j for j in json_lines(f) if j.get("bench") == "train_step" and j.get("impl") == "memtx"
                and "skipped" not in j]
    return rows[-1] if rows else None
