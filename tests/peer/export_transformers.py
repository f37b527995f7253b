"""Peer test: models trained by memtx, exported with `memtx-cli export-hf`, judged by Hugging Face transformers.

  export_transformers.py                      the test (ctest peer_export_transformers)
  export_transformers.py --judge MEMTX HF     judges one exported folder HF against the memtx folder MEMTX
                                              (the main job runs this on its trained model)

For each exportable architecture (Llama, Qwen2, Mamba, DeepSeek-V3 MLA) a tiny model is trained for a few steps
with memtx-cli (byte tokenizer, the synthetic associative-recall data), exported, and loaded by
transformers' AutoModelForCausalLM.from_pretrained with no custom code; its logits must match memtx's (the C API
on the same trained folder) within 1e-4, its AutoTokenizer must give memtx's ids, and export -> import -> export
(memtx-cli export-hf --hf) must give the same bytes. A LoRA model's PEFT adapter folder is loaded with peft's
PeftModel over the exported base and must match too. The main job's own config (configs/cpu_small.yaml, a few
steps) is one of the models. Exits 77 (skipped) without the peer packages.
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import peer_support as ps  # noqa: E402

TOLERANCE = 1e-4
COMMON = """
model:
  hidden_dim: 64
  num_heads: 4
  num_layers: 2
  intermediate_dim: 128
  vocab_size: 259
  max_seq_len: 128
  tokenizer: byte
  device: cpu
  dtype: float32
  seed: 11
memory:
  vanilla_mode: {vanilla}
{memory}
training:
  dataset_name: "synthetic:associative_recall?pairs=4&examples=200"
  eval_split: null
  max_length: 64
  batch_size: 4
  max_steps: {steps}
  warmup_steps: 2
  base_model_lr: 3e-3
{training_extra}  mixed_precision: "no"
  save_steps: 1000
  logging_steps: 100
  num_gpus: 0
  output_dir: {out}
