#include "tools/routing/routing_sample.h"

#include <algorithm>
#include <cmath>

#include "engine/model/model_tokenizer.h"
#include "simd/error.h"

namespace dsinfer::cli {

const std::string& builtin_routing_text() {
  static const std::string text =
#include "routing_text.inc"
      ;
  return text;
}

namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// n ids with Zipf(1) rank frequencies over the vocabulary, ranks scattered over the ids.
std::vector<int32_t> zipf_ids(int64_t vocab, int64_t n) {
  const int64_t ranks = std::min<int64_t>(vocab, 50000);
  std::vector<double> cdf(static_cast<size_t>(ranks));
  double sum = 0;
  for (int64_t r = 0; r < ranks; ++r) cdf[size_t(r)] = sum += 1.0 / double(r + 3);
  std::vector<int32_t> ids;
  uint64_t state = 0x5eed;
  for (int64_t i = 0; i < n; ++i) {
    state = splitmix64(state);
    const double u = double(state >> 11) * 0x1.0p-53 * sum;
    const int64_t r = std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin();
    ids.push_back(int32_t(splitmix64(uint64_t(r) + 77) % uint64_t(vocab)));
  }
  return ids;
}

}  // namespace

std::vector<std::vector<int32_t>> routing_windows(const Model& m, const std::string& text, int64_t max_tokens,
                                                  int64_t window) {
  if (window < 8) fail("window", "must be at least 8 tokens");
  const auto tok = open_model_tokenizer(m);
  std::vector<int32_t> ids;
  int32_t bos = -1;
  if (tok) {
    EncodeOptions eo;
    eo.parse_special = false;
    ids = tok->encode(text, eo);
    bos = tok->bos_id();
  } else {
    ids = zipf_ids(m.config().vocab_size, max_tokens);
  }
  const int64_t body = window - (bos >= 0 ? 1 : 0);
  std::vector<std::vector<int32_t>> out;
  int64_t total = 0;
  for (size_t i = 0; i < ids.size() && total + (bos >= 0) < max_tokens; i += size_t(body)) {
    std::vector<int32_t> w;
    if (bos >= 0) w.push_back(bos);
    const size_t n = std::min({ids.size() - i, size_t(body), size_t(max_tokens - total - (bos >= 0))});
    w.insert(w.end(), ids.begin() + int64_t(i), ids.begin() + int64_t(i + n));
    total += int64_t(w.size());
    out.push_back(std::move(w));
  }
  if (out.empty()) fail("routing text", "gives no tokens");
  return out;
}

void run_routing_pass(const Model& m, const std::vector<std::vector<int32_t>>& windows, RouterBiasHook& hook) {
  std::vector<int32_t> seq, tokens;
  int64_t longest = 0;
  for (size_t s = 0; s < windows.size(); ++s) {
    for (int32_t t : windows[s]) {
      seq.push_back(int32_t(s));
      tokens.push_back(t);
    }
    longest = std::max<int64_t>(longest, int64_t(windows[s].size()));
  }
  SessionOptions o;
  o.sequences = int64_t(windows.size());
  o.context = longest;
  o.chunk = int64_t(tokens.size());
  auto d = make_decoder(m, o);
  d->set_router_bias_hook(&hook);
  std::vector<float> logits;
  d->forward_multi(seq, tokens, logits);
  if (m.has_mtp() && windows[0].size() > 1) {
    // The MTP module reads the main model's hidden states: one more pass over the first window.
    d->seq_truncate(0, 0);
    d->forward(windows[0], logits, nullptr, true);
    const std::vector<float> hidden = d->last_hidden();
    d->mtp_forward(std::span(windows[0]).subspan(1), hidden.data(), logits);
  }
}

}  // namespace dsinfer::cli
