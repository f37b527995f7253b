// tests/io/safetensors_test.cpp: the safetensors reader and writer — round trips of every dtype, the
// reference fixtures, the writer's file layout and atomicity, and one test per kind of corrupt file.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/little_endian.hpp"
#include "io/safetensors.hpp"
#include "memtx/error.hpp"

namespace fs = std::filesystem;
using memtx::Error;
using memtx::StatusCode;
using memtx::io::read_safetensors;
using memtx::io::read_safetensors_shapes;
using memtx::io::SafetensorsFile;
using memtx::io::write_safetensors;

namespace {

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("memtx_io_test_" + std::to_string(::getpid()) + "_" + info->test_suite_name() + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

using memtx_test::le64;

void write_bytes(const std::string& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(f.good()) << p;
}

std::string read_bytes(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream os;
  os << f.rdbuf();
  return os.str();
}

// A safetensors file from a header text and `data_size` bytes of data (value 0x01 so BOOL stays valid).
void write_st(const std::string& p, const std::string& header, size_t data_size) {
  write_bytes(p, le64(header.size()) + header + std::string(data_size, '\x01'));
}

// Runs fn, expecting memtx::Error with `code` and a message that contains `fragment`.
void expect_error(const std::function<void()>& fn, StatusCode code, const std::string& fragment) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(static_cast<int>(e.code()), static_cast<int>(code)) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
        << "message: " << e.what() << "\nexpected fragment: " << fragment;
    return;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "unexpected exception type: " << e.what();
    return;
  }
  ADD_FAILURE() << "no exception; expected one containing: " << fragment;
}

// Reading `p` fails with Error(Io) whose message names the file and contains `fragment`; the header-only
// reader rejects it the same way.
void expect_corrupt(const std::string& p, const std::string& fragment) {
  expect_error([&] { read_safetensors(p); }, StatusCode::Io, p + ": ");
  expect_error([&] { read_safetensors(p); }, StatusCode::Io, fragment);
  expect_error([&] { read_safetensors_shapes(p); }, StatusCode::Io, fragment);
}

// Same dtype, shape and bytes (bitwise, so NaN payloads and -0.0 count).
bool bitwise_equal(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes()) return false;
  torch::Tensor ca = a.contiguous(), cb = b.contiguous();
  const size_t n = static_cast<size_t>(ca.numel()) * ca.element_size();
  return n == 0 || std::memcmp(ca.data_ptr(), cb.data_ptr(), n) == 0;
}

torch::Tensor sample(torch::ScalarType type) {
  auto t = torch::arange(-12, 12, torch::kDouble).reshape({2, 3, 4});
  if (type == torch::kBool) return (t.remainder(3) == 0).to(torch::kBool);
  if (type == torch::kByte) return (t + 12).to(torch::kByte);
  if (c10::isFloatingType(type)) {
    t = t * 0.37 + 0.125;
    t[0][0][0] = std::numeric_limits<double>::infinity();
    t[0][0][1] = -std::numeric_limits<double>::infinity();
    t[0][0][2] = std::numeric_limits<double>::quiet_NaN();
    t[0][0][3] = -0.0;
  }
  return t.to(type);
}

const std::vector<std::pair<std::string, torch::ScalarType>> kDtypes = {
    {"F64", torch::kDouble}, {"F32", torch::kFloat}, {"F16", torch::kHalf}, {"BF16", torch::kBFloat16},
    {"I64", torch::kLong},   {"I32", torch::kInt},   {"I16", torch::kShort}, {"I8", torch::kChar},
    {"U8", torch::kByte},    {"BOOL", torch::kBool},
};

nlohmann::json header_of(const std::string& file_bytes) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(file_bytes[static_cast<size_t>(i)]);
  return nlohmann::json::parse(file_bytes.substr(8, n));
}

const std::string kFixtures = MEMTX_FIXTURES_DIR;

}  // namespace

