/* memtx_java.i: the Java part of the SWIG bindings: the module (org.memtx.MemtxNative, package-private, with
 * its JNI class MemtxNativeJNI), Java typemaps, then the shared interface memtx.i. The generated classes are
 * the low-level layer; the public API is the hand-written classes of bindings/java/src/org/memtx.
 *
 * Typemaps here:
 * - text crosses as UTF-8 bytes (byte[] in the JNI class, String in MemtxNative, converted by org.memtx.Utf8),
 *   not through JNI's modified UTF-8, so any text (and invalid bytes from a tokenizer) round-trips safely; the
 *   text of the _n calls is a byte[] with its length (SWIG's (const char *STRING, size_t LENGTH)), NUL bytes
 *   included;
 * - token ids (int64_t) as long[] and logits as float[], for the pointer + length arguments named as in
 *   memtx.h: the length is always the Java array's length, so C never reads or writes past it;
 * - memtx_forward's tokens (batch * seq_len ids, no length argument) as long[]: callers check the length
 *   (Model.forward does);
 * - int64_t as long (also under -DSWIGWORDSIZE64, where it is C's long), uint64_t (the generation seed) as
 *   long, bit for bit, size_t as long;
 * - enums as int constants, classes package-private. */
%module MemtxNative

%include "enumtypeunsafe.swg"
%javaconst(1);

/* Only the hand-written classes are public. */
%pragma(java) moduleclassmodifiers="final class"
%pragma(java) jniclassclassmodifiers="final class"
%typemap(javaclassmodifiers) SWIGTYPE, SWIGTYPE *, SWIGTYPE &, SWIGTYPE [] "class"
%typemap(javaclassmodifiers) enum SWIGTYPE "final class"
/* The version macros would make a public constants interface; Memtx.version() and abiVersion() say them. */
%ignore MEMTX_VERSION_MAJOR;
%ignore MEMTX_VERSION_MINOR;
%ignore MEMTX_VERSION_PATCH;
%ignore MEMTX_VERSION_STRING;
%ignore MEMTX_ABI_VERSION;
/* Native memory of the option and progress structs is freed explicitly (delete / *_free), never by a finalizer. */
%typemap(javafinalize) SWIGTYPE ""
/* Strings are copied into Java; a C string is freed by the helper that hands it over (memtx_text_slot_take). */
%ignore memtx_string_free;
/* The JNI library loads itself when the JNI class is first used (org.memtx.NativeLoader finds it). */
%pragma(java) jniclasscode=%{
  static {
    NativeLoader.load();
  }
%}

/* ---- text as UTF-8 bytes ---- */
%typemap(jni) const char*, char* "jbyteArray"
%typemap(jtype) const char*, char* "byte[]"
%typemap(jstype) const char*, char* "String"
%typemap(javain) const char*, char* "Utf8.encodeZ($javainput)"
%typemap(javaout) const char*, char* { return Utf8.decode($jnicall); }
%typemap(in) const char*, char* {
  $1 = NULL;
  if ($input) {
    $1 = ($1_ltype)JCALL2(GetByteArrayElements, jenv, $input, 0);
    if (!$1) return $null;
  }
}
%typemap(freearg) const char*, char* {
  if ($1) JCALL3(ReleaseByteArrayElements, jenv, $input, (jbyte*)$1, JNI_ABORT);
}
%typemap(out) const char*, char* {
  $result = NULL;
  if ($1) {
    jsize n = (jsize)strlen((const char*)$1);
    $result = JCALL1(NewByteArray, jenv, n);
    if ($result && n > 0) JCALL4(SetByteArrayRegion, jenv, $result, 0, n, (const jbyte*)$1);
  }
}

