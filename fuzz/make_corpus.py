#!/usr/bin/env python3
"""fuzz/make_corpus.py: writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/), the config
dictionary (fuzz/dict/config.dict, from docs/config.md) and the BPE tokenizer whose round trip tokenizer_json_fuzz
checks (fuzz/data/bpe_tokenizer.json, the fixture's), from the shipped configs, the reference fixtures
(../shared/fixtures, made tiny: safetensors shapes shrunk, data regenerated) and hand-made edge cases.
Deterministic; the output is committed, so this only runs when the seeds should change.
Usage: python3 fuzz/make_corpus.py [fixtures folder]"""
import json
import pathlib
import re
import shutil
import struct
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
FUZZ = ROOT / "fuzz"
FIXTURES = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "fixtures"


def out_dir(target):
    d = FUZZ / "corpus" / target
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    return d


def write(d, name, data):
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))


# ---- config ----

CONFIG_CASES = {
    "empty.yaml": "",
    "null.yaml": "~\n",
    "dotted.yaml": "model.hidden_dim: 64\nmodel.num_heads: 2\ntraining.batch_size: 4\n",
    "flow.yaml": "{model: {hidden_dim: 128, num_heads: 4, num_layers: 2}, attention: {attention_variant: causal}}\n",
    "list.yaml": "model:\n  num_layers: 4\nattention:\n  attention_list: [causal, linear, infini, ssm]\n",
    "anchors.yaml": "model: &m\n  hidden_dim: 64\n  num_heads: 4\ntraining:\n  learning_rate: 1e-4\n"
                    "  max_length: 128\n  batch_size: 2\n",
    "alias_bomb.yaml": "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
    "deep.yaml": "model: " + "[" * 70 + "]" * 70 + "\n",
    "two_docs.yaml": "model:\n  hidden_dim: 64\n---\nmodel:\n  hidden_dim: 32\n",
    "types.yaml": "model:\n  hidden_dim: \"64\"\n  dropout: .5\n  use_rope: yes\n  head_dim: null\n"
                  "  rope_theta: 1.0e+4\n  seed: 0x10\n",
    "tags.yaml": "model:\n  hidden_dim: !!int 64\n  base_model_name: !!str 12\n  dropout: !!float 0\n",
    "block.yaml": "training:\n  dataset_name: |\n    synthetic:associative_recall\n  text_field: >-\n    text\n",
    "unknown.yaml": "model:\n  hiden_dim: 64\nmodle:\n  x: 1\nhidden_dim: 3\n",
    "duplicate.yaml": "model:\n  hidden_dim: 64\n  hidden_dim: 32\nmodel:\n  num_heads: 2\n",
    "merge.yaml": "base: &b {hidden_dim: 64}\nmodel:\n  <<: *b\n  num_heads: 2\n",
    "huge.yaml": "model:\n  num_layers: 1000000000\n  hidden_dim: 1e9\ntraining:\n  max_length: 4611686018427387904\n"
                 "  batch_size: 1117984489315730401\n",
    "unicode.yaml": "training:\n  dataset_name: \"\\u00e9\\U0001F600 caf\u00e9\"\n  text_field: \u6587\u672c\n",
    "config.json": json.dumps({"model": {"hidden_dim": 64, "num_heads": 4, "num_layers": 2, "vocab_size": 256},
                               "attention": {"attention_variant": "causal", "n_kv_group": 2},
                               "training": {"batch_size": 2, "max_length": 64, "learning_rate": 0.001}}),
    "memory.json": json.dumps({"memory": {"vanilla_mode": False, "use_memory_adapter": True,
                                          "memory_layer_placement": "all"}}),
}


def config_corpus():
    d = out_dir("config")
    for f in sorted((ROOT / "configs").glob("*.yaml")):
        write(d, f.name, f.read_bytes())
    for name, text in CONFIG_CASES.items():
        write(d, name, text)


def config_dict():
    """Key names, section names and allowed strings of docs/config.md, and YAML's punctuation."""
    doc = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    words = set(re.findall(r"^## ([a-z_]+)$", doc, re.M))
    for row in re.findall(r"^\| `([a-z_0-9]+)` \|[^|]*\|[^|]*\|([^|]*)\|", doc, re.M):
        words.add(row[0])
        words.update(re.findall(r"`([A-Za-z_0-9.:-]+)`", row[1]))
    tokens = [": ", ":\n  ", "\n", "- ", "[", "]", "{", "}", ", ", "&a ", "*a", "<<: ", "!!str ", "!!int ", "!!float ",
              "!!map", "!!seq", "---\n", "...\n", "null", "~", "true", "false", "1e3", "-1", ".inf", ".nan", "0x1F",
              "|\n", ">-\n", "\"", "'", "# ", "? ", "%YAML 1.2\n", "\\u00e9", "4611686018427387904", "1e300"]
    lines = ["# fuzz/dict/config.dict: libFuzzer dictionary of the config target, written by fuzz/make_corpus.py",
             "# (the keys, sections and allowed strings of docs/config.md, and YAML's punctuation)."]
    lines += ['"%s"' % w for w in sorted(words)]
    lines += ['"%s"' % "".join(c if c.isprintable() and c not in '"\\' else "\\x%02X" % ord(c) for c in t)
              for t in tokens]
    (FUZZ / "dict" / "config.dict").write_text("\n".join(lines) + "\n", encoding="utf-8")


