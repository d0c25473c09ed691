// Decoder::mtp_fill against mtp_forward: the MTP cache entries it writes without the module's
// outputs are the ones mtp_forward writes, bit for bit, so that the drafts after either are the
// same. On the demo model (Q8_0, 64 experts) and the FP8 fixture (float weights), fills shorter
// and longer than a prefill chunk.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "engine/decoder.h"
#include "engine/model/model.h"
#include "simd/error.h"
#include "tests/test_support.h"

namespace dsinfer {
namespace {

const std::string kDemo = std::string(DSINFER_SOURCE_DIR) + "/models/demo/dsinfer-demo-q8_0.gguf";

std::vector<int32_t> spread_tokens(int n, int64_t vocab, uint32_t s) {
  std::vector<int32_t> t;
  for (int i = 0; i < n; ++i) t.push_back(int32_t(((s = s * 1664525u + 1013904223u) >> 8) % uint32_t(vocab)));
  return t;
}

void expect_fill_is_forward(const Model& m, int64_t context, std::initializer_list<int> fills, int64_t chunk = 0) {
  const int64_t V = m.config().vocab_size, D = m.config().hidden_size;
  SessionOptions so;
  so.context = context;
  if (chunk > 0) so.chunk = chunk;
  for (int G : fills) {
    SCOPED_TRACE("fill of " + std::to_string(G));
    const std::vector<int32_t> tokens = spread_tokens(G + 2, V, uint32_t(G) * 7u + 1u);
    auto full = make_decoder(m, so), fill = make_decoder(m, so);
    std::vector<float> logits, a, b;
    full->forward(tokens, logits);
    fill->forward(tokens, logits);
    const std::vector<float> hidden = full->last_hidden();
    // Entries for positions 0..G-1 (each with the token after it), then one drafting entry.
    const auto next = std::span(tokens).subspan(1, size_t(G));
    full->mtp_forward(next, hidden.data(), logits, nullptr, /*last_only=*/true);
    fill->mtp_fill(next, hidden.data());
    EXPECT_EQ(fill->mtp_past(), full->mtp_past());
    const int32_t last[1] = {tokens[size_t(G + 1)]};
    full->mtp_forward(last, hidden.data() + G * D, a, nullptr, true);
    fill->mtp_forward(last, hidden.data() + G * D, b, nullptr, true);
    ASSERT_EQ(a.size(), size_t(V));
    ASSERT_EQ(b.size(), size_t(V));
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << "max|diff| " << test::max_abs(a, b);
  }
}

TEST(MtpFill, SameCacheAsTheFullModuleDemoModel) {
  auto m = Model::open(kDemo);
  expect_fill_is_forward(*m, 512, {1, 2, 7, 40, 300});
  expect_fill_is_forward(*m, 512, {40}, /*chunk=*/16);  // a fill over several chunks
}

TEST(MtpFill, SameCacheAsTheFullModuleFloatCheckpoint) {
  auto m = Model::open(test::fixture("tiny-v3-fp8"));
  expect_fill_is_forward(*m, 128, {1, 5, 33});
}

// Without a module there is nothing to fill: a clear error, no crash.
TEST(MtpFill, ModelWithoutModuleRefuses) {
  auto m = Model::open(test::fixture("tiny-v2lite-bf16"));
  auto d = make_decoder(*m, SessionOptions{});
  const int32_t t[1] = {1};
  std::vector<float> l;
  d->forward(t, l);
  EXPECT_THROW(d->mtp_fill(t, d->last_hidden().data()), Error);
}

}  // namespace
}  // namespace dsinfer
