// dist/store.cpp: the run's TCPStore (rank 0 serves it, the others connect) with memtx's error messages.
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "dist/backend.hpp"
#include "memtx/error.hpp"

namespace memtx::dist::detail {
namespace {

bool contains(const std::string& text, const char* what) { return text.find(what) != std::string::npos; }

}  // namespace

c10::intrusive_ptr<c10d::Store> make_store(const World& world, std::chrono::milliseconds timeout) {
  c10d::TCPStoreOptions options;
  options.port = world.master_port;
  options.isServer = world.rank == 0;
  options.numWorkers = static_cast<size_t>(world.world_size);
  options.waitWorkers = true;  // rank 0 returns once every process has connected
  options.timeout = timeout;
  const std::string endpoint = "MASTER_ADDR:MASTER_PORT = " + world.master_endpoint();
  try {
    return c10::make_intrusive<c10d::TCPStore>(world.master_addr, options);
  } catch (const std::exception& e) {
    const std::string text = exception_text(e);
    if (world.rank == 0 && (contains(text, "EADDRINUSE") || contains(text, "address already in use")))
      throw Error(StatusCode::Io, "rank 0 cannot listen on " + endpoint + ": port " +
                                      std::to_string(world.master_port) +
                                      " is already in use (another run, or a process of an earlier one, holds it); "
                                      "choose another MASTER_PORT");
    if (world.rank == 0)
      throw Error(StatusCode::Io, "rank 0 started the rendezvous on " + endpoint + ", but not all " +
                                      std::to_string(world.world_size) + " processes joined within " +
                                      duration_text(timeout) + " (" + text + "); start every rank with the same " +
                                      "MASTER_ADDR, MASTER_PORT and WORLD_SIZE");
    throw Error(StatusCode::Io, "rank " + std::to_string(world.rank) + " could not join the rendezvous at " + endpoint +
                                    " within " + duration_text(timeout) + " (" + text +
                                    "); is rank 0 running, and MASTER_ADDR reachable from this machine?");
  }
}

bool store_answers(const c10::intrusive_ptr<c10d::Store>& store) noexcept {
  try {
    store->check({"memtx/alive"});
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace memtx::dist::detail