# ---- safetensors ----

DTYPE_SIZE = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


def safetensors(entries, metadata=None, pad=0):
    """entries: [(name, dtype, shape)]; data bytes are a counter (BOOL: 0/1)."""
    header, data, offset = {}, b"", 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape in entries:
        n = DTYPE_SIZE[dtype]
        for s in shape:
            n *= s
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        data += bytes((i % 2) if dtype == "BOOL" else (i % 251) for i in range(n))
        offset += n
    text = json.dumps(header, separators=(",", ":")).encode() + b" " * pad
    return struct.pack("<Q", len(text)) + text + data


def shrunk_fixture(path):
    """A fixture's tensor names and dtypes with every dimension cut to at most 2."""
    b = path.read_bytes()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    meta = h.pop("__metadata__", None)
    entries = sorted(h.items(), key=lambda kv: kv[1]["data_offsets"][0])
    return safetensors([(k, v["dtype"], [min(s, 2) for s in v["shape"]]) for k, v in entries], meta)


def safetensors_corpus():
    d = out_dir("safetensors")
    for name in ("qwen2-tiny", "llama-tiny", "mamba-tiny", "deepseekv3-mla-tiny"):
        write(d, name + "_model.safetensors", shrunk_fixture(FIXTURES / "hf" / name / "model.safetensors"))
    write(d, "qwen2-tiny_io.safetensors", shrunk_fixture(FIXTURES / "hf" / "qwen2-tiny" / "io.safetensors"))
    write(d, "fixture_prefix.safetensors", (FIXTURES / "hf" / "llama-tiny" / "model.safetensors").read_bytes()[:1024])
    write(d, "every_dtype.safetensors", safetensors([(t.lower(), t, [2, 1]) for t in DTYPE_SIZE]))
    write(d, "scalar_and_empty.safetensors", safetensors([("s", "F32", []), ("e", "F16", [0, 3]), ("z", "I8", [0])],
                                                         {"format": "pt", "k": "v"}, pad=5))
    write(d, "optimizer.safetensors", safetensors(
        [("w.step", "I64", []), ("w.exp_avg", "F32", [2, 2]), ("w.exp_avg_sq", "F32", [2, 2])],
        {"optimizer": "adamw", "format": "memtx-optimizer-state-1"}))
    write(d, "empty_header.safetensors", struct.pack("<Q", 2) + b"{}")
    write(d, "overlap.safetensors", struct.pack("<Q", 89) +
          b'{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}' +
          b"\0\0\0")
    write(d, "huge_len.safetensors", struct.pack("<Q", 2 ** 63) + b"{}")
    write(d, "huge_shape.safetensors", struct.pack("<Q", 80) +
          b'{"a":{"dtype":"F64","shape":[4294967296,4294967296,16],"data_offsets":[0,0]}}  ')


# ---- tokenizer.json ----

