// train/output_dir.hpp: the check a training run makes of training.output_dir before it does anything else
// (before data, optimizer or resume): the folder is created when missing, then a real write probe creates,
// writes and removes a small file "write-probe.tmp-<pid>" in it. A permission bit is not trusted (root ignores
// it): only the probe tells a read-only mount, a folder of another user, a path through a regular file or a
// full disk from a writable folder. A probe left behind by a killed process is removed with the other stale
// temporaries (checkpoint_dir.hpp).
#pragma once
#include <string>

#include "memtx/export.h"

namespace memtx::train {

constexpr const char* kWriteProbePrefix = "write-probe.tmp-";

// Error(Config) for an empty path; Error(Io) naming training.output_dir, the folder and the system's reason
// ("Read-only file system", "Not a directory", "No space left on device", ...) when it cannot be created or
// written.
MEMTX_API void check_output_dir_writable(const std::string& output_dir);

}  // namespace memtx::train
