// tests/plugin/special_file_test.cpp: Registry::load_file refuses what is not a regular file before opening it: a
// FIFO named x.so (which would block dlopen until a writer came), a folder named y.so, /dev/null; each with
// Error(Plugin) naming the file and its kind, and the registry unchanged.
#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>
#include <future>
#include <thread>

#include "common/temp_dir.hpp"
#include "plugin_test_util.hpp"

namespace memtx::test {
namespace {

namespace fs = std::filesystem;

// The message of the error load_file throws for path, run on another thread: a load still blocked after 20 s
// fails the test, and the FIFO is then opened for writing once so the blocked open returns.
std::string refusal(Registry& registry, const std::string& path, const std::string& fifo_to_release = "") {
  auto result = std::make_shared<std::promise<std::string>>();
  std::future<std::string> done = result->get_future();
  std::thread([&registry, path, result] {
    try {
      registry.load_file(path);
      result->set_value("loaded");
    } catch (const Error& e) {
      result->set_value(std::to_string(static_cast<int>(e.code())) + " " + e.what());
    } catch (const std::exception& e) {
      result->set_value(std::string("other exception: ") + e.what());
    }
  }).detach();
  if (done.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    ADD_FAILURE() << "load_file(" << path << ") still blocked after 20 s";
    if (!fifo_to_release.empty()) {
      const int fd = ::open(fifo_to_release.c_str(), O_WRONLY);  // the reader gets end of file
      if (fd >= 0) ::close(fd);
    }
    done.wait();
  }
  return done.get();
}

TEST(SpecialPluginFile, FifoFolderAndDeviceAreRefusedWithoutOpening) {
  memtx_test::TempDir dir("special_plugin");
  Registry registry;
  registry.load_file(plugin_path("good_scale"));
  const Snapshot before = snapshot(registry);
  const std::string plugin = std::to_string(static_cast<int>(StatusCode::Plugin)) + " ";

  const std::string fifo = (dir.path() / "x.so").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string message = refusal(registry, fifo, fifo);
  EXPECT_EQ(message.rfind(plugin + fs::canonical(fifo).string() + ": ", 0), 0u) << message;
  EXPECT_NE(message.find("not a regular file (a FIFO)"), std::string::npos) << message;

  const std::string folder = (dir.path() / "y.so").string();
  fs::create_directory(folder);
  message = refusal(registry, folder);
  EXPECT_NE(message.find("not a regular file (a folder)"), std::string::npos) << message;

  message = refusal(registry, "/dev/null");
  EXPECT_EQ(message.rfind(plugin + "/dev/null: ", 0), 0u) << message;
  EXPECT_NE(message.find("not a regular file (a character device)"), std::string::npos) << message;
  expect_same(before, snapshot(registry));
}

}  // namespace
}  // namespace memtx::test
