/* ErrorsTest.java: failures through the Java bindings: MemtxException with the memtx code for a misspelt key,
 * an out-of-vocabulary token, unknown variants and missing folders; closed objects throw instead of crashing;
 * close is idempotent and a context closes what depends on it. */
package org.memtx;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

public class ErrorsTest {
  private Path dir;
  private Context context;

  @Before
  public void setUp() {
    dir = TestModels.tempDir("memtx-java-errors");
    context = new Context();
  }

  @After
  public void tearDown() {
    context.close();
    TestModels.deleteTree(dir);
  }

  private static MemtxException expect(StatusCode code, Runnable call) {
    try {
      call.run();
    } catch (MemtxException e) {
      assertEquals(e.getMessage(), code, e.code());
      assertEquals(code.value(), e.rawCode());
      assertTrue(e.getMessage().startsWith("[" + e.codeName() + "] "));
      return e;
    }
    fail("expected a MemtxException with code " + code);
    return null;
  }

  @Test
  public void statusCodesMirrorTheCApi() {
    for (StatusCode c : StatusCode.values()) {
      if (c != StatusCode.UNKNOWN) assertEquals(c.name(), c.nativeName());
    }
    assertEquals(StatusCode.CANCELLED, StatusCode.of(10));
    assertEquals(StatusCode.UNKNOWN, StatusCode.of(1000));
  }

  @Test
  public void aMisspeltKeyIsAConfigError() {
    MemtxException e = expect(StatusCode.CONFIG, () -> Config.parse(context, TestModels.TINY_YAML.replace("hidden_dim", "hiden_dim")));
    assertEquals("CONFIG", e.codeName());
    assertTrue(e.detail(), e.detail().contains("hiden_dim") && e.detail().contains("model.hidden_dim"));
    try (Config config = Config.defaults(context)) {
      expect(StatusCode.CONFIG, () -> config.set("model.hiden_dim", "32"));
      expect(StatusCode.CONFIG, () -> config.set("model.hidden_dim", "abc"));
      config.set("model.hidden_dim", "48");
      assertEquals("48", config.get("model.hidden_dim"));
    }
    expect(StatusCode.NOT_FOUND, () -> Config.load(context, Paths.get("/nonexistent/config.yaml")));
  }

  @Test
  public void badTokensAndShapesAreInvalidArguments() {
    try (Config config = TestModels.tinyConfig(context, dir); Model model = Model.create(context, config);
         Tokenizer tok = model.tokenizer()) {
      MemtxException e = expect(StatusCode.INVALID_ARGUMENT, () -> model.forward(new long[] {1, 2, 100000}));
      assertTrue(e.detail(), e.detail().contains("100000"));
      expect(StatusCode.INVALID_ARGUMENT, () -> model.forward(new long[] {1, -1}));
      expect(StatusCode.INVALID_ARGUMENT, () -> model.forward(new long[] {1, 2, 3}, 2, 2));
      expect(StatusCode.INVALID_ARGUMENT, () -> model.forward(new long[0]));
      expect(StatusCode.INVALID_ARGUMENT, () -> tok.decode(new long[] {104, 259}));
      expect(StatusCode.INVALID_ARGUMENT, () -> model.generate(new long[0], null));
      expect(StatusCode.INVALID_ARGUMENT, () -> model.generate(new long[] {1}, new GenerateOptions().maxNewTokens(-1)));
      // the model still works after its errors
      assertEquals(2 * 259, model.forward(new long[] {1, 2}).data().length);
    }
  }

  @Test
  public void unknownVariantsAndMissingFoldersHaveTheirCodes() {
    try (Config config = TestModels.tinyConfig(context, dir).set("attention.attention_variant", "no_such_variant")) {
      expect(StatusCode.NOT_FOUND, () -> Model.create(context, config).close());
    } catch (MemtxException e) {
      assertEquals(StatusCode.CONFIG, e.code()); // a schema that refuses the name at set time is fine too
    }
    expect(StatusCode.NOT_FOUND, () -> Model.load(context, dir.resolve("missing")));
    expect(StatusCode.NOT_FOUND, () -> context.loadPlugin(dir.resolve("libmissing.so")));
  }

  @Test
  public void closedObjectsThrowAndCloseIsIdempotent() {
    Config config = TestModels.tinyConfig(context, dir);
    Model model = Model.create(context, config);
    Session session = model.newSession();
    Tokenizer tok = model.tokenizer();
    session.feed(1, 2, 3);
    session.close();
    session.close();
    expect(StatusCode.INVALID_ARGUMENT, () -> session.feed(1));
    expect(StatusCode.INVALID_ARGUMENT, session::position);
    tok.close();
    tok.close();
    expect(StatusCode.INVALID_ARGUMENT, () -> tok.encode("x"));
    Session open = model.newSession();
    Tokenizer openTok = model.tokenizer();
    model.close();
    model.close();
    assertTrue(open.isClosed()); // a model closes its sessions
    expect(StatusCode.INVALID_ARGUMENT, () -> open.feed(1));
    expect(StatusCode.INVALID_ARGUMENT, () -> openTok.encode("x"));
    expect(StatusCode.INVALID_ARGUMENT, () -> model.forward(new long[] {1}));
    expect(StatusCode.INVALID_ARGUMENT, model::trainProgress);
    model.cancel(); // does nothing on a closed model
    // closing the context closes its configs and models
    Model other = Model.create(context, config);
    assertFalse(config.isClosed());
    context.close();
    context.close();
    assertTrue(config.isClosed() && other.isClosed());
    expect(StatusCode.INVALID_ARGUMENT, () -> config.get("model.hidden_dim"));
    expect(StatusCode.INVALID_ARGUMENT, () -> other.forward(new long[] {1}));
    expect(StatusCode.INVALID_ARGUMENT, context::plugins);
    expect(StatusCode.INVALID_ARGUMENT, () -> Config.defaults(context));
    config.close();
    other.close();
  }
}
