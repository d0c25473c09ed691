#include <gtest/gtest.h>

#include "simd/error.h"
#include "quant/npy.h"
#include "tests/test_support.h"

namespace dsinfer {
namespace {

TEST(Npy, WriteThenReadBack) {
  test::TempDir d;
  const std::vector<float> v = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -8.5f};
  write_npy_f32(d.file("a.npy"), {2, 3}, v.data());
  const std::string bytes = test::read_file(d.file("a.npy"));
  EXPECT_EQ((bytes.size() - v.size() * 4) % 64, 0u);  // header padded to 64 bytes
  NpyArray a = read_npy(d.file("a.npy"));
  EXPECT_EQ(a.descr, "<f4");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.f32, v);
}

TEST(Npy, ReadsGoldenIntArrays) {
  NpyArray a = read_npy(test::fixture("golden/tiny-v3-fp8/prompt_ids.npy"));
  ASSERT_EQ(a.shape, (std::vector<int64_t>{24}));
  EXPECT_EQ(a.ints[0], 0);  // bos
}

TEST(Npy, RejectsTruncated) {
  test::TempDir d;
  const std::vector<float> v(10, 1.0f);
  write_npy_f32(d.file("a.npy"), {10}, v.data());
  std::string b = test::read_file(d.file("a.npy"));
  test::write_file(d.file("b.npy"), b.substr(0, b.size() - 4));
  EXPECT_THROW(read_npy(d.file("b.npy")), Error);
}

}  // namespace
}  // namespace dsinfer
