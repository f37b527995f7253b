/* InstalledCheck.java: the java_installed test's program, run with the installed memtx.jar: the JNI library
 * must load from the installed libdir (found from the jar, no java.library.path), libmemtx must find its
 * installed plugins, and a tiny model must build and run. Prints what it found; exit 0 when all holds.
 * Usage: java -cp PREFIX/share/java/memtx.jar:memtx-tests.jar org.memtx.InstalledCheck PREFIX */
package org.memtx;

import java.io.File;
import java.nio.file.Path;

public final class InstalledCheck {
  public static void main(String[] args) throws Exception {
    String prefix = new File(args[0]).getCanonicalPath();
    try (Context context = new Context(); Config config = Config.parse(context, TestModels.TINY_YAML);
         Model model = Model.create(context, config)) {
      String jni = new File(NativeLoader.loadedFrom()).getCanonicalPath();
      System.out.println("JNI library: " + jni);
      check(jni.startsWith(prefix + File.separator), "the JNI library was not loaded from " + prefix);
      String plugins = context.plugins();
      check(plugins.contains(prefix + File.separator) && plugins.contains("\"causal\""),
          "the installed plugins were not loaded: " + plugins);
      float[] logits = model.forward(new long[] {1, 2, 3}).data();
      check(logits.length == 3 * 259, "forward gave " + logits.length + " logits");
      System.out.println("installed Java bindings work: memtx " + Memtx.version());
    }
  }

  private static void check(boolean ok, String message) {
    if (!ok) {
      System.err.println("InstalledCheck: " + message);
      System.exit(1);
    }
  }
}
