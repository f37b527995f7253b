/* NativeLoader.java: loads the JNI library (libmemtx_java.so) once, before the first native call, so users need
 * not set java.library.path. Looks, in order: at the system property memtx.jni.library (a file), beside the jar
 * (the build tree), at the installed layout's path relative to the jar (share/java -> libdir), then
 * java.library.path. libmemtx_java finds libmemtx through its RPATH and libmemtx finds its plugins itself. */
package org.memtx;

import java.io.File;
import java.net.URISyntaxException;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.List;

final class NativeLoader {
  private static String loadedFrom; // the file loaded, or "java.library.path"

  private NativeLoader() {}

  static synchronized void load() {
    if (loadedFrom != null) return;
    String file = System.mapLibraryName(InstallLayout.JNI_LIBRARY);
    List<File> candidates = new ArrayList<>();
    String explicit = System.getProperty("memtx.jni.library");
    if (explicit != null && !explicit.isEmpty()) candidates.add(new File(explicit));
    File jarDir = jarDirectory();
    if (jarDir != null) {
      candidates.add(new File(jarDir, file));
      candidates.add(new File(new File(jarDir, InstallLayout.LIBDIR_FROM_JARDIR), file));
    }
    List<String> tried = new ArrayList<>();
    for (File candidate : candidates) {
      tried.add(candidate.getPath());
      if (candidate.isFile()) {
        System.load(candidate.getAbsolutePath());
        loadedFrom = candidate.getAbsolutePath();
        return;
      }
    }
    try {
      System.loadLibrary(InstallLayout.JNI_LIBRARY);
      loadedFrom = "java.library.path";
    } catch (UnsatisfiedLinkError e) {
      UnsatisfiedLinkError error = new UnsatisfiedLinkError("memtx: cannot find " + file + " (tried " + String.join(", ", tried)
          + " and java.library.path); set -Dmemtx.jni.library=/path/to/" + file);
      error.initCause(e);
      throw error;
    }
  }

  /** Where the JNI library was loaded from (null before the first native call). */
  static synchronized String loadedFrom() {
    return loadedFrom;
  }

  /** The folder holding the jar (or the class folder) this class came from, or null. */
  private static File jarDirectory() {
    try {
      CodeSource source = NativeLoader.class.getProtectionDomain().getCodeSource();
      if (source == null || source.getLocation() == null) return null;
      File location = new File(source.getLocation().toURI());
      return location.isFile() ? location.getParentFile() : location;
    } catch (URISyntaxException | SecurityException | IllegalArgumentException e) {
      return null;
    }
  }
}
