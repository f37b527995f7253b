// dist/world.cpp: World from torchrun's environment variables, with strict checks (see world.hpp).
#include "dist/world.hpp"

#include <cstdlib>

#include "memtx/error.hpp"

namespace memtx::dist {
namespace {

// The value as a message shows it: at most 64 characters, control and non-ASCII bytes as \xNN.
std::string shown(const std::string& value) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < value.size() && i < 64; ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') out += static_cast<char>(c);
    else out += std::string("\\x") + hex[c >> 4] + hex[c & 15];
  }
  return value.size() > 64 ? out + "..." : out;
}

[[noreturn]] void bad(const std::string& name, const std::string& value, const std::string& expected) {
  throw Error(StatusCode::Config, "environment variable " + name + "='" + shown(value) + "': " + expected);
}

// A whole decimal number in [lo, hi]: digits only (no sign, blank or suffix), at most 9 of them before the bound.
int parse_int(const std::string& name, const std::string& value, long lo, long hi) {
  const std::string expected = "expected a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
  if (value.empty() || value.size() > 9) bad(name, value, expected);
  long v = 0;
  for (char c : value) {
    if (c < '0' || c > '9') bad(name, value, expected);
    v = v * 10 + (c - '0');
  }
  if (v < lo || v > hi) bad(name, value, expected);
  return static_cast<int>(v);
}

bool is_alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// A host name, an IPv4 address or an IPv6 literal (optionally in brackets, which are removed).
std::string parse_addr(const std::string& name, const std::string& value) {
  const std::string expected = "expected a host name or an IP address (e.g. 127.0.0.1, node-0.cluster, ::1)";
  std::string addr = value;
  if (addr.size() >= 2 && addr.front() == '[' && addr.back() == ']') addr = addr.substr(1, addr.size() - 2);
  if (addr.empty() || addr.size() > 253) bad(name, value, expected);
  const bool v6 = addr.find(':') != std::string::npos;
  for (char c : addr) {
    const bool ok = v6 ? (is_alnum(c) || c == ':' || c == '.' || c == '%')  // hex groups, IPv4 tail, zone id
                       : (is_alnum(c) || c == '.' || c == '-' || c == '_');
    if (!ok) bad(name, value, expected);
  }
  if (!v6 && (addr.front() == '.' || addr.front() == '-')) bad(name, value, expected);
  return addr;
}

std::vector<std::string> parse_interfaces(const std::string& name, const std::string& value) {
  const std::string expected = "expected network interface names separated by commas (e.g. eth0 or eth0,eth1)";
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = value.find(',', start);
    std::string item = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty() || item.size() > 15) bad(name, value, expected);  // IFNAMSIZ - 1
    for (char c : item)
      if (!(is_alnum(c) || c == '.' || c == '-' || c == '_' || c == ':' || c == '@')) bad(name, value, expected);
    out.push_back(std::move(item));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

World parse_world(const EnvLookup& lookup) {
  World w;
  const auto world_size = lookup("WORLD_SIZE");
  const auto rank = lookup("RANK");
  const auto local_rank = lookup("LOCAL_RANK");
  if (world_size) w.world_size = parse_int("WORLD_SIZE", *world_size, 1, kMaxWorldSize);
  if (auto ifname = lookup("GLOO_SOCKET_IFNAME"); ifname && !ifname->empty())
    w.gloo_interfaces = parse_interfaces("GLOO_SOCKET_IFNAME", *ifname);
  if (w.world_size == 1) {
    // A single process: a stray nonzero rank means a broken launch, not a single process.
    const std::string why = world_size ? "WORLD_SIZE is 1" : "WORLD_SIZE is not set (a single process)";
    if (rank && parse_int("RANK", *rank, 0, kMaxWorldSize) != 0)
      bad("RANK", *rank, "expected 0 or unset, since " + why);
    if (local_rank && parse_int("LOCAL_RANK", *local_rank, 0, kMaxWorldSize) != 0)
      bad("LOCAL_RANK", *local_rank, "expected 0 or unset, since " + why);
    return w;
  }
  auto need = [&](const char* name, const std::optional<std::string>& value) -> const std::string& {
    if (!value)
      throw Error(StatusCode::Config, std::string("environment variable ") + name + " is not set, and WORLD_SIZE=" +
                                          std::to_string(w.world_size) + " needs it (launch with torchrun, or set " +
                                          "RANK, LOCAL_RANK, MASTER_ADDR and MASTER_PORT for every process)");
    return *value;
  };
  w.rank = parse_int("RANK", need("RANK", rank), 0, w.world_size - 1);
  w.local_rank = parse_int("LOCAL_RANK", need("LOCAL_RANK", local_rank), 0, w.world_size - 1);
  const auto addr = lookup("MASTER_ADDR");
  w.master_addr = parse_addr("MASTER_ADDR", need("MASTER_ADDR", addr));
  const auto port = lookup("MASTER_PORT");
  w.master_port = static_cast<uint16_t>(parse_int("MASTER_PORT", need("MASTER_PORT", port), 1, 65535));
  return w;
}

}  // namespace

std::string World::master_endpoint() const {
  const bool v6 = master_addr.find(':') != std::string::npos;
  return (v6 ? "[" + master_addr + "]" : master_addr) + ":" + std::to_string(master_port);
}

World world_from_env(const EnvLookup& lookup) {
  if (!lookup) throw Error(StatusCode::InvalidArgument, "world_from_env: no environment lookup given");
  try {
    return parse_world(lookup);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {  // from the caller's lookup, or out of memory
    throw Error(StatusCode::Internal, std::string("reading the distributed environment: ") + e.what());
  }
}

World world_from_env() {
  return world_from_env([](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    return v ? std::optional<std::string>(v) : std::nullopt;
  });
}

}  // namespace memtx::dist
