/* Utf8.java: text between Java strings and the C API's UTF-8 bytes (the SWIG typemaps of memtx_java.i call
 * these): encodeZ adds the terminating NUL C expects, encode gives the bytes alone (for the _n calls, which take
 * their length); decode replaces invalid bytes with U+FFFD. */
package org.memtx;

import java.nio.charset.StandardCharsets;

final class Utf8 {
  private Utf8() {}

  /** The UTF-8 bytes of text followed by a NUL, or null for null. A NUL inside text ends the C string there. */
  static byte[] encodeZ(String text) {
    if (text == null) return null;
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    byte[] z = new byte[bytes.length + 1];
    System.arraycopy(bytes, 0, z, 0, bytes.length);
    return z;
  }

  /** The UTF-8 bytes of text (NUL characters included: the _n calls take the length), or null for null. */
  static byte[] encode(String text) {
    return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
  }

  /** The string of UTF-8 bytes (without NUL), or null for null. */
  static String decode(byte[] bytes) {
    return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
  }
}
