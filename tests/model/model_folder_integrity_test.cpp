// Model folders (model/model_file.hpp): save writes manifest.json, and a flipped byte in config.yaml or
// model.safetensors is refused naming the file; a folder without a manifest (an older save) still loads; a
// malformed manifest is named. Weights holding NaN or Inf are refused at load naming the tensor (a model file,
// a model's own parameters).
#include <fstream>

#include "common/temp_dir.hpp"
#include "io/file_util.hpp"
#include "model/finite_weights.hpp"
#include "model/folder_manifest.hpp"
#include "model/model_file.hpp"
#include "test_support.hpp"

namespace memtx::test {
namespace {

namespace fs = std::filesystem;

// The message of the error load_model_folder_weights throws for dir ("" when it loads), into a fresh model.
std::string load_error(const std::string& dir) {
  Transformer model(tiny_config({"model.seed=5"}), plugin_registry());
  try {
    load_model_folder_weights(*model, dir);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::Io) << e.what();
    return e.what();
  }
  return "";
}

void flip_byte(const std::string& path, std::streamoff from_end) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(-from_end, std::ios::end);
  char c = 0;
  f.read(&c, 1);
  f.seekp(-from_end, std::ios::end);
  f.put(static_cast<char>(c ^ 0x04));
}

TEST(ModelFolderIntegrity, FlippedByteIsRefusedNamingTheFileAndOlderFoldersLoad) {
  memtx_test::TempDir dir("manifest");
  Transformer model(tiny_config(), plugin_registry());
  const std::string folder = dir.path("saved");
  save_model_folder(folder, *model, model->config());
  ASSERT_TRUE(fs::exists(fs::path(folder) / kManifestFile));
  EXPECT_EQ(load_error(folder), "");

  for (const char* file : {kModelFile, kConfigFile}) {
    SCOPED_TRACE(file);
    const std::string copy = dir.path(std::string("flip-") + file);
    fs::copy(folder, copy);
    flip_byte((fs::path(copy) / file).string(), 3);
    const std::string message = load_error(copy);
    EXPECT_NE(message.find(std::string(file) + ": content digest"), std::string::npos) << message;
    EXPECT_NE(message.find("manifest.json"), std::string::npos) << message;
  }

  const std::string older = dir.path("older");
  fs::copy(folder, older);
  fs::remove(fs::path(older) / kManifestFile);
  EXPECT_EQ(load_error(older), "") << "a folder without a manifest loads unchecked";

  const std::string broken = dir.path("broken-manifest");
  fs::copy(folder, broken);
  io::atomic_write_text((fs::path(broken) / kManifestFile).string(), "{\"format\": \"something else\"}");
  const std::string message = load_error(broken);
  EXPECT_NE(message.find("manifest.json: not a memtx manifest"), std::string::npos) << message;
}

TEST(ModelFolderIntegrity, NonFiniteWeightsAreRefusedNamingTheTensor) {
  memtx_test::TempDir dir("nan");
  Transformer model(tiny_config(), plugin_registry());
  std::string name;
  {
    torch::NoGradGuard no_grad;
    auto params = model->named_parameters();
    name = params.begin()->key();
    params.begin()->value().view(-1)[1] = std::numeric_limits<float>::quiet_NaN();
    params.begin()->value().view(-1)[2] = std::numeric_limits<float>::infinity();
  }
  const std::string folder = dir.path("nan");
  save_model_folder(folder, *model, model->config());  // a diverged model is written as it is
  const std::string message = load_error(folder);
  EXPECT_NE(message.find("model.safetensors: tensor '" + name + "' holds 1 NaN and 1 infinite values"),
            std::string::npos)
      << message;
  try {
    check_finite_weights(*model, "the model");
    ADD_FAILURE() << "NaN parameters accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the model: tensor '" + name + "'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace memtx::test
