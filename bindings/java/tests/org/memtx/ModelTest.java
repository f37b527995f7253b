/* ModelTest.java: models through the Java bindings: forward against the C API bit for bit (forward_dump, a C
 * program on the same saved folder), save and reload, the tokenizer, generation, evaluation, description. */
package org.memtx;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

public class ModelTest {
  private static final long[] TOKENS = {75, 101, 121, 61, 97, 98, 99, 46, 256, 10, 3, 200};
  private Path dir;
  private Context context;
  private Config config;
  private Model model;

  @Before
  public void setUp() {
    dir = TestModels.tempDir("memtx-java-model");
    context = new Context();
    config = TestModels.tinyConfig(context, dir.resolve("run"));
    model = Model.create(context, config);
  }

  @After
  public void tearDown() {
    context.close();
    TestModels.deleteTree(dir);
  }

  @Test
  public void forwardHasTheShapeAndDependsOnTheTokens() {
    assertEquals(259, model.vocabSize());
    Logits one = model.forward(TOKENS);
    assertEquals(1, one.batch());
    assertEquals(TOKENS.length, one.seqLen());
    assertEquals(259, one.vocab());
    assertEquals(TOKENS.length * 259, one.data().length);
    // a batch of two: the first row is the same sequence, so the same logits; the second differs
    long[] two = new long[2 * TOKENS.length];
    System.arraycopy(TOKENS, 0, two, 0, TOKENS.length);
    for (int i = 0; i < TOKENS.length; ++i) two[TOKENS.length + i] = (TOKENS[i] + 1) % 259;
    Logits batch = model.forward(two, 2, TOKENS.length);
    assertEquals(one.get(0, 3, 17), batch.get(0, 3, 17), 1e-5f);
    assertNotEquals(batch.get(0, 3, 17), batch.get(1, 3, 17), 0f);
    assertTrue(Float.isFinite(batch.get(1, TOKENS.length - 1, 258)));
  }

  @Test
  public void forwardEqualsTheCApiBitForBitAndSurvivesSaveAndLoad() throws Exception {
    Path saved = dir.resolve("saved");
    model.save(saved);
    assertTrue(Files.isRegularFile(saved.resolve("model.safetensors")));
    float[] java = model.forward(TOKENS).data();
    float[] c = cForward(saved, TOKENS);
    assertTrue("Java and C logits differ", TestModels.bitwiseEqual(java, c));
    try (Model loaded = Model.load(context, saved)) {
      assertTrue("reloaded logits differ", TestModels.bitwiseEqual(java, loaded.forward(TOKENS).data()));
    }
    // a Hugging Face folder: imported back, the same logits within float rounding
    Path hf = dir.resolve("hf");
    model.saveHf(hf);
    assertTrue(Files.isRegularFile(hf.resolve("config.json")));
    try (Model imported = Model.loadHf(context, hf)) {
      float[] back = imported.forward(TOKENS).data();
      for (int i = 0; i < java.length; ++i) assertEquals(java[i], back[i], 1e-4f);
    }
    // weights alone: a fresh model (other seed) takes them and then gives the same logits
    Path weights = dir.resolve("weights.safetensors");
    model.saveWeights(weights);
    try (Config other = TestModels.tinyConfig(context, dir.resolve("run")).set("model.seed", "99");
         Model fresh = Model.create(context, other)) {
      assertFalse(TestModels.bitwiseEqual(java, fresh.forward(TOKENS).data()));
      fresh.loadWeights(weights);
      assertTrue(TestModels.bitwiseEqual(java, fresh.forward(TOKENS).data()));
    }
  }

  @Test
  public void tokenizerRoundTripsUtf8() {
    try (Tokenizer tok = model.tokenizer()) {
      String text = "héllo € 😀<|endoftext|>";
      long[] ids = tok.encode(text);
      byte[] utf8 = "héllo € 😀".getBytes(java.nio.charset.StandardCharsets.UTF_8);
      assertEquals(utf8.length + 1, ids.length); // the byte tokenizer: one id per byte, then <|endoftext|>
      for (int i = 0; i < utf8.length; ++i) assertEquals(utf8[i] & 0xff, ids[i]);
      assertEquals(256, ids[ids.length - 1]);
      assertEquals(text, tok.decode(ids));
      assertEquals(0, tok.encode("").length);
      assertEquals("", tok.decode(new long[0]));
    }
  }

  @Test
  public void textWithNulCharactersCrossesWhole() {
    try (Tokenizer tok = model.tokenizer(); Session session = model.newSession()) {
      assertArrayEquals(new long[] {'a', 'b', 0, 'c', 'd'}, tok.encode("ab\0cd"));
      assertEquals("a\0b", tok.decode(new long[] {'a', 0, 'b'}));
      session.feedText("ab\0cd");
      assertEquals(5, session.position());
    }
  }

