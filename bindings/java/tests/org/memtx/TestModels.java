/* TestModels.java: what the Java binding tests share: the tiny model config (2 x 32, byte tokenizer, built-in
 * associative-recall data, fp32 on the CPU, trains in about a second), temporary folders, and file helpers. */
package org.memtx;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

final class TestModels {
  private TestModels() {}

  static final String TINY_YAML = String.join("\n",
      "model:",
      "  hidden_dim: 32",
      "  num_heads: 4",
      "  num_layers: 2",
      "  intermediate_dim: 64",
      "  vocab_size: 259",
      "  max_seq_len: 64",
      "  tokenizer: byte",
      "  device: cpu",
      "  dtype: float32",
      "  seed: 7",
      "memory:",
      "  vanilla_mode: true",
      "training:",
      "  training_mode: pretraining",
      "  dataset_name: \"synthetic:associative_recall?pairs=2&examples=48\"",
      "  eval_split: test",
      "  eval_fraction: 0.25",
      "  eval_max_batches: 2",
      "  max_length: 32",
      "  batch_size: 2",
      "  max_steps: 4",
      "  warmup_steps: 1",
      "  base_model_lr: 0.003",
      "  mixed_precision: \"no\"",
      "  logging_steps: 1",
      "  eval_steps: 2",
      "  save_steps: 4",
      "  num_gpus: 0",
      "");

  /** The tiny config with training.output_dir set to outputDir. */
  static Config tinyConfig(Context context, Path outputDir) {
    return Config.parse(context, TINY_YAML).set("training.output_dir", outputDir.toString());
  }

  static Path tempDir(String prefix) {
    try {
      return Files.createTempDirectory(prefix);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Removes a folder and everything in it (nothing when it is missing). */
  static void deleteTree(Path dir) {
    if (dir == null || !Files.exists(dir)) return;
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every bit of a and b equal (NaNs included). */
  static boolean bitwiseEqual(float[] a, float[] b) {
    if (a.length != b.length) return false;
    for (int i = 0; i < a.length; ++i) {
      if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) return false;
    }
    return true;
  }
}