// ---------------------------------------------------------------- round trips

TEST_F(SafetensorsTest, RoundTripEveryDtype) {
  std::vector<std::pair<std::string, torch::Tensor>> in;
  for (const auto& [name, type] : kDtypes) in.emplace_back("t_" + name, sample(type));
  const std::string p = path("all.safetensors");
  write_safetensors(p, in);

  SafetensorsFile out = read_safetensors(p);
  ASSERT_EQ(out.tensors.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out.tensors[i].first, in[i].first);  // writer keeps insertion order, reader returns file order
    EXPECT_EQ(out.tensors[i].second.scalar_type(), in[i].second.scalar_type()) << in[i].first;
    EXPECT_TRUE(out.tensors[i].second.device().is_cpu());
    EXPECT_TRUE(bitwise_equal(out.tensors[i].second, in[i].second)) << in[i].first;
  }
  // The header names the safetensors dtype strings.
  const auto h = header_of(read_bytes(p));
  for (const auto& [name, type] : kDtypes) EXPECT_EQ(h.at("t_" + name).at("dtype"), name);
}

TEST_F(SafetensorsTest, RoundTripScalarEmptyAndNonContiguous) {
  auto base = torch::arange(12, torch::kFloat).reshape({3, 4});
  std::vector<std::pair<std::string, torch::Tensor>> in = {
      {"scalar", torch::scalar_tensor(3.5, torch::kDouble)},
      {"empty", torch::empty({0, 3}, torch::kFloat)},
      {"empty1", torch::empty({0}, torch::kLong)},
      {"empty_bool", torch::empty({2, 0}, torch::kBool)},
      {"transposed", base.t()},
      {"strided", base.slice(1, 0, 4, 2)},
      {"scalar_int", torch::scalar_tensor(-7, torch::kLong)},
  };
  const std::string p = path("edge.safetensors");
  write_safetensors(p, in);
  SafetensorsFile out = read_safetensors(p);
  ASSERT_EQ(out.tensors.size(), in.size());
  for (const auto& [name, t] : in) {
    const torch::Tensor* r = out.find(name);
    ASSERT_NE(r, nullptr) << name;
    EXPECT_EQ(r->dim(), t.dim()) << name;
    EXPECT_TRUE(bitwise_equal(*r, t)) << name;
    EXPECT_TRUE(r->is_contiguous()) << name;
  }
  EXPECT_EQ(out.find("scalar")->dim(), 0);
  EXPECT_DOUBLE_EQ(out.find("scalar")->item<double>(), 3.5);
  EXPECT_EQ(out.find("scalar_int")->item<int64_t>(), -7);
  EXPECT_EQ(out.find("absent"), nullptr);

  auto shapes = read_safetensors_shapes(p);
  ASSERT_EQ(shapes.size(), in.size());
  for (const auto& [name, shape] : shapes) EXPECT_EQ(shape, out.find(name)->sizes().vec()) << name;
}

TEST_F(SafetensorsTest, RoundTripMetadata) {
  const std::map<std::string, std::string> meta = {{"format", "pt"}, {"note", "ünïcödé \"quoted\"\n"}, {"", ""}};
  const std::string p = path("meta.safetensors");
  write_safetensors(p, {{"w", torch::ones({2, 2})}}, meta);
  SafetensorsFile out = read_safetensors(p);
  EXPECT_EQ(out.metadata, meta);
  ASSERT_EQ(out.tensors.size(), 1u);
  EXPECT_TRUE(torch::equal(out.tensors[0].second, torch::ones({2, 2})));

  const std::string p2 = path("nometa.safetensors");
  write_safetensors(p2, {{"w", torch::ones({1})}});
  EXPECT_TRUE(read_safetensors(p2).metadata.empty());
  EXPECT_FALSE(header_of(read_bytes(p2)).contains("__metadata__"));
}

