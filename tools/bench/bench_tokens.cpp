#include "tools/bench/bench_tokens.h"

#include <algorithm>

#include "engine/model/model_tokenizer.h"
#include "quant/input_file.h"
#include "simd/error.h"

namespace dsinfer::cli {

BenchTokens::BenchTokens(const Model& m, const std::string& text_file, uint32_t seed)
    : rng_(seed), random_(2, int32_t(std::min<int64_t>(m.config().vocab_size, 30000)) - 1) {
  if (text_file.empty()) return;
  auto tok = open_model_tokenizer(m);
  if (!tok) fail("--text", "the model carries no tokenizer");
  EncodeOptions eo;
  eo.parse_special = false;  // the text is data
  text_ = tok->encode(read_text_input(text_file), eo);
  if (text_.size() < 2) fail("--text", text_file + " has fewer than 2 tokens");
}

int32_t BenchTokens::next() {
  if (text_.empty()) return random_(rng_);
  const int32_t t = text_[at_];
  at_ = (at_ + 1) % text_.size();
  return t;
}

std::vector<int32_t> BenchTokens::take(int64_t n) {
  std::vector<int32_t> v(static_cast<size_t>(std::max<int64_t>(n, 0)));
  for (int32_t& t : v) t = next();
  return v;
}

}  // namespace dsinfer::cli
