"""Shared by the peer tests (tests/peer/*.py, ctest label `peer`): memtx judged by the real Hugging Face code.

- require_peers(): exits 77 (ctest: skipped) with a message when transformers/tokenizers are not importable
  (scripts/install-peer.sh, the `peer` fixture's setup, could not install them).
- Memtx: the C API (include/memtx.h) through ctypes on the build's libmemtx.so: models are loaded and run by
  the library itself, not by a Python re-implementation.
- paths: the build folder (MEMTX_BUILD_DIR, set by ctest), memtx-cli, the fixtures.
"""
import ctypes
import os
import subprocess
import sys

SKIP = 77
BUILD_DIR = os.environ.get("MEMTX_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
SOURCE_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES_DIR = os.environ.get("MEMTX_FIXTURES_DIR", os.path.join(SOURCE_DIR, "..", "shared", "fixtures"))
CLI = os.path.join(BUILD_DIR, "bin", "memtx-cli")


def require_peers(*modules):
    """Imports the peer packages or skips the test with the reason (exit code 77)."""
    loaded = []
    for name in modules or ("transformers", "tokenizers"):
        try:
            loaded.append(__import__(name))
        except ImportError as e:
            print(f"SKIPPED: the peer package {name!r} is not installed ({e}); scripts/install-peer.sh "
                  f"installs scripts/requirements-peer.txt", flush=True)
            sys.exit(SKIP)
    return loaded


def run_cli(*args, check=True):
    """Runs memtx-cli; a failure prints its output and raises."""
    proc = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"memtx-cli {' '.join(map(str, args))} failed ({proc.returncode}):\n"
                           f"{proc.stdout}\n{proc.stderr}")
    return proc


class MemtxError(RuntimeError):
    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code


class Memtx:
    """A memtx context with the default plugins, and the few C API calls the peer tests need."""

    def __init__(self):
        self.lib = ctypes.CDLL(os.path.join(BUILD_DIR, "lib", "libmemtx.so"))
        L = self.lib
        vp, i64, sz = ctypes.c_void_p, ctypes.c_int64, ctypes.c_size_t
        L.memtx_status_get_code.restype = ctypes.c_int
        L.memtx_status_get_code.argtypes = [vp]
        L.memtx_status_message.restype = ctypes.c_char_p
        L.memtx_status_message.argtypes = [vp]
        L.memtx_status_free.argtypes = [vp]
        L.memtx_context_create.restype = vp
        L.memtx_context_create.argtypes = [vp, ctypes.POINTER(vp)]
        L.memtx_context_free.argtypes = [vp]
        for name in ("memtx_model_load", "memtx_model_load_hf"):
            getattr(L, name).restype = vp
            getattr(L, name).argtypes = [vp, ctypes.c_char_p, ctypes.POINTER(vp)]
        L.memtx_model_free.argtypes = [vp]
        L.memtx_model_vocab_size.restype = i64
        L.memtx_model_vocab_size.argtypes = [vp]
        L.memtx_forward.restype = vp
        L.memtx_forward.argtypes = [vp, ctypes.POINTER(i64), i64, i64, ctypes.POINTER(ctypes.c_float), sz]
        L.memtx_string_free.argtypes = [vp]
        L.memtx_tokenize_n.restype = vp
        L.memtx_tokenize_n.argtypes = [vp, ctypes.c_char_p, sz, ctypes.POINTER(i64), sz, ctypes.POINTER(sz)]
        self.ctx = vp()
        self.check(L.memtx_context_create(None, ctypes.byref(self.ctx)))

    def check(self, status):
        if status:
            code = self.lib.memtx_status_get_code(status)
            message = self.lib.memtx_status_message(status).decode("utf-8", "replace")
            self.lib.memtx_status_free(status)
            raise MemtxError(code, message)

    def load(self, folder, hf=False):
        model = ctypes.c_void_p()
        fn = self.lib.memtx_model_load_hf if hf else self.lib.memtx_model_load
        self.check(fn(self.ctx, str(folder).encode(), ctypes.byref(model)))
        return model

    def free(self, model):
        self.lib.memtx_model_free(model)

    def tokenize(self, model, text):
        data = text.encode("utf-8")
        count = ctypes.c_size_t()
        self.check(self.lib.memtx_tokenize_n(model, data, len(data), None, 0, ctypes.byref(count)))
        out = (ctypes.c_int64 * max(count.value, 1))()
        self.check(self.lib.memtx_tokenize_n(model, data, len(data), out, count.value, ctypes.byref(count)))
        return list(out[:count.value])

    def forward(self, model, ids):
        """ids: a list of equal-length lists -> logits as nested lists [batch][seq][vocab] (float32 values)."""
        batch, seq = len(ids), len(ids[0])
        vocab = self.lib.memtx_model_vocab_size(model)
        flat = (ctypes.c_int64 * (batch * seq))(*[t for row in ids for t in row])
        out = (ctypes.c_float * (batch * seq * vocab))()
        self.check(self.lib.memtx_forward(model, flat, batch, seq, out, len(out)))
        return out, (batch, seq, vocab)
