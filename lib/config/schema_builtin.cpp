// config/schema_builtin.cpp: Schema::builtin(), every key the host reads: the seeds' model/memory/training
// sections, infini_attention.segment_length, the attention keys the model reads, and memtx's own model keys.
// A key only a plugin reads is declared by that plugin (plugins/<name>/<name>_keys.cpp) and joins a
// context's schema when the plugin loads.
// Each entry: type, default, nullability, choices, bounds, a short description and the component using it.
// The cross-field rules over these keys are registered from rules_builtin.cpp.
#include "config/internal.hpp"
#include "memtx/option.hpp"

namespace memtx {

namespace {

using Opt = Option;  // memtx/option.hpp
using VT = ValueType;
using Strs = std::vector<std::string>;
const Value kNull{};

// Upper bounds of the size keys (README.md, "Limits on input sizes"): generous for any model memtx can hold,
// small enough that a typo or a hostile file cannot ask for exabytes and no product of a few of them
// overflows 64 bits. ModelSpec::from_config bounds the estimated parameter count as a whole.
constexpr double kMaxLayers = 4096;         // num_layers, and the layer counts of the memory placement
constexpr double kMaxWidth = 65536;         // hidden_dim, head_dim, rope_dim, memory_dim, ranks
constexpr double kMaxHeads = 4096;          // num_heads, n_kv_group
constexpr double kMaxInner = 1048576;       // intermediate_dim (2^20)
constexpr double kMaxVocab = 16777216;      // vocab_size (2^24)
constexpr double kMaxTokens = 16777216;     // sequence lengths, memory tokens, chapters (2^24)
constexpr double kMaxBatch = 1048576;       // batch_size, gradient_accumulation_steps (2^20)
constexpr double kMaxThreads = 4096;        // num_threads, num_gpus

void add_model(Schema& s) {
  auto add = [&](Opt o) { s.add(o.def()); };
  add(Opt("model.hidden_dim", VT::Int, 768).min(1).max(kMaxWidth).by("model")
          .doc("Width D of the residual stream; every block reads and writes vectors of this size."));
  add(Opt("model.num_heads", VT::Int, 12).min(1).max(kMaxHeads).by("model, attention variants")
          .doc("Number of query heads H in each attention layer."));
  add(Opt("model.num_layers", VT::Int, 12).min(1).max(kMaxLayers).by("model")
          .doc("Number of transformer blocks."));
  add(Opt("model.intermediate_dim", VT::Int, 3072).min(1).max(kMaxInner).by("model")
          .doc("Inner width of each block's MLP."));
  add(Opt("model.vocab_size", VT::Int, 32000).min(1).max(kMaxVocab).by("model")
          .doc("Number of token ids; sizes the embedding table and the output head."));
  add(Opt("model.max_seq_len", VT::Int, 8192).min(1).max(kMaxTokens).by("model; causal, infinite, infini, mla, co4")
          .doc("Longest sequence a softmax attention layer sees: a model that does not run in segments refuses an input "
               "(prompt plus cache) reaching past it, and a segmented model's segments must fit in it. Only models "
               "with such a layer read it."));
  add(Opt("model.use_rope", VT::Bool, true).by("causal, infini, mla")
          .doc("Apply rotary position embeddings to queries and keys."));
  add(Opt("model.rope_theta", VT::Float, 10000.0).above(0).by("causal, infini, mla")
          .doc("Base of the RoPE frequencies; a larger base stretches the wavelengths for longer contexts."));
  add(Opt("model.dropout", VT::Float, 0.0).min(0).below(1).by("model")
          .doc("Dropout probability on the residual branches; 0 disables it."));
  add(Opt("model.attention_dropout", VT::Float, 0.0).min(0).below(1).by("attention variants")
          .doc("Dropout probability on the attention weights; 0 disables it."));
  add(Opt("model.norm_eps", VT::Float, 1e-6).above(0).by("model")
          .doc("Small constant added inside RMSNorm/LayerNorm so the division never blows up."));
  add(Opt("model.use_rms_norm", VT::Bool, true).by("model")
          .doc("Use RMSNorm when true, LayerNorm when false."));
  add(Opt("model.base_model_name", VT::String, kNull).by("model loader")
          .doc("Local folder of a pretrained model to wrap (adapter mode), e.g. models/Qwen2.5-1.5B; null "
               "builds a model from scratch."));
  add(Opt("model.freeze_base_model", VT::Bool, true).by("trainer")
          .doc("In adapter mode, keep the pretrained weights fixed and train only what memtx adds (memory, "
               "LoRA)."));
  add(Opt("model.use_flash_attention", VT::Bool, true).by("causal, mla")
          .doc("Allow the fused scaled-dot-product attention kernel of the LibTorch in use, where it exists."));
  add(Opt("model.head_dim", VT::Int, kNull).min(1).max(kMaxWidth).by("model, attention variants")
          .doc("Size of each attention head; null means hidden_dim / num_heads."));
  add(Opt("model.mlp_type", VT::String, "swiglu").choices({"swiglu", "gelu"}).by("model")
          .doc("MLP form: swiglu (SiLU-gated, three matrices) or gelu (two matrices)."));
  add(Opt("model.mlp_bias", VT::Bool, false).by("model")
          .doc("Add biases to the MLP projections."));
  add(Opt("model.attention_bias", VT::Bool, false).by("attention variants")
          .doc("Add biases to the query, key and value projections, as Qwen2 does."));
  add(Opt("model.tie_embeddings", VT::Bool, true).by("model")
          .doc("Share one matrix between the token embedding and the output head."));
  add(Opt("model.rope_layout", VT::String, "half").choices({"half", "interleaved"}).by("causal, infini, mla")
          .doc("How RoPE pairs channels: half rotates the first half against the second (Llama, Qwen2); "
               "interleaved rotates even/odd pairs (DeepSeek, many nanoGPT forks)."));
  add(Opt("model.rope_dim", VT::Int, kNull).min(2).max(kMaxWidth).by("causal, infini")
          .doc("Rotate only the first rope_dim channels of each head (even); null rotates the whole head."));
  add(Opt("model.rope_scaling", VT::String, "none").choices({"none", "linear", "dynamic", "llama3", "yarn"})
          .by("causal, infini")
          .doc("RoPE frequency scaling for contexts beyond the trained length, as Hugging Face's rope_type: linear "
               "divides every frequency by rope_scaling_factor; dynamic (NTK) raises the base as the sequence grows "
               "past rope_original_max_seq_len; llama3 divides the low frequencies, keeps the high ones and blends between "
               "(rope_low_freq_factor, rope_high_freq_factor); yarn ramps between kept and divided frequencies "
               "(rope_yarn_beta_fast, rope_yarn_beta_slow) and scales cos/sin by rope_yarn_attention_factor."));
  add(Opt("model.rope_scaling_factor", VT::Float, 1.0).above(0).max(1e6).by("causal, infini")
          .doc("How many times longer the context becomes under model.rope_scaling."));
  add(Opt("model.rope_original_max_seq_len", VT::Int, kNull).min(1).max(kMaxTokens).by("causal, infini")
          .doc("The context length the model was pretrained with, for dynamic, llama3 and yarn scaling (max_seq_len "
               "is then the extended length); null = model.max_seq_len."));
  add(Opt("model.rope_low_freq_factor", VT::Float, 1.0).above(0).by("causal, infini")
          .doc("llama3 scaling: wavelengths above rope_original_max_seq_len / this are divided by the factor."));
  add(Opt("model.rope_high_freq_factor", VT::Float, 4.0).above(0).by("causal, infini")
          .doc("llama3 scaling: wavelengths below rope_original_max_seq_len / this are kept."));
  add(Opt("model.rope_yarn_beta_fast", VT::Float, 32.0).above(0).by("causal, infini")
          .doc("yarn scaling: rotations over the original context below which a frequency is kept (the ramp's "
               "start)."));
  add(Opt("model.rope_yarn_beta_slow", VT::Float, 1.0).above(0).by("causal, infini")
          .doc("yarn scaling: rotations over the original context above which a frequency is divided (the ramp's "
               "end)."));
  add(Opt("model.rope_yarn_attention_factor", VT::Float, kNull).above(0).by("causal, infini")
          .doc("yarn scaling: multiplier of cos and sin (so of attention logits, squared); null = 0.1 ln(factor) "
               "+ 1."));
  add(Opt("model.init_std", VT::Float, 0.02).min(0).by("model")
          .doc("Standard deviation of the normal initialisation of weight matrices."));
  add(Opt("model.use_mlp", VT::Bool, true).by("model")
          .doc("Give every block an MLP; false builds mixer-only blocks, as in pure Mamba stacks."));
  add(Opt("model.device", VT::String, "auto").choices({"auto", "cpu", "cuda"}).by("model, trainer")
          .doc("Where to run: auto picks CUDA when available and the CPU otherwise."));
  add(Opt("model.dtype", VT::String, "float32").choices({"float32", "bfloat16", "float16"}).by("model")
          .doc("Storage type of the parameters (training autocast is training.mixed_precision)."));
  add(Opt("model.tokenizer", VT::String, "byte").by("model, data")
          .doc("Tokenizer: byte (built in: 256 byte ids plus <|endoftext|>, <|im_start|>, <|im_end|>), a Hugging "
               "Face tokenizer.json, a SentencePiece .model file, or a folder holding one; its vocabulary must fit "
               "in vocab_size."));
  add(Opt("model.seed", VT::Int, 1234).min(0).by("model, trainer")
          .doc("Random seed for initialisation and data order; the same seed reproduces a run."));
}

void add_attention(Schema& s) {
  auto add = [&](Opt o) { s.add(o.def()); };
  add(Opt("attention.attention_variant", VT::String, "causal").by("model")
          .doc("Mixer used by every layer when attention_list is null: causal, infini, linear, ssm, mla, co4, "
               "infinite, or any name a loaded plugin registers."));
  add(Opt("attention.attention_list", VT::StringList, kNull).by("model")
          .doc("Mixer name per layer, repeated cyclically when shorter than num_layers (e.g. [causal, ssm]); "
               "null uses attention_variant everywhere."));
  add(Opt("attention.disable_flash_attention", VT::Bool, false).by("causal, mla")
          .doc("Force the explicit attention computation instead of the fused kernel (for debugging, or where "
               "the kernel is unsupported)."));
  add(Opt("attention.n_kv_group", VT::Int, kNull).min(1).max(kMaxHeads).by("causal, infini, linear")
          .doc("Number of key/value heads for grouped-query attention; must divide num_heads. Null gives one "
               "per query head."));
}

void add_memory(Schema& s) {
  auto add = [&](Opt o) { s.add(o.def()); };
  const Strs routing = {"sequence", "rolling", "token"};
  add(Opt("memory.vanilla_mode", VT::Bool, false).by("model")
          .doc("Remove every memory layer and every LoRA adapter whatever the other memory keys say (the control "
               "experiment)."));
  add(Opt("memory.num_memory_tokens", VT::Int, 1024).min(1).max(kMaxTokens).by("memory")
          .doc("Number of learned memory vectors in a bank (N_m)."));
  add(Opt("memory.memory_dim", VT::Int, kNull).min(1).max(kMaxWidth).by("memory")
          .doc("Width of the memory vectors; null means hidden_dim."));
  add(Opt("memory.memory_layer_placement", VT::String, "all")
          .choices({"all", "first_k", "last_k", "every_n", "custom", "none"}).by("model")
          .doc("Which blocks get a memory sublayer: all, the first or last memory_layer_k, every "
               "memory_layer_n-th, the listed memory_layer_indices (custom), or none."));
  add(Opt("memory.memory_layer_k", VT::Int, 5).min(1).max(kMaxLayers).by("model")
          .doc("Number of blocks for first_k and last_k placement."));
  add(Opt("memory.memory_layer_n", VT::Int, 3).min(1).max(kMaxLayers).by("model")
          .doc("Interval between memory blocks for every_n placement (blocks 0, n, 2n, ...)."));
  add(Opt("memory.memory_layer_indices", VT::IntList, kNull).min(0).max(kMaxLayers - 1).by("model")
          .doc("Zero-based block indices for custom placement, e.g. [0, 1, 5, 10]."));
  add(Opt("memory.memory_sharing", VT::String, "shared").choices({"shared", "per_layer", "every_k_layers"})
          .by("model")
          .doc("Memory layers share one bank (shared), own one each (per_layer), or share one per group of "
               "memory_sharing_k consecutive memory layers (every_k_layers)."));
  add(Opt("memory.memory_sharing_k", VT::Int, 2).min(1).max(kMaxLayers).by("model")
          .doc("Group size for every_k_layers sharing."));
  add(Opt("memory.memory_block_variant", VT::String, "A").choices({"A", "B"}).by("model")
          .doc("Block layout: A is self-attention, memory, MLP; B is self-attention, MLP, memory, MLP."));
  add(Opt("memory.use_low_rank_memory", VT::Bool, false).by("memory")
          .doc("Store the memory bank in low-rank form (see low_rank_mode)."));
  add(Opt("memory.memory_rank", VT::Int, 64).min(1).max(kMaxWidth).by("memory")
          .doc("Rank r of the low-rank memory bank."));
  add(Opt("memory.low_rank_mode", VT::String, "factorized").choices({"factorized", "reduced_dim"}).by("memory")
          .doc("factorized stores the bank as M = A B^T; reduced_dim keeps memory vectors of width r and "
               "projects into r."));
  add(Opt("memory.use_low_rank_projections", VT::Bool, false).by("memory")
          .doc("Factorise the memory layer's query, key, value and output projections with rank "
               "projection_rank."));
  add(Opt("memory.projection_rank", VT::Int, 64).min(1).max(kMaxWidth).by("memory")
          .doc("Rank of the factorised memory projections."));
  add(Opt("memory.use_chapters", VT::Bool, false).by("memory")
          .doc("Split the bank into chapters and let a router choose top_k_chapters of them (mixture-of-experts "
               "style)."));
  add(Opt("memory.num_chapters", VT::Int, 100).min(1).max(kMaxTokens).by("memory")
          .doc("Number of chapters the bank is split into."));
  add(Opt("memory.tokens_per_chapter", VT::Int, kNull).min(1).max(kMaxTokens).by("memory")
          .doc("Memory vectors per chapter; null means floor(num_memory_tokens / num_chapters), the remaining "
               "vectors then belonging to no chapter."));
  add(Opt("memory.top_k_chapters", VT::Int, 20).min(1).max(kMaxTokens).by("memory")
          .doc("Number of chapters the router selects."));
  add(Opt("memory.routing_strategy_train", VT::String, "sequence").choices(routing).by("memory")
          .doc("Chapter routing in training: sequence (one choice per sequence from the mean of its hidden "
               "states; not causal: later tokens choose the chapters earlier positions read), rolling (per token, "
               "from the mean over the last routing_window_size tokens; causal) or token (per token; causal). "
               "Causal language-model training wants rolling or token."));
  add(Opt("memory.routing_strategy_inference", VT::String, "sequence").choices(routing).by("memory")
          .doc("Chapter routing at inference, with the same choices as in training."));
  add(Opt("memory.routing_window_size", VT::Int, 128).min(1).max(kMaxTokens).by("memory")
          .doc("Tokens the rolling router averages: the current one and the routing_window_size - 1 before it."));
  add(Opt("memory.use_load_balance_loss", VT::Bool, true).by("memory, trainer")
          .doc("Add the router's load-balancing loss C * sum_i f_i P_i (f_i: share of the top-k choices that "
               "pick chapter i, P_i: its mean router probability), which pushes chapter usage towards uniform."));
  add(Opt("memory.load_balance_coefficient", VT::Float, 0.01).min(0).by("memory, trainer")
          .doc("Weight of the load-balancing loss."));
  add(Opt("memory.use_auxiliary_loss", VT::Bool, false).by("memory, trainer")
          .doc("Add the router's auxiliary (importance) loss: the squared coefficient of variation of the "
               "chapters' summed router probabilities."));
  add(Opt("memory.auxiliary_loss_coefficient", VT::Float, 0.01).min(0).by("memory, trainer")
          .doc("Weight of the auxiliary loss."));
  add(Opt("memory.use_z_loss", VT::Bool, false).by("memory, trainer")
          .doc("Add the router z-loss (mean squared log-sum-exp of the router logits), which keeps logits "
               "small."));
  add(Opt("memory.z_loss_coefficient", VT::Float, 0.001).min(0).by("memory, trainer")
          .doc("Weight of the z-loss."));
  add(Opt("memory.quantize_memory", VT::Bool, false).by("memory")
          .doc("Quantise the bank row by row (symmetric, scale = row max |x| / (2^(bits-1) - 1)), read the "
               "dequantised values, and train the float master copy through a straight-through estimator. Saved "
               "models (final_model/, memtx_model_save) store the codes (int8, or 4-bit pairs in uint8) and scales; "
               "checkpoints keep the float master copy."));
  add(Opt("memory.memory_quant_bits", VT::Int, 8).min(4).max(8).expect("4 or 8").by("memory")
          .doc("Bits per quantised memory value: 4 or 8."));
  add(Opt("memory.wo_init_zero", VT::Bool, true).by("memory")
          .doc("Zero-initialise the memory sublayer's output projection so a new memory layer starts as the "
               "identity; keeps early training stable."));
  add(Opt("memory.memory_init_std", VT::Float, 0.02).min(0).by("memory")
          .doc("Standard deviation of the normal initialisation of the memory vectors."));
  add(Opt("memory.use_lora", VT::Bool, false).by("model, trainer")
          .doc("Add LoRA adapters to the projections named in lora_targets."));
  add(Opt("memory.lora_rank", VT::Int, 16).min(1).max(kMaxWidth).by("model")
          .doc("Rank of each LoRA adapter."));
  add(Opt("memory.lora_alpha", VT::Float, 32.0).above(0).by("model")
          .doc("LoRA scale: an adapter's update is multiplied by lora_alpha / lora_rank."));
  add(Opt("memory.lora_dropout", VT::Float, 0.05).min(0).below(1).by("model")
          .doc("Dropout probability on the input of each LoRA adapter."));
  add(Opt("memory.lora_targets", VT::StringList, Strs{"q_proj", "v_proj"}).by("model")
          .doc("Names of the projections that receive LoRA adapters (q_proj, k_proj, v_proj, o_proj, ...)."));
  add(Opt("memory.use_memory_adapter", VT::Bool, true).by("model")
          .doc("Add the memory cross-attention sublayers."));
  add(Opt("memory.use_both_memory_and_lora", VT::Bool, false).by("model, trainer")
          .doc("Train memory sublayers and LoRA adapters together (the combined experiment)."));
}

void add_training(Schema& s) {
  auto add = [&](Opt o) { s.add(o.def()); };
  const Strs precisions = {"fp32", "fp16", "bf16"};
  add(Opt("training.memory_lr", VT::Float, 1e-4).min(0).by("trainer")
          .doc("Peak learning rate of the memory parameters."));
  add(Opt("training.lora_lr", VT::Float, 1e-4).min(0).by("trainer")
          .doc("Peak learning rate of the LoRA parameters."));
  add(Opt("training.base_model_lr", VT::Float, 1e-5).min(0).by("trainer")
          .doc("Peak learning rate of every other parameter: the base model's when it is not frozen, or the "
               "whole network's when training from scratch."));
  add(Opt("training.training_mode", VT::String, "instruction_finetuning")
          .choices({"instruction_finetuning", "pretraining"}).by("trainer, data")
          .doc("instruction_finetuning for chat or instruction records, pretraining for plain text."));
  add(Opt("training.dataset_name", VT::String, "HuggingFaceH4/ultrachat_200k").by("data")
          .doc("Dataset to train on, tried in this order: a local file (.txt, .jsonl, .json) or folder of them; "
               "the same name under data_root; a built-in synthetic dataset, synthetic:passkey or "
               "synthetic:associative_recall, with parameters after '?' (synthetic:passkey?length=512&depth=0.5)."));
  add(Opt("training.dataset_subset", VT::String, kNull).by("data")
          .doc("Configuration or subset of the dataset (e.g. en for C4): a subfolder of the dataset folder; null "
               "for none."));
  add(Opt("training.dataset_split", VT::String, "train").by("data")
          .doc("Split used for training: the dataset folder's files named after it (train.txt, train.jsonl, "
               "train.json) and the data files in its subfolder of that name; without any split files, all of "
               "the folder's own data files."));
  add(Opt("training.eval_split", VT::String, "test").nullable().by("data, trainer")
          .doc("Split used for evaluation; when the dataset has no files for it, eval_fraction of the training "
               "documents is held out; null disables evaluation."));
  add(Opt("training.text_field", VT::StringList, Strs{"messages"}).by("data")
          .doc("Field or fields of each record that hold the text; one name, or a list whose fields are "
               "joined (e.g. [instruction, input, output])."));
  add(Opt("training.max_length", VT::Int, 8192).min(1).max(kMaxTokens).by("data, trainer")
          .doc("Maximum length of a training sequence in tokens."));
  add(Opt("training.data_root", VT::String, "data").by("data")
          .doc("Folder where dataset_name is looked up when it is not a path itself; the environment variable "
               "MEMTX_DATA_ROOT, when set, replaces it."));
  add(Opt("training.eval_fraction", VT::Float, 0.05).min(0).below(1).by("data")
          .doc("Fraction of the training documents held out for evaluation when eval_split has no files (a "
               "single .txt file: its tail, cut at a paragraph); the choice is fixed, independent of data_seed. "
               "Also sizes the eval split of synthetic datasets."));
  add(Opt("training.data_seed", VT::Int, 0).min(0).by("data")
          .doc("Seed of the training data order (documents and windows are reshuffled every epoch) and of the "
               "synthetic datasets' examples."));
  add(Opt("training.distributed_strategy", VT::String, "ddp").choices({"ddp", "fsdp"}).by("trainer")
          .doc("Scheme of a multi-process run (memtx-cli train with num_gpus > 1 or --nproc_per_node, torchrun): ddp "
               "(every rank holds the whole model and optimizer state and trains its rows of each global batch, "
               "gradients summed over the ranks) or fsdp (as fsdp_sharding_strategy says). Either trains exactly as "
               "one process with the global batch would. Has no effect in a single process."));
  add(Opt("training.num_gpus", VT::Int, 1).min(0).max(kMaxThreads).by("trainer")
          .doc("Processes per node: 0 trains one process on the CPU, 1 one process on the model's device, N > 1 "
               "makes memtx-cli train start N local worker processes (as --nproc_per_node N; on CUDA each uses "
               "cuda:LOCAL_RANK, else the CPU with Gloo). A process started alone through the C API with N > 1 is "
               "refused: it trains as one rank of a run whose launcher (memtx-cli, torchrun) sets RANK and "
               "WORLD_SIZE. Under torchrun the launcher's --nproc_per_node decides."));
  add(Opt("training.fsdp_sharding_strategy", VT::String, "FULL_SHARD")
          .choices({"FULL_SHARD", "SHARD_GRAD_OP", "NO_SHARD", "HYBRID_SHARD"}).by("trainer")
          .doc("What distributed_strategy fsdp shards: SHARD_GRAD_OP the gradients (reduce-scattered) and the "
               "optimizer state (each rank updates 1/world of the parameters, then all-gathers them: ZeRO-2); "
               "NO_SHARD nothing (ddp). FULL_SHARD and HYBRID_SHARD would shard the parameters too, which memtx "
               "does not implement: they are refused, so fsdp needs SHARD_GRAD_OP or NO_SHARD set. Checkpoints are "
               "the same single files under every strategy and resume at any world size."));
  add(Opt("training.batch_size", VT::Int, 4).min(1).max(kMaxBatch).by("trainer")
          .doc("Sequences per micro-batch of each process (each rank of a multi-process run: the global batch is "
               "ranks x batch_size)."));
  add(Opt("training.gradient_accumulation_steps", VT::Int, 4).min(1).max(kMaxBatch).by("trainer")
          .doc("Batches whose gradients are summed before each optimizer step."));
  add(Opt("training.num_epochs", VT::Int, kNull).min(1).by("trainer")
          .doc("Passes over the training data; when set it overrides max_steps."));
  add(Opt("training.max_steps", VT::Int, 10000).min(1).by("trainer")
          .doc("Number of optimizer steps to train for."));
  add(Opt("training.warmup_steps", VT::Int, 100).min(0).by("trainer")
          .doc("Steps over which the learning rate rises linearly from 0 to its peak."));
  add(Opt("training.warmup_ratio", VT::Float, kNull).min(0).max(1).by("trainer")
          .doc("Warm-up as a fraction of all steps; when set it overrides warmup_steps."));
  add(Opt("training.optimizer", VT::String, "adamw").choices({"adamw", "adam", "sgd"}).by("trainer")
          .doc("Optimizer for all parameter groups."));
  add(Opt("training.weight_decay", VT::Float, 0.01).min(0).by("trainer")
          .doc("Weight decay coefficient."));
  add(Opt("training.adam_beta1", VT::Float, 0.9).min(0).below(1).by("trainer")
          .doc("Decay rate of Adam's first-moment (mean) estimate."));
  add(Opt("training.adam_beta2", VT::Float, 0.95).min(0).below(1).by("trainer")
          .doc("Decay rate of Adam's second-moment (variance) estimate."));
  add(Opt("training.adam_epsilon", VT::Float, 1e-8).above(0).by("trainer")
          .doc("Constant added to Adam's denominator for numerical safety."));
  add(Opt("training.max_grad_norm", VT::Float, 1.0).min(0).by("trainer")
          .doc("Clip the global gradient norm to this value; 0 disables clipping."));
  add(Opt("training.scheduler", VT::String, "cosine").choices({"cosine", "linear", "constant"}).by("trainer")
          .doc("Learning-rate schedule after warm-up."));
  add(Opt("training.min_lr_ratio", VT::Float, 0.1).min(0).max(1).by("trainer")
          .doc("Lowest learning rate of the schedule as a fraction of the peak."));
  add(Opt("training.mixed_precision", VT::String, "bf16").choices({"no", "fp16", "bf16"}).by("trainer")
          .doc("Autocast precision for training; no keeps everything in the parameter dtype."));
  add(Opt("training.save_precision", VT::String, "fp32").choices(precisions).by("trainer")
          .doc("Precision of the weights written to checkpoints and the final model."));
  add(Opt("training.gradient_checkpointing", VT::Bool, true).by("trainer, model")
          .doc("Recompute block activations during the backward pass to save memory."));
  add(Opt("training.save_steps", VT::Int, 500).min(1).by("trainer")
          .doc("Steps between checkpoints."));
  add(Opt("training.eval_steps", VT::Int, 500).min(1).by("trainer")
          .doc("Steps between evaluations."));
  add(Opt("training.save_total_limit", VT::Int, 3).nullable().min(1).by("trainer")
          .doc("Number of most recent checkpoints kept; null keeps all."));
  add(Opt("training.save_best_model", VT::Bool, true).by("trainer")
          .doc("Also keep the checkpoint with the lowest evaluation loss."));
  add(Opt("training.early_stopping", VT::Bool, false).by("trainer")
          .doc("Stop when the evaluation loss has not improved for early_stopping_patience evaluations."));
  add(Opt("training.early_stopping_patience", VT::Int, 3).min(1).by("trainer")
          .doc("Evaluations without improvement before training stops."));
  add(Opt("training.early_stopping_threshold", VT::Float, 0.0).min(0).by("trainer")
          .doc("Smallest decrease of the evaluation loss that counts as an improvement."));
  add(Opt("training.logging_steps", VT::Int, 10).min(1).by("trainer")
          .doc("Steps between metric log records."));
  add(Opt("training.log_to_wandb", VT::Bool, false).by("trainer")
          .doc("Send metrics to Weights & Biases. memtx talks to no online service: true is refused; metrics go to "
               "<output_dir>/metrics.jsonl (memtx-cli plot draws them)."));
  add(Opt("training.wandb_project", VT::String, "memory-transformer").by("trainer")
          .doc("Weights & Biases project name; read only with log_to_wandb, which is refused, so setting it is an error."));
  add(Opt("training.wandb_run_name", VT::String, kNull).by("trainer")
          .doc("Weights & Biases run name; like wandb_project, setting it is an error."));
  add(Opt("training.output_dir", VT::String, "./outputs").by("trainer")
          .doc("Folder for checkpoints, logs and the final model."));
  add(Opt("training.resume_from_checkpoint", VT::String, kNull).by("trainer")
          .doc("Checkpoint folder to resume training from, or latest for the newest checkpoint in output_dir; "
               "null starts a new run."));
  add(Opt("training.eval_max_batches", VT::Int, kNull).min(1).by("trainer")
          .doc("Largest number of batches of one evaluation; null evaluates the whole evaluation split."));
  add(Opt("training.on_nonfinite_loss", VT::String, "stop").choices({"stop", "skip"}).by("trainer")
          .doc("What a NaN or infinite loss or gradient does: stop ends the run with an error naming the step "
               "(after the last good checkpoint); skip reports it, drops that step's update and goes on."));
  add(Opt("training.max_skipped_steps", VT::Int, 10).min(1).by("trainer")
          .doc("With on_nonfinite_loss: skip, this many non-finite steps in a row stop the run."));
  add(Opt("training.num_threads", VT::Int, kNull).min(1).max(kMaxThreads).by("trainer")
          .doc("CPU threads of LibTorch's intra-op pool; null keeps LibTorch's default."));
}

void add_infini(Schema& s) {
  auto add = [&](Opt o) { s.add(o.def()); };
  add(Opt("infini_attention.segment_length", VT::Int, 64).min(1).max(kMaxTokens).by("model, infini")
          .doc("Tokens per segment: long inputs are processed this many tokens at a time, each layer's memory "
               "carried from one segment to the next."));
}

}  // namespace

const Schema& Schema::builtin() {
  static const Schema schema = [] {
    Schema s;
    add_model(s);
    add_attention(s);
    add_memory(s);
    add_training(s);
    add_infini(s);
    config_detail::add_builtin_rules(s);  // rules_builtin.cpp
    return s;
  }();
  return schema;
}

}  // namespace memtx
