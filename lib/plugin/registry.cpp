// plugin/registry.cpp: the Registry's state and its queries (find, names, records, failures, schema) and
// in-process registration (add_variant).
#include "plugin/registry.hpp"

#include <memtx.h>

#include <algorithm>
#include <utility>

#include "plugin/registry_impl.hpp"

namespace memtx {

namespace {

constexpr const char* kBuiltinVersion = MEMTX_VERSION_STRING;

}  // namespace

Registry::Impl::Impl() : schema(std::make_shared<const Schema>(Schema::builtin())) {}

Registry::Impl::~Impl() {
  // Factories (and their captures) may live in plugin code: drop them before unloading the libraries.
  variants.clear();
  loaded.clear();
}

bool Registry::Impl::is_loaded(const std::string& canonical) const {
  return std::any_of(loaded.begin(), loaded.end(),
                     [&](const LoadedPlugin& p) { return !canonical.empty() && p.canonical == canonical; });
}

std::string Registry::Impl::owner_of(const std::string& name) const {
  auto it = variants.find(name);
  return it == variants.end() ? std::string() : it->second.desc.plugin_file;
}

Registry::Registry() : impl_(std::make_unique<Impl>()) {}
Registry::~Registry() = default;

void Registry::add_variant(VariantDesc desc) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  std::vector<VariantDesc> staged;
  staged.push_back(std::move(desc));
  auto merged = impl_->check_staged(staged, kBuiltinFile, StatusCode::InvalidArgument, StatusCode::InvalidArgument,
                                    nullptr);
  auto record = std::find_if(impl_->loaded.begin(), impl_->loaded.end(),
                             [](const LoadedPlugin& p) { return p.record.file == kBuiltinFile; });
  if (record == impl_->loaded.end()) {
    impl_->loaded.push_back(LoadedPlugin{PluginRecord{kBuiltinFile, "builtin", kBuiltinVersion, {}}, "", nullptr});
    record = impl_->loaded.end() - 1;
  }
  record->record.variants.push_back(staged.front().name);
  impl_->commit(std::move(staged), kBuiltinFile, nullptr, std::move(merged));
}

const VariantDesc* Registry::find(const std::string& name) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  auto it = impl_->variants.find(name);
  return it == impl_->variants.end() ? nullptr : &it->second.desc;
}

std::vector<std::string> Registry::variant_names() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  std::vector<std::string> names;
  names.reserve(impl_->variants.size());
  for (const auto& entry : impl_->variants) names.push_back(entry.first);
  return names;  // std::map: already sorted
}

std::vector<PluginRecord> Registry::plugins() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  std::vector<PluginRecord> records;
  records.reserve(impl_->loaded.size());
  for (const LoadedPlugin& p : impl_->loaded) records.push_back(p.record);
  return records;
}

std::vector<PluginFailure> Registry::failures() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->failures;
}

std::shared_ptr<const Schema> Registry::schema() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->schema;
}

}  // namespace memtx
