// Scalar reference vector operations. Fixed summation order: results do not depend on
// threading, so the float32 path is bit-reproducible and serves as the reference for the
// ISA-specific kernels.
#pragma once
#include <cstddef>

namespace dsinfer::simd {

float dot_f32(const float* a, const float* b, size_t n) noexcept;
void axpy_f32(float alpha, const float* x, float* y, size_t n) noexcept;  // y += alpha * x

}  // namespace dsinfer::simd
