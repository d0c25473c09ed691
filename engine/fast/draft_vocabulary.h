// The part of the vocabulary that drafting scores (SessionOptions::draft_vocab): the MTP
// module's head is a [vocab x hidden] product per draft, most of the module's bytes on a
// 129k-token vocabulary. Drafts come from the first n token ids (BPE ids follow merge order,
// roughly frequency) and from every token the session has fed the main model beyond them, whose
// head rows are copied aside as they first appear (at most kExtraRows of them). The other tokens
// get -inf: a draft distribution that is zero there, which rejection sampling keeps exact.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "engine/fast/linear.h"
#include "engine/model/matrix.h"

namespace dsinfer {

class DraftVocabulary {
 public:
  static constexpr int64_t kExtraRows = 4096;

  // Scores the head's first n rows (rounded up to its row unit) and the tokens observed beyond
  // them; logits() serves up to max_rows rows a call. n >= the head's rows: not active.
  void configure(const Matrix& head, int64_t n, int64_t max_rows);
  bool active() const { return prefix_.rows > 0; }
  int64_t extra_rows() const { return int64_t(ids_.size()); }
  // Whether drafts can name token t now.
  bool scores(int32_t t) const { return !active() || (t >= 0 && t < head_.rows && scored_[size_t(t)]); }

  // Tokens fed to the main model: each one beyond the prefix not seen before gets its row
  // copied aside while there is room.
  void observe(std::span<const int32_t> tokens);

  // logits [h.T][vocab]: the scored tokens' products with the rows h, -inf for the others.
  // h must hold both the float rows and their Q8_0 blocks.
  void logits(const Acts& h, float* out, std::vector<LinearJob>& jobs);

 private:
  Matrix head_, prefix_, extra_;  // extra_: the copied rows, Q4_0 or Q8_0 as stored rows
  std::vector<uint8_t> extra_bytes_;
  std::vector<int32_t> ids_;     // token of each copied row
  std::vector<uint8_t> scored_;  // per token: in the prefix or copied
  std::vector<float> tmp_;       // [max_rows][prefix + kExtraRows]
  std::vector<float> row_;       // one head row as floats (heads not in Q4_0/Q8_0)
  int64_t max_rows_ = 0;
};

}  // namespace dsinfer
