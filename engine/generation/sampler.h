// Token sampling: repetition/presence/frequency penalties, then top-k, top-p (nucleus) and
// min-p filters on the untempered distribution, then temperature; temperature <= 0 is greedy.
// A seed makes a run reproducible (same binary, same model, same threads). Buffers are sized
// once for the vocabulary; sampling allocates nothing.
#pragma once
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace dsinfer {

struct SamplingParams {
  float temperature = 0.8f;       // <= 0: greedy (argmax)
  int32_t top_k = 40;             // 0: off
  float top_p = 0.95f;            // >= 1: off
  float min_p = 0.05f;            // 0: off; drops tokens below min_p x the top probability
  float repeat_penalty = 1.0f;    // 1: off; positive logits / penalty, negative x penalty
  float presence_penalty = 0.0f;  // subtracted once from every token seen
  float frequency_penalty = 0.0f; // subtracted per occurrence
  int32_t repeat_last_n = 64;     // how many recent tokens the penalties look at
  uint64_t seed = 0;
};

// What each parameter is called where it came from: the command-line flags by default; a batch
// record's fields or chat's /set names otherwise.
struct SamplingNames {
  const char* temperature = "--temp";
  const char* top_k = "--top-k";
  const char* top_p = "--top-p";
  const char* min_p = "--min-p";
  const char* repeat_penalty = "--repeat-penalty";
  const char* presence_penalty = "--presence-penalty";
  const char* frequency_penalty = "--frequency-penalty";
  const char* repeat_last_n = "--repeat-last-n";
};

// Throws Error naming the parameter when one is out of range.
void validate(const SamplingParams& p, const SamplingNames& names = {});

// The distribution a Sampler draws from after its penalties, filters and temperature: the
// candidates (ids[0..n)) with unnormalised weights w summing to `total`; greedy is the argmax
// alone. Sized for the vocabulary once (see Sampler::make_distribution).
struct TokenDistribution {
  std::vector<int32_t> ids;
  std::vector<float> w;
  int64_t n = 0;
  double total = 0;
  bool greedy = false;  // drawn without the random stream
  // Probability of `id` (0 when it is not a candidate). Linear in n.
  double prob(int32_t id) const noexcept;
};

class Sampler {
 public:
  Sampler(int64_t vocab, const SamplingParams& p);
  // `recent`: the tokens so far (prompt and generated); only the last repeat_last_n count.
  int32_t sample(const float* logits, std::span<const int32_t> recent);
  // sample() in two halves, for speculative decoding: the distribution sample() would draw from,
  // then a draw from it with this sampler's random stream (the same draw sample() makes).
  void distribution(const float* logits, std::span<const int32_t> recent, TokenDistribution& out);
  int32_t draw(const TokenDistribution& d);
  // A uniform number in [0, 1) from the same stream.
  double uniform();
  // A distribution with room for this sampler's vocabulary.
  TokenDistribution make_distribution() const;
  int64_t vocab() const { return V_; }
  const SamplingParams& params() const { return p_; }
  void set_params(const SamplingParams& p);  // keeps the random stream unless the seed changed

 private:
  int64_t V_;
  SamplingParams p_;
  std::mt19937_64 rng_;
  std::vector<float> work_;
  std::vector<int32_t> idx_, count_;
  std::vector<float> prob_;
  std::vector<double> bin_mass_;
  TokenDistribution own_;
  // Without top-k: the ids the nucleus and min-p cuts can keep into idx_ (unsorted), their
  // count returned; z the untempered mass of the whole vocabulary (the top's weight is 1).
  int64_t cut_candidates(float top, double& z);
};

}  // namespace dsinfer
