// Drafting's part of the vocabulary (SessionOptions::draft_vocab) against the whole MTP head:
// the first n rows are the head's own products bit for bit, the tokens the session fed beyond
// them the same products to rounding (their rows copied aside), every other token -inf; on a
// stored Q8_0 head, the same head repacked into row groups, and a float checkpoint's head.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>
#include <string>

#include "engine/decoder.h"
#include "engine/fast/draft_vocabulary.h"
#include "engine/model/model.h"
#include "simd/error.h"
#include "tests/test_support.h"

namespace dsinfer {
namespace {

const std::string kDemo = std::string(DSINFER_SOURCE_DIR) + "/models/demo/dsinfer-demo-q8_0.gguf";

std::vector<int32_t> spread_tokens(int n, int64_t vocab) {
  std::vector<int32_t> t;
  uint32_t s = 12345;
  for (int i = 0; i < n; ++i) t.push_back(int32_t(((s = s * 1664525u + 1013904223u) >> 8) % uint32_t(vocab)));
  return t;
}

void expect_draft_logits(const Model& m, int64_t n) {
  const int64_t V = m.config().vocab_size, D = m.config().hidden_size;
  const std::vector<int32_t> prompt = spread_tokens(24, V), next = {prompt[3]};
  SessionOptions so;
  so.context = 64;
  auto whole = make_decoder(m, so);
  so.draft_vocab = n;
  auto draft = make_decoder(m, so);
  std::vector<float> lw, ld;
  whole->forward(prompt, lw);
  draft->forward(prompt, ld);
  const std::vector<float> hidden(whole->last_hidden().end() - D, whole->last_hidden().end());
  whole->mtp_forward(next, hidden.data(), lw, nullptr, /*last_only=*/true);
  draft->mtp_forward(next, hidden.data(), ld, nullptr, /*last_only=*/true);
  ASSERT_EQ(ld.size(), size_t(V));
  const int64_t unit = m.weights().mtp->head.row_unit(), P = (n + unit - 1) / unit * unit;
  std::set<int32_t> fed(prompt.begin(), prompt.end());
  float mag = 0;
  for (int64_t t = 0; t < V; ++t) mag = std::max(mag, std::fabs(lw[size_t(t)]));
  int64_t copied = 0;
  for (int64_t t = 0; t < V; ++t) {
    const float a = lw[size_t(t)], b = ld[size_t(t)];
    if (t < P) {
      ASSERT_EQ(std::memcmp(&a, &b, sizeof a), 0) << "prefix token " << t;
    } else if (fed.count(int32_t(t))) {
      ++copied;
      ASSERT_NEAR(b, a, 1e-2f * mag) << "fed token " << t;  // Q8_0 copies of a float head: its error
    } else {
      ASSERT_TRUE(std::isinf(b) && b < 0) << "token " << t << " " << b;
    }
  }
  EXPECT_GT(copied, 10);  // the prompt's spread ids mostly lie beyond the prefix
  // The full head still serves everything else that asks for MTP logits (perplexity, logits).
  std::vector<float> all;
  draft->truncate(draft->n_past(), draft->mtp_past() - 1);
  draft->mtp_forward(next, hidden.data(), all);
  for (int64_t t = P; t < V; ++t) ASSERT_FALSE(std::isinf(all[size_t(t)])) << t;
}

TEST(DraftVocabulary, StoredQ8HeadPrefixExactFedTokensCopiedOthersMinusInfinity) {
  auto m = Model::open(kDemo, WeightsLoad::Mmap);
  ASSERT_EQ(m->weights().mtp->head.layout, Layout::Rows);
  expect_draft_logits(*m, 100);
}

TEST(DraftVocabulary, RowGroupHeadRoundsUpToAGroup) {
  auto m = Model::open(kDemo, WeightsLoad::Copy);
  if (m->weights().mtp->head.layout != Layout::RowGroups) GTEST_SKIP() << "no row-group kernels on this CPU";
  expect_draft_logits(*m, 100);  // 112 rows: 7 groups
}

TEST(DraftVocabulary, FloatCheckpointHeadCopiedAsQ8) {
  auto m = Model::open(test::fixture("tiny-v3-fp8"));
  ASSERT_NE(m->weights().mtp->head.type, DType::Q8_0);
  expect_draft_logits(*m, 64);
}

TEST(DraftVocabulary, CopiesAtMostItsExtraRowsAndOnlyNewOnes) {
  auto m = Model::open(kDemo, WeightsLoad::Mmap);
  const Matrix& head = m->weights().mtp->head;
  DraftVocabulary dv;
  dv.configure(head, 16, 1);
  ASSERT_TRUE(dv.active());
  std::vector<int32_t> all;
  for (int32_t t = 0; t < int32_t(head.rows); ++t) all.push_back(t);
  dv.observe(std::span(all).first(40));
  EXPECT_EQ(dv.extra_rows(), 24);  // 16..39
  dv.observe(std::span(all).first(40));
  EXPECT_EQ(dv.extra_rows(), 24);
  dv.observe(std::vector<int32_t>{-1, int32_t(head.rows)});  // out of range: ignored
  EXPECT_EQ(dv.extra_rows(), 24);
  dv.observe(all);
  EXPECT_EQ(dv.extra_rows(), std::min<int64_t>(DraftVocabulary::kExtraRows, head.rows - 16));
  DraftVocabulary whole;
  whole.configure(head, head.rows, 1);
  EXPECT_FALSE(whole.active());
}

TEST(DraftVocabulary, ReferenceEngineRefusesIt) {
  auto m = Model::open(kDemo);
  SessionOptions so;
  so.engine = EngineKind::Reference;
  so.draft_vocab = 256;
  try {
    make_decoder(*m, so);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--draft-vocab"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dsinfer
