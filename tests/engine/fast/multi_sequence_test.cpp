// Several sequences in one pass (forward_multi, mtp_forward_multi) against each sequence alone,
// on the demo model: speculative batch decoding commits the tokens plain decoding would only if
// every entry of a pass computes exactly what the sequence's own forward computes.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "engine/decoder.h"
#include "engine/model/model.h"
#include "simd/error.h"

namespace dsinfer {
namespace {

std::string demo() { return std::string(DSINFER_SOURCE_DIR) + "/models/demo/dsinfer-demo-q8_0.gguf"; }

std::vector<float> rows(const std::vector<float>& v, int64_t width, std::initializer_list<int64_t> which) {
  std::vector<float> out;
  for (int64_t r : which) out.insert(out.end(), v.begin() + r * width, v.begin() + (r + 1) * width);
  return out;
}

// One sequence alone: its prompt, then three tokens in one forward; the MTP module over the
// prompt and the first of them, then one chained entry.
struct Alone {
  std::vector<float> prompt_hidden, logits, hidden, mtp_logits, mtp_hidden, chained_logits;
};

Alone alone(const Model& m, const std::vector<int32_t>& prompt, const std::vector<int32_t>& next) {
  SessionOptions o;
  o.context = 32;
  auto d = make_decoder(m, o);
  Alone a;
  std::vector<float> l;
  d->forward(prompt, l);
  a.prompt_hidden = d->last_hidden();
  std::vector<int32_t> mtp_in(prompt.begin() + 1, prompt.end());
  mtp_in.push_back(next[0]);
  d->mtp_forward(mtp_in, a.prompt_hidden.data(), a.mtp_logits, nullptr, /*last_only=*/true);
  const int64_t D = m.config().hidden_size;
  a.mtp_hidden.assign(d->last_mtp_hidden(), d->last_mtp_hidden() + D);
  const int32_t chained[1] = {next[1]};
  d->mtp_forward(chained, a.mtp_hidden.data(), a.chained_logits, nullptr, true);
  d->forward(next, a.logits);
  a.hidden = d->last_hidden();
  return a;
}

TEST(MultiSequence, EveryEntryMatchesEachSequenceAlone) {
  auto m = Model::open(demo());
  ASSERT_TRUE(m->has_mtp());
  const int64_t V = m->config().vocab_size, D = m->config().hidden_size;
  const std::vector<int32_t> pa = {5, 812, 97}, pb = {1200, 33, 640, 18};
  const std::vector<int32_t> na = {300, 41, 2048}, nb = {77, 1500, 9};
  const Alone a = alone(*m, pa, na), b = alone(*m, pb, nb);
  ASSERT_NE(a.logits, b.logits);  // different inputs, or the comparisons below prove nothing

  SessionOptions o;
  o.context = 32;
  o.sequences = 2;
  o.mtp_per_sequence = true;
  auto d = make_decoder(*m, o);
  // Both prompts in one pass, with every entry's hidden state.
  std::vector<int32_t> seq = {0, 0, 0, 1, 1, 1, 1}, toks = {pa[0], pa[1], pa[2], pb[0], pb[1], pb[2], pb[3]};
  std::vector<float> logits, hidden;
  MultiOutput with_hidden;
  with_hidden.hidden = &hidden;
  d->forward_multi(seq, toks, logits, with_hidden);
  ASSERT_EQ(logits.size(), size_t(2 * V));  // each sequence's last entry only
  EXPECT_EQ(rows(hidden, D, {0, 1, 2}), a.prompt_hidden);
  EXPECT_EQ(rows(hidden, D, {3, 4, 5, 6}), b.prompt_hidden);

  // The MTP module over both prompts and their first next tokens: each sequence's last entry.
  std::vector<int32_t> mtp_toks = {pa[1], pa[2], na[0], pb[1], pb[2], pb[3], nb[0]};
  std::vector<float> mtp_logits;
  d->mtp_forward_multi(seq, mtp_toks, hidden.data(), mtp_logits);
  ASSERT_EQ(mtp_logits.size(), size_t(2 * V));
  EXPECT_EQ(rows(mtp_logits, V, {0}), a.mtp_logits);
  EXPECT_EQ(rows(mtp_logits, V, {1}), b.mtp_logits);
  EXPECT_EQ(std::vector<float>(d->seq_mtp_hidden(0), d->seq_mtp_hidden(0) + D), a.mtp_hidden);
  EXPECT_EQ(std::vector<float>(d->seq_mtp_hidden(1), d->seq_mtp_hidden(1) + D), b.mtp_hidden);
  // A chained entry each, fed back their own outputs (listed in the other order: the logits
  // follow the entries).
  std::vector<float> back(size_t(2 * D));
  std::copy(d->seq_mtp_hidden(1), d->seq_mtp_hidden(1) + D, back.begin());
  std::copy(d->seq_mtp_hidden(0), d->seq_mtp_hidden(0) + D, back.begin() + D);
  const std::vector<int32_t> chain_seq = {1, 0}, chain_toks = {nb[1], na[1]};
  d->mtp_forward_multi(chain_seq, chain_toks, back.data(), mtp_logits);
  EXPECT_EQ(rows(mtp_logits, V, {1}), a.chained_logits);
  EXPECT_EQ(rows(mtp_logits, V, {0}), b.chained_logits);
  EXPECT_EQ(d->seq_mtp_past(0), 4);
  EXPECT_EQ(d->seq_mtp_past(1), 5);
  d->seq_mtp_truncate(0, 3);
  EXPECT_EQ(d->seq_mtp_past(0), 3);
  EXPECT_EQ(d->seq_mtp_past(1), 5);

  // Three tokens each, interleaved, every entry's logits and hidden state.
  seq = {0, 1, 0, 1, 0, 1};
  toks = {na[0], nb[0], na[1], nb[1], na[2], nb[2]};
  MultiOutput every;
  every.every_entry = true;
  every.hidden = &hidden;
  d->forward_multi(seq, toks, logits, every);
  ASSERT_EQ(logits.size(), size_t(6 * V));
  EXPECT_EQ(rows(logits, V, {0, 2, 4}), a.logits);
  EXPECT_EQ(rows(logits, V, {1, 3, 5}), b.logits);
  EXPECT_EQ(rows(hidden, D, {0, 2, 4}), a.hidden);
  EXPECT_EQ(rows(hidden, D, {1, 3, 5}), b.hidden);
  EXPECT_EQ(d->seq_past(0), 6);
  EXPECT_EQ(d->seq_past(1), 7);
}

TEST(MultiSequence, MtpCachePerSequenceOnlyWhenAsked) {
  auto m = Model::open(demo());
  SessionOptions o;
  o.context = 32;
  o.sequences = 2;
  auto shared = make_decoder(*m, o);
  o.mtp_per_sequence = true;
  auto own = make_decoder(*m, o);
  EXPECT_GT(own->cache_bytes(), shared->cache_bytes());
  const int64_t D = m->config().hidden_size;
  std::vector<float> hidden(size_t(D), 0.5f), logits;
  const std::vector<int32_t> one = {1}, tok = {42};
  EXPECT_THROW(shared->mtp_forward_multi(one, tok, hidden.data(), logits), Error);
  EXPECT_NO_THROW(own->mtp_forward_multi(one, tok, hidden.data(), logits));
  EXPECT_EQ(own->seq_mtp_past(1), 1);
  EXPECT_EQ(own->seq_mtp_past(0), 0);
}

}  // namespace
}  // namespace dsinfer