TEST_F(SafetensorsTest, EmptyFileRoundTrip) {
  const std::string p = path("none.safetensors");
  write_safetensors(p, {});
  SafetensorsFile out = read_safetensors(p);
  EXPECT_TRUE(out.tensors.empty());
  EXPECT_TRUE(out.metadata.empty());
}

TEST_F(SafetensorsTest, ReturnedTensorsOwnTheirMemory) {
  const std::string p = path("own.safetensors");
  write_safetensors(p, {{"a", torch::arange(6, torch::kFloat)}, {"b", torch::arange(4, torch::kInt)}});
  torch::Tensor a, b;
  {
    SafetensorsFile f = read_safetensors(p);
    a = *f.find("a");
    b = *f.find("b");
  }
  fs::remove(p);  // nothing refers to the file any more
  EXPECT_TRUE(torch::equal(a, torch::arange(6, torch::kFloat)));
  b.add_(1);  // writable
  EXPECT_TRUE(torch::equal(b, torch::arange(1, 5, torch::kInt)));
}

// ---------------------------------------------------------------- writer layout and errors

TEST_F(SafetensorsTest, WriterLayout) {
  const std::string p = path("layout.safetensors");
  std::vector<std::pair<std::string, torch::Tensor>> in = {
      {"zeta", torch::zeros({3}, torch::kHalf)},      // 6 bytes
      {"alpha", torch::zeros({2, 2}, torch::kFloat)},  // 16 bytes
      {"mid", torch::zeros({0}, torch::kFloat)},       // 0 bytes
      {"last", torch::zeros({5}, torch::kByte)},       // 5 bytes
  };
  write_safetensors(p, in, {{"k", "v"}});
  const std::string bytes = read_bytes(p);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
  EXPECT_EQ(n % 8, 0u);
  const std::string text = bytes.substr(8, n);
  EXPECT_EQ(text.front(), '{');
  const size_t close = text.find_last_of('}');
  EXPECT_EQ(text.find_first_not_of(' ', close + 1), std::string::npos) << "padding must be spaces";
  EXPECT_EQ(bytes.size(), 8 + n + 6 + 16 + 0 + 5);

  const auto h = nlohmann::json::parse(text);
  EXPECT_EQ(h.at("__metadata__").at("k"), "v");
  uint64_t offset = 0;
  for (const auto& [name, t] : in) {
    const auto& e = h.at(name);
    EXPECT_EQ(e.at("data_offsets").at(0).get<uint64_t>(), offset) << name;
    offset += static_cast<uint64_t>(t.numel()) * t.element_size();
    EXPECT_EQ(e.at("data_offsets").at(1).get<uint64_t>(), offset) << name;
    EXPECT_EQ(e.at("shape").get<std::vector<int64_t>>(), t.sizes().vec()) << name;
    EXPECT_EQ(e.size(), 3u);
  }
}

TEST_F(SafetensorsTest, WriterIsAtomicAndReplacesExistingFile) {
  const std::string p = path("atomic.safetensors");
  write_safetensors(p, {{"old", torch::ones({4})}});
  write_safetensors(p, {{"new", torch::full({2}, 2.0)}});
  EXPECT_FALSE(fs::exists(p + ".tmp"));
  SafetensorsFile out = read_safetensors(p);
  ASSERT_EQ(out.tensors.size(), 1u);
  EXPECT_EQ(out.tensors[0].first, "new");
  EXPECT_TRUE(torch::equal(out.tensors[0].second, torch::full({2}, 2.0)));

  // A rejected write leaves the existing file alone and no temporary behind.
  const std::string before = read_bytes(p);
  EXPECT_THROW(write_safetensors(p, {{"a", torch::ones({1})}, {"a", torch::ones({1})}}), Error);
  EXPECT_EQ(read_bytes(p), before);
  EXPECT_FALSE(fs::exists(p + ".tmp"));
  const auto listing = std::distance(fs::directory_iterator(dir_), fs::directory_iterator());
  EXPECT_EQ(listing, 1);
}