  @Test
  public void generateIsDeterministicAndHonoursItsOptions() {
    long[] prompt = {72, 101, 108, 108};
    GenerateOptions greedy = new GenerateOptions().temperature(0).maxNewTokens(8).stopAtEos(false);
    assertEquals(64, new GenerateOptions().maxNewTokens()); // libmemtx's defaults
    long[] a = model.generate(prompt, greedy);
    assertEquals(8, a.length);
    assertArrayEquals(a, model.generate(prompt, greedy));
    // greedy generation continues with the argmax of the forward pass
    assertEquals(model.forward(prompt).argmax(0, prompt.length - 1), a[0]);
    assertEquals(0, model.generate(prompt, greedy.stopTokens(a[0])).length);
    GenerateOptions sampled = new GenerateOptions().maxNewTokens(16).stopAtEos(false).seed(5);
    long[] s5 = model.generate(prompt, sampled);
    assertArrayEquals(s5, model.generate(prompt, sampled));
    assertFalse(Arrays.equals(s5, model.generate(prompt, sampled.seed(6))));
    assertEquals(-1L, new GenerateOptions().seed(-1L).seed()); // 64-bit seeds pass unchanged
    model.generate(prompt, new GenerateOptions().seed(-1L).maxNewTokens(2));
    String text = model.generateText("Key-value pairs:", new GenerateOptions().temperature(0).maxNewTokens(6).stopAtEos(false));
    assertTrue(text.length() > 0);
  }

  @Test
  public void samplingOptionsOfAbi2ReachTheLibrary() {
    long[] prompt = {72, 101, 108, 108};
    GenerateOptions defaults = new GenerateOptions();
    assertEquals(0f, defaults.minP(), 0f);
    assertEquals(1f, defaults.repetitionPenalty(), 0f);
    assertEquals(0.0, defaults.maxTime(), 0.0);
    GenerateOptions greedy = new GenerateOptions().temperature(0).maxNewTokens(10).stopAtEos(false);
    long[] plain = model.generate(prompt, greedy);
    // min_p 1 keeps only the most likely token: sampling gives the greedy tokens
    GenerateOptions onlyTop = new GenerateOptions().minP(1f).seed(3).maxNewTokens(10).stopAtEos(false);
    assertArrayEquals(plain, model.generate(prompt, onlyTop));
    // a tiny time limit stops after the first token
    GenerateOptions timed = new GenerateOptions().maxTime(1e-9).maxNewTokens(200).stopAtEos(false);
    assertEquals(1, model.generate(prompt, timed).length);
    // bad values are refused naming the option
    String[][] bad = {{"min_p", "2"}, {"repetition_penalty", "0"}, {"max_time", "-1"}};
    for (String[] b : bad) {
      GenerateOptions o = new GenerateOptions().maxNewTokens(2);
      if (b[0].equals("min_p")) o.minP(2f);
      else if (b[0].equals("repetition_penalty")) o.repetitionPenalty(0f);
      else o.maxTime(-1);
      try {
        model.generate(prompt, o);
        assertTrue(b[0] + " accepted", false);
      } catch (MemtxException e) {
        assertEquals(StatusCode.INVALID_ARGUMENT, e.code());
        assertTrue(e.getMessage(), e.getMessage().contains(b[0]));
      }
    }
  }

  @Test
  public void evaluateDescribeAndPluginsGiveJson() {
    String eval = model.evaluate(null);
    assertTrue(eval, eval.contains("\"loss\"") && eval.contains("\"perplexity\""));
    String describe = model.describe();
    assertTrue(describe, describe.startsWith("{") && describe.contains("causal"));
    String plugins = context.plugins();
    assertTrue(plugins, plugins.contains("\"variants\"") && plugins.contains("\"causal\""));
    try (Config copy = model.config()) {
      assertEquals("32", copy.get("model.hidden_dim"));
      assertTrue(copy.dump(true).contains("\"hidden_dim\""));
    }
    assertEquals(Memtx.version(), MemtxNative.memtx_version());
    assertTrue(Memtx.version().matches("\\d+\\.\\d+\\.\\d+"));
    assertEquals(2, Memtx.abiVersion()); // 2: memtx_generate_options gained struct_size and the ABI 2 fields
    assertTrue(Memtx.buildInfo().contains("{"));
  }

  /** memtx_forward's logits from the C program forward_dump on a saved folder. */
  private float[] cForward(Path folder, long[] tokens) throws IOException, InterruptedException {
    String program = System.getProperty("memtx.forward_dump");
    assertTrue("-Dmemtx.forward_dump is not set", program != null);
    Path out = dir.resolve("c_logits.bin");
    List<String> command = new ArrayList<>(List.of(program, folder.toString(), out.toString()));
    for (long t : tokens) command.add(Long.toString(t));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes());
    assertEquals("forward_dump failed: " + output, 0, p.waitFor());
    ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.nativeOrder());
    float[] logits = new float[bytes.remaining() / 4];
    bytes.asFloatBuffer().get(logits);
    return logits;
  }
}
