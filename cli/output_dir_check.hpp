// cli/output_dir_check.hpp: `train` refuses an output folder it cannot write before it builds or loads a model
// (which can take minutes for a large one). The same write probe as the library's (lib/train/output_dir.hpp,
// which memtx_train runs again for C API callers): create the folder when missing, then create, write and
// remove "write-probe.tmp-<pid>" in it, so a read-only mount is caught even as root, where permission bits
// are not enforced.
#pragma once
#include "memtx.h"

namespace memtx_cli {

// CliError "[IO] training.output_dir '<dir>' ...: <reason>" when the folder of cfg's training.output_dir cannot
// be created or written. Skipped in a data-parallel worker other than rank 0 (RANK set and not 0): only rank 0
// writes there.
void check_output_dir_writable(const memtx_config* cfg);

}  // namespace memtx_cli
