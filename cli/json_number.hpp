// cli/json_number.hpp: a number of a C API JSON result, for printing. JSON has no NaN or Inf, so a result writes
// a number that is not finite as null (memtx.h); it reads back here as NaN (printed "nan") instead of failing.
#pragma once
#include <limits>
#include <nlohmann/json.hpp>

namespace memtx_cli {

inline double json_number(const nlohmann::json& value) {
  return value.is_number() ? value.get<double>() : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace memtx_cli
