// data/dataset_resolve.hpp: from training.dataset_name (+ dataset_subset, dataset_split, eval_split) to the
// files or built-in generator that hold the data.
//
// dataset_name is tried, in this order:
//   1. an existing path (relative to the current folder): a data file or a folder of them;
//   2. <data root>/<dataset_name>, a file or folder, where the data root is the environment variable
//      MEMTX_DATA_ROOT when set and not empty, else training.data_root (default "data");
//   3. a built-in synthetic dataset: "synthetic:passkey", "synthetic:associative_recall" (synthetic.hpp);
// and otherwise Error(NotFound) naming every place it looked.
// dataset_subset (when not null) is a subfolder of the dataset folder.
// Inside a dataset folder, a split S is the files S.txt, S.jsonl, S.json and the data files directly inside
// a folder S/. When neither dataset_split's nor eval_split's files exist, the folder's own data files (not
// those of subfolders, sorted by name) are the training data. eval_split null means no evaluation data;
// when eval_split is set but has no files, and for a dataset that is a single file, the evaluation data is
// a held-out fraction of the training documents (training.eval_fraction, dataset_split.hpp).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "memtx/config.hpp"

namespace memtx::data {

enum class Split { Train, Eval };

struct DatasetSource {
  enum class Kind { Files, Synthetic };
  Kind kind = Kind::Files;
  std::string name;                          // training.dataset_name as given
  std::filesystem::path location;            // the file or folder found (Files)
  std::string found_by;                      // "path" or "data root <root>" or "built-in"
  std::vector<std::filesystem::path> train_files;
  std::vector<std::filesystem::path> eval_files;
  bool has_eval = false;                     // eval_split is not null
  bool eval_held_out = false;                // eval data = held-out fraction of the training documents
  std::string describe() const;              // one line for logs
};

// MEMTX_DATA_ROOT when set and not empty, else training.data_root.
std::filesystem::path data_root(const Config& config);

DatasetSource resolve_dataset(const Config& config);

}  // namespace memtx::data
