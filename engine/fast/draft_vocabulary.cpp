#include "engine/fast/draft_vocabulary.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "simd/blocks.h"
#include "simd/error.h"
#include "simd/repack.h"

namespace dsinfer {

namespace {
bool integer_type(DType t) { return t == DType::Q4_0 || t == DType::Q8_0; }
}  // namespace

void DraftVocabulary::configure(const Matrix& head, int64_t n, int64_t max_rows) {
  const int64_t unit = head.row_unit(), p = (n + unit - 1) / unit * unit;
  if (n <= 0 || p >= head.rows) return;
  head_ = head;
  prefix_ = head.row_slice(0, p);
  const int64_t cap = std::min(kExtraRows, head.rows - p);
  extra_ = Matrix{};
  extra_.type = integer_type(head.type) ? head.type : DType::Q8_0;
  extra_.cols = head.cols;
  extra_bytes_.assign(size_t(cap) * dtype_row_bytes(extra_.type, head.cols), 0);
  extra_.data = extra_bytes_.data();
  ids_.clear();
  ids_.reserve(size_t(cap));
  scored_.assign(size_t(head.rows), 0);
  std::fill(scored_.begin(), scored_.begin() + p, uint8_t(1));
  max_rows_ = std::max<int64_t>(1, max_rows);
  tmp_.resize(size_t(max_rows_ * (p + cap)));
  if (!integer_type(head.type)) row_.resize(size_t(head.cols));
}

void DraftVocabulary::observe(std::span<const int32_t> tokens) {
  if (!active()) return;
  const size_t erb = dtype_row_bytes(extra_.type, extra_.cols), cap = extra_bytes_.size() / erb;
  const size_t rb = dtype_row_bytes(head_.type, head_.cols);
  const int64_t nb = head_.cols / kBlockWeights;
  for (const int32_t t : tokens) {
    if (t < 0 || t >= head_.rows || scored_[size_t(t)] || ids_.size() == cap) continue;
    uint8_t* dst = extra_bytes_.data() + ids_.size() * erb;
    const int64_t r = head_.row_offset + t;  // the stored row
    if (!integer_type(head_.type)) {
      dequant_row(head_, t, row_.data());
      quantize_row_q8_0(row_.data(), reinterpret_cast<BlockQ8_0*>(dst), head_.cols);
    } else if (head_.layout == Layout::RowGroups) {
      const uint8_t* group = head_.data + size_t(r - r % kRowGroup) * rb;
      if (head_.type == DType::Q4_0)
        unpack_q4_0_row(group, nb, r % kRowGroup, reinterpret_cast<BlockQ4_0*>(dst));
      else
        unpack_q8_0_row(group, nb, r % kRowGroup, reinterpret_cast<BlockQ8_0*>(dst));
    } else {
      std::memcpy(dst, head_.data + size_t(r) * rb, rb);
    }
    scored_[size_t(t)] = 1;
    ids_.push_back(t);
  }
}

void DraftVocabulary::logits(const Acts& h, float* out, std::vector<LinearJob>& jobs) {
  const int64_t T = h.T, P = prefix_.rows, V = head_.rows, k = int64_t(ids_.size());
  if (T > max_rows_) fail("draft vocabulary", "more rows than the session was sized for");
  extra_.rows = k;
  float *pre = tmp_.data(), *ext = tmp_.data() + T * P;
  jobs.clear();
  jobs.push_back({&prefix_, h, pre});
  if (k > 0) jobs.push_back({&extra_, h, ext});
  run_linear(jobs);
  for (int64_t t = 0; t < T; ++t) {
    float* row = out + t * V;
    std::copy(pre + t * P, pre + (t + 1) * P, row);
    std::fill(row + P, row + V, -std::numeric_limits<float>::infinity());
    for (int64_t i = 0; i < k; ++i) row[ids_[size_t(i)]] = ext[t * k + i];
  }
}

}  // namespace dsinfer
