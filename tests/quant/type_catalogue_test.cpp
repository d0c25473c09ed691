// The type catalogue: GGUF ids and sizes are the file format, checked against llama.cpp's
// gguf-py constants (GGMLQuantizationType, GGML_QUANT_SIZES); safetensors spellings against
// the safetensors format.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "quant/dtype.h"
#include "simd/blocks.h"

namespace dsinfer {
namespace {

TEST(TypeCatalogue, GgufIdsOfTheFormat) {
  const std::pair<DType, int32_t> ids[] = {{DType::F32, 0},   {DType::F16, 1},   {DType::Q4_0, 2},
                                           {DType::Q8_0, 8},  {DType::Q4_K, 12}, {DType::Q6_K, 14},
                                           {DType::BF16, 30}, {DType::MXFP4, 39}, {DType::Q1_0, 41}};
  for (const auto& [t, id] : ids) {
    EXPECT_EQ(dtype_info(t).gguf_id, id) << dtype_name(t);
    EXPECT_EQ(dtype_from_gguf_id(uint32_t(id)), t) << id;
  }
  EXPECT_EQ(dtype_info(DType::F8_E4M3).gguf_id, -1);  // not a GGUF type
}

TEST(TypeCatalogue, BlockAndTypeSizes) {
  EXPECT_EQ(dtype_info(DType::F32).block_size, 1u);
  EXPECT_EQ(dtype_info(DType::F32).block_bytes, 4u);
  EXPECT_EQ(dtype_info(DType::F16).block_bytes, 2u);
  EXPECT_EQ(dtype_info(DType::BF16).block_bytes, 2u);
  EXPECT_EQ(dtype_info(DType::Q8_0).block_size, 32u);
  EXPECT_EQ(dtype_info(DType::Q8_0).block_bytes, sizeof(BlockQ8_0));
  EXPECT_EQ(dtype_info(DType::Q4_0).block_size, 32u);
  EXPECT_EQ(dtype_info(DType::Q4_0).block_bytes, sizeof(BlockQ4_0));
  EXPECT_EQ(dtype_info(DType::Q4_K).block_size, 256u);
  EXPECT_EQ(dtype_info(DType::Q4_K).block_bytes, 144u);
  EXPECT_EQ(dtype_info(DType::Q6_K).block_bytes, 210u);
  EXPECT_EQ(dtype_info(DType::IQ4_XS).block_bytes, 136u);
  EXPECT_EQ(dtype_info(DType::MXFP4).block_bytes, 17u);
  EXPECT_TRUE(dtype_is_block(DType::Q4_0));
  EXPECT_FALSE(dtype_is_block(DType::BF16));
}

TEST(TypeCatalogue, RowBytes) {
  EXPECT_EQ(dtype_row_bytes(DType::Q4_0, 7168), 7168u / 32 * 18);
  EXPECT_EQ(dtype_row_bytes(DType::Q8_0, 2048), 2048u / 32 * 34);
  EXPECT_EQ(dtype_row_bytes(DType::BF16, 7168), 7168u * 2);
  EXPECT_EQ(dtype_row_bytes(DType::F8_E4M3, 128), 128u);
}

TEST(TypeCatalogue, RemovedAndUnknownGgufIds) {
  for (uint32_t id : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 42u, 1000u}) EXPECT_FALSE(dtype_from_gguf_id(id)) << id;
}

TEST(TypeCatalogue, NamesAndSpellings) {
  EXPECT_EQ(dtype_name(DType::Q4_0), "Q4_0");
  EXPECT_EQ(dtype_from_name("q8_0"), DType::Q8_0);
  EXPECT_EQ(dtype_from_name("bf16"), DType::BF16);
  EXPECT_EQ(dtype_from_name("q4"), std::nullopt);
  EXPECT_EQ(dtype_from_safetensors("F8_E4M3"), DType::F8_E4M3);
  EXPECT_EQ(dtype_from_safetensors("BOOL"), DType::BOOL);
  EXPECT_EQ(dtype_from_safetensors("Q4_0"), std::nullopt);  // not a safetensors dtype
  for (uint32_t id = 0; id < 64; ++id) {
    if (const auto t = dtype_from_gguf_id(id)) {
      EXPECT_EQ(dtype_from_name(dtype_name(*t)), *t);
    }
  }
}

TEST(TypeCatalogue, ToFloatWhereComputed) {
  // Exactly the engine's types convert by themselves; F8_E4M3 needs its block scales.
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0}) EXPECT_TRUE(dtype_info(t).to_float);
  for (DType t : {DType::F8_E4M3, DType::Q4_K, DType::I32}) EXPECT_FALSE(dtype_info(t).to_float);
  // One row through each conversion.
  std::vector<float> x(64), y(64);
  for (int i = 0; i < 64; ++i) x[size_t(i)] = float(i % 7) - 3.0f;
  std::vector<uint8_t> bytes(64 * 4);
  std::memcpy(bytes.data(), x.data(), 64 * 4);
  dtype_info(DType::F32).to_float(bytes.data(), y.data(), 64);
  EXPECT_EQ(x, y);
  std::vector<BlockQ8_0> q(2);
  quantize_row_q8_0(x.data(), q.data(), 64);
  dtype_info(DType::Q8_0).to_float(reinterpret_cast<const uint8_t*>(q.data()), y.data(), 64);
  for (int i = 0; i < 64; ++i) EXPECT_NEAR(y[size_t(i)], x[size_t(i)], 0.02f);
  std::vector<uint16_t> h(64);
  for (int i = 0; i < 64; ++i) h[size_t(i)] = f32_to_bf16(x[size_t(i)]);
  dtype_info(DType::BF16).to_float(reinterpret_cast<const uint8_t*>(h.data()), y.data(), 64);
  EXPECT_EQ(x, y);  // small integers are exact in bf16
}

}  // namespace
}  // namespace dsinfer
