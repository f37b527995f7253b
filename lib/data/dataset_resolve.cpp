// data/dataset_resolve.cpp: dataset name resolution and split file selection (dataset_resolve.hpp).
#include "data/dataset_resolve.hpp"

#include <algorithm>
#include <cstdlib>

#include "data/dataset_records.hpp"
#include "data/synthetic.hpp"
#include "memtx/error.hpp"

namespace memtx::data {

namespace fs = std::filesystem;

namespace {

std::string absolute_text(const fs::path& p) {
  std::error_code ec;
  fs::path a = fs::absolute(p, ec);
  return (ec ? p : a.lexically_normal()).string();
}

// Data files directly inside `dir`, sorted by name; hidden files are skipped.
std::vector<fs::path> data_files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const fs::path& p = entry.path();
    if (p.filename().string().rfind('.', 0) == 0) continue;
    std::error_code ec2;
    if (entry.is_regular_file(ec2) && is_data_file(p)) out.push_back(p);
  }
  if (ec) throw Error(StatusCode::Io, "cannot list data folder " + dir.string() + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

// The files of split `split` inside `dir`: split.txt/.jsonl/.json and split/'s data files.
std::vector<fs::path> split_files(const fs::path& dir, const std::string& split) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const char* ext : {".txt", ".jsonl", ".json"}) {
    fs::path p = dir / (split + ext);
    if (fs::is_regular_file(p, ec)) out.push_back(p);
  }
  if (fs::is_directory(dir / split, ec)) {
    for (auto& p : data_files_in(dir / split)) out.push_back(std::move(p));
  }
  return out;
}

std::string subfolders_of(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::error_code ec2;
    if (entry.is_directory(ec2)) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s.empty() ? "none" : s;
}

void select_files(DatasetSource& src, const Config& config) {
  const auto subset = config.get_opt_string("training.dataset_subset");
  const auto eval_split = config.get_opt_string("training.eval_split");
  src.has_eval = eval_split.has_value();
  std::error_code ec;
  fs::path dir = src.location;
  if (!fs::is_directory(dir, ec)) {
    if (subset) {
      throw Error(StatusCode::Config, "training.dataset_subset '" + *subset + "' needs a dataset folder, but " +
                                          "training.dataset_name '" + src.name + "' is the file " + dir.string());
    }
    src.train_files = {dir};
    src.eval_held_out = src.has_eval;
    return;
  }
  if (subset) {
    dir /= *subset;
    if (!fs::is_directory(dir, ec)) {
      throw Error(StatusCode::NotFound, "training.dataset_subset '" + *subset + "': no folder " + dir.string() +
                                            " (subfolders of " + src.location.string() + ": " +
                                            subfolders_of(src.location) + ")");
    }
    src.location = dir;
  }
  const std::string split = config.get_string("training.dataset_split");
  src.train_files = split_files(dir, split);
  if (src.has_eval) src.eval_files = split_files(dir, *eval_split);
  if (src.train_files.empty()) {
    if (!src.eval_files.empty()) {
      throw Error(StatusCode::NotFound, "training.dataset_split '" + split + "': no " + split + ".txt, " + split +
                                            ".jsonl, " + split + ".json or " + split + "/ folder in " +
                                            dir.string() + " (the eval split '" + *eval_split + "' is there)");
    }
    src.train_files = data_files_in(dir);
    if (src.train_files.empty()) {
      throw Error(StatusCode::NotFound, "dataset folder " + dir.string() +
                                            " holds no data files (.txt, .jsonl, .json) and no '" + split +
                                            "' split");
    }
  }
  src.eval_held_out = src.has_eval && src.eval_files.empty();
}

}  // namespace

fs::path data_root(const Config& config) {
  const char* env = std::getenv("MEMTX_DATA_ROOT");
  if (env && *env) return fs::path(env);
  return fs::path(config.get_string("training.data_root"));
}

DatasetSource resolve_dataset(const Config& config) {
  DatasetSource src;
  src.name = config.get_string("training.dataset_name");
  if (src.name.empty()) throw Error(StatusCode::Config, "training.dataset_name is empty");
  std::error_code ec;
  const fs::path as_path(src.name);
  const fs::path root = data_root(config);
  const fs::path under_root = root / src.name;
  if (fs::exists(as_path, ec)) {
    src.location = as_path;
    src.found_by = "path";
  } else if (fs::exists(under_root, ec)) {
    src.location = under_root;
    src.found_by = "data root " + root.string();
  } else if (auto spec = parse_synthetic_name(src.name)) {
    src.kind = DatasetSource::Kind::Synthetic;
    src.found_by = "built-in";
    if (auto subset = config.get_opt_string("training.dataset_subset")) {
      throw Error(StatusCode::Config, "training.dataset_subset '" + *subset + "' does not apply to the built-in " +
                                          "dataset " + src.name + "; set it to null");
    }
    src.has_eval = config.get_opt_string("training.eval_split").has_value();
    return src;
  } else {
    const char* env = std::getenv("MEMTX_DATA_ROOT");
    const std::string root_from = env && *env ? "MEMTX_DATA_ROOT" : "training.data_root";
    std::string builtins;
    for (const auto& n : synthetic_dataset_names()) builtins += (builtins.empty() ? "" : ", ") + n;
    throw Error(StatusCode::NotFound,
                "dataset '" + src.name + "' (training.dataset_name) not found; looked for: (1) a file or folder " +
                    absolute_text(as_path) + "; (2) " + absolute_text(under_root) + " under the data root '" +
                    root.string() + "' (from " + root_from + "); (3) a built-in dataset: " + builtins);
  }
  select_files(src, config);
  return src;
}

std::string DatasetSource::describe() const {
  if (kind == Kind::Synthetic) return "built-in dataset " + name;
  std::string s = "dataset '" + name + "' at " + location.string() + " (found by " + found_by + "): train ";
  auto list = [](const std::vector<fs::path>& files) {
    std::string t;
    for (const auto& f : files) t += (t.empty() ? "" : ", ") + f.filename().string();
    return t;
  };
  s += list(train_files);
  if (!has_eval) return s + "; no eval split";
  if (eval_held_out) return s + "; eval held out from train";
  return s + "; eval " + list(eval_files);
}

}  // namespace memtx::data