def byte_level_alphabet():
    """GPT-2's byte -> printable character table, written out from its definition."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return [table[b] for b in range(256)]


def small_bpe(merges_as_pairs=False, **extra):
    alphabet = byte_level_alphabet()
    vocab = {ch: i for i, ch in enumerate(alphabet)}
    merges = [("h", "e"), ("l", "l"), ("he", "ll"), ("\u0120", "w"), ("o", "r")]
    for a, b in merges:
        vocab[a + b] = len(vocab)
    model = {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
             "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
             "vocab": vocab, "merges": [list(m) if merges_as_pairs else " ".join(m) for m in merges]}
    j = {"version": "1.0", "truncation": None, "padding": None,
         "added_tokens": [{"id": len(vocab), "content": "<|endoftext|>", "single_word": False, "lstrip": False,
                           "rstrip": False, "normalized": False, "special": True}],
         "normalizer": None,
         "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
         "post_processor": None,
         "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
         "model": model}
    for k, v in extra.items():
        if k in model:
            model[k] = v
        else:
            j[k] = v
    return json.dumps(j, ensure_ascii=False)


LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                r"\s*[\r\n]+|\s+(?!\S)|\s+")


def tokenizer_json_corpus():
    d = out_dir("tokenizer_json")
    fixture = (FIXTURES / "tokenizer-bpe" / "tokenizer.json").read_text(encoding="utf-8")
    samples = [s["text"] for s in json.loads((FIXTURES / "tokenizer-bpe" / "encodings.json").read_text())]
    write(d, "fixture.json", fixture)
    (FUZZ / "data").mkdir(exist_ok=True)
    write(FUZZ / "data", "bpe_tokenizer.json", fixture)
    write(d, "fixture_text.bin", fixture + "\0" + "\n".join(samples[:4]))
    write(d, "small.json", small_bpe())
    write(d, "small_text.bin", small_bpe() + "\0hello world<|endoftext|>  héllo\r\n123")
    write(d, "pairs_nfc.json", small_bpe(merges_as_pairs=True, normalizer={"type": "NFC"}))
    write(d, "llama3_split.json", small_bpe(pre_tokenizer={"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": LLAMA3_REGEX}, "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}))
    write(d, "unk_ignore_merges.json", small_bpe(unk_token="<unk>", ignore_merges=True, added_tokens=[
        {"id": 261, "content": "<unk>", "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
         "special": True},
        {"id": 262, "content": " tok", "single_word": True, "lstrip": True, "rstrip": True, "normalized": True,
         "special": False}]))
    write(d, "template.json", small_bpe(post_processor={"type": "TemplateProcessing", "single": [
        {"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}]}))
    write(d, "big_id.json", small_bpe(added_tokens=[{"id": 300000000, "content": "<x>", "special": True}]))
    write(d, "text_only.bin", "\0plain text \xf0\x9f\x98\x80 with\ttabs")
    write(d, "empty_object.json", "{}")


# ---- SentencePiece .model ----

def varint(v):
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7F) | 0x80])
        v >>= 7
    return out + bytes([v])


def tag(field, wire):
    return varint(field << 3 | wire)


def pb_bytes(field, data):
    data = data.encode("utf-8") if isinstance(data, str) else data
    return tag(field, 2) + varint(len(data)) + data


def pb_int(field, v):
    return tag(field, 0) + varint(v & 0xFFFFFFFFFFFFFFFF if v < 0 else v)


def pb_float(field, f):
    return tag(field, 5) + struct.pack("<f", f)


def charsmap(rules):
    """A precompiled charsmap (uint32 trie size, double-array units, NUL-terminated replacements) for rules
    mapping one byte each: root unit 0 with base 1; children at 1 ^ label, each with a value unit."""
    units = {0: 1 << 10}  # offset of root's base: 0 ^ 1
    blob = b""
    next_base = 256
    for src, dst in sorted(rules.items()):
        c = src[0]
        node = 1 ^ c
        base = next_base
        next_base += 256
        units[node] = c | ((node ^ base) << 10) | (1 << 8)
        units[base] = (1 << 31) | len(blob)
        blob += dst + b"\0"
    size = max(units) + 1
    arr = [units.get(i, 0) for i in range(size)]
    return struct.pack("<I", size * 4) + b"".join(struct.pack("<I", u) for u in arr) + blob


def sp_model(pieces, model_type=1, byte_fallback=False, normalizer=None, trainer_extra=b""):
    out = b""
    for piece, score, kind in pieces:
        out += pb_bytes(1, pb_bytes(1, piece) + pb_float(2, score) + pb_int(3, kind))
    trainer = pb_int(3, model_type) + (pb_int(35, 1) if byte_fallback else b"") + pb_int(41, 1) + pb_int(42, 2) + \
        pb_int(43, -1) + trainer_extra
    out += pb_bytes(2, trainer)
    norm = normalizer if normalizer is not None else pb_bytes(1, "identity") + pb_int(3, 1) + pb_int(4, 1) + \
        pb_int(5, 1)
    return out + pb_bytes(3, norm)


SPACE = "\u2581"


def base_pieces():
    p = [("<unk>", 0.0, 2), ("<s>", 0.0, 3), ("</s>", 0.0, 3)]
    words = [SPACE, SPACE + "he", "ll", "o", SPACE + "world", "h", "e", "l", "w", "r", "d", SPACE + "hello", "a", "b"]
    return p + [(w, -float(i + 1), 1) for i, w in enumerate(words)]


def sentencepiece_corpus():
    d = out_dir("sentencepiece")
    write(d, "unigram.model", sp_model(base_pieces()))
    write(d, "bpe.model", sp_model(base_pieces(), model_type=2))
    write(d, "word.model", sp_model(base_pieces(), model_type=3))
    write(d, "char.model", sp_model(base_pieces(), model_type=4))
    byte_pieces = base_pieces() + [("<0x%02X>" % b, 0.0, 6) for b in range(256)]
    write(d, "byte_fallback.model", sp_model(byte_pieces, byte_fallback=True))
    write(d, "user_defined.model", sp_model(base_pieces() + [("<sep>", 0.0, 4), ("xyz", 0.0, 5)]))
    write(d, "charsmap.model", sp_model(base_pieces(), normalizer=pb_bytes(1, "custom") +
                                        pb_bytes(2, charsmap({b"A": b"a", b"\t": b" "})) + pb_int(3, 1) +
                                        pb_int(4, 1) + pb_int(5, 1)))
    write(d, "no_dummy_prefix.model", sp_model(base_pieces(), normalizer=pb_int(3, 0) + pb_int(4, 0) + pb_int(5, 0)))
    write(d, "unk_surface.model", sp_model(base_pieces(), trainer_extra=pb_bytes(44, "[?]") + tag(99, 1) + b"\0" * 8))
    write(d, "minimal.model", sp_model([("<unk>", 0.0, 2)]))


# ---- trainer_state.json ----

def trainer_state(**changes):
    s = {"format": "memtx-trainer-state-1", "memtx_version": "0.1.0", "step": 120, "epoch": 1,
         "data_cursor": {"index": 240, "epoch": 1, "order_seed": 1234}, "scheduler": {"step": 120},
         "best_metric": 2.31, "best_checkpoint": "checkpoint-100", "evals_without_improvement": 0,
         "tokens_seen": 245760, "skipped_steps": 0, "rng": {"cpu": "00ff10a5" * 8},
         "loss_scale": None,
         "files": {"config.yaml": {"bytes": 1234, "fnv1a64w": "0123456789abcdef"},
                   "model.safetensors": {"bytes": 98765, "fnv1a64w": "fedcba9876543210"},
                   "optimizer.safetensors": {"bytes": 4321, "fnv1a64w": "00000000deadbeef"}}}
    s.update(changes)
    return json.dumps(s, indent=2) + "\n"


def trainer_state_corpus():
    d = out_dir("trainer_state")
    write(d, "full.json", trainer_state())
    write(d, "fp16_cuda.json", trainer_state(rng={"cpu": "ab" * 16, "cuda": "cd" * 16},
                                             loss_scale={"scale": 65536.0, "good_steps": 12}))
    write(d, "fresh.json", trainer_state(step=0, epoch=0, best_metric=None, best_checkpoint=None, files={},
                                         scheduler={"step": 0}, data_cursor={}))
    write(d, "bad_hex.json", trainer_state(rng={"cpu": "0G"}))
    write(d, "huge.json", trainer_state(step=18446744073709551615, tokens_seen=9223372036854775808, best_metric=1e308))
    write(d, "wrong_types.json", trainer_state(step="3", scheduler=[], files={"x": 1}))


# ---- Hugging Face config.json ----

def hf_config_corpus():
    d = out_dir("hf_config")
    configs = {}
    for name in ("qwen2-tiny", "llama-tiny", "mamba-tiny", "deepseekv3-mla-tiny"):
        text = (FIXTURES / "hf" / name / "config.json").read_text(encoding="utf-8")
        write(d, name + ".json", text)
        configs[name] = json.loads(text)
    llama = dict(configs["llama-tiny"])
    llama.pop("rope_parameters", None)
    llama.update({"rope_theta": 500000.0, "head_dim": None, "num_key_value_heads": None})
    write(d, "llama_old_rope.json", json.dumps(llama))
    mamba = dict(configs["mamba-tiny"], time_step_rank="auto", intermediate_size=None)
    write(d, "mamba_auto_rank.json", json.dumps(mamba))
    write(d, "lossy.json", json.dumps(dict(configs["qwen2-tiny"], num_hidden_layers=2.7, hidden_size=1e9)))
    write(d, "huge.json", json.dumps(dict(configs["mamba-tiny"], hidden_size=4611686018427387904, expand=4,
                                          intermediate_size=1)))
    write(d, "wrong_types.json", json.dumps(dict(configs["qwen2-tiny"], rms_norm_eps="x", tie_word_embeddings=1,
                                                 model_type="qwen2")))
    write(d, "not_object.json", "[1, 2]")


def main():
    (FUZZ / "dict").mkdir(exist_ok=True)
    config_corpus()
    config_dict()
    safetensors_corpus()
    tokenizer_json_corpus()
    sentencepiece_corpus()
    trainer_state_corpus()
    hf_config_corpus()
    total = sum(f.stat().st_size for f in (FUZZ / "corpus").rglob("*") if f.is_file())
    print(f"fuzz/corpus: {total} bytes")


if __name__ == "__main__":
    main()
