/* TrainAndGenerate.java: the Java bindings end to end. Loads configs/cpu_small.yaml (a 4 x 256 causal model,
 * byte tokenizer, built-in passkey prompts), trains it a few steps into a temporary folder printing
 * progress, then generates a continuation of a prompt and prints it.
 * Usage: java -cp memtx.jar:memtx-example.jar TrainAndGenerate [CONFIG.yaml [STEPS]] */
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Comparator;
import java.util.stream.Stream;
import org.memtx.Config;
import org.memtx.Context;
import org.memtx.GenerateOptions;
import org.memtx.MemtxException;
import org.memtx.Model;

public final class TrainAndGenerate {
  public static void main(String[] args) throws IOException {
    Path configFile = Paths.get(args.length > 0 ? args[0] : "configs/cpu_small.yaml");
    String steps = args.length > 1 ? args[1] : "3";
    Path outputDir = Files.createTempDirectory("memtx-java-example");
    try (Context context = new Context();
         Config config = Config.load(context, configFile)
             .set("training.max_steps", steps)
             .set("training.warmup_steps", "1")
             .set("training.output_dir", outputDir.toString());
         Model model = Model.create(context, config)) {
      System.out.println("memtx " + org.memtx.Memtx.version() + ": training " + configFile + " for " + steps
          + " steps into " + outputDir);
      model.train(config, p -> System.out.println("progress: " + p));
      String prompt = "The pass key is 42. Remember it. 42 is the pass key. What is the pass key? The pass key is";
      GenerateOptions greedy = new GenerateOptions().temperature(0).maxNewTokens(16);
      System.out.println("prompt: " + prompt);
      System.out.println("generated: " + model.generateText(prompt, greedy));
    } catch (MemtxException e) {
      System.err.println("memtx error " + e.code() + ": " + e.detail());
      System.exit(1);
    } finally {
      try (Stream<Path> paths = Files.walk(outputDir)) {
        paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
