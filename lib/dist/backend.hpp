// dist/backend.hpp: the c10d pieces behind ProcessGroup, internal to lib/dist: the rendezvous store and the
// collective backends. Each maker turns c10d's exceptions into memtx::Error naming the endpoint and the rank.
// Only backend_gloo.cpp includes ProcessGroupGloo.hpp (and with it gloo's headers), and only backend_nccl.cpp
// ProcessGroupNCCL.hpp.
#pragma once
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>
#include <exception>
#include <string>

#include "dist/world.hpp"

namespace memtx::dist::detail {

// The run's TCPStore. Rank 0 listens on MASTER_PORT (every local address) and waits until all world_size
// processes have connected; the others connect to MASTER_ADDR:MASTER_PORT. Both give up after timeout:
// Error(Io) naming MASTER_ADDR:MASTER_PORT (a port in use, rank 0 unreachable, processes missing).
c10::intrusive_ptr<c10d::Store> make_store(const World& world, std::chrono::milliseconds timeout);

// Whether the store still answers (false when the process holding it, rank 0, is gone); never throws.
bool store_answers(const c10::intrusive_ptr<c10d::Store>& store) noexcept;

// Whether this build has the gloo backend (gloo's headers were found) and the NCCL one.
bool gloo_available() noexcept;
bool nccl_available() noexcept;

// ProcessGroupGloo over a prefix of store, its TCP device bound to GLOO_SOCKET_IFNAME's interfaces, else to
// MASTER_ADDR when that is a loopback address (a one-machine run), else to the address this machine's host name
// resolves to (torch's default). Connects to every peer before returning (bounded by timeout).
// Error(InvalidArgument) in a build without gloo's headers.
c10::intrusive_ptr<c10d::Backend> make_gloo_backend(const c10::intrusive_ptr<c10d::Store>& store, const World& world,
                                                    std::chrono::milliseconds timeout);

// ProcessGroupNCCL over a prefix of store, on CUDA device LOCAL_RANK (made current); Error(InvalidArgument) in a
// build without NCCL or when that device does not exist.
c10::intrusive_ptr<c10d::Backend> make_nccl_backend(const c10::intrusive_ptr<c10d::Store>& store, const World& world,
                                                    std::chrono::milliseconds timeout);

// An exception's text for a message: c10::Error without its C++ backtrace, gloo's without its source location.
std::string exception_text(const std::exception& e);
std::string exception_text(const std::exception_ptr& e);

// "12 s", "1.5 s", "250 ms".
std::string duration_text(std::chrono::milliseconds d);

}  // namespace memtx::dist::detail
