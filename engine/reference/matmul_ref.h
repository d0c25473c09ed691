// Matrix products of the float32 reference: weights dequantized a chunk of a row at a time,
// summed in float32 in a fixed order (OpenMP over rows or columns, never over a sum).
#pragma once
#include <cstdint>

#include "engine/model/matrix.h"

namespace dsinfer {

// Y[t][0..rows) = W . X[t][0..cols) for t < T (float32 reference, OpenMP over rows).
void matmul_ref(const Matrix& w, const float* x, int64_t T, float* y);
// y[0..cols) = W^T . x[0..rows)  (used for the absorbed key projection of kv_b).
void matvec_t_ref(const Matrix& w, const float* x, float* y);

}  // namespace dsinfer
