// GgufWriter -> GgufFile round trips: every metadata type, arrays of each (empty ones, strings,
// arrays of arrays), tensors of several types at alignments 32 and 4096, chunked writing, and
// the exact bytes of a small file derived by hand from the format.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "quant/block_quantize.h"
#include "quant/gguf_reader.h"
#include "quant/gguf_writer.h"
#include "tests/quant/gguf/gguf_bytes.h"
#include "tests/test_support.h"

namespace dsinfer {
namespace {

uint64_t align_up(uint64_t n, uint64_t a) { return (n + a - 1) / a * a; }

TEST(GgufRoundTrip, EveryScalarType) {
  test::TempDir dir;
  const std::string path = dir.file("m.gguf");
  const std::string with_nul("a\0b", 3);
  {
    GgufWriter w(path);
    w.set_u8("t.u8", 255);
    w.set_i8("t.i8", -128);
    w.set_u16("t.u16", 65535);
    w.set_i16("t.i16", -32768);
    w.set_u32("t.u32", 0xFFFFFFFFu);
    w.set_i32("t.i32", std::numeric_limits<int32_t>::min());
    w.set_u64("t.u64", std::numeric_limits<uint64_t>::max());
    w.set_i64("t.i64", std::numeric_limits<int64_t>::min());
    w.set_f32("t.f32", -1.5e-40f);  // subnormal
    w.set_f64("t.f64", 3.141592653589793);
    w.set_bool("t.true", true);
    w.set_bool("t.false", false);
    w.set_string("t.str", "DeepSeek-V3 \xE6\xB7\xB1\xE5\xBA\xA6");  // UTF-8
    w.set_string("t.nul", with_nul);
    w.set_string("t.empty", "");
    w.finish();
  }
  GgufFile f(path);
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.find("t.u8")->type(), GgufType::U8);
  EXPECT_EQ(f.get<uint8_t>("t.u8"), 255);
  EXPECT_EQ(f.find("t.i8")->type(), GgufType::I8);
  EXPECT_EQ(f.get<int8_t>("t.i8"), -128);
  EXPECT_EQ(f.find("t.u16")->type(), GgufType::U16);
  EXPECT_EQ(f.get<uint16_t>("t.u16"), 65535);
  EXPECT_EQ(f.find("t.i16")->type(), GgufType::I16);
  EXPECT_EQ(f.get<int16_t>("t.i16"), -32768);
  EXPECT_EQ(f.find("t.u32")->type(), GgufType::U32);
  EXPECT_EQ(f.get_u32("t.u32"), 0xFFFFFFFFu);
  EXPECT_EQ(f.find("t.i32")->type(), GgufType::I32);
  EXPECT_EQ(f.get_i32("t.i32"), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(f.find("t.u64")->type(), GgufType::U64);
  EXPECT_EQ(f.get_u64("t.u64"), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(f.find("t.i64")->type(), GgufType::I64);
  EXPECT_EQ(f.get_i64("t.i64"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(f.find("t.f32")->type(), GgufType::F32);
  EXPECT_EQ(f.get_f32("t.f32"), -1.5e-40f);
  EXPECT_EQ(f.find("t.f64")->type(), GgufType::F64);
  EXPECT_EQ(f.get_f64("t.f64"), 3.141592653589793);
  EXPECT_EQ(f.find("t.true")->type(), GgufType::BOOL);
  EXPECT_TRUE(f.get_bool("t.true"));
  EXPECT_FALSE(f.get_bool("t.false"));
  EXPECT_EQ(f.find("t.str")->type(), GgufType::STRING);
  EXPECT_EQ(f.get_string("t.str"), "DeepSeek-V3 \xE6\xB7\xB1\xE5\xBA\xA6");
  EXPECT_EQ(f.get_string("t.nul"), with_nul);
  EXPECT_EQ(f.get_string("t.empty"), "");

  // Lenient integer getters: any integer type whose value fits.
  EXPECT_EQ(f.get_i64("t.u32"), 0xFFFFFFFFll);
  EXPECT_EQ(f.get_u32("t.u8"), 255u);
  EXPECT_EQ(f.get_f64("t.f32"), double(-1.5e-40f));

  // File order: the writer's general.alignment first, then as set.
  ASSERT_EQ(f.metadata().size(), 16u);
  EXPECT_EQ(f.metadata()[0].key, "general.alignment");
  EXPECT_EQ(f.metadata()[1].key, "t.u8");
  EXPECT_EQ(f.metadata()[15].key, "t.empty");
  EXPECT_EQ(f.tensors().size(), 0u);
}

TEST(GgufRoundTrip, ArraysOfEveryType) {
  test::TempDir dir;
  const std::string path = dir.file("m.gguf");
  const std::vector<uint8_t> u8 = {0, 1, 255};
  const std::vector<int8_t> i8 = {-128, 0, 127};
  const std::vector<uint16_t> u16 = {0, 65535};
  const std::vector<int16_t> i16 = {-32768, 32767};
  const std::vector<uint32_t> u32 = {0, 129279, 0xFFFFFFFFu};
  const std::vector<int32_t> i32 = {1, 3, -1, std::numeric_limits<int32_t>::min()};
  const std::vector<uint64_t> u64 = {std::numeric_limits<uint64_t>::max(), 7};
  const std::vector<int64_t> i64 = {std::numeric_limits<int64_t>::min(), -2};
  const std::vector<float> f32 = {0.5f, -0.0f, 1e30f, std::numeric_limits<float>::denorm_min()};
  const std::vector<double> f64 = {1e-300, -2.5};
  const std::vector<bool> b = {true, false, true};
  const std::vector<std::string> s = {"<\xEF\xBD\x9C" "begin\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>", "",
                                      "\xC4\xA0t", std::string("x\0y", 3)};
  const std::vector<std::string_view> sv = {"\xC4\xA0 t", "i n"};
  {
    GgufWriter w(path, 4096);
    w.set_array("a.u8", u8);
    w.set_array("a.i8", i8);
    w.set_array("a.u16", u16);
    w.set_array("a.i16", i16);
    w.set_array("a.u32", u32);
    w.set_array("a.i32", i32);
    w.set_array("a.u64", u64);
    w.set_array("a.i64", i64);
    w.set_array("a.f32", f32);
    w.set_array("a.f64", f64);
    w.set_array("a.bool", b);
    w.set_array("a.str", s);
    w.set_array("a.sv", sv);
    w.set_array("a.empty_u8", std::vector<uint8_t>{});
    w.set_array("a.empty_str", std::vector<std::string>{});
    w.set_array("a.empty_f32", std::vector<float>{});
    w.finish();
  }
  GgufFile f(path);
  auto elem = [&](const char* k) {
    const GgufValue* v = f.find(k);
    EXPECT_TRUE(v && v->is_array()) << k;
    return v ? v->elem_type() : GgufType::ARRAY;
  };
  EXPECT_EQ(elem("a.u8"), GgufType::U8);
  EXPECT_EQ(f.get_array<uint8_t>("a.u8"), u8);
  EXPECT_EQ(elem("a.i8"), GgufType::I8);
  EXPECT_EQ(f.get_array<int8_t>("a.i8"), i8);
  EXPECT_EQ(elem("a.u16"), GgufType::U16);
  EXPECT_EQ(f.get_array<uint16_t>("a.u16"), u16);
  EXPECT_EQ(elem("a.i16"), GgufType::I16);
  EXPECT_EQ(f.get_array<int16_t>("a.i16"), i16);
  EXPECT_EQ(elem("a.u32"), GgufType::U32);
  EXPECT_EQ(f.get_array<uint32_t>("a.u32"), u32);
  EXPECT_EQ(elem("a.i32"), GgufType::I32);
  EXPECT_EQ(f.get_array<int32_t>("a.i32"), i32);
  EXPECT_EQ(elem("a.u64"), GgufType::U64);
  EXPECT_EQ(f.get_array<uint64_t>("a.u64"), u64);
  EXPECT_EQ(elem("a.i64"), GgufType::I64);
  EXPECT_EQ(f.get_array<int64_t>("a.i64"), i64);
  EXPECT_EQ(elem("a.f32"), GgufType::F32);
  const auto f32r = f.get_floats("a.f32");
  ASSERT_EQ(f32r.size(), f32.size());
  for (size_t i = 0; i < f32.size(); ++i) EXPECT_EQ(std::bit_cast<uint32_t>(f32r[i]), std::bit_cast<uint32_t>(f32[i]));
  EXPECT_EQ(elem("a.f64"), GgufType::F64);
  EXPECT_EQ(f.get_array<double>("a.f64"), f64);
  EXPECT_EQ(elem("a.bool"), GgufType::BOOL);
  EXPECT_EQ(f.get_array<bool>("a.bool"), b);
  EXPECT_EQ(elem("a.str"), GgufType::STRING);
  const auto& sr = f.get_strings("a.str");
  ASSERT_EQ(sr.size(), s.size());
  for (size_t i = 0; i < s.size(); ++i) EXPECT_EQ(sr[i], s[i]);
  EXPECT_EQ(f.get_strings("a.sv"), sv);
  EXPECT_EQ(f.find("a.empty_u8")->size(), 0u);
  EXPECT_EQ(elem("a.empty_u8"), GgufType::U8);
  EXPECT_TRUE(f.get_strings("a.empty_str").empty());
  EXPECT_EQ(elem("a.empty_str"), GgufType::STRING);
  EXPECT_TRUE(f.get_floats("a.empty_f32").empty());

  // Integer arrays of any integer type convert when every element fits.
  EXPECT_EQ(f.get_ints("a.i32"), (std::vector<int64_t>{1, 3, -1, std::numeric_limits<int32_t>::min()}));
  EXPECT_EQ(f.get_ints("a.u32"), (std::vector<int64_t>{0, 129279, 0xFFFFFFFFll}));
  EXPECT_EQ(f.find("a.u64")->get_array<int64_t>(), std::nullopt);  // 2^64-1 does not fit
  EXPECT_EQ(f.find("a.f64")->get_array<float>(), (std::vector<float>{float(1e-300), -2.5f}));  // narrowed
}

// Arrays of arrays cannot be written from C++ values; they come from a hand-made file, are
// copied with set_value (as a GGUF -> GGUF re-quantizer copies metadata) and read back.
TEST(GgufRoundTrip, ArraysOfArraysThroughSetValue) {
  test::TempDir dir;
  test::GgufBytes b;
  b.header(0, 2);
  b.str("nested").u32(9).u32(9).u64(2);          // array of 2 arrays
  b.u32(4).u64(2).u32(7).u32(8);                 //   [u32 7, 8]
  b.u32(8).u64(1).str("deep");                   //   ["deep"]
  b.str("name").u32(8).str("tiny");
  test::write_file(dir.file("in.gguf"), b.bytes);
  GgufFile in(dir.file("in.gguf"));
  {
    GgufWriter w(dir.file("out.gguf"));
    for (const GgufKv& kv : in.metadata()) w.set_value(kv.key, kv.value);
    w.finish();
  }
  GgufFile f(dir.file("out.gguf"));
  const GgufValue* v = f.find("nested");
  ASSERT_NE(v, nullptr);
  ASSERT_EQ(v->elem_type(), GgufType::ARRAY);
  ASSERT_NE(v->arrays(), nullptr);
  ASSERT_EQ(v->arrays()->size(), 2u);
  EXPECT_EQ((*v->arrays())[0].get_array<uint32_t>(), (std::vector<uint32_t>{7, 8}));
  ASSERT_NE((*v->arrays())[1].strings(), nullptr);
  EXPECT_EQ((*v->arrays())[1].strings()->at(0), "deep");
  EXPECT_EQ(v->to_string(), "[[7, 8], ['deep']]");
  EXPECT_EQ(f.get_string("name"), "tiny");
  EXPECT_EQ(f.get_u32("general.alignment"), 32u);
}

TEST(GgufRoundTrip, ValueDisplay) {
  test::TempDir dir;
  {
    GgufWriter w(dir.file("m.gguf"));
    w.set_f32("f", 0.1f);
    w.set_i32("i", -7);
    w.set_string("s", "line\nbreak");
    w.set_array("a", std::vector<uint32_t>{1, 2, 3, 4, 5});
    w.finish();
  }
  GgufFile f(dir.file("m.gguf"));
  EXPECT_EQ(f.find("f")->to_string(), "0.1");
  EXPECT_EQ(f.find("i")->to_string(), "-7");
  EXPECT_EQ(f.find("s")->to_string(), "'line\\x0abreak'");
  EXPECT_EQ(f.find("a")->to_string(3), "[1, 2, 3, ...]");
}

struct Spec {
  std::string name;
  DType type;
  std::vector<int64_t> ne;
};

// Deterministic bytes for a tensor: what a writer would put there is irrelevant to the format.
std::string tensor_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = char(rng() & 0xFF);
  return s;
}

void round_trip_tensors(uint32_t alignment) {
  test::TempDir dir;
  const std::string path = dir.file("t.gguf");
  const std::vector<Spec> specs = {
      {"token_embd.weight", DType::Q4_0, {64, 10}},
      {"output_norm.weight", DType::F32, {64}},
      {"blk.0.attn_norm.weight", DType::F16, {7}},  // 14 bytes: padding follows
      {"blk.0.ffn_gate_inp.weight", DType::BF16, {64, 4}},
      {"blk.0.attn_kv_a_mqa.weight", DType::Q8_0, {96, 3}},
      {"blk.0.ffn_up_exps.weight", DType::Q4_0, {64, 8, 4}},
      {"blk.0.attn_k_b.weight", DType::Q8_0, {32, 16, 2, 1}},
      {"blk.0.foreign.weight", DType::Q4_K, {256, 2}},
      {"blk.0.ids", DType::I32, {5}},
  };
  std::vector<std::string> data;
  {
    GgufWriter w(path, alignment);
    w.set_string("general.architecture", "deepseek2");
    for (const Spec& s : specs) w.add_tensor(s.name, s.type, s.ne);
    for (size_t i = 0; i < specs.size(); ++i) data.push_back(tensor_bytes(w.tensor_nbytes(specs[i].name), uint32_t(i)));
    EXPECT_EQ(w.data_offset() % alignment, 0u);
    const uint64_t expected_size = w.file_size();
    for (size_t i = 0; i < specs.size(); ++i) {
      if (specs[i].ne.size() == 3) {  // stacked experts: written expert by expert
        const size_t per = data[i].size() / size_t(specs[i].ne[2]);
        w.begin_tensor(specs[i].name);
        for (int64_t e = 0; e < specs[i].ne[2]; ++e) w.append(data[i].data() + size_t(e) * per, per);
        w.end_tensor();
      } else {
        w.write_tensor_data(specs[i].name, data[i].data(), data[i].size());
      }
    }
    w.finish();
    EXPECT_EQ(test::read_file(path).size(), expected_size);
  }
  GgufFile f(path);
  EXPECT_EQ(f.alignment(), alignment);
  EXPECT_EQ(f.get_u32("general.alignment"), alignment);
  EXPECT_EQ(f.data_offset() % alignment, 0u);
  ASSERT_EQ(f.tensors().size(), specs.size());
  uint64_t expect_offset = 0;  // llama.cpp's layout: declaration order, each padded to the alignment
  for (size_t i = 0; i < specs.size(); ++i) {
    const GgufTensor& t = f.tensors()[i];
    EXPECT_EQ(t.name, specs[i].name);
    EXPECT_EQ(&f.tensor(specs[i].name), &t);
    EXPECT_EQ(t.type, specs[i].type);
    ASSERT_EQ(t.n_dims, specs[i].ne.size());
    for (size_t d = 0; d < 4; ++d) EXPECT_EQ(t.ne[d], d < specs[i].ne.size() ? specs[i].ne[d] : 1);
    EXPECT_EQ(t.offset, expect_offset) << t.name;
    EXPECT_EQ(t.offset % alignment, 0u);
    EXPECT_EQ(t.file_offset, f.data_offset() + t.offset);
    EXPECT_EQ(t.file_offset % alignment, 0u);
    EXPECT_EQ(t.data, f.file_data() + t.file_offset);
    EXPECT_EQ(t.nbytes, dtype_row_bytes(t.type, uint64_t(t.ne[0])) * uint64_t(t.nrows()));
    ASSERT_EQ(t.nbytes, data[i].size());
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(t.data), t.nbytes), data[i]) << t.name;
    expect_offset += align_up(t.nbytes, alignment);
  }
  EXPECT_EQ(f.file_size(), f.data_offset() + expect_offset);
  EXPECT_EQ(f.tensor("blk.0.ffn_up_exps.weight").shape_str(), "[64, 8, 4]");
  EXPECT_EQ(f.tensor("token_embd.weight").nbytes, 10u * 2 * 18);
  EXPECT_EQ(f.tensor("blk.0.attn_norm.weight").nbytes, 14u);
}

TEST(GgufRoundTrip, TensorsAlignment32) { round_trip_tensors(32); }

TEST(GgufRoundTrip, TensorsPageAligned) { round_trip_tensors(4096); }

TEST(GgufRoundTrip, QuantizedWeightsReadBack) {
  test::TempDir dir;
  std::mt19937 rng(9);
  std::normal_distribution<float> g(0.0f, 0.05f);
  std::vector<float> x(128 * 3);
  for (float& v : x) v = g(rng);
  std::vector<BlockQ4_0> q4(x.size() / 32);
  std::vector<BlockQ8_0> q8(x.size() / 32);
  quantize_row_q4_0_mse(x.data(), q4.data(), int64_t(x.size()));
  quantize_row_q8_0(x.data(), q8.data(), int64_t(x.size()));
  {
    GgufWriter w(dir.file("q.gguf"), 4096);
    w.add_tensor("w4", DType::Q4_0, {128, 3});
    w.add_tensor("w8", DType::Q8_0, {128, 3});
    w.write_tensor_data("w4", q4.data(), q4.size() * sizeof q4[0]);
    w.write_tensor_data("w8", q8.data(), q8.size() * sizeof q8[0]);
    w.finish();
  }
  GgufFile f(dir.file("q.gguf"));
  std::vector<float> a(x.size()), b(x.size());
  dequantize_row_q4_0(q4.data(), a.data(), int64_t(x.size()));
  // Page-aligned data: the blocks can be used in place.
  dequantize_row_q4_0(reinterpret_cast<const BlockQ4_0*>(f.tensor("w4").data), b.data(), int64_t(x.size()));
  EXPECT_EQ(a, b);
  dequantize_row_q8_0(q8.data(), a.data(), int64_t(x.size()));
  dequantize_row_q8_0(reinterpret_cast<const BlockQ8_0*>(f.tensor("w8").data), b.data(), int64_t(x.size()));
  EXPECT_EQ(a, b);
}

// The whole file of one F32 tensor of 8 elements, byte by byte from the format:
//   "GGUF", version 3 (u32), 1 tensor (u64), 2 metadata entries (u64)
//   key "general.alignment" (u64 length 17 + bytes), type 4 (u32), value 32 (u32)
//   key "a" (u64 1 + 'a'), type 6 = f32, value 2.0f = 0x40000000
//   tensor "w" (u64 1 + 'w'), n_dims 1 (u32), ne0 8 (i64), type 0 = F32 (u32), offset 0 (u64)
//   zeros up to a multiple of 32, then 32 bytes of data (already a multiple of 32).
TEST(GgufRoundTrip, ExactBytesOfASmallFile) {
  test::TempDir dir;
  const float data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  {
    GgufWriter w(dir.file("x.gguf"));
    w.set_f32("a", 2.0f);
    w.add_tensor("w", DType::F32, {8});
    w.write_tensor_data("w", data, sizeof data);
    w.finish();
  }
  std::string e;
  auto u32 = [&](uint32_t v) { for (int i = 0; i < 4; ++i) e.push_back(char((v >> (8 * i)) & 0xFF)); };
  auto u64 = [&](uint64_t v) { for (int i = 0; i < 8; ++i) e.push_back(char((v >> (8 * i)) & 0xFF)); };
  e += "GGUF";
  u32(3);
  u64(1);
  u64(2);
  u64(17);
  e += "general.alignment";
  u32(4);
  u32(32);
  u64(1);
  e += "a";
  u32(6);
  u32(0x40000000);
  u64(1);
  e += "w";
  u32(1);
  u64(8);
  u32(0);
  u64(0);
  ASSERT_EQ(e.size(), 4u + 4 + 8 + 8 + (8 + 17 + 4 + 4) + (8 + 1 + 4 + 4) + (8 + 1 + 4 + 8 + 4 + 8));
  e.resize(128, '\0');  // 107 bytes of header, padded to 128
  e.append(reinterpret_cast<const char*>(data), sizeof data);
  EXPECT_EQ(test::read_file(dir.file("x.gguf")), e);
}

TEST(GgufRoundTrip, ReadsVersion2) {
  test::TempDir dir;
  test::GgufBytes b;
  b.header(1, 1, 2).kv_u32("deepseek2.block_count", 27).tensor("w", {4}, 0, 0).pad(32).fill(16);
  test::write_file(dir.file("v2.gguf"), b.bytes);
  GgufFile f(dir.file("v2.gguf"));
  EXPECT_EQ(f.version(), 2u);
  EXPECT_EQ(f.get_u32("deepseek2.block_count"), 27u);
  EXPECT_EQ(f.tensor("w").nbytes, 16u);
}

TEST(GgufRoundTrip, ZeroDimTensorIsOneElement) {
  test::TempDir dir;
  test::GgufBytes b;
  b.header(1, 0).tensor("scalar", {}, 0, 0).pad(32).fill(4);
  test::write_file(dir.file("s.gguf"), b.bytes);
  GgufFile f(dir.file("s.gguf"));
  EXPECT_EQ(f.tensor("scalar").n_dims, 0u);
  EXPECT_EQ(f.tensor("scalar").nelements(), 1);
  EXPECT_EQ(f.tensor("scalar").nbytes, 4u);
}

}  // namespace
}  // namespace dsinfer
