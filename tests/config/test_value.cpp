// tests/config/test_value.cpp: memtx::Value (types, checked accessors, flow text) and value_type_name.
#include "helpers.hpp"

using memtx::StatusCode;
using memtx::Value;
using memtx::ValueType;
using memtx_test::error_of;

TEST(ConfigValue, TypesAndAccessors) {
  EXPECT_TRUE(Value().is_null());
  EXPECT_EQ(Value().type(), ValueType::Null);
  EXPECT_EQ(Value(true).type(), ValueType::Bool);
  EXPECT_EQ(Value(3).type(), ValueType::Int);
  EXPECT_EQ(Value(int64_t{3}).type(), ValueType::Int);
  EXPECT_EQ(Value(0.5).type(), ValueType::Float);
  EXPECT_EQ(Value("x").type(), ValueType::String);
  EXPECT_EQ(Value(std::vector<int64_t>{1}).type(), ValueType::IntList);
  EXPECT_EQ(Value(std::vector<std::string>{"a"}).type(), ValueType::StringList);

  EXPECT_TRUE(Value(true).as_bool());
  EXPECT_EQ(Value(7).as_int(), 7);
  EXPECT_DOUBLE_EQ(Value(0.25).as_float(), 0.25);
  EXPECT_DOUBLE_EQ(Value(4).as_float(), 4.0);  // as_float accepts an int
  EXPECT_EQ(Value("abc").as_string(), "abc");
  EXPECT_EQ(Value(std::vector<int64_t>{1, 2}).as_int_list(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(Value(std::vector<std::string>{"a", "b"}).as_string_list(), (std::vector<std::string>{"a", "b"}));

  std::string msg = error_of([] { Value("abc").as_int(); });
  EXPECT_CONTAINS(msg, "value type mismatch: wanted int, got string 'abc'");
  error_of([] { Value(0.5).as_int(); });
  error_of([] { Value(1).as_bool(); });
  error_of([] { Value().as_string(); });
  error_of([] { Value(true).as_float(); });
  error_of([] { Value("a").as_string_list(); });
  error_of([] { Value(std::vector<std::string>{}).as_int_list(); });
}

TEST(ConfigValue, Equality) {
  EXPECT_EQ(Value(1), Value(int64_t{1}));
  EXPECT_NE(Value(1), Value(1.0));
  EXPECT_NE(Value("1"), Value(1));
  EXPECT_EQ(Value(), Value());
}

TEST(ConfigValue, ToStringIsYamlFlowText) {
  EXPECT_EQ(Value().to_string(), "null");
  EXPECT_EQ(Value(true).to_string(), "true");
  EXPECT_EQ(Value(false).to_string(), "false");
  EXPECT_EQ(Value(12).to_string(), "12");
  EXPECT_EQ(Value(-3).to_string(), "-3");
  EXPECT_EQ(Value(0.5).to_string(), "0.5");
  EXPECT_EQ(Value(10000.0).to_string(), "10000.0");
  EXPECT_EQ(Value(1e-6).to_string(), "1e-6");
  EXPECT_EQ(Value(1e-4).to_string(), "1e-4");
  EXPECT_EQ(Value(1e20).to_string(), "1e+20");
  EXPECT_EQ(Value(1.5e-10).to_string(), "1.5e-10");
  EXPECT_EQ(Value(0.1).to_string(), "0.1");
  EXPECT_EQ(Value("text").to_string(), "text");
  EXPECT_EQ(Value("models/Qwen2.5-1.5B").to_string(), "models/Qwen2.5-1.5B");
  EXPECT_EQ(Value("true").to_string(), "\"true\"");  // would read back as a bool
  EXPECT_EQ(Value("null").to_string(), "\"null\"");
  EXPECT_EQ(Value("12").to_string(), "\"12\"");
  EXPECT_EQ(Value("").to_string(), "\"\"");
  EXPECT_EQ(Value("a: b").to_string(), "\"a: b\"");
  EXPECT_EQ(Value(std::vector<std::string>{"a", "b"}).to_string(), "[a, b]");
  EXPECT_EQ(Value(std::vector<std::string>{"a,b"}).to_string(), "[\"a,b\"]");
  EXPECT_EQ(Value(std::vector<int64_t>{0, 1, 5}).to_string(), "[0, 1, 5]");
  EXPECT_EQ(Value(std::vector<int64_t>{}).to_string(), "[]");
}

TEST(ConfigValue, TypeNames) {
  EXPECT_STREQ(memtx::value_type_name(ValueType::Null), "null");
  EXPECT_STREQ(memtx::value_type_name(ValueType::Bool), "bool");
  EXPECT_STREQ(memtx::value_type_name(ValueType::Int), "int");
  EXPECT_STREQ(memtx::value_type_name(ValueType::Float), "float");
  EXPECT_STREQ(memtx::value_type_name(ValueType::String), "string");
  EXPECT_STREQ(memtx::value_type_name(ValueType::IntList), "list of int");
  EXPECT_STREQ(memtx::value_type_name(ValueType::StringList), "list of string");
}
