// GGML type ids and sizes: the numbers are the file format, checked against llama.cpp's
// gguf-py constants (GGMLQuantizationType, GGML_QUANT_SIZES).
#include <gtest/gtest.h>

#include "quant/ggml_type.h"

namespace dsinfer {
namespace {

TEST(GgmlType, IdsOfTheFormat) {
  EXPECT_EQ(uint32_t(GgmlType::F32), 0u);
  EXPECT_EQ(uint32_t(GgmlType::F16), 1u);
  EXPECT_EQ(uint32_t(GgmlType::Q4_0), 2u);
  EXPECT_EQ(uint32_t(GgmlType::Q8_0), 8u);
  EXPECT_EQ(uint32_t(GgmlType::Q4_K), 12u);
  EXPECT_EQ(uint32_t(GgmlType::Q6_K), 14u);
  EXPECT_EQ(uint32_t(GgmlType::BF16), 30u);
  EXPECT_EQ(uint32_t(GgmlType::MXFP4), 39u);
}

TEST(GgmlType, BlockAndTypeSizes) {
  EXPECT_EQ(ggml_block_size(GgmlType::F32), 1u);
  EXPECT_EQ(ggml_type_size(GgmlType::F32), 4u);
  EXPECT_EQ(ggml_type_size(GgmlType::F16), 2u);
  EXPECT_EQ(ggml_type_size(GgmlType::BF16), 2u);
  EXPECT_EQ(ggml_block_size(GgmlType::Q8_0), 32u);
  EXPECT_EQ(ggml_type_size(GgmlType::Q8_0), 34u);  // fp16 d + 32 int8
  EXPECT_EQ(ggml_block_size(GgmlType::Q4_0), 32u);
  EXPECT_EQ(ggml_type_size(GgmlType::Q4_0), 18u);  // fp16 d + 16 bytes of nibbles
  EXPECT_EQ(ggml_block_size(GgmlType::Q4_K), 256u);
  EXPECT_EQ(ggml_type_size(GgmlType::Q4_K), 144u);
  EXPECT_EQ(ggml_type_size(GgmlType::Q6_K), 210u);
  EXPECT_EQ(ggml_type_size(GgmlType::IQ4_XS), 136u);
  EXPECT_EQ(ggml_type_size(GgmlType::MXFP4), 17u);
  EXPECT_TRUE(ggml_is_quantized(GgmlType::Q4_0));
  EXPECT_FALSE(ggml_is_quantized(GgmlType::BF16));
}

TEST(GgmlType, RowSize) {
  EXPECT_EQ(ggml_row_size(GgmlType::Q4_0, 7168), 7168u / 32 * 18);
  EXPECT_EQ(ggml_row_size(GgmlType::Q8_0, 2048), 2048u / 32 * 34);
  EXPECT_EQ(ggml_row_size(GgmlType::BF16, 7168), 7168u * 2);
  EXPECT_EQ(ggml_row_size(GgmlType(4), 64), 0u);  // unknown type
}

TEST(GgmlType, RemovedAndUnknownIds) {
  for (uint32_t id : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 42u, 1000u}) EXPECT_FALSE(ggml_type_known(id)) << id;
  for (uint32_t id : {0u, 1u, 2u, 8u, 30u, 41u}) EXPECT_TRUE(ggml_type_known(id)) << id;
  EXPECT_EQ(ggml_type_name(GgmlType(5)), "?");
  EXPECT_EQ(ggml_block_size(GgmlType(5)), 0u);
}

TEST(GgmlType, Names) {
  EXPECT_EQ(ggml_type_name(GgmlType::Q4_0), "Q4_0");
  EXPECT_EQ(ggml_type_name(GgmlType::BF16), "BF16");
  EXPECT_EQ(ggml_type_from_name("q8_0"), GgmlType::Q8_0);
  EXPECT_EQ(ggml_type_from_name("Q4_0"), GgmlType::Q4_0);
  EXPECT_EQ(ggml_type_from_name("bf16"), GgmlType::BF16);
  EXPECT_EQ(ggml_type_from_name("q4"), std::nullopt);
  for (uint32_t id = 0; id < 64; ++id) {
    if (ggml_type_known(id)) {
      EXPECT_EQ(ggml_type_from_name(ggml_type_name(GgmlType(id))), GgmlType(id));
    }
  }
}

}  // namespace
}  // namespace dsinfer