TEST_F(SafetensorsTest, WriterUnwritablePath) {
  const std::string p = path("no_such_dir/sub/x.safetensors");
  expect_error([&] { write_safetensors(p, {{"w", torch::ones({1})}}); }, StatusCode::Io, p);
  expect_error([&] { write_safetensors(p, {{"w", torch::ones({1})}}); }, StatusCode::Io, "cannot open");
  // The destination is a directory: the temporary is written, the rename fails and the temporary goes.
  const std::string d = path("a_directory");
  fs::create_directories(d + "/child");
  expect_error([&] { write_safetensors(d, {{"w", torch::ones({1})}}); }, StatusCode::Io, "cannot rename");
  EXPECT_FALSE(fs::exists(d + ".tmp"));
}

TEST_F(SafetensorsTest, WriterDuplicateName) {
  expect_error([&] { write_safetensors(path("d.safetensors"), {{"w", torch::ones({1})}, {"w", torch::ones({2})}}); },
               StatusCode::InvalidArgument, "duplicate tensor name 'w'");
  EXPECT_FALSE(fs::exists(path("d.safetensors")));
}

TEST_F(SafetensorsTest, WriterUnsupportedDtype) {
  expect_error(
      [&] {
        write_safetensors(path("c.safetensors"),
                          {{"ok", torch::ones({1})}, {"cplx", torch::ones({2}, torch::kComplexFloat)}});
      },
      StatusCode::InvalidArgument, "tensor 'cplx': unsupported dtype");
  EXPECT_FALSE(fs::exists(path("c.safetensors")));
  EXPECT_FALSE(fs::exists(path("c.safetensors.tmp")));
}

TEST_F(SafetensorsTest, WriterRejectsReservedAndUndefined) {
  expect_error([&] { write_safetensors(path("r.safetensors"), {{"__metadata__", torch::ones({1})}}); },
               StatusCode::InvalidArgument, "'__metadata__' is reserved");
  expect_error([&] { write_safetensors(path("u.safetensors"), {{"undef", torch::Tensor()}}); },
               StatusCode::InvalidArgument, "tensor 'undef'");
}

// ---------------------------------------------------------------- reference fixtures