"""
ARCHS = [
    # name, attention section, model section additions, expected model_type
    ("llama", "attention:\n  attention_variant: causal\n  n_kv_group: 2\n", {"tie_embeddings": "false"}, "llama"),
    ("qwen2", "attention:\n  attention_variant: causal\n  n_kv_group: 2\n", {"attention_bias": "true"}, "qwen2"),
    ("mamba", "attention:\n  attention_variant: ssm\n  ssm_conv_kernel_size: 4\n  ssm_dt_rank: 4\n",
     {"use_mlp": "false", "intermediate_dim": None, "max_seq_len": None}, "mamba"),
    ("deepseek_v3", "attention:\n  attention_variant: mla\n  mla_rotary_dim: 8\n  mla_q_lora_rank: 32\n"
     "  mla_latent_dim: 16\n", {"rope_layout": "interleaved", "tie_embeddings": "false"}, "deepseek_v3"),
]
IDS = [[5, 200, 17, 42, 256, 3, 99, 120, 7, 64, 65, 66, 10, 32, 257, 258],
       [72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100, 33, 10, 1, 0]]


def write_config(folder, name, attention, model_extra, vanilla=True, memory="", steps=12):
    training_extra = "" if vanilla else "  lora_lr: 3e-3\n"
    text = COMMON.format(vanilla="true" if vanilla else "false", memory=memory, steps=steps,
                         training_extra=training_extra, out=os.path.join(folder, name))
    lines = text.split("\n")
    at = lines.index("model:") + 1
    for key, value in model_extra.items():  # None removes the key
        lines = [line for line in lines if not line.startswith(f"  {key}:")]
        if value is not None:
            lines.insert(at, f"  {key}: {value}")
    path = os.path.join(folder, name + ".yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + attention)
    return path


def train(folder, name, attention, model_extra, **kw):
    config = write_config(folder, name, attention, model_extra, **kw)
    ps.run_cli("train", "--config", config)
    return os.path.join(folder, name, "final_model")


def max_diff(a, b):
    return float((a - b).abs().max())


def same_bytes(dir_a, dir_b):
    names = sorted(os.listdir(dir_a))
    if names != sorted(os.listdir(dir_b)):
        return f"files differ: {names} vs {sorted(os.listdir(dir_b))}"
    for n in names:
        with open(os.path.join(dir_a, n), "rb") as fa, open(os.path.join(dir_b, n), "rb") as fb:
            if fa.read() != fb.read():
                return f"{n} differs"
    return None


def judge(memtx, failures, name, memtx_folder, hf_folder, peft_base=None, adapter=None):
    """Compares transformers on hf_folder (or peft on peft_base + adapter) with memtx on memtx_folder."""
    import torch
    import transformers
    from peft import PeftModel

    model = memtx.load(memtx_folder)
    try:
        out, shape = memtx.forward(model, IDS)
        mine = torch.tensor(list(out), dtype=torch.float32).reshape(shape)
        text = "Hello, w\u00f6rld! <|im_start|>user\n12 + 30 = 42<|im_end|>"
        memtx_ids = memtx.tokenize(model, text)
    finally:
        memtx.free(model)
    if adapter:
        base = transformers.AutoModelForCausalLM.from_pretrained(peft_base, dtype=torch.float32)
        hf = PeftModel.from_pretrained(base, adapter).eval()
    else:
        hf = transformers.AutoModelForCausalLM.from_pretrained(hf_folder, dtype=torch.float32).eval()
    with torch.no_grad():
        theirs = hf(torch.tensor(IDS)).logits.float()
    diff = max_diff(mine, theirs)
    print(f"{name}: {type(hf).__name__}, logits max |diff| {diff:.2e}", flush=True)
    if not diff <= TOLERANCE:
        failures.append(f"{name}: transformers' logits differ from memtx's by {diff:.3e} > {TOLERANCE}")
    tok = transformers.AutoTokenizer.from_pretrained(hf_folder)
    hf_ids = tok(text, add_special_tokens=False)["input_ids"]
    if hf_ids != memtx_ids:
        failures.append(f"{name}: AutoTokenizer ids {hf_ids} != memtx {memtx_ids}")
    if tok.decode(hf_ids) != text:
        failures.append(f"{name}: AutoTokenizer decodes {tok.decode(hf_ids)!r}, not {text!r}")


def main():
    memtx = ps.Memtx()  # libmemtx (and its LibTorch) before Python's torch
    ps.require_peers("transformers", "peft")
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    failures = []
    if sys.argv[1:2] == ["--judge"]:
        judge(memtx, failures, "exported model", sys.argv[2], sys.argv[3])
        return report(failures)
    with tempfile.TemporaryDirectory(prefix="memtx_peer_export_") as tmp:
        for name, attention, extra, model_type in ARCHS:
            trained = train(tmp, name, attention, extra)
            exported = os.path.join(tmp, name + "-hf")
            ps.run_cli("export-hf", "--model", trained, "--output", exported)
            with open(os.path.join(exported, "config.json")) as f:
                got_type = json.load(f)["model_type"]
            if got_type != model_type:
                failures.append(f"{name}: exported model_type {got_type!r}, expected {model_type!r}")
            judge(memtx, failures, name, trained, exported)
            again = os.path.join(tmp, name + "-hf-again")
            ps.run_cli("export-hf", "--hf", exported, "--output", again)
            problem = same_bytes(exported, again)
            if problem:
                failures.append(f"{name}: export -> import -> export is not byte-identical: {problem}")

        lora_memory = ("  use_memory_adapter: false\n  use_lora: true\n  lora_rank: 4\n  lora_alpha: 8.0\n"
                       "  lora_dropout: 0.0\n  lora_targets: [q_proj, v_proj, down_proj]")
        trained = train(tmp, "lora", ARCHS[0][1], {"tie_embeddings": "false"}, vanilla=False, memory=lora_memory,
                        steps=12)
        merged, adapter, base = (os.path.join(tmp, n) for n in ("lora-merged", "lora-adapter", "lora-base"))
        ps.run_cli("export-hf", "--model", trained, "--output", merged, "--peft", adapter, "--peft-base", base)
        judge(memtx, failures, "lora merged", trained, merged)
        judge(memtx, failures, "lora peft", trained, merged, peft_base=base, adapter=adapter)

        # The main job's model: configs/cpu_small.yaml for a few steps.
        main_job = os.path.join(tmp, "cpu_small")
        ps.run_cli("train", "--config", os.path.join(ps.SOURCE_DIR, "configs", "cpu_small.yaml"), "--output_dir",
                   main_job, "--max_steps", 3, "--batch_size", 2, "--warmup_steps", 1)
        ps.run_cli("export-hf", "--model", os.path.join(main_job, "final_model"), "--output", main_job + "-hf")
        judge(memtx, failures, "cpu_small", os.path.join(main_job, "final_model"), main_job + "-hf")
    return report(failures)


def report(failures):
    for f in failures:
        print("FAIL " + f, flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
