// capi/status.cpp: status objects, strings, versions and build information of the C API.
#include <dlfcn.h>
#include <link.h>

#include <nlohmann/json.hpp>

#include "capi/handles.hpp"
#include "memtx/plugin.h"
#include "memtx/text.hpp"

namespace memtx::capi {

namespace {
// Returned when not even a status can be allocated; never deleted.
memtx_status out_of_memory_status{MEMTX_OUT_OF_MEMORY, "out of memory (while reporting an error)"};
}  // namespace

// The message's bytes that are not UTF-8 (a path, a file's bytes quoted in an error) become U+FFFD, so the
// bindings (JNI's NewStringUTF, Go strings) only ever receive valid UTF-8.
memtx_status* make_status(memtx_status_code code, std::string message) {
  memtx_status* status = new (std::nothrow) memtx_status{code, memtx::valid_utf8(message)};
  return status ? status : &out_of_memory_status;
}

memtx_status* current_exception_status(const char* function) noexcept {
  try {
    try {
      throw;
    } catch (const memtx::Error& e) {
      return make_status(static_cast<memtx_status_code>(e.code()), e.what());
    } catch (const c10::Error& e) {
      return make_status(MEMTX_TORCH, std::string(function) + ": " + e.what_without_backtrace());
    } catch (const std::bad_alloc&) {
      return make_status(MEMTX_OUT_OF_MEMORY, std::string(function) + ": out of memory");
    } catch (const std::exception& e) {
      return make_status(MEMTX_INTERNAL, std::string(function) + ": " + e.what());
    } catch (...) {
      return make_status(MEMTX_INTERNAL, std::string(function) + ": unknown exception");
    }
  } catch (...) {  // building the message failed (out of memory)
    return &out_of_memory_status;
  }
}

std::string json_text(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string json_text(const nlohmann::ordered_json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

char* copy_string(const std::string& text) {
  char* out = static_cast<char*>(std::malloc(text.size() + 1));
  if (!out) throw std::bad_alloc();
  std::memcpy(out, text.c_str(), text.size() + 1);
  return out;
}

void require(const void* pointer, const char* function, const char* parameter) {
  if (!pointer) throw Error(StatusCode::InvalidArgument, std::string(function) + ": " + parameter + " is NULL");
}

std::string text_arg(const char* text, size_t text_len, const char* function, const char* parameter) {
  if (text_len == 0) return std::string();
  if (!text)
    throw Error(StatusCode::InvalidArgument, std::string(function) + ": " + parameter + " is NULL but its length is " +
                                                 std::to_string(text_len));
  return std::string(text, text_len);
}

void return_text(const std::string& text, char** out_text, size_t* out_len) {
  *out_text = copy_string(text);
  if (out_len) *out_len = text.size();
}

namespace {
// The BLAS shared library mapped into this process (OpenBLAS, MKL, BLIS or the slow reference libblas).
std::string loaded_blas() {
  std::string found;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        std::string name = info->dlpi_name ? info->dlpi_name : "";
        auto* out = static_cast<std::string*>(data);
        for (const char* key : {"openblas", "mkl_rt", "libmkl", "blis"}) {
          if (name.find(key) != std::string::npos) {
            *out = name;
            return 1;
          }
        }
        if (name.find("libblas.so") != std::string::npos && out->empty()) *out = name;
        return 0;
      },
      &found);
  return found;
}
}  // namespace

}  // namespace memtx::capi

using namespace memtx::capi;

extern "C" {

memtx_status_code memtx_status_get_code(const memtx_status* status) { return status ? status->code : MEMTX_OK; }
const char* memtx_status_message(const memtx_status* status) { return status ? status->message.c_str() : "ok"; }
void memtx_status_free(memtx_status* status) {
  if (status != &out_of_memory_status) delete status;
}
void memtx_string_free(char* text) { std::free(text); }

const char* memtx_status_code_name(memtx_status_code code) {
  switch (code) {
    case MEMTX_OK: return "OK";
    case MEMTX_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case MEMTX_NOT_FOUND: return "NOT_FOUND";
    case MEMTX_IO: return "IO";
    case MEMTX_CONFIG: return "CONFIG";
    case MEMTX_PLUGIN: return "PLUGIN";
    case MEMTX_ABI_MISMATCH: return "ABI_MISMATCH";
    case MEMTX_DUPLICATE: return "DUPLICATE";
    case MEMTX_TORCH: return "TORCH";
    case MEMTX_OUT_OF_MEMORY: return "OUT_OF_MEMORY";
    case MEMTX_CANCELLED: return "CANCELLED";
    case MEMTX_INTERNAL: return "INTERNAL";
    case MEMTX_BUSY: return "BUSY";
  }
  return "UNKNOWN";
}

const char* memtx_version(void) { return MEMTX_VERSION_STRING; }

int memtx_abi_version(void) { return MEMTX_ABI_VERSION; }

memtx_status* memtx_build_info(char** out_json) {
  return guarded("memtx_build_info", [&] {
    if (out_json) *out_json = nullptr;  // NULL unless the call succeeds
    require(out_json, "memtx_build_info", "out_json");
    // The PyPI wheel's LibTorch carries MKL inside libtorch_cpu; otherwise name the BLAS library mapped in.
    const std::string blas = at::hasMKL() ? std::string("mkl (in LibTorch)") : loaded_blas();
    const bool fast = blas.find("openblas") != std::string::npos || blas.find("mkl") != std::string::npos ||
                      blas.find("blis") != std::string::npos;
    nlohmann::json j = {{"memtx_version", memtx_version()},
                        {"abi_version", MEMTX_ABI_VERSION},
                        {"plugin_abi", std::to_string(MEMTX_PLUGIN_ABI_MAJOR) + "." + std::to_string(MEMTX_PLUGIN_ABI_MINOR)},
                        {"torch_version", TORCH_VERSION},
                        {"cxx11_abi", MEMTX_CXX11_ABI},
                        {"cuda_available", torch::cuda::is_available()},
                        {"cuda_devices", torch::cuda::device_count()},
                        {"fused_sdpa", memtx::compat::has_fused_sdpa()},
#ifdef MEMTX_WITH_CUDA
                        {"cuda_kernels", true},  // memtx's own CUDA sources (the ssm scan) were compiled
#else
                        {"cuda_kernels", false},
#endif
                        {"blas", blas.empty() ? "unknown" : blas},
                        {"fast_blas", fast},
                        {"threads", at::get_num_threads()}};
    *out_json = copy_string(json_text(j));
  });
}

}  // extern "C"
