// dist/world.hpp: this process's place in a distributed run, read from the environment torchrun sets for each
// process it launches (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT) plus GLOO_SOCKET_IFNAME.
//
// WORLD_SIZE unset (or 1) is a single process: RANK and LOCAL_RANK may then be unset or 0, and MASTER_* are not
// read. WORLD_SIZE > 1 needs all five variables. Every value is checked strictly (whole decimal numbers without
// sign or blanks, RANK and LOCAL_RANK below WORLD_SIZE, MASTER_PORT 1..65535, MASTER_ADDR a host name or an IP
// address); anything else is Error(Config) naming the variable and the value.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "memtx/export.h"

namespace memtx::dist {

struct World {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr;  // empty for a single process; IPv6 literals without brackets
  uint16_t master_port = 0;  // 0 for a single process
  // GLOO_SOCKET_IFNAME split at commas: the network interfaces the Gloo backend binds (empty: chosen from
  // MASTER_ADDR, see process_group.hpp).
  std::vector<std::string> gloo_interfaces;

  bool distributed() const { return world_size > 1; }
  MEMTX_API std::string master_endpoint() const;  // "addr:port" ("[addr]:port" for IPv6), for messages
};

// The largest WORLD_SIZE accepted (a sanity bound against garbled values, far above any real run).
constexpr int kMaxWorldSize = 1 << 20;

// name -> value, nullopt when the variable is unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process's World from lookup; Error(Config) naming the variable for a missing, garbled or out-of-range value.
MEMTX_API World world_from_env(const EnvLookup& lookup);
// The same over the process environment (getenv).
MEMTX_API World world_from_env();

}  // namespace memtx::dist
