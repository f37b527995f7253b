#!/usr/bin/env python3
"""bench/gpu_check_report.py: the JSON lines of scripts/gpu-check.sh that combine other programs' output.

  junit FILE                 ctest's JUnit file -> one line per test {"check": "ctest", "test", "result":
                             passed|failed|skipped, "seconds"} and a summary {"check": "ctest -L gpu", "passed",
                             "failed", "skipped"}
  gpt124m MEMTX EAGER COMPILE [--target-ratio 1.1] [--target-mfu 0.46]
                             the 124M GPT: memtx against PyTorch eager and torch.compile, the ratios, the MFU and
                             the targets as "status": pass|fail
  variant NAME MEMTX [PEER ...]
                             one 6 x 512 variant: memtx's tokens/s, MFU and peak memory, and memtx / peer for each
                             peer that ran
  final RESULTS [--seconds S]
                             the closing summary over every line written so far (RESULTS: the JSON lines file)
Each FILE argument holds a program's stdout; its last JSON line is used. A missing or unparsable file, a
"skipped" or "error" line, is reported as such, never as a number. Prints to stdout only.
"""
import argparse
import json
import sys
import xml.etree.ElementTree as ET

from bench_json import json_lines


def last_json(path):
    """The last JSON object line of a file, or None."""
    try:
        with open(path) as f:
            lines = [line.strip() for line in f if line.strip().startswith("{")]
    except OSError:
        return None
    for line in reversed(lines):
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            continue
    return None


def usable(j):
    return j is not None and "skipped" not in j and "error" not in j and j.get("tokens_per_s")


def why_not(j, what):
    if j is None:
        return f"{what}: no result"
    return f"{what}: " + str(j.get("skipped") or j.get("error") or "no tokens_per_s")


def emit(obj):
    print(json.dumps(obj), flush=True)


def cmd_junit(a):
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    try:
        root = ET.parse(a.file).getroot()
    except (OSError, ET.ParseError) as e:
        emit({"check": "ctest -L gpu", "error": f"no JUnit results ({e})", **counts})
        return 0
    for case in root.iter("testcase"):
        status = case.get("status", "")
        if case.find("failure") is not None or case.find("error") is not None or status == "fail":
            result = "failed"
        elif case.find("skipped") is not None or status in ("notrun", "disabled", "skipped"):
            result = "skipped"
        else:
            result = "passed"
        counts[result] += 1
        name = (case.get("name") or "").split("  # GetParam()")[0]  # ctest's names of parameterised tests
        line = {"check": "ctest", "test": name, "result": result}
        try:
            line["seconds"] = round(float(case.get("time", "0")), 3)
        except ValueError:
            pass
        emit(line)
    total = sum(counts.values())
    summary = {"check": "ctest -L gpu", "tests": total, **counts,
               "status": "fail" if counts["failed"] else ("pass" if counts["passed"] else "skipped")}
    if total == 0:
        summary["note"] = "no test carries the label gpu"
    emit(summary)
    return 0


def metrics(j):
    return {"tokens_per_s": j.get("tokens_per_s"), "ms_per_step": j.get("ms_per_step"), "mfu": j.get("mfu"),
            "peak_gpu_allocated_mb": j.get("peak_gpu_allocated_mb"), "parameters": j.get("parameters")}


def cmd_gpt124m(a):
    m, e, c = last_json(a.memtx), last_json(a.eager), last_json(a.compile)
    out = {"check": "gpt124m", "model": "GPT 12 x 768, vocab 50304, batch 16 x 1024, bf16, AdamW",
           "targets": {"ratio_vs_compile": f">= {a.target_ratio}", "memtx_mfu": f">= {a.target_mfu}"}}
    notes = []
    for name, j in (("memtx", m), ("pytorch_eager", e), ("pytorch_compile", c)):
        if usable(j):
            out[name] = metrics(j)
        else:
            notes.append(why_not(j, name))
    if usable(m):
        if m.get("gpu"):
            out["gpu"] = m["gpu"]
        mfu = m.get("mfu")
        out["memtx_mfu"] = mfu
        out["status_mfu"] = "pass" if mfu is not None and mfu >= a.target_mfu else "fail"
        if usable(e):
            out["ratio_vs_eager"] = m["tokens_per_s"] / e["tokens_per_s"]
        if usable(c):
            ratio = m["tokens_per_s"] / c["tokens_per_s"]
            out["ratio_vs_compile"] = ratio
            out["status_ratio"] = "pass" if ratio >= a.target_ratio else "fail"
        else:
            out["status_ratio"] = "unmeasured"
        both = (out["status_mfu"], out["status_ratio"])
        out["status"] = "pass" if both == ("pass", "pass") else ("fail" if "fail" in both else "unmeasured")
    else:
        out["status"] = "error" if m is not None and "error" in m else "unmeasured"
    if notes:
        out["notes"] = notes
    emit(out)
    return 0


