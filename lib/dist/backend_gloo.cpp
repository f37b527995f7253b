// dist/backend_gloo.cpp: the Gloo backend (CPU collectives over TCP). The only file that includes
// ProcessGroupGloo.hpp, which includes gloo's headers: the torch wheel does not ship them, Debian's libgloo-dev
// does. They are needed for the declarations only: this file calls no gloo function and reads no gloo object
// (it holds devices through shared_ptr and passes them on), so the gloo built into libtorch_cpu.so, whatever its
// version, does all the work and Debian's libgloo is never linked. Keep it that way: an inline gloo function
// called here (e.g. ProcessGroupGloo::setTimeout, which reaches into gloo::Context) would be compiled against
// Debian's headers and could disagree with the wheel's gloo (scripts/check_gloo_surface.py, the
// dist_gloo_surface test, fails on that). Without gloo's headers (MEMTX_WITH_GLOO unset) the backend is left out.
#include "dist/backend.hpp"
#include "memtx/error.hpp"

#if defined(MEMTX_WITH_GLOO)
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif

namespace memtx::dist::detail {

#if defined(MEMTX_WITH_GLOO)

bool gloo_available() noexcept { return true; }

namespace {

bool is_loopback(const std::string& addr) {
  return addr == "localhost" || addr == "::1" || addr.rfind("127.", 0) == 0;
}

using DevicePtr = std::shared_ptr<::gloo::transport::Device>;

std::vector<DevicePtr> make_devices(const World& world) {
  std::vector<DevicePtr> devices;
  if (!world.gloo_interfaces.empty()) {
    for (const auto& name : world.gloo_interfaces) {
      try {
        devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(name));
      } catch (const std::exception& e) {
        throw Error(StatusCode::Config, "GLOO_SOCKET_IFNAME: network interface '" + name + "' cannot be used (" +
                                            exception_text(e) + ")");
      }
    }
    return devices;
  }
  try {
    devices.push_back(is_loopback(world.master_addr)
                          ? c10d::ProcessGroupGloo::createDeviceForHostname(world.master_addr)
                          : c10d::ProcessGroupGloo::createDefaultDevice());
  } catch (const std::exception& e) {
    throw Error(StatusCode::Io, "rank " + std::to_string(world.rank) + ": no network address for the gloo backend (" +
                                    exception_text(e) + "); name the interface with GLOO_SOCKET_IFNAME");
  }
  return devices;
}

}  // namespace

c10::intrusive_ptr<c10d::Backend> make_gloo_backend(const c10::intrusive_ptr<c10d::Store>& store, const World& world,
                                                    std::chrono::milliseconds timeout) {
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  options->devices = make_devices(world);
  try {
    auto prefixed = c10::make_intrusive<c10d::PrefixStore>("memtx/gloo", store);
    return c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, world.rank, world.world_size, options);
  } catch (const std::exception& e) {
    throw Error(StatusCode::Io, "rank " + std::to_string(world.rank) + ": the gloo backend could not connect to all " +
                                    std::to_string(world.world_size) + " processes within " + duration_text(timeout) +
                                    " (" + exception_text(e) + ")");
  }
}

#else

bool gloo_available() noexcept { return false; }

c10::intrusive_ptr<c10d::Backend> make_gloo_backend(const c10::intrusive_ptr<c10d::Store>&, const World&,
                                                    std::chrono::milliseconds) {
  throw Error(StatusCode::InvalidArgument,
              "the gloo backend is not in this build of memtx (gloo's headers were not found when it was built; "
              "Debian: libgloo-dev)");
}

#endif

}  // namespace memtx::dist::detail
