#include "engine/decoder.h"

#include <algorithm>
#include <string>

#include "engine/fast/fast_decoder.h"
#include "engine/reference/ref_decoder.h"
#include "simd/error.h"

namespace dsinfer {

int64_t default_context(const ModelConfig& c) { return std::min<int64_t>(c.max_position_embeddings, 4096); }

void check_input_tokens(const Model& m, std::span<const int32_t> tokens, int64_t past, int64_t capacity,
                        const char* what) {
  const int64_t V = m.config().vocab_size;
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || tokens[i] >= V)
      fail(m.path(), std::string(what) + ": token id " + std::to_string(tokens[i]) + " at position " +
                         std::to_string(i) + " is outside the vocabulary (0.." + std::to_string(V - 1) + ")");
  if (past + int64_t(tokens.size()) > capacity)
    fail(m.path(), std::string(what) + ": " + std::to_string(past + int64_t(tokens.size())) +
                       " positions exceed the context of " + std::to_string(capacity));
}

KvType parse_kv_type(const std::string& s) {
  if (s == "f32") return KvType::F32;
  if (s == "bf16") return KvType::BF16;
  if (s == "q8_0") return KvType::Q8_0;
  fail("--kv-type", "unknown cache type '" + s + "' (expected f32, bf16 or q8_0)");
}

const char* kv_type_name(KvType t) noexcept {
  switch (t) {
    case KvType::F32: return "f32";
    case KvType::BF16: return "bf16";
    case KvType::Q8_0: return "q8_0";
  }
  return "?";
}

namespace {
void only_sequence_zero(int32_t s) {
  if (s != 0) fail("--engine", "several sequences at once need the fast engine");
}
}  // namespace

void Decoder::mtp_fill(std::span<const int32_t> next_tokens, const float* hidden) {
  std::vector<float> unused;
  mtp_forward(next_tokens, hidden, unused, nullptr, /*last_only=*/true);
}

void Decoder::mtp_catch_up(std::span<const int32_t> next_tokens, const float* hidden, std::vector<float>& logits) {
  if (next_tokens.empty()) fail("mtp_catch_up", "no tokens");
  const size_t n = next_tokens.size() - 1;
  if (n > 0) mtp_fill(next_tokens.first(n), hidden);
  mtp_forward(next_tokens.last(1), hidden + int64_t(n) * model().config().hidden_size, logits, nullptr, true);
}

void Decoder::forward_multi(std::span<const int32_t>, std::span<const int32_t>, std::vector<float>&,
                            const MultiOutput&) {
  fail("--engine", "several sequences at once need the fast engine");
}
void Decoder::mtp_forward_multi(std::span<const int32_t>, std::span<const int32_t>, const float*,
                                std::vector<float>&) {
  fail("--engine", "several sequences at once need the fast engine");
}
void Decoder::mtp_fill_multi(std::span<const int32_t>, std::span<const int32_t>, const float*) {
  fail("--engine", "several sequences at once need the fast engine");
}
void Decoder::set_router_bias_hook(RouterBiasHook*) {
  fail("--engine", "a router bias hook needs the fast engine");
}
int64_t Decoder::seq_past(int32_t s) const {
  only_sequence_zero(s);
  return n_past();
}
void Decoder::seq_truncate(int32_t s, int64_t n) {
  only_sequence_zero(s);
  truncate(n, mtp_past());
}
const float* Decoder::seq_mtp_hidden(int32_t s) const {
  only_sequence_zero(s);
  return last_mtp_hidden();
}
int64_t Decoder::seq_mtp_past(int32_t s) const {
  only_sequence_zero(s);
  return mtp_past();
}
void Decoder::seq_mtp_truncate(int32_t s, int64_t n) {
  only_sequence_zero(s);
  truncate(n_past(), n);
}

EngineKind parse_engine_kind(const std::string& s) {
  if (s == "fast") return EngineKind::Fast;
  if (s == "reference" || s == "ref") return EngineKind::Reference;
  fail("--engine", "unknown engine '" + s + "' (expected fast or reference)");
}

std::unique_ptr<Decoder> make_decoder(const Model& m, const SessionOptions& o) {
  if (o.engine == EngineKind::Reference) {
    if (o.draft_vocab > 0) fail("--draft-vocab", "needs the fast engine");
    return std::make_unique<RefDecoder>(m, o);
  }
  return std::make_unique<FastDecoder>(m, o);
}

}  // namespace dsinfer
