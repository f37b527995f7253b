// World from torchrun's environment: a single process without WORLD_SIZE, every field of a full environment,
// and Error(Config) naming the variable for each missing, garbled or out-of-range value.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <stdexcept>

#include "dist/world.hpp"
#include "memtx/error.hpp"

namespace memtx::test {
namespace {

using Env = std::map<std::string, std::string>;

dist::World world_of(const Env& env) {
  return dist::world_from_env([&](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  });
}

Env full() {
  return {{"WORLD_SIZE", "4"}, {"RANK", "3"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "node-0.cluster"},
          {"MASTER_PORT", "29500"}};
}

// The Error(Config) message of world_of(env); fails the test when it does not throw one.
std::string config_error(const Env& env) {
  try {
    world_of(env);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::Config) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(World, UnsetWorldSizeIsOneProcess) {
  const auto w = world_of({});
  EXPECT_EQ(w.rank, 0);
  EXPECT_EQ(w.world_size, 1);
  EXPECT_EQ(w.local_rank, 0);
  EXPECT_FALSE(w.distributed());
  EXPECT_TRUE(w.master_addr.empty());
  // torchrun --nproc_per_node 1 sets everything for one process.
  const auto one = world_of({{"WORLD_SIZE", "1"}, {"RANK", "0"}, {"LOCAL_RANK", "0"}, {"MASTER_PORT", "1"}});
  EXPECT_EQ(one.world_size, 1);
  EXPECT_FALSE(one.distributed());
}

TEST(World, ReadsEveryVariable) {
  const auto w = world_of(full());
  EXPECT_EQ(w.world_size, 4);
  EXPECT_EQ(w.rank, 3);
  EXPECT_EQ(w.local_rank, 1);
  EXPECT_EQ(w.master_addr, "node-0.cluster");
  EXPECT_EQ(w.master_port, 29500);
  EXPECT_TRUE(w.distributed());
  EXPECT_EQ(w.master_endpoint(), "node-0.cluster:29500");
  EXPECT_TRUE(w.gloo_interfaces.empty());

  Env v6 = full();
  v6["MASTER_ADDR"] = "[fe80::1%eth0]";
  v6["MASTER_PORT"] = "65535";
  v6["GLOO_SOCKET_IFNAME"] = "eth0,ib0";
  const auto w6 = world_of(v6);
  EXPECT_EQ(w6.master_addr, "fe80::1%eth0");
  EXPECT_EQ(w6.master_endpoint(), "[fe80::1%eth0]:65535");
  EXPECT_EQ(w6.gloo_interfaces, (std::vector<std::string>{"eth0", "ib0"}));
  Env v4 = full();
  v4["MASTER_ADDR"] = "10.0.0.7";
  v4["RANK"] = "0";
  v4["LOCAL_RANK"] = "0";
  EXPECT_EQ(world_of(v4).master_endpoint(), "10.0.0.7:29500");
}

TEST(World, MissingVariablesAreNamed) {
  for (const char* name : {"RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"}) {
    Env env = full();
    env.erase(name);
    const std::string message = config_error(env);
    EXPECT_NE(message.find(std::string(name) + " is not set"), std::string::npos) << message;
    EXPECT_NE(message.find("WORLD_SIZE=4"), std::string::npos) << message;
  }
}

TEST(World, GarbledOrOutOfRangeValuesAreNamed) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"WORLD_SIZE", ""},      {"WORLD_SIZE", "2x"},   {"WORLD_SIZE", " 2"},    {"WORLD_SIZE", "-1"},
      {"WORLD_SIZE", "0"},     {"WORLD_SIZE", "+2"},   {"WORLD_SIZE", "1e3"},   {"WORLD_SIZE", "99999999999"},
      {"WORLD_SIZE", "2097152"}, {"RANK", "4"},        {"RANK", "-0"},          {"RANK", "three"},
      {"LOCAL_RANK", "4"},     {"LOCAL_RANK", ""},     {"MASTER_PORT", "0"},    {"MASTER_PORT", "65536"},
      {"MASTER_PORT", "80a"},  {"MASTER_PORT", "0x50"}, {"MASTER_ADDR", ""},    {"MASTER_ADDR", "a b"},
      {"MASTER_ADDR", "host;rm -rf"}, {"MASTER_ADDR", "-host"}, {"MASTER_ADDR", "[]"},
      {"MASTER_ADDR", std::string(300, 'a')}, {"GLOO_SOCKET_IFNAME", "eth0,,eth1"},
      {"GLOO_SOCKET_IFNAME", "a-very-long-interface"}, {"GLOO_SOCKET_IFNAME", "eth0 "}};
  for (const auto& [name, value] : cases) {
    Env env = full();
    env[name] = value;
    const std::string message = config_error(env);
    EXPECT_NE(message.find("environment variable " + name + "="), std::string::npos) << name << ": " << message;
  }
}

TEST(World, ValuesInMessagesAreEscapedAndShortened) {
  Env env = full();
  env["RANK"] = std::string("1\n\x01") + std::string(200, '9');
  const std::string message = config_error(env);
  EXPECT_NE(message.find("1\\x0a\\x01"), std::string::npos) << message;
  EXPECT_NE(message.find("..."), std::string::npos) << message;
  EXPECT_LT(message.size(), 300u) << message;
}

TEST(World, SingleProcessRefusesANonzeroRank) {
  EXPECT_NE(config_error({{"RANK", "2"}}).find("WORLD_SIZE is not set"), std::string::npos);
  EXPECT_NE(config_error({{"WORLD_SIZE", "1"}, {"LOCAL_RANK", "1"}}).find("LOCAL_RANK"), std::string::npos);
  EXPECT_NE(config_error({{"RANK", "x"}}).find("RANK"), std::string::npos);
}

TEST(World, OnlyMemtxErrorsLeave) {
  try {
    dist::world_from_env([](const std::string&) -> std::optional<std::string> { throw std::runtime_error("boom"); });
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::Internal);
    EXPECT_NE(std::string(e.what()).find("boom"), std::string::npos);
  }
  EXPECT_THROW(dist::world_from_env(dist::EnvLookup{}), Error);
  // Random bytes in every variable: a World or a memtx::Error, nothing else.
  std::mt19937 rng(7);
  const char* names[] = {"WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "GLOO_SOCKET_IFNAME"};
  for (int i = 0; i < 2000; ++i) {
    Env env = full();
    std::string value(rng() % 12, '\0');
    for (char& c : value) c = static_cast<char>(i % 3 == 0 ? '0' + rng() % 10 : rng() % 256);
    env[names[i % 6]] = value;
    try {
      world_of(env);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), StatusCode::Config);
    }
  }
}

TEST(World, ProcessEnvironment) {
  ::unsetenv("WORLD_SIZE");
  ::unsetenv("RANK");
  ::unsetenv("LOCAL_RANK");
  EXPECT_EQ(dist::world_from_env().world_size, 1);
  ::setenv("WORLD_SIZE", "nope", 1);
  EXPECT_THROW(dist::world_from_env(), Error);
  ::unsetenv("WORLD_SIZE");
}

}  // namespace
}  // namespace memtx::test