TEST_F(SafetensorsTest, FixtureQwen2Model) {
  const std::string p = kFixtures + "/hf/qwen2-tiny/model.safetensors";
  if (!fs::exists(p)) GTEST_SKIP() << "no fixtures at " << kFixtures;
  SafetensorsFile f = read_safetensors(p);
  const torch::Tensor* emb = f.find("model.embed_tokens.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->scalar_type(), torch::kFloat);
  EXPECT_EQ(emb->sizes().vec(), (std::vector<int64_t>{512, 64}));
  EXPECT_TRUE(torch::isfinite(*emb).all().item<bool>());
  // Values read independently (Python struct) from the same file.
  EXPECT_EQ(emb->index({0, 0}).item<float>(), static_cast<float>(-0.034144360572099686));
  EXPECT_EQ(emb->index({0, 1}).item<float>(), static_cast<float>(0.0005864112172275782));
  EXPECT_EQ(emb->index({511, 63}).item<float>(), static_cast<float>(-0.010036317631602287));
  ASSERT_EQ(f.metadata.count("format"), 1u);
  EXPECT_EQ(f.metadata.at("format"), "pt");
}

TEST_F(SafetensorsTest, FixtureQwen2Io) {
  const std::string p = kFixtures + "/hf/qwen2-tiny/io.safetensors";
  if (!fs::exists(p)) GTEST_SKIP() << "no fixtures at " << kFixtures;
  SafetensorsFile f = read_safetensors(p);
  const torch::Tensor* ids = f.find("input_ids");
  ASSERT_NE(ids, nullptr);
  EXPECT_EQ(ids->scalar_type(), torch::kLong);
  EXPECT_EQ(ids->sizes().vec(), (std::vector<int64_t>{2, 24}));
  EXPECT_TRUE(torch::equal(ids->index({0, torch::indexing::Slice(0, 3)}), torch::tensor({37, 235, 396}, torch::kLong)));
  EXPECT_EQ(ids->index({1, 0}).item<int64_t>(), 395);
  EXPECT_EQ(ids->sum().item<int64_t>(), 13720);
  EXPECT_GE(ids->min().item<int64_t>(), 0);
  EXPECT_LT(ids->max().item<int64_t>(), 512);
  const torch::Tensor* logits = f.find("logits");
  ASSERT_NE(logits, nullptr);
  EXPECT_EQ(logits->sizes().vec(), (std::vector<int64_t>{2, 24, 512}));
  EXPECT_TRUE(torch::isfinite(*logits).all().item<bool>());
}

// Every fixture file reads, its float tensors are finite, the header-only reader agrees, and io.safetensors
// holds exactly the tensors that fixture.json lists.
TEST_F(SafetensorsTest, AllFixturesRead) {
  const fs::path hf = fs::path(kFixtures) / "hf";
  if (!fs::exists(hf)) GTEST_SKIP() << "no fixtures at " << kFixtures;
  int files = 0;
  for (const auto& model : fs::directory_iterator(hf)) {
    for (const char* name : {"model.safetensors", "io.safetensors"}) {
      const std::string p = (model.path() / name).string();
      if (!fs::exists(p)) continue;
      ++files;
      SafetensorsFile f = read_safetensors(p);
      EXPECT_FALSE(f.tensors.empty()) << p;
      auto shapes = read_safetensors_shapes(p);
      ASSERT_EQ(shapes.size(), f.tensors.size()) << p;
      for (size_t i = 0; i < shapes.size(); ++i) {
        EXPECT_EQ(shapes[i].first, f.tensors[i].first) << p;
        EXPECT_EQ(shapes[i].second, f.tensors[i].second.sizes().vec()) << p;
        const torch::Tensor& t = f.tensors[i].second;
        if (t.is_floating_point()) {
          EXPECT_TRUE(torch::isfinite(t).all().item<bool>()) << p << " " << shapes[i].first;
        }
      }
    }
    const fs::path fj = model.path() / "fixture.json";
    const std::string io = (model.path() / "io.safetensors").string();
    if (fs::exists(fj) && fs::exists(io)) {
      const auto listed = nlohmann::json::parse(read_bytes(fj.string())).at("tensors");
      SafetensorsFile f = read_safetensors(io);
      EXPECT_EQ(f.tensors.size(), listed.size()) << io;
      for (const auto& item : listed.items()) {
        const torch::Tensor* t = f.find(item.key());
        ASSERT_NE(t, nullptr) << io << " lacks " << item.key();
        EXPECT_EQ(t->sizes().vec(), item.value().get<std::vector<int64_t>>()) << item.key();
      }
    }
  }
  EXPECT_GE(files, 2);
}

// ---------------------------------------------------------------- accepted edge cases of the format

TEST_F(SafetensorsTest, AcceptsPaddingZeroSizedTensorsAndAnyKeyOrder) {
  const std::string p = path("ok.safetensors");
  // Keys out of offset order, a zero-sized tensor sharing an offset, whitespace padding.
  write_st(p,
           R"({"b":{"data_offsets":[8,16],"shape":[2],"dtype":"I32"},"z":{"dtype":"F32","shape":[0],"data_offsets":[8,8]},)"
           R"("a":{"dtype":"U8","shape":[2,4],"data_offsets":[0,8]},"__metadata__":{"x":"y"}}   )"
           "\n  ",
           16);
  SafetensorsFile f = read_safetensors(p);
  ASSERT_EQ(f.tensors.size(), 3u);
  EXPECT_EQ(f.tensors[0].first, "a");  // file order
  EXPECT_EQ(f.tensors[1].first, "z");
  EXPECT_EQ(f.tensors[2].first, "b");
  EXPECT_EQ(f.tensors[2].second.scalar_type(), torch::kInt);
  EXPECT_EQ(f.tensors[2].second[0].item<int32_t>(), 0x01010101);
  EXPECT_EQ(f.metadata.at("x"), "y");
}

// ---------------------------------------------------------------- corrupt files, one per defect

TEST_F(SafetensorsTest, MissingFile) {
  const std::string p = path("does_not_exist.safetensors");
  expect_error([&] { read_safetensors(p); }, StatusCode::NotFound, "safetensors file not found: " + p);
  expect_error([&] { read_safetensors_shapes(p); }, StatusCode::NotFound, "safetensors file not found: " + p);
}

TEST_F(SafetensorsTest, PathIsADirectory) {
  expect_error([&] { read_safetensors(dir_.string()); }, StatusCode::Io, "not a regular file");
}

TEST_F(SafetensorsTest, TruncatedFile) {
  const std::string p = path("short.safetensors");
  write_bytes(p, std::string("\x10\x00\x00", 3));
  expect_corrupt(p, "file too short (3 bytes)");
  write_bytes(p, "");
  expect_corrupt(p, "file too short (0 bytes)");
}

TEST_F(SafetensorsTest, HeaderLengthLargerThanFile) {
  const std::string p = path("hlen.safetensors");
  write_bytes(p, le64(1000) + R"({"a":1})");
  expect_corrupt(p, "header length 1000 exceeds the file size");
}

TEST_F(SafetensorsTest, HeaderLengthHuge) {
  const std::string p = path("huge.safetensors");
  write_bytes(p, le64(uint64_t{1} << 62) + "{}");
  expect_corrupt(p, "exceeds the limit of 100000000 bytes");
  write_bytes(p, le64(std::numeric_limits<uint64_t>::max()) + "{}");
  expect_corrupt(p, "exceeds the limit");
}

TEST_F(SafetensorsTest, HeaderNotJson) {
  const std::string p = path("notjson.safetensors");
  write_st(p, R"({"w": {"dtype": "F32", )", 0);
  expect_corrupt(p, "header is not valid JSON");
  write_st(p, "", 0);
  expect_corrupt(p, "header is not valid JSON");
  write_st(p, "{} trailing", 0);
  expect_corrupt(p, "header is not valid JSON");
  write_st(p, "{/* comment */}", 0);
  expect_corrupt(p, "header is not valid JSON");
}

TEST_F(SafetensorsTest, HeaderInvalidUtf8) {
  const std::string p = path("utf8.safetensors");
  write_st(p, "{\"w\xff\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1);
  expect_corrupt(p, "header is not valid JSON");
}

TEST_F(SafetensorsTest, HeaderIsJsonArray) {
  const std::string p = path("array.safetensors");
  write_st(p, R"([{"dtype":"F32","shape":[1],"data_offsets":[0,4]}])", 4);
  expect_corrupt(p, "header is not a JSON object (it is a JSON array)");
}

TEST_F(SafetensorsTest, EntryNotAnObject) {
  const std::string p = path("entry.safetensors");
  write_st(p, R"({"w":[0,4]})", 4);
  expect_corrupt(p, "tensor 'w': entry is a JSON array, not an object");
}

TEST_F(SafetensorsTest, EntryMissingDtype) {
  const std::string p = path("nodtype.safetensors");
  write_st(p, R"({"w":{"shape":[1],"data_offsets":[0,4]}})", 4);
  expect_corrupt(p, "tensor 'w': missing 'dtype'");
}

TEST_F(SafetensorsTest, EntryMissingShape) {
  const std::string p = path("noshape.safetensors");
  write_st(p, R"({"w":{"dtype":"F32","data_offsets":[0,4]}})", 4);
  expect_corrupt(p, "tensor 'w': missing 'shape'");
}

TEST_F(SafetensorsTest, EntryMissingDataOffsets) {
  const std::string p = path("nooffsets.safetensors");
  write_st(p, R"({"w":{"dtype":"F32","shape":[1]}})", 4);
  expect_corrupt(p, "tensor 'w': missing 'data_offsets'");
}

TEST_F(SafetensorsTest, EntryUnknownField) {
  const std::string p = path("extra.safetensors");
  write_st(p, R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"stride":[1]}})", 4);
  expect_corrupt(p, "tensor 'w': unknown field 'stride'");
}

