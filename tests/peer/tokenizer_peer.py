"""Peer test: memtx's tokenizer.json tokenizers against the reference `tokenizers` package.

For each family below (the normalizer / pre-tokenizer / decoder / model settings and split regexes of the
published tokenizer.json of GPT-2, Llama 3, Qwen2, Llama 2, Mistral, GPT-NeoX, DeepSeek-V3, BERT and a
SentencePiece-style Unigram), a small tokenizer is trained locally with the package's trainers (no
downloads), saved as tokenizer.json, and a few thousand lines of varied text (many scripts, emoji with ZWJ
and skin tones, whitespace runs, numbers, contractions, special tokens inside the text, combining marks,
ligatures and full-width forms) are encoded and decoded by both. memtx's side is tokenizer_peer_tool (argv[1]),
linked to memtx_tokenizer only. Any difference in ids or decoded text fails the test; the first few are
printed with the family and the line.

    tokenizer_peer.py TOOL [--lines N] [--keep DIR]
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from peer_support import require_peers  # noqa: E402

(tokenizers,) = require_peers("tokenizers")
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers  # noqa: E402

GPT2_SPLIT = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
LLAMA3_SPLIT = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
                r"""|\s*[\r\n]+|\s+(?!\S)|\s+""")
QWEN2_SPLIT = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
               r"""|\s*[\r\n]+|\s+(?!\S)|\s+""")
DEEPSEEK_SPLITS = [
    r"\p{N}{1,3}",
    "[\u4e00-\u9fa5\\u3040-\u309f\u30a0-\u30ff]+",
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+"
    "| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
]
SP = "\u2581"  # the SentencePiece space

# ---------------------------------------------------------------------------------------------- the texts
WORDS = {
    "latin": "the quick brown fox jumps over lazy dog hello world tokenizer memory transformer attention "
             "café naïve résumé Zürich São Paulo façade déjà vu piñata Ångström Øresund żółć Łódź".split(),
    "cyrillic": "привет мир быстрая коричневая лиса Москва ёжик съешь ещё этих мягких французских булок".split(),
    "greek": "γειά σου κόσμε Αθήνα φιλοσοφία ΣΊΣΥΦΟΣ ὀδυσσεύς λόγος".split(),
    "arabic": "مرحبا بالعالم اللغة العربية كتاب مكتبة".split(),
    "cjk": "你好世界 東京 日本語のテキスト ひらがな カタカナ 한국어 문장 中文分词测试 漢字".split(),
    "devanagari": "नमस्ते दुनिया हिन्दी भाषा क्षत्रिय".split(),
    "other": "שלום ქართული Հայերեն ไทย ລາວ ትግርኛ".split(),
}
EMOJI = ["😀", "👍🏽", "👩\u200d💻", "👨\u200d👩\u200d👧\u200d👦", "🏳️\u200d🌈", "❤️", "🇫🇷", "🙋🏿\u200d♀️", "🤖", "✨"]
ODD = ["ﬁ", "ﬂ", "Ａｂｃ", "１２３", "ｶﾀｶﾅ", "e\u0301", "a\u0308\u0304", "\u212b", "Ⅻ", "½", "x²", "ﬀ", "㎏",
       "\u00a0", "\u3000", "\u2028", "\u200b", "İstanbul", "ǅ", "ß", "ΌΣΟΣ", "\ufb01ne", "o\u0327\u0301", "\u1e9b\u0323",
       "한\u1100\u1161", "\u0958", "\ufffd", "\x7f", "\x00", "\x1f"]
PUNCT = [".", ",", "!", "?", "...", ";", ":", "—", "–", "-", "(", ")", "[", "]", "{", "}", "\"", "'", "«", "»",
         "„", "“", "”", "¿", "¡", "#", "@", "$", "%", "^", "&", "*", "+", "=", "<", ">", "/", "\\", "|", "~", "`",
         "。", "、", "！", "？", "،", "؟", "।"]
CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "'Re", "n't", "'"]
SPACES = [" ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", " \n", "\r\n", "\n  ", "    ", " \t "]
# Only in the compared lines, never in the training text: characters every vocabulary misses (unk, byte
# fallback) and words longer than WordPiece's max_input_chars_per_word.
RARE = ["Ꙩ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "⅏", "🜁", "ᚠᛇᚻ", "ꦲꦏ", "𓀀", "ᏣᎳᎩ", "ⴰⵣⵓⵍ", "𐌰𐌱", "ꓘ", "Ǆ"]
SPECIALS = ["<|endoftext|>", "<|begin_of_text|>", "<|eot_id|>", "<|im_start|>", "<|im_end|>", "<s>", "</s>",
            "<unk>", "[CLS]", "[SEP]", "[MASK]", "<mask>", "<|padding|>", "<｜begin▁of▁sentence｜>"]


def number(rng):
    n = rng.choice([1, 1, 2, 3, 4, 5, 6, 8, 10, 13, 17])
    digits = "".join(rng.choice("0123456789") for _ in range(n))
    return rng.choice([digits, digits, digits + "." + str(rng.randint(0, 99)), "-" + digits, "٣٤٥", "१२३"])


def line(rng, rare=False):
    parts = []
    for _ in range(rng.randint(1, 24)):
        kind = rng.random()
        if kind < 0.45:
            script = rng.choice(list(WORDS))
            w = rng.choice(WORDS[script])
            w = rng.choice([w, w, w, w.capitalize(), w.upper()])
            if rng.random() < 0.15:
                w += rng.choice(CONTRACTIONS)
            parts.append(w)
        elif kind < 0.55:
            parts.append(number(rng))
        elif kind < 0.65:
            parts.append(rng.choice(PUNCT) * rng.choice([1, 1, 1, 2, 3]))
        elif kind < 0.72:
            parts.append(rng.choice(EMOJI))
        elif kind < 0.80:
            parts.append(rng.choice(ODD))
        elif kind < 0.85:
            parts.append(rng.choice(SPECIALS))
        elif rare and kind < 0.88:
            parts.append(rng.choice(RARE) if rng.random() < 0.8 else "abc" * rng.randint(30, 50))
        else:
            parts.append(rng.choice(SPACES))
        parts.append(rng.choice([" ", " ", " ", " ", "", "  ", "\n", "\t"]))
    text = "".join(parts)
    r = rng.random()
    if r < 0.05:
        text = " " + text
    elif r < 0.08:
        text = text.strip()
    elif r < 0.09:
        text = ""
    return text


# ------------------------------------------------------------------------------------------- the families
def byte_level_alphabet():
    return pre_tokenizers.ByteLevel.alphabet()


def train(tok, texts, trainer):
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def bpe_trainer(specials, vocab=1500, byte_level=True, **kw):
    return trainers.BpeTrainer(vocab_size=vocab, min_frequency=2, special_tokens=specials, show_progress=False,
                               initial_alphabet=byte_level_alphabet() if byte_level else [], **kw)


def gpt2(texts):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
    tok.decoder = decoders.ByteLevel(add_prefix_space=True, trim_offsets=True, use_regex=True)
    train(tok, texts, bpe_trainer(["<|endoftext|>"]))
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, special=True)])
    return tok


def split_byte_level(patterns, nfc=False, ignore_merges=False):
    def build(texts):
        tok = Tokenizer(models.BPE(ignore_merges=ignore_merges))
        if nfc:
            tok.normalizer = normalizers.NFC()
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.Split(Regex(p), behavior="isolated", invert=False) for p in patterns]
            + [pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)])
        tok.decoder = decoders.ByteLevel(add_prefix_space=True, trim_offsets=True, use_regex=True)
        return tok
    return build


def llama3(texts):
    tok = split_byte_level([LLAMA3_SPLIT], ignore_merges=True)(texts)
    return train(tok, texts, bpe_trainer(["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"]))


def llama3_onig(texts):
    # The same regex wrapped in a group: not recognised by memtx's hand-written scanners, so it runs on
    # Oniguruma (the Llama 3 family covers the scanner).
    tok = split_byte_level(["(?:" + LLAMA3_SPLIT + ")"], ignore_merges=True)(texts)
    return train(tok, texts, bpe_trainer(["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"]))


def qwen2(texts):
    tok = split_byte_level([QWEN2_SPLIT], nfc=True)(texts)
    return train(tok, texts, bpe_trainer(["<|endoftext|>", "<|im_start|>", "<|im_end|>"]))


def deepseek_v3(texts):
    tok = split_byte_level(DEEPSEEK_SPLITS)(texts)
    return train(tok, texts, bpe_trainer(["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"]))


def gpt_neox(texts):
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
    train(tok, texts, bpe_trainer(["<|endoftext|>", "<|padding|>"]))
    # GPT-NeoX-20B's added (not special, normalized) tokens for runs of 24 down to 2 spaces.
    tok.add_tokens([AddedToken(" " * n, normalized=True, special=False) for n in range(24, 1, -1)])
    return tok


def sentencepiece_bpe(texts, specials):
    """A BPE model in SentencePiece's layout: specials, then the 256 <0xXX> byte pieces, then the pieces a
    trainer learned (a limited alphabet, so byte fallback and unk are exercised)."""
    base = Tokenizer(models.BPE())
    base.normalizer = normalizers.Replace(" ", SP)
    base.pre_tokenizer = pre_tokenizers.Metaspace(replacement=SP, prepend_scheme="always", split=True)
    train(base, texts, trainers.BpeTrainer(vocab_size=1200, min_frequency=2, special_tokens=[], limit_alphabet=150,
                                           show_progress=False))
    learned = json.loads(base.to_str())["model"]
    vocab = {s: i for i, s in enumerate(specials)}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    for piece, _ in sorted(learned["vocab"].items(), key=lambda kv: kv[1]):
        vocab.setdefault(piece, len(vocab))
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in learned["merges"]]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    return tok


def llama2(texts):
    tok = sentencepiece_bpe(texts, ["<unk>", "<s>", "</s>"])
    tok.normalizer = normalizers.Sequence([normalizers.Prepend(SP), normalizers.Replace(" ", SP)])
    tok.decoder = decoders.Sequence([decoders.Replace(SP, " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(content=" ", left=1, right=0)])
    return tok


def mistral(texts):
    tok = sentencepiece_bpe(texts, ["<unk>", "<s>", "</s>"])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=SP, prepend_scheme="first", split=False)
    tok.decoder = decoders.Sequence([decoders.Replace(SP, " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(content=" ", left=1, right=0)])
    return tok


def bert(texts):
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", continuing_subword_prefix="##", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None,
                                                lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    return train(tok, texts, trainers.WordPieceTrainer(vocab_size=1500, min_frequency=2, limit_alphabet=300,
                                                        special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
                                                        show_progress=False))


def unigram(texts):
    base = Tokenizer(models.Unigram())
    base.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    base.pre_tokenizer = pre_tokenizers.Metaspace(replacement=SP, prepend_scheme="always", split=True)
    base.decoder = decoders.Metaspace(replacement=SP, prepend_scheme="always", split=True)
    train(base, texts, trainers.UnigramTrainer(vocab_size=1200, special_tokens=["<pad>", "</s>", "<unk>"],
                                               unk_token="<unk>", show_progress=False))
    learned = json.loads(base.to_str())["model"]
    pieces = [tuple(p) for p in learned["vocab"]]
    low = min(score for _, score in pieces) - 1.0
    pieces += [(f"<0x{b:02X}>", low) for b in range(256)]
    tok = Tokenizer(models.Unigram(pieces, unk_id=learned["unk_id"], byte_fallback=True))
    tok.normalizer, tok.pre_tokenizer = base.normalizer, base.pre_tokenizer
    tok.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Metaspace(replacement=SP, prepend_scheme="always")])
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in ["<pad>", "</s>", "<unk>"]])
    return tok


def whitespace_digits(texts):
    """The remaining pre-tokenizers and normalizers: Whitespace, Digits, Punctuation, NFKD + StripAccents +
    Lowercase + Strip, with a BPE using continuing_subword_prefix / end_of_word_suffix and a BPEDecoder."""
    tok = Tokenizer(models.BPE(unk_token="[UNK]", continuing_subword_prefix="##", end_of_word_suffix="</w>"))
    tok.normalizer = normalizers.Sequence([normalizers.NFKD(), normalizers.StripAccents(), normalizers.Lowercase(),
                                           normalizers.Strip(left=True, right=True)])
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace(), pre_tokenizers.Digits(individual_digits=False),
                                                 pre_tokenizers.Punctuation(behavior="contiguous")])
    tok.decoder = decoders.BPEDecoder(suffix="</w>")
    return train(tok, texts, trainers.BpeTrainer(vocab_size=1500, min_frequency=2, special_tokens=["[UNK]", "[SEP]"],
                                                 continuing_subword_prefix="##", end_of_word_suffix="</w>",
                                                 limit_alphabet=300, show_progress=False))


def splits_behaviours(texts):
    """Split with every behaviour and invert, WhitespaceSplit, Digits (individual) and CharDelimiterSplit,
    NFD + Lowercase, Metaspace decoding."""
    tok = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.Lowercase(),
                                           normalizers.Replace(Regex(r"\s+"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"[,;]"), behavior="merged_with_previous"),
        pre_tokenizers.Split(Regex(r"[(\[{]"), behavior="merged_with_next"),
        pre_tokenizers.Split(Regex(r"[^\p{P}]+"), behavior="removed", invert=True),
        pre_tokenizers.Split("--", behavior="isolated"),
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.CharDelimiterSplit("|"),
        pre_tokenizers.WhitespaceSplit(),
        pre_tokenizers.Metaspace(replacement=SP, prepend_scheme="always", split=True),
    ])
    tok.decoder = decoders.Metaspace(replacement=SP, prepend_scheme="always", split=True)
    return train(tok, texts, trainers.BpeTrainer(vocab_size=1000, min_frequency=2, special_tokens=["<unk>"],
                                                 limit_alphabet=200, show_progress=False))


FAMILIES = {
    "gpt2": gpt2, "llama3": llama3, "llama3-onig": llama3_onig, "qwen2": qwen2, "deepseek-v3": deepseek_v3,
    "gpt-neox": gpt_neox, "llama2": llama2, "mistral": mistral, "bert-wordpiece": bert, "unigram": unigram,
    "whitespace-digits": whitespace_digits, "split-behaviours": splits_behaviours,
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("tool")
    parser.add_argument("--lines", type=int, default=3000)
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--keep", help="keep the tokenizer.json and texts in this folder")
    args = parser.parse_args()

    train_texts = [line(random.Random(1000 + i)) for i in range(3000)]
    texts = [line(random.Random(i), rare=True) for i in range(args.lines)]
    work = args.keep or tempfile.mkdtemp(prefix="memtx_tokenizer_peer_")
    os.makedirs(work, exist_ok=True)
    texts_file = os.path.join(work, "texts.json")
    with open(texts_file, "w", encoding="utf-8") as f:
        json.dump(texts, f, ensure_ascii=False)

    total = 0
    for name in args.families.split(","):
        tok = FAMILIES[name](train_texts)
        folder = os.path.join(work, name)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "tokenizer.json")
        tok.save(path)
        out = os.path.join(folder, "memtx.json")
        proc = subprocess.run([args.tool, path, texts_file, out], capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"FAIL {name}: memtx could not load or run it: {proc.stderr.strip()}", flush=True)
            total += 1
            continue
        with open(out, encoding="utf-8") as f:
            ours = json.load(f)
        mismatches = []
        for i, text in enumerate(texts):
            want_ids = tok.encode(text, add_special_tokens=False).ids
            want_text = tok.decode(want_ids, skip_special_tokens=False)
            got = ours[i]
            if "error" in got:
                mismatches.append((i, text, f"memtx error: {got['error']}"))
                continue
            got_text = bytes.fromhex(got["decoded_hex"]).decode("utf-8", "replace")
            if got["ids"] != want_ids:
                first = next((k for k, (a, b) in enumerate(zip(got["ids"], want_ids)) if a != b),
                             min(len(got["ids"]), len(want_ids)))
                mismatches.append((i, text, f"ids differ from position {first}: memtx "
                                            f"{got['ids'][max(0, first - 2):first + 6]} ... (len {len(got['ids'])}), "
                                            f"tokenizers {want_ids[max(0, first - 2):first + 6]} ... "
                                            f"(len {len(want_ids)}); tokens "
                                            f"{[tok.id_to_token(t) for t in want_ids[max(0, first - 2):first + 6]]}"))
            elif got_text != want_text:
                mismatches.append((i, text, f"decoded text differs: memtx {got_text!r}, tokenizers {want_text!r}"))
        status = "ok" if not mismatches else "FAIL"
        print(f"{status} {name}: {len(texts) - len(mismatches)}/{len(texts)} lines match "
              f"({len(mismatches)} mismatches, vocab {tok.get_vocab_size()})", flush=True)
        for i, text, why in mismatches[:5]:
            print(f"    {name} line {i} {text!r}: {why}", flush=True)
        total += len(mismatches)
    if total:
        print(f"FAILED: {total} mismatches", flush=True)
        sys.exit(1)
    print("all families match", flush=True)


if __name__ == "__main__":
    main()
