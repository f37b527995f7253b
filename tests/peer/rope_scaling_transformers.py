"""Peer test: Llama/Qwen2 folders with rope scaling (linear, dynamic, llama3, yarn) and Qwen2 sliding-window layers,
built locally by transformers with random weights, imported by memtx (memtx_model_load_hf) and compared with
transformers' logits on sequences past the original context (so that the scaling and the window matter);
each folder is then exported by memtx-cli export-hf and read back by transformers, which must give the same
logits again. Exits 77 (skipped) without the peer packages.
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import peer_support as ps  # noqa: E402

TOLERANCE = 1e-4
SEQ = 96  # tokens per row: three times the original context of 32


def cases():
    rope = lambda **kw: {"rope_theta": 10000.0, **kw}  # noqa: E731
    return [
        ("llama-linear", "llama", {"rope_parameters": rope(rope_type="linear", factor=4.0),
                                   "max_position_embeddings": 128}),
        ("llama-dynamic", "llama", {"rope_parameters": rope(rope_type="dynamic", factor=4.0),
                                    "max_position_embeddings": 32}),
        ("llama-llama3", "llama", {"rope_parameters": rope(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                                                           high_freq_factor=4.0, original_max_position_embeddings=32),
                                   "max_position_embeddings": 256}),
        ("llama-yarn", "llama", {"rope_parameters": rope(rope_type="yarn", factor=4.0,
                                                         original_max_position_embeddings=32),
                                 "max_position_embeddings": 128}),
        ("qwen2-yarn-window", "qwen2", {"rope_parameters": rope(rope_type="yarn", factor=4.0, beta_fast=16.0,
                                                                beta_slow=2.0, original_max_position_embeddings=32),
                                        "max_position_embeddings": 128, "use_sliding_window": True,
                                        "sliding_window": 20, "max_window_layers": 1}),
        ("qwen2-window-all", "qwen2", {"max_position_embeddings": 128, "use_sliding_window": True,
                                       "sliding_window": 24, "max_window_layers": 0}),
    ]


def main():
    memtx = ps.Memtx()
    ps.require_peers("transformers")
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    torch.manual_seed(0)
    ids = torch.randint(0, 300, (2, SEQ))
    failures = []

    def memtx_logits(folder):
        model = memtx.load(folder, hf=True)
        try:
            out, shape = memtx.forward(model, ids.tolist())
        finally:
            memtx.free(model)
        return torch.tensor(list(out), dtype=torch.float32).reshape(shape)

    with tempfile.TemporaryDirectory(prefix="memtx_peer_rope_") as tmp:
        for name, model_type, extra in cases():
            config_class = transformers.LlamaConfig if model_type == "llama" else transformers.Qwen2Config
            config = config_class(vocab_size=300, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                  num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=False,
                                  attn_implementation="eager", **extra)
            model = transformers.AutoModelForCausalLM.from_config(config).eval()
            folder = os.path.join(tmp, name)
            model.save_pretrained(folder)
            with torch.no_grad():
                theirs = model(ids).logits.float()
                # The same weights without the scaling and the window: they must matter, or the test proves nothing.
                config.rope_parameters = {"rope_type": "default", "rope_theta": 10000.0}
                config.use_sliding_window = False
                config.layer_types = ["full_attention"] * config.num_hidden_layers
                plain_model = transformers.AutoModelForCausalLM.from_config(config).eval()
                plain_model.load_state_dict(model.state_dict())
                plain = plain_model(ids).logits.float()
            mine = memtx_logits(folder)
            diff = float((mine - theirs).abs().max())
            effect = float((plain - theirs).abs().max())
            print(f"{name}: memtx vs transformers max |diff| {diff:.2e} (scaling/window change logits by {effect:.2e})",
                  flush=True)
            if not diff <= TOLERANCE:
                failures.append(f"{name}: import differs from transformers by {diff:.3e}")
            if not effect > 10 * TOLERANCE:
                failures.append(f"{name}: scaling and window do not change transformers' logits ({effect:.2e})")
            exported = os.path.join(tmp, name + "-export")
            ps.run_cli("export-hf", "--hf", folder, "--output", exported)
            back = transformers.AutoModelForCausalLM.from_pretrained(exported, dtype=torch.float32,
                                                                     attn_implementation="eager").eval()
            with torch.no_grad():
                again = back(ids).logits.float()
            diff = float((again - theirs).abs().max())
            print(f"{name}: export read by transformers max |diff| {diff:.2e}", flush=True)
            if not diff <= TOLERANCE:
                failures.append(f"{name}: the export differs from the original in transformers by {diff:.3e}")
    for f in failures:
        print("FAIL " + f, flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
