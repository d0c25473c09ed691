// Safetensors reading: real fixture shards, and hand-made bad files that must be refused
// with one line naming the file and the problem, before any data is read.
#include <gtest/gtest.h>

#include <cstring>

#include "simd/error.h"
#include "quant/safetensors.h"
#include "tests/test_support.h"

namespace dsinfer {
namespace {

std::string st_file(const std::string& header_json, const std::string& data) {
  std::string out(8, '\0');
  uint64_t n = header_json.size();
  for (int i = 0; i < 8; ++i) out[size_t(i)] = char((n >> (8 * i)) & 0xFF);
  return out + header_json + data;
}

// The error message of opening `bytes` as a safetensors file.
std::string open_error(const std::string& bytes) {
  test::TempDir d;
  test::write_file(d.file("m.safetensors"), bytes);
  try {
    SafetensorsFile f(d.file("m.safetensors"));
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("m.safetensors"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
    return msg;
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(Safetensors, OpensShardedFixture) {
  SafetensorsCheckpoint c(test::fixture("tiny-v3-fp8"));
  const StTensor* t = c.find("model.layers.1.self_attn.kv_b_proj.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->dtype, DType::F8_E4M3);
  const StTensor* s = c.find("model.layers.1.self_attn.kv_b_proj.weight_scale_inv");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->dtype, DType::F32);
  // kv_b: [H*(nope+v), r_kv] = [4*128, 160] -> scale [4, 2] (a partial block on the right)
  EXPECT_EQ(s->shape, (std::vector<int64_t>{4, 2}));
  EXPECT_NE(c.find("model.layers.3.eh_proj.weight"), nullptr);
  EXPECT_EQ(c.find("no.such.tensor"), nullptr);
}

TEST(Safetensors, ReadsValues) {
  std::string data(8, '\0');
  const float v[2] = {1.5f, -3.0f};
  std::memcpy(data.data(), v, 8);
  test::TempDir d;
  test::write_file(d.file("x.safetensors"),
                   st_file(R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", data));
  SafetensorsFile f(d.file("x.safetensors"));
  const StTensor* a = f.find("a");
  ASSERT_NE(a, nullptr);
  float got[2];
  std::memcpy(got, a->data, 8);
  EXPECT_EQ(got[0], 1.5f);
  EXPECT_EQ(got[1], -3.0f);
}

TEST(Safetensors, TooShortForHeaderLength) {
  EXPECT_NE(open_error("abc").find("truncated"), std::string::npos);
}

TEST(Safetensors, HeaderLongerThanFile) {
  std::string b = st_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", "xxxx");
  b[0] = char(0xF0);  // claims a longer header than the file holds
  EXPECT_NE(open_error(b).find("past the end of the file"), std::string::npos);
}

TEST(Safetensors, HeaderAboveLimit) {
  std::string b(16, '\0');
  b[5] = 0x10;  // 2^44 bytes
  EXPECT_NE(open_error(b).find("100 MB"), std::string::npos);
}

TEST(Safetensors, MalformedJson) {
  EXPECT_NE(open_error(st_file(R"({"a":{"dtype":)", "")).find("not valid JSON"), std::string::npos);
}

// nlohmann reports a number past double's range as out_of_range, not parse_error.
TEST(Safetensors, NumberPastDoubleRangeIsNotValidJson) {
  EXPECT_NE(open_error(st_file(R"({"__metadata__": {"n": 1E400}})", "")).find("not valid JSON"), std::string::npos);
  test::TempDir d;
  test::copy_dir(test::fixture("tiny-v2lite-bf16"), d.path());
  test::write_file(d.file("model.safetensors.index.json"), R"({"metadata": {"total_size": 1E400}, "weight_map": {}})");
  try {
    SafetensorsCheckpoint c(d.path());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.safetensors.index.json: not valid JSON"), std::string::npos) << e.what();
  }
}

TEST(Safetensors, OffsetsPastEnd) {
  const std::string msg = open_error(st_file(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", "xxxxxxxx"));
  EXPECT_NE(msg.find("'a'"), std::string::npos);
  EXPECT_NE(msg.find("past the end"), std::string::npos);
}

TEST(Safetensors, DtypeShapeMismatch) {
  const std::string msg = open_error(st_file(R"({"a":{"dtype":"BF16","shape":[3],"data_offsets":[0,8]}})", "xxxxxxxx"));
  EXPECT_NE(msg.find("needs 6 bytes"), std::string::npos) << msg;
}

TEST(Safetensors, UnknownDtype) {
  EXPECT_NE(open_error(st_file(R"({"a":{"dtype":"F7","shape":[1],"data_offsets":[0,1]}})", "x")).find("unknown dtype"),
            std::string::npos);
}

TEST(Safetensors, OverlappingTensors) {
  const std::string msg = open_error(st_file(
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
      std::string(12, 'x')));
  EXPECT_NE(msg.find("overlap"), std::string::npos) << msg;
}

TEST(Safetensors, TruncatedShardOfCheckpoint) {
  test::TempDir d;
  test::copy_dir(test::fixture("tiny-v3-fp8"), d.path());
  const std::string shard = d.file("model-00002-of-00004.safetensors");
  const std::string b = test::read_file(shard);
  test::write_file(shard, b.substr(0, b.size() / 2));
  try {
    SafetensorsCheckpoint c(d.path());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model-00002-of-00004.safetensors"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("past the end"), std::string::npos) << e.what();
  }
}

TEST(Safetensors, IndexNamesMissingTensor) {
  test::TempDir d;
  test::copy_dir(test::fixture("tiny-v2lite-bf16"), d.path());
  std::string idx = test::read_file(d.file("model.safetensors.index.json"));
  size_t p = idx.find("\"weight_map\"");
  ASSERT_NE(p, std::string::npos);
  p = idx.find('{', p);
  idx.insert(p + 1, "\"model.layers.9.ghost.weight\": \"model-00001-of-00004.safetensors\", ");
  test::write_file(d.file("model.safetensors.index.json"), idx);
  try {
    SafetensorsCheckpoint c(d.path());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.layers.9.ghost.weight"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dsinfer
