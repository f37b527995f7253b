// dist/backend_nccl.cpp: the NCCL backend (CUDA collectives). Compiled in when lib/CMakeLists.txt found nccl.h
// for a CUDA build (MEMTX_WITH_NCCL: the header of the nvidia-nccl wheel the torch wheel depends on, so its
// structs match the NCCL that libtorch_cuda.so was built with); otherwise asking for it is an error. Creating it
// makes cuda:LOCAL_RANK this process's current CUDA device.
#include "dist/backend.hpp"
#include "memtx/error.hpp"

#if defined(MEMTX_WITH_NCCL)
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace memtx::dist::detail {

#if defined(MEMTX_WITH_NCCL)

bool nccl_available() noexcept { return true; }

c10::intrusive_ptr<c10d::Backend> make_nccl_backend(const c10::intrusive_ptr<c10d::Store>& store, const World& world,
                                                    std::chrono::milliseconds timeout) {
  const int devices = static_cast<int>(c10::cuda::device_count());
  if (world.local_rank >= devices)
    throw Error(StatusCode::InvalidArgument, "the nccl backend runs rank " + std::to_string(world.rank) +
                                                 " on CUDA device LOCAL_RANK=" + std::to_string(world.local_rank) +
                                                 ", but " + std::to_string(devices) + " CUDA devices are visible");
  // Like torch.cuda.set_device(LOCAL_RANK): NCCL's communicators and this rank's kernels use that device.
  c10::cuda::set_device(static_cast<c10::DeviceIndex>(world.local_rank));
  try {
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = timeout;
    auto prefixed = c10::make_intrusive<c10d::PrefixStore>("memtx/nccl", store);
    return c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, world.rank, world.world_size, options);
  } catch (const std::exception& e) {
    throw Error(StatusCode::Io, "rank " + std::to_string(world.rank) + ": the nccl backend could not be created (" +
                                    exception_text(e) + ")");
  }
}

#else

bool nccl_available() noexcept { return false; }

c10::intrusive_ptr<c10d::Backend> make_nccl_backend(const c10::intrusive_ptr<c10d::Store>&, const World&,
                                                    std::chrono::milliseconds) {
  throw Error(StatusCode::InvalidArgument,
              "the nccl backend is not in this build of memtx (it needs a CUDA build with nccl.h); use gloo");
}

#endif

}  // namespace memtx::dist::detail
