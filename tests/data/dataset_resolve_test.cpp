// tests/data/dataset_resolve_test.cpp: dataset_name resolution order (path, data root with
// MEMTX_DATA_ROOT over training.data_root, built-in), the NotFound message, subsets and split files.
#include "data/dataset_resolve.hpp"
#include "dataset_support.hpp"

using namespace memtx::data;
using dataset_test::EnvGuard;
using dataset_test::TempDir;
using memtx::StatusCode;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> names(const std::vector<fs::path>& files) {
  std::vector<std::string> out;
  for (const auto& f : files) out.push_back(f.parent_path().filename().string() + "/" + f.filename().string());
  return out;
}

}  // namespace

TEST(DatasetResolve, AnExistingPathComesFirst) {
  TempDir dir;
  EnvGuard env("MEMTX_DATA_ROOT", std::nullopt);
  const auto f = dir.write("corpus.jsonl", "{}\n");
  auto c = dataset_test::config();
  c.set("training.dataset_name", f.string());
  const auto src = resolve_dataset(c);
  EXPECT_EQ(src.kind, DatasetSource::Kind::Files);
  EXPECT_EQ(src.found_by, "path");
  EXPECT_EQ(src.train_files, std::vector<fs::path>{f});
  EXPECT_TRUE(src.eval_held_out);  // a single file with eval_split set: held-out fraction
}

TEST(DatasetResolve, DataRootFromKeyAndEnvironment) {
  TempDir dir;
  EnvGuard env("MEMTX_DATA_ROOT", std::nullopt);
  dir.write("root_a/org/set/train.jsonl", "{}\n");
  dir.write("root_b/org/set/other.txt", "x");
  auto c = dataset_test::config();
  c.set("training.dataset_name", "org/set");
  c.set("training.data_root", (dir.path() / "root_a").string());
  auto src = resolve_dataset(c);
  EXPECT_EQ(src.location, dir.path() / "root_a" / "org/set");
  EXPECT_EQ(names(src.train_files), std::vector<std::string>{"set/train.jsonl"});
  {
    EnvGuard over("MEMTX_DATA_ROOT", (dir.path() / "root_b").string());  // the environment wins
    src = resolve_dataset(c);
    EXPECT_EQ(src.location, dir.path() / "root_b" / "org/set");
    EXPECT_EQ(data_root(c), dir.path() / "root_b");
  }
  {
    EnvGuard empty("MEMTX_DATA_ROOT", std::string());  // set but empty: ignored
    EXPECT_EQ(data_root(c), dir.path() / "root_a");
  }
}

TEST(DatasetResolve, PathBeatsDataRootBeatsBuiltIn) {
  TempDir dir;
  EnvGuard env("MEMTX_DATA_ROOT", (dir.path() / "root").string());
  const auto rooted = dir.write("root/synthetic:passkey/train.txt", "rooted");
  auto c = dataset_test::config();
  c.set("training.dataset_name", "synthetic:passkey");
  auto src = resolve_dataset(c);  // a folder of that name under the data root wins over the built-in
  EXPECT_EQ(src.kind, DatasetSource::Kind::Files);
  EXPECT_EQ(src.train_files, std::vector<fs::path>{rooted});
  fs::remove_all(dir.path() / "root");
  src = resolve_dataset(c);
  EXPECT_EQ(src.kind, DatasetSource::Kind::Synthetic);
  EXPECT_EQ(src.found_by, "built-in");
  // A relative name that exists from the current folder wins over the same name under the data root.
  const auto rooted2 = dir.write("root/local/set.txt", "under the root");
  const auto direct = dir.write("work/local/set.txt", "from the current folder");
  const fs::path cwd = fs::current_path();
  fs::current_path(dir.path() / "work");
  c.set("training.dataset_name", "local/set.txt");
  src = resolve_dataset(c);
  fs::current_path(cwd);
  EXPECT_EQ(src.found_by, "path");
  EXPECT_EQ(src.train_files, std::vector<fs::path>{fs::path("local/set.txt")});
  (void)rooted2;
  (void)direct;
}

TEST(DatasetResolve, NotFoundListsEveryPlace) {
  TempDir dir;
  EnvGuard env("MEMTX_DATA_ROOT", std::nullopt);
  auto c = dataset_test::config();
  c.set("training.dataset_name", "no/such_set");
  c.set("training.data_root", (dir.path() / "data").string());
  const std::string msg = dataset_test::error_of([&] { resolve_dataset(c); }, StatusCode::NotFound);
  DS_EXPECT_CONTAINS(msg, "dataset 'no/such_set' (training.dataset_name) not found");
  DS_EXPECT_CONTAINS(msg, (fs::current_path() / "no/such_set").string());
  DS_EXPECT_CONTAINS(msg, (dir.path() / "data/no/such_set").string());
  DS_EXPECT_CONTAINS(msg, "from training.data_root");
  DS_EXPECT_CONTAINS(msg, "synthetic:passkey");
  DS_EXPECT_CONTAINS(msg, "synthetic:associative_recall");
  {
    EnvGuard over("MEMTX_DATA_ROOT", (dir.path() / "envroot").string());
    const std::string m2 = dataset_test::error_of([&] { resolve_dataset(c); }, StatusCode::NotFound);
    DS_EXPECT_CONTAINS(m2, "from MEMTX_DATA_ROOT");
    DS_EXPECT_CONTAINS(m2, (dir.path() / "envroot/no/such_set").string());
  }
  c.set("training.dataset_name", "synthetic:nothing");
  DS_EXPECT_CONTAINS(dataset_test::error_of([&] { resolve_dataset(c); }, StatusCode::NotFound),
                     "a built-in dataset: synthetic:associative_recall, synthetic:passkey");
}

