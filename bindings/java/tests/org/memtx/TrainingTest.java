/* TrainingTest.java: Model.train through the Java bindings: progress reaches the listener on the calling
 * thread, training changes the weights, cancel() from another thread ends a long run with CANCELLED, a throwing
 * listener stops training, and a listener cannot use or close the training model. */
package org.memtx;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

public class TrainingTest {
  private static final long[] TOKENS = {75, 101, 121, 61, 97, 98};
  private Path dir;
  private Context context;

  @Before
  public void setUp() {
    dir = TestModels.tempDir("memtx-java-train");
    context = new Context();
  }

  @After
  public void tearDown() {
    context.close();
    TestModels.deleteTree(dir);
  }

  @Test
  public void trainsDeliveringProgressOnTheCallingThread() {
    Config config = TestModels.tinyConfig(context, dir.resolve("run"));
    Model model = Model.create(context, config);
    float[] before = model.forward(TOKENS).data();
    List<TrainProgress> seen = new ArrayList<>();
    Thread caller = Thread.currentThread();
    model.train(config, p -> {
      assertSame(caller, Thread.currentThread());
      seen.add(p);
    });
    assertFalse(seen.isEmpty());
    TrainProgress last = seen.get(seen.size() - 1);
    assertEquals(TrainEvent.DONE, last.event);
    assertEquals(4, last.step);
    assertEquals(4, last.totalSteps);
    assertTrue(Double.isFinite(last.loss) && last.loss > 0);
    for (int i = 1; i < seen.size(); ++i) assertTrue(seen.get(i).step >= seen.get(i - 1).step);
    assertTrue(model.trainReport().contains("\"completed\""));
    assertEquals(last, model.trainProgress());
    assertTrue(Files.isDirectory(dir.resolve("run").resolve("final_model")));
    assertFalse("training left the weights unchanged", TestModels.bitwiseEqual(before, model.forward(TOKENS).data()));
    // a second run on the same model does not replay the first run's records
    List<TrainProgress> again = new ArrayList<>();
    config.set("training.output_dir", dir.resolve("run2").toString());
    model.train(config, again::add);
    assertEquals(TrainEvent.DONE, again.get(again.size() - 1).event);
    assertFalse("the first run's last record was delivered again", again.get(0).equals(last));
    assertTrue(again.get(0).elapsedSeconds <= again.get(again.size() - 1).elapsedSeconds);
  }

  @Test
  public void cancelFromAnotherThreadStopsALongRun() throws Exception {
    Config config = TestModels.tinyConfig(context, dir.resolve("run")).set("training.max_steps", "100000")
        .set("training.save_steps", "100000").set("training.eval_steps", "100000");
    Model model = Model.create(context, config);
    AtomicReference<Thread> canceller = new AtomicReference<>();
    List<TrainProgress> seen = new ArrayList<>();
    try {
      model.train(config, p -> {
        seen.add(p);
        if (canceller.get() == null) {
          Thread t = new Thread(model::cancel, "canceller");
          canceller.set(t);
          t.start();
        }
      });
      fail("train returned after cancel");
    } catch (MemtxException e) {
      assertEquals(StatusCode.CANCELLED, e.code());
      assertEquals("CANCELLED", e.codeName());
    }
    canceller.get().join();
    TrainProgress last = seen.get(seen.size() - 1);
    assertTrue("stopped at step " + last.step, last.step < 1000);
    assertTrue(model.trainReport().contains("\"cancelled\""));
    // the model is usable afterwards
    assertEquals(TOKENS.length * 259, model.forward(TOKENS).data().length);
  }

  @Test
  public void aThrowingListenerStopsTrainingAndItsExceptionIsRethrown() {
    Config config = TestModels.tinyConfig(context, dir.resolve("run")).set("training.max_steps", "100000")
        .set("training.save_steps", "100000").set("training.eval_steps", "100000");
    Model model = Model.create(context, config);
    IllegalStateException thrown = new IllegalStateException("listener says stop");
    try {
      model.train(config, p -> {
        throw thrown;
      });
      fail("train returned");
    } catch (IllegalStateException e) {
      assertSame(thrown, e);
    }
    assertTrue(model.trainReport().contains("\"cancelled\""));
  }

  @Test
  public void aListenerCannotUseOrCloseTheTrainingModelOrConfig() {
    Config config = TestModels.tinyConfig(context, dir.resolve("run")).set("training.max_steps", "2");
    Model model = Model.create(context, config);
    List<StatusCode> codes = new ArrayList<>();
    model.train(config, p -> {
      if (!codes.isEmpty()) return;
      try {
        model.forward(TOKENS);
      } catch (MemtxException e) {
        codes.add(e.code());
      }
      try {
        model.close();
      } catch (MemtxException e) {
        codes.add(e.code());
      }
      try {
        config.set("training.max_steps", "3");
      } catch (MemtxException e) {
        codes.add(e.code());
      }
      try {
        context.close();
      } catch (MemtxException e) {
        codes.add(e.code());
      }
      assertEquals(p.step, model.trainProgress().step, 1);
    });
    assertEquals(List.of(StatusCode.INVALID_ARGUMENT, StatusCode.INVALID_ARGUMENT, StatusCode.INVALID_ARGUMENT,
        StatusCode.INVALID_ARGUMENT), codes);
    assertFalse(model.isClosed());
    assertFalse(context.isClosed());
    assertEquals("2", config.get("training.max_steps"));
  }

  @Test
  public void closingTheContextFromAnotherThreadCancelsTrainingAndWaits() throws Exception {
    Config config = TestModels.tinyConfig(context, dir.resolve("run")).set("training.max_steps", "100000")
        .set("training.save_steps", "100000").set("training.eval_steps", "100000");
    Model model = Model.create(context, config);
    AtomicReference<Throwable> result = new AtomicReference<>();
    Thread trainer = new Thread(() -> {
      try {
        model.train(config, null);
      } catch (Throwable t) {
        result.set(t);
      }
    });
    trainer.start();
    while (model.trainProgress().step < 1 && trainer.isAlive()) Thread.sleep(5);
    context.close(); // cancels, waits for train to return, then frees
    trainer.join();
    assertTrue(model.isClosed() && config.isClosed());
    assertTrue(String.valueOf(result.get()), result.get() instanceof MemtxException);
    assertEquals(StatusCode.CANCELLED, ((MemtxException) result.get()).code());
  }
}
