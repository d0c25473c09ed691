// The float32 reference matmul reads every storage type the same way: a quantized matrix must
// give exactly what its dequantized float32 copy gives, including sub-views (experts, heads).
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "engine/model/matrix.h"
#include "engine/reference/matmul_ref.h"
#include "simd/blocks.h"

namespace dsinfer {
namespace {

struct Stored {
  std::vector<uint8_t> bytes;
  std::vector<float> dequant;  // what the blocks decode to, row-major
  Matrix m;
};

Stored make(DType t, int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(size_t(rows * cols));
  for (float& v : x) v = nd(rng);
  Stored s;
  s.bytes.resize(dtype_row_bytes(t, cols) * size_t(rows));
  s.dequant.resize(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    uint8_t* row = s.bytes.data() + size_t(r) * dtype_row_bytes(t, cols);
    float* d = s.dequant.data() + r * cols;
    if (t == DType::Q8_0) {
      quantize_row_q8_0(x.data() + r * cols, reinterpret_cast<BlockQ8_0*>(row), cols);
      dequantize_row_q8_0(reinterpret_cast<const BlockQ8_0*>(row), d, cols);
    } else {
      quantize_row_q4_0(x.data() + r * cols, reinterpret_cast<BlockQ4_0*>(row), cols);
      dequantize_row_q4_0(reinterpret_cast<const BlockQ4_0*>(row), d, cols);
    }
  }
  s.m.type = t;
  s.m.rows = rows;
  s.m.cols = cols;
  s.m.data = s.bytes.data();
  return s;
}

Matrix f32_view(const std::vector<float>& v, int64_t rows, int64_t cols) {
  Matrix m;
  m.type = DType::F32;
  m.rows = rows;
  m.cols = cols;
  m.data = reinterpret_cast<const uint8_t*>(v.data());
  return m;
}

class BlockMatrix : public ::testing::TestWithParam<DType> {};

TEST_P(BlockMatrix, DequantChunksAtAnyBlockOffset) {
  const Stored s = make(GetParam(), 5, 320, 1);  // 320 columns: a full and a partial 256-chunk
  float buf[320];
  for (int64_t r = 0; r < 5; ++r)
    for (int64_t c0 : {0, 32, 256, 288}) {
      dequant_row_chunk(s.m, r, c0, 32, buf);
      for (int64_t i = 0; i < 32; ++i) ASSERT_EQ(buf[i], s.dequant[size_t(r * 320 + c0 + i)]) << r << " " << c0;
    }
}

TEST_P(BlockMatrix, MatmulEqualsFloatCopyIncludingRowSlices) {
  const int64_t R = 48, C = 352, T = 3;
  const Stored s = make(GetParam(), R, C, 2);
  std::vector<float> x(size_t(T * C));
  std::mt19937 rng(3);
  std::normal_distribution<float> nd;
  for (float& v : x) v = nd(rng);
  const Matrix f = f32_view(s.dequant, R, C);
  std::vector<float> a(size_t(T * 16)), b(size_t(T * 16));
  matmul_ref(s.m.row_slice(16, 16), x.data(), T, a.data());  // rows 16..31, like one expert of a stack
  matmul_ref(f.row_slice(16, 16), x.data(), T, b.data());
  EXPECT_EQ(a, b);
  std::vector<float> y(static_cast<size_t>(C)), z(static_cast<size_t>(C));
  matvec_t_ref(s.m.row_slice(8, 16), x.data(), y.data());
  matvec_t_ref(f.row_slice(8, 16), x.data(), z.data());
  EXPECT_EQ(y, z);
}

INSTANTIATE_TEST_SUITE_P(Types, BlockMatrix, ::testing::Values(DType::Q8_0, DType::Q4_0),
                         [](const auto& i) { return std::string(dtype_name(i.param)); });

}  // namespace
}  // namespace dsinfer