TEST_F(SafetensorsTest, EntryFieldsOfWrongJsonType) {
  const std::string p = path("types.safetensors");
  write_st(p, R"({"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}})", 4);
  expect_corrupt(p, "tensor 'w': 'dtype' is a JSON integer, not a string");
  write_st(p, R"({"w":{"dtype":"F32","shape":"1","data_offsets":[0,4]}})", 4);
  expect_corrupt(p, "tensor 'w': 'shape' is a JSON string, not an array");
  write_st(p, R"({"w":{"dtype":"F32","shape":[1],"data_offsets":{"a":0}}})", 4);
  expect_corrupt(p, "tensor 'w': 'data_offsets' is a JSON object, not an array");
  write_st(p, R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}})", 8);
  expect_corrupt(p, "tensor 'w': 'data_offsets' has 3 elements, not 2");
  write_st(p, R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}})", 4);
  expect_corrupt(p, "tensor 'w': 'data_offsets' must be two non-negative integers");
  write_st(p, R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,4]}})", 4);
  expect_corrupt(p, "tensor 'w': 'data_offsets' must be two non-negative integers");
}

TEST_F(SafetensorsTest, UnknownDtype) {
  const std::string p = path("dtype.safetensors");
  write_st(p, R"({"w":{"dtype":"F99","shape":[1],"data_offsets":[0,4]}})", 4);
  expect_corrupt(p, "tensor 'w': unsupported dtype 'F99'");
  write_st(p, R"({"w":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}})", 4);
  expect_corrupt(p, "tensor 'w': unsupported dtype 'f32'");
}

