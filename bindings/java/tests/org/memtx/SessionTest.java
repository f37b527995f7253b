/* SessionTest.java: Session through the Java bindings: pieces give the logits of one forward pass, position,
 * generate continues the stream, reset empties it, and a bad token leaves the stream unchanged. */
package org.memtx;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.file.Path;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

public class SessionTest {
  private static final long[] STREAM = {72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100};
  private Path dir;
  private Context context;
  private Model model;

  @Before
  public void setUp() {
    dir = TestModels.tempDir("memtx-java-session");
    context = new Context();
    try (Config config = TestModels.tinyConfig(context, dir)) {
      model = Model.create(context, config);
    }
  }

  @After
  public void tearDown() {
    context.close();
    TestModels.deleteTree(dir);
  }

  @Test
  public void piecesGiveTheLogitsOfOneForward() {
    Logits whole = model.forward(STREAM);
    try (Session session = model.newSession()) {
      assertEquals(0, session.position());
      assertNull(session.feed()); // nothing fed to an empty stream: no logits
      session.feed(STREAM[0], STREAM[1], STREAM[2]);
      float[] last = session.feed(java.util.Arrays.copyOfRange(STREAM, 3, STREAM.length));
      assertEquals(STREAM.length, session.position());
      assertEquals(259, last.length);
      for (int v = 0; v < 259; ++v) assertEquals(whole.get(0, STREAM.length - 1, v), last[v], 1e-4f);
      assertEquals(0, session.feed().length - 259); // nothing fed: the last logits again
    }
  }

  @Test
  public void generateContinuesTheStreamAndResetEmptiesIt() {
    GenerateOptions greedy = new GenerateOptions().temperature(0).maxNewTokens(5).stopAtEos(false);
    try (Session session = model.newSession()) {
      session.feed(STREAM);
      long[] next = session.generate(greedy);
      assertEquals(5, next.length);
      assertEquals(STREAM.length + 5, session.position());
      assertArrayEquals(model.generate(STREAM, greedy), next);
      session.reset();
      assertEquals(0, session.position());
      try {
        session.generate(greedy);
        fail("generate on an empty stream");
      } catch (MemtxException e) {
        assertEquals(StatusCode.INVALID_ARGUMENT, e.code());
      }
      session.feedText("Hello");
      assertEquals(5, session.position());
      assertTrue(session.generateText(greedy) != null);
      Session.Loss loss = session.feedLoss(STREAM);
      assertEquals(STREAM.length, loss.predicted);
      assertTrue(loss.mean() > 0 && Double.isFinite(loss.mean()));
      assertTrue(session.stateBytes() > 0);
    }
  }

  @Test
  public void aBadTokenLeavesTheStreamUnchanged() {
    try (Session session = model.newSession()) {
      session.feed(STREAM);
      try {
        session.feed(1, 2, 259);
        fail("fed an id outside the vocabulary");
      } catch (MemtxException e) {
        assertEquals(StatusCode.INVALID_ARGUMENT, e.code());
        assertTrue(e.detail(), e.detail().contains("259"));
      }
      assertEquals(STREAM.length, session.position());
    }
  }
}