TEST(DatasetResolve, SplitsFilesAndFolders) {
  TempDir dir;
  EnvGuard env("MEMTX_DATA_ROOT", std::nullopt);
  dir.write("ds/train.jsonl", "{}\n");
  dir.write("ds/train/part2.txt", "x");
  dir.write("ds/train/part1.json", "[]");
  dir.write("ds/train/notes.md", "ignored: not a data file");
  dir.write("ds/train/.hidden.txt", "ignored");
  dir.write("ds/test/a.txt", "y");
  dir.write("ds/valid.json", "[]");
  auto c = dataset_test::config();
  c.set("training.dataset_name", (dir.path() / "ds").string());
  auto src = resolve_dataset(c);
  EXPECT_EQ(names(src.train_files), (std::vector<std::string>{"ds/train.jsonl", "train/part1.json", "train/part2.txt"}));
  EXPECT_EQ(names(src.eval_files), std::vector<std::string>{"test/a.txt"});
  EXPECT_FALSE(src.eval_held_out);
  c.set("training.eval_split", "valid");
  src = resolve_dataset(c);
  EXPECT_EQ(names(src.eval_files), std::vector<std::string>{"ds/valid.json"});
  c.set("training.eval_split", "missing");
  src = resolve_dataset(c);
  EXPECT_TRUE(src.eval_held_out);  // no files for the eval split: held out from train
  c.set("training.eval_split", memtx::Value());
  src = resolve_dataset(c);
  EXPECT_FALSE(src.has_eval);
  EXPECT_FALSE(src.eval_held_out);
}

TEST(DatasetResolve, FolderWithoutSplitsUsesItsOwnFiles) {
  TempDir dir;
  dir.write("plain/b.txt", "b");
  dir.write("plain/a.jsonl", "{}\n");
  dir.write("plain/sub/c.txt", "not read: subfolder");
  auto c = dataset_test::config();
  c.set("training.dataset_name", (dir.path() / "plain").string());
  const auto src = resolve_dataset(c);
  EXPECT_EQ(names(src.train_files), (std::vector<std::string>{"plain/a.jsonl", "plain/b.txt"}));
  EXPECT_TRUE(src.eval_held_out);
}

TEST(DatasetResolve, EvalSplitWithoutTrainSplitIsAnError) {
  TempDir dir;
  dir.write("ds/test.jsonl", "{}\n");
  dir.write("ds/other.txt", "x");
  auto c = dataset_test::config();
  c.set("training.dataset_name", (dir.path() / "ds").string());
  const std::string msg = dataset_test::error_of([&] { resolve_dataset(c); }, StatusCode::NotFound);
  DS_EXPECT_CONTAINS(msg, "training.dataset_split 'train'");
  DS_EXPECT_CONTAINS(msg, "eval split 'test'");
  dir.write("empty/README.md", "no data");
  c.set("training.dataset_name", (dir.path() / "empty").string());
  DS_EXPECT_CONTAINS(dataset_test::error_of([&] { resolve_dataset(c); }, StatusCode::NotFound), "holds no data files");
}

TEST(DatasetResolve, SubsetIsASubfolder) {
  TempDir dir;
  dir.write("c4/en/train.txt", "english");
  dir.write("c4/de/train.txt", "deutsch");
  auto c = dataset_test::config();
  c.set("training.dataset_name", (dir.path() / "c4").string());
  c.set("training.dataset_subset", "en");
  auto src = resolve_dataset(c);
  EXPECT_EQ(names(src.train_files), std::vector<std::string>{"en/train.txt"});
  c.set("training.dataset_subset", "fr");
  const std::string msg = dataset_test::error_of([&] { resolve_dataset(c); }, StatusCode::NotFound);
  DS_EXPECT_CONTAINS(msg, "training.dataset_subset 'fr'");
  DS_EXPECT_CONTAINS(msg, "de, en");
  c.set("training.dataset_name", "synthetic:passkey");
  dataset_test::error_of([&] { resolve_dataset(c); }, StatusCode::Config);
  const auto f = dir.write("one.txt", "x");
  c.set("training.dataset_name", f.string());
  dataset_test::error_of([&] { resolve_dataset(c); }, StatusCode::Config);
}