TEST_F(SafetensorsTest, NegativeDimension) {
  const std::string p = path("negdim.safetensors");
  write_st(p, R"({"w":{"dtype":"F32","shape":[2,-2],"data_offsets":[0,16]}})", 16);
  expect_corrupt(p, "tensor 'w': negative dimension -2 in shape");
}

TEST_F(SafetensorsTest, NonIntegerDimension) {
  const std::string p = path("floatdim.safetensors");
  write_st(p, R"({"w":{"dtype":"F32","shape":[2.0,2],"data_offsets":[0,16]}})", 16);
  expect_corrupt(p, "tensor 'w': shape dimension is a JSON float, not a non-negative integer");
  write_st(p, R"({"w":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}})", 8);
  expect_corrupt(p, "tensor 'w': shape dimension is a JSON string");
}

TEST_F(SafetensorsTest, ShapeOverflow) {
  const std::string p = path("overflow.safetensors");
  // 2^32 * 2^32 elements overflows 64 bits; must not wrap around to a small size.
  write_st(p, R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", 0);
  expect_corrupt(p, "tensor 'w': shape [4294967296, 4294967296] has too many elements");
  // numel fits but numel * 8 bytes does not.
  write_st(p, R"({"w":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,0]}})", 0);
  expect_corrupt(p, "tensor 'w': F64 [4611686018427387904] is too large");
  write_st(p, R"({"w":{"dtype":"U8","shape":[18446744073709551615],"data_offsets":[0,0]}})", 0);
  expect_corrupt(p, "tensor 'w': shape dimension 18446744073709551615 is too large");
}

TEST_F(SafetensorsTest, OffsetsOutOfRange) {
  const std::string p = path("range.safetensors");
  write_st(p, R"({"w":{"dtype":"F32","shape":[16],"data_offsets":[0,64]}})", 16);
  expect_corrupt(p, "tensor 'w': data_offsets [0, 64) lie outside the data area of 16 bytes");
  write_st(p, R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", 8);
  expect_corrupt(p, "tensor 'w': data_offsets [8, 4): begin is after end");
}

TEST_F(SafetensorsTest, SizeMismatchWithShape) {
  const std::string p = path("mismatch.safetensors");
  write_st(p, R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})", 12);
  expect_corrupt(p, "tensor 'w': data_offsets [0, 12) but F32 [2, 2] needs 16 bytes");
  write_st(p, R"({"w":{"dtype":"BF16","shape":[],"data_offsets":[0,4]}})", 4);
  expect_corrupt(p, "tensor 'w': data_offsets [0, 4) but BF16 [] needs 2 bytes");
}

TEST_F(SafetensorsTest, OverlappingTensors) {
  const std::string p = path("overlap.safetensors");
  write_st(p,
           R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
           R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
           12);
  expect_corrupt(p, "tensors 'a' [0, 8) and 'b' [4, 12) overlap");
  // Same range twice.
  write_st(p,
           R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
           R"("b":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}})",
           8);
  expect_corrupt(p, "overlap");
}

TEST_F(SafetensorsTest, GapInDataArea) {
  const std::string p = path("gap.safetensors");
  write_st(p,
           R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
           R"("b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})",
           20);
  expect_corrupt(p, "gap in the data area: bytes [8, 12) before tensor 'b' belong to no tensor");
  // Leading gap.
  write_st(p, R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})", 4);
  expect_corrupt(p, "gap in the data area: bytes [0, 2) before tensor 'a'");
}

