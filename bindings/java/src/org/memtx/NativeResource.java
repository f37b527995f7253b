/* NativeResource.java: the life cycle the handle classes share. A resource is closed at most once (close() is
 * idempotent), after the resources that depend on it (a context's configs and models, a model's sessions), and
 * never while a call on it runs: every call holds the resource's lock (a model shares its lock with its
 * sessions) and checks it is open first, so using a closed object throws MemtxException instead of touching
 * freed memory. */
package org.memtx;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

abstract class NativeResource implements AutoCloseable {
  /** Guards the handle: held by every call and by close(). */
  final Object lock;
  private final String kind;
  private final NativeResource parent;
  private final Set<NativeResource> children = new LinkedHashSet<>(); // guarded by itself
  private boolean closing; // guarded by children: no new children once set
  private volatile boolean closed;

  NativeResource(String kind, NativeResource parent, Object lock) {
    this.kind = kind;
    this.parent = parent;
    this.lock = lock;
  }

  /** Frees the native handle; called once, under the lock, after the children are closed. */
  abstract void free();

  /** Throws when this (or a dependant) cannot close now from this thread (a model training on it). */
  void checkClosable() {
    for (NativeResource child : snapshot()) child.checkClosable();
  }

  /** Called before close() takes the lock: asks a long call running on another thread to stop. */
  void beforeClose() {
    for (NativeResource child : snapshot()) child.beforeClose();
  }

  /** Frees this resource and everything depending on it. Closing again does nothing. */
  @Override
  public final void close() {
    if (closed) return;
    beforeClose();
    synchronized (lock) {
      if (closed) return;
      checkClosable();
      List<NativeResource> kids;
      synchronized (children) {
        closing = true;
        kids = new ArrayList<>(children);
      }
      for (int i = kids.size() - 1; i >= 0; --i) kids.get(i).close();
      closed = true;
      free();
    }
    if (parent != null) parent.forget(this);
  }

  /** Whether close() has run. */
  public final boolean isClosed() {
    return closed;
  }

  /** Throws unless open; call under the lock. */
  void requireOpen() {
    if (closed) throw MemtxException.invalid(kind + " is closed");
  }

  /** Registers a new dependant; a closing parent refuses it (the caller frees the child's handle). */
  final void adopt(NativeResource child) {
    synchronized (children) {
      if (closing || closed) throw MemtxException.invalid(kind + " is closed");
      children.add(child);
    }
  }

  private void forget(NativeResource child) {
    synchronized (children) {
      children.remove(child);
    }
  }

  private List<NativeResource> snapshot() {
    synchronized (children) {
      return new ArrayList<>(children);
    }
  }
}
