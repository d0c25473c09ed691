// A GoogleTest fixture parameterized by ISA name: that ISA's kernel table (the test skips where
// the CPU lacks it) and the scalar reference table to compare with.
#pragma once
#include <gtest/gtest.h>

#include "simd/kernels.h"

namespace dsinfer::test {

class KernelsIsaTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    k_ = simd::kernels_for(GetParam());
    if (!k_) GTEST_SKIP() << GetParam() << " not available on this CPU";
  }
  const simd::Kernels* k_ = nullptr;
  const simd::Kernels& ref_ = *simd::kernels_for("scalar");
};

}  // namespace dsinfer::test