TEST_F(SafetensorsTest, TrailingGarbageAfterData) {
  const std::string p = path("trailing.safetensors");
  write_st(p, R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 11);
  expect_corrupt(p, "unclaimed bytes in the data area: bytes [8, 11) after the last tensor");
  // A header with no tensors but data after it.
  write_st(p, R"({"__metadata__":{"a":"b"}})", 3);
  expect_corrupt(p, "unclaimed bytes");
}

TEST_F(SafetensorsTest, DuplicateTensorName) {
  const std::string p = path("dup.safetensors");
  write_st(p,
           R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
           R"("w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
           8);
  expect_corrupt(p, "duplicate tensor name 'w'");
}

TEST_F(SafetensorsTest, DuplicateKeysInsideEntriesAndMetadata) {
  const std::string p = path("dupkey.safetensors");
  write_st(p, R"({"w":{"dtype":"F32","dtype":"I32","shape":[1],"data_offsets":[0,4]}})", 4);
  expect_corrupt(p, "tensor 'w': duplicate field 'dtype'");
  write_st(p, R"({"__metadata__":{"k":"1","k":"2"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4);
  expect_corrupt(p, "__metadata__: duplicate key 'k'");
  write_st(p, R"({"__metadata__":{},"__metadata__":{}})", 0);
  expect_corrupt(p, "duplicate '__metadata__'");
}

TEST_F(SafetensorsTest, NonStringMetadataValue) {
  const std::string p = path("meta.safetensors");
  write_st(p, R"({"__metadata__":{"format":"pt","epoch":3},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4);
  expect_corrupt(p, "__metadata__: value of 'epoch' is a JSON integer, not a string");
  write_st(p, R"({"__metadata__":["pt"]})", 0);
  expect_corrupt(p, "__metadata__ is a JSON array, not an object");
}

TEST_F(SafetensorsTest, InvalidBoolByte) {
  const std::string p = path("bool.safetensors");
  const std::string header = R"({"b":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}})";
  write_bytes(p, le64(header.size()) + header + std::string("\x00\x01\x02", 3));
  expect_error([&] { read_safetensors(p); }, StatusCode::Io, "tensor 'b': BOOL byte 2 is neither 0 nor 1");
}
