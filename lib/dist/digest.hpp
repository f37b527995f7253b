// dist/digest.hpp: the 64-bit digest every rank contributes to ProcessGroup::check_config_digest (FNV-1a over the
// bytes, e.g. of the resolved configuration's YAML): equal texts give equal digests on every machine.
#pragma once
#include <cstdint>
#include <string_view>

#include "memtx/export.h"

namespace memtx::dist {

MEMTX_API uint64_t config_digest(std::string_view text) noexcept;

}  // namespace memtx::dist