def cmd_variant(a):
    m = last_json(a.memtx)
    out = {"check": "variant", "variant": a.name,
           "model": "6 x 512, vocab 32000, batch 16 x 1024, bf16, AdamW"}
    if not usable(m):
        out["status"] = "error" if m is not None and "error" in m else "unmeasured"
        out["notes"] = [why_not(m, "memtx")]
        emit(out)
        return 0
    out["memtx"] = metrics(m)
    if m.get("segment_length"):
        out["segment_length"] = m["segment_length"]
    peers, notes = {}, []
    for path in a.peers:
        p = last_json(path)
        if p is None:
            notes.append(f"{path}: no result")
            continue
        label = p.get("impl", "peer") + ("/" + p["model"] if p.get("model") else "")
        if usable(p):
            peers[label] = {**metrics(p), "ratio": m["tokens_per_s"] / p["tokens_per_s"]}
            if p.get("batch") != m.get("batch"):
                peers[label]["batch"] = p.get("batch")
            if p.get("scan_path"):
                peers[label]["scan_path"] = p["scan_path"]
        else:
            notes.append(why_not(p, label))
    out["peers"] = peers
    out["status"] = "measured"
    if notes:
        out["notes"] = notes
    emit(out)
    return 0


def cmd_final(a):
    rows = []
    try:
        with open(a.results) as f:
            rows = json_lines(f)
    except OSError:
        pass
    out = {"check": "gpu-check", "kind": "summary"}
    if a.seconds is not None:
        out["seconds"] = a.seconds
    targets, errors, skipped = {}, [], []
    for r in rows:
        what = r.get("check") or r.get("bench")
        if isinstance(r.get("skipped"), str) and what:
            name = " ".join(str(x) for x in (r.get("label") or what, r.get("impl"), r.get("model"),
                                              None if r.get("label") else r.get("variant")) if x)
            skipped.append(f"{name}: {r['skipped']}")
        if r.get("error") and what:
            errors.append(what + f": {r['error']}")
        if r.get("check") == "ctest -L gpu":
            out["ctest"] = {k: r.get(k) for k in ("passed", "failed", "skipped") if k in r}
            if r.get("status") in ("pass", "fail"):
                targets["ctest_gpu"] = r["status"]
        elif r.get("check") == "gpt124m":
            targets["gpt124m_ratio_vs_compile"] = r.get("status_ratio", r.get("status"))
            targets["gpt124m_mfu"] = r.get("status_mfu", r.get("status"))
            out["gpt124m"] = {k: r.get(k) for k in ("ratio_vs_compile", "ratio_vs_eager", "memtx_mfu")}
        elif r.get("bench") == "ssm_scan_peer" and "tokens" in r:
            key = f"scan_{r['tokens']}"
            targets[key] = r.get("status", "unmeasured")
            out.setdefault("scan_ratio", {})[str(r["tokens"])] = r.get("ratio")
        elif r.get("check") == "variant" and r.get("memtx"):
            out.setdefault("variants_tokens_per_s", {})[r["variant"]] = r["memtx"].get("tokens_per_s")
    out["targets"] = targets
    # fail: a target missed (or a GPU test failed); error: a program failed; pass: every check ran and met its
    # target; incomplete: none of these, but some did not run.
    values = set(targets.values())
    complete = {"ctest_gpu", "gpt124m_ratio_vs_compile", "gpt124m_mfu"} <= set(targets) and any(
        k.startswith("scan_") for k in targets)
    out["status"] = ("fail" if "fail" in values else "error" if errors else
                     "pass" if complete and values <= {"pass"} else "incomplete")
    if errors:
        out["errors"] = errors
    if skipped:
        out["skipped"] = skipped
    emit(out)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("junit")
    s.add_argument("file")
    s = sub.add_parser("gpt124m")
    s.add_argument("memtx")
    s.add_argument("eager")
    s.add_argument("compile")
    s.add_argument("--target-ratio", type=float, default=1.1)
    s.add_argument("--target-mfu", type=float, default=0.46)
    s = sub.add_parser("variant")
    s.add_argument("name")
    s.add_argument("memtx")
    s.add_argument("peers", nargs="*")
    s = sub.add_parser("final")
    s.add_argument("results")
    s.add_argument("--seconds", type=float)
    a = p.parse_args()
    return {"junit": cmd_junit, "gpt124m": cmd_gpt124m, "variant": cmd_variant, "final": cmd_final}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