/* ---- arrays: pointer + length pairs, the length taken from the Java array (null = NULL, 0) ---- */
%define MEMTX_JAVA_ARRAY(CTYPE, JNIARRAY, JNIELEM, JAVATYPE, KIND, RELEASE_MODE, PAIR...)
%typemap(jni) (PAIR) "JNIARRAY"
%typemap(jtype) (PAIR) "JAVATYPE[]"
%typemap(jstype) (PAIR) "JAVATYPE[]"
%typemap(javain) (PAIR) "$javainput"
%typemap(in) (PAIR) {
  $1 = NULL;
  $2 = 0;
  if ($input && JCALL1(GetArrayLength, jenv, $input) > 0) {
    $2 = (size_t)JCALL1(GetArrayLength, jenv, $input);
    $1 = (CTYPE*)JCALL2(Get##KIND##ArrayElements, jenv, $input, 0);
    if (!$1) return $null;
  }
}
%typemap(freearg) (PAIR) {
  if ($1) JCALL3(Release##KIND##ArrayElements, jenv, $input, (JNIELEM*)$1, RELEASE_MODE);
}
%enddef

/* token ids read by C */
MEMTX_JAVA_ARRAY(int64_t, jlongArray, jlong, long, Long, JNI_ABORT, const int64_t* tokens, size_t count)
MEMTX_JAVA_ARRAY(int64_t, jlongArray, jlong, long, Long, JNI_ABORT, const int64_t* tokens, size_t n)
MEMTX_JAVA_ARRAY(int64_t, jlongArray, jlong, long, Long, JNI_ABORT, const int64_t* prompt, size_t prompt_len)
/* token ids and logits written by C (copied back) */
MEMTX_JAVA_ARRAY(int64_t, jlongArray, jlong, long, Long, 0, int64_t* out_tokens, size_t capacity)
MEMTX_JAVA_ARRAY(float, jfloatArray, jfloat, float, Float, 0, float* out_logits, size_t out_capacity)
MEMTX_JAVA_ARRAY(float, jfloatArray, jfloat, float, Float, 0, float* out_last_logits, size_t capacity)
/* the text of a _n call, copied out of its slot (memtx_text_slot_copy) */
MEMTX_JAVA_ARRAY(char, jbyteArray, jbyte, byte, Byte, 0, char* out_bytes, size_t capacity)

/* memtx_forward's tokens: batch * seq_len ids with no length argument (the caller checks the length). */
%typemap(jni) const int64_t* tokens "jlongArray"
%typemap(jtype) const int64_t* tokens "long[]"
%typemap(jstype) const int64_t* tokens "long[]"
%typemap(javain) const int64_t* tokens "$javainput"
%typemap(in) const int64_t* tokens {
  $1 = NULL;
  if ($input && JCALL1(GetArrayLength, jenv, $input) > 0) {
    $1 = (int64_t*)JCALL2(GetLongArrayElements, jenv, $input, 0);
    if (!$1) return $null;
  }
}
%typemap(freearg) const int64_t* tokens {
  if ($1) JCALL3(ReleaseLongArrayElements, jenv, $input, (jlong*)$1, JNI_ABORT);
}

/* ---- numbers ---- */
/* With swig -DSWIGWORDSIZE64 (what CMake passes on LP64 systems) int64_t is C's long, as in the compiler's
 * <stdint.h>, so the wrapper passes pointers of the exact type; SWIG maps C long to a Java int by default. */
%apply long long { long };
/* The seed is 64 random bits: a Java long carries them unchanged. */
%typemap(jni) uint64_t "jlong"
%typemap(jtype) uint64_t "long"
%typemap(jstype) uint64_t "long"
%typemap(javain) uint64_t "$javainput"
%typemap(javaout) uint64_t { return $jnicall; }
%typemap(in) uint64_t %{ $1 = (uint64_t)$input; %}
%typemap(out) uint64_t %{ $result = (jlong)$1; %}
/* size_t counts as long (sizes never reach 2^63). */
%typemap(jni) size_t "jlong"
%typemap(jtype) size_t "long"
%typemap(jstype) size_t "long"
%typemap(javain) size_t "$javainput"
%typemap(javaout) size_t { return $jnicall; }
%typemap(in) size_t %{ $1 = (size_t)$input; %}
%typemap(out) size_t %{ $result = (jlong)$1; %}

%include "memtx.i"
