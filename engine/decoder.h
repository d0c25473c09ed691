// A generation session over a model, whichever engine runs it: the latent caches of the main
// model and of its MTP module, and the forward passes over them.
//   - EngineKind::Fast (default): quantized integer kernels, absorbed MLA over a typed cache,
//     chunked prefill with tokens grouped by expert (engine/fast/);
//   - EngineKind::Reference: the float32 reference (engine/reference/), which matches
//     DeepSeek's own implementation and is what every other path is measured against.
// This header names neither engine; make_decoder() picks one.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/model/model.h"
#include "engine/model/moe_router.h"

namespace dsinfer {

enum class EngineKind { Fast, Reference };
// "fast" | "reference" (also "ref"); throws Error otherwise.
EngineKind parse_engine_kind(const std::string& s);

// How the reference engine attends: decompressing the latents (naive) or in the absorbed form.
enum class AttnMode { Naive, Absorb };

// How the fast engine stores the latent cache: f32, bf16, or q8_0 (latent in Q8_0 blocks,
// rope key kept f32).
enum class KvType { F32, BF16, Q8_0 };
// "f32" | "bf16" | "q8_0"; throws Error otherwise.
KvType parse_kv_type(const std::string& s);
const char* kv_type_name(KvType t) noexcept;

struct SessionOptions {
  int64_t context = 0;  // positions the cache holds; 0: min(max_position_embeddings, 4096)
  EngineKind engine = EngineKind::Fast;
  AttnMode attn = AttnMode::Absorb;  // reference engine only (the fast one is always absorbed)
  KvType kv = KvType::Q8_0;          // fast engine only (q8_0: fastest and smallest, see README)
  int64_t chunk = 512;               // fast engine: prefill tokens per pass
  int64_t sequences = 1;             // fast engine: independent sequences (caches), see forward_multi
  // Fast engine, with sequences > 1 and a model with MTP: an MTP cache for every sequence
  // (speculative decoding of several at once, mtp_forward_multi); otherwise sequence 0 alone
  // has one, which keeps the memory of sessions that do not draft as it was.
  bool mtp_per_sequence = false;
  // Fast engine, a model with MTP: drafts (mtp_forward with last_only, mtp_forward_multi) score
  // only the first draft_vocab token ids and the tokens this session has fed (up to 4,096 more),
  // the others -inf (engine/fast/draft_vocabulary.h). 0: the whole vocabulary.
  int64_t draft_vocab = 0;
};

// What forward_multi returns besides the logits of each sequence's last entry.
struct MultiOutput {
  bool every_entry = false;              // logits [T][vocab] of every entry instead
  std::vector<float>* hidden = nullptr;  // when set: every entry's post-final-norm hidden state [T][hidden]
};

// What a forward pass can report besides logits (filled only when asked for).
struct ForwardTrace {
  bool want_layers = false;            // reference engine only
  std::vector<float> layer_outputs;    // [layers][T][hidden], residual stream after each layer
  std::vector<float> hidden_prenorm;   // [T][hidden]
  std::vector<RouterRecord> router;    // one per MoE layer, in layer order
};

// Sees the router logits [T][n_routed] of a MoE layer's tokens before they are routed and
// chooses the expert bias they are routed with (synth balances random models with it;
// inspect counts expert load).
class RouterBiasHook {
 public:
  virtual ~RouterBiasHook() = default;
  // `layer`: the layer index (num_hidden_layers for the MTP module); `model_bias`: the
  // layer's own bias (null for routing without one). Returns the bias to route with (null:
  // none), valid until the next call.
  virtual const float* bias(int64_t layer, const float* logits, int64_t T, const float* model_bias) = 0;
};

class Decoder {
 public:
  virtual ~Decoder() = default;

  // Feeds `tokens` at positions n_past().. and appends them to the cache. logits: [T][vocab],
  // or with last_only just the last token's [vocab] (prefill need not compute the others).
  virtual void forward(std::span<const int32_t> tokens, std::vector<float>& logits, ForwardTrace* trace = nullptr,
                       bool last_only = false) = 0;
  // The MTP module over its own cache: entry i takes the token that follows main position p
  // and the main model's post-final-norm hidden state at p (hidden [T][hidden]); its logits
  // [T][vocab] predict the token after that one (with last_only just the last entry's
  // [vocab]: speculative decoding drafts from it). Positions continue from mtp_past().
  virtual void mtp_forward(std::span<const int32_t> next_tokens, const float* hidden, std::vector<float>& logits,
                           RouterRecord* rec = nullptr, bool last_only = false) = 0;
  // Only the MTP cache entries mtp_forward would write for these positions, without their
  // outputs (no attention, experts or head): what a later draft attends to, at a fraction of
  // the cost. This default runs mtp_forward.
  virtual void mtp_fill(std::span<const int32_t> next_tokens, const float* hidden);
  // mtp_forward with last_only, the entries before the last filled (mtp_fill): the same cache
  // and last logits at about the cost of one entry. How speculation catches the module up.
  void mtp_catch_up(std::span<const int32_t> next_tokens, const float* hidden, std::vector<float>& logits);
  // The last entry's MTP output after its head norm [hidden], from the last mtp_forward():
  // what a chained draft feeds back in place of the main model's hidden state.
  virtual const float* last_mtp_hidden() const = 0;

  // Post-final-norm hidden states [T][hidden] of the last forward().
  virtual const std::vector<float>& last_hidden() const = 0;
  virtual int64_t n_past() const = 0;
  virtual int64_t mtp_past() const = 0;
  virtual int64_t context() const = 0;
  // Forget positions from n on (n <= n_past()): the next forward() continues at n.
  virtual void truncate(int64_t n, int64_t mtp_n) = 0;
  void reset() { truncate(0, 0); }
  virtual const Model& model() const = 0;

  // Several sequences at once (SessionOptions::sequences of them; sequence 0 is the one
  // forward() feeds): entry i feeds tokens[i] to sequence seq[i] at its next position, entries
  // of one sequence in order. logits: [k][vocab] for the last entry of each of the k sequences
  // present, in the order those entries appear (a decode step feeding one token per sequence
  // gets every row; a prompt fed whole gets its last). One pass over the weights serves every
  // entry, which is what makes batched decoding cheaper than one sequence after another.
  // `out` asks for more: speculative decoding verifies several drafts of several sequences in
  // one pass (every entry's logits) and feeds the MTP module from the hidden states.
  virtual void forward_multi(std::span<const int32_t> seq, std::span<const int32_t> tokens,
                             std::vector<float>& logits, const MultiOutput& out = {});
  virtual int64_t seq_past(int32_t s) const;
  virtual void seq_truncate(int32_t s, int64_t n);
  virtual int64_t sequences() const { return 1; }

  // The MTP module over several sequences' caches (SessionOptions::mtp_per_sequence): entry i
  // takes next_tokens[i] and hidden row i ([T][hidden] in all) for sequence seq[i] at its next
  // MTP position, entries of one sequence in order. logits: [k][vocab] for the last entry of
  // each of the k sequences present, in the order those entries appear.
  virtual void mtp_forward_multi(std::span<const int32_t> seq, std::span<const int32_t> next_tokens,
                                 const float* hidden, std::vector<float>& logits);
  // mtp_fill for entries of several sequences, as mtp_forward_multi takes them.
  virtual void mtp_fill_multi(std::span<const int32_t> seq, std::span<const int32_t> next_tokens, const float* hidden);
  // Sequence s's last_mtp_hidden(), MTP positions, and its MTP cut (n <= seq_mtp_past(s)).
  virtual const float* seq_mtp_hidden(int32_t s) const;
  virtual int64_t seq_mtp_past(int32_t s) const;
  virtual void seq_mtp_truncate(int32_t s, int64_t n);

  // Routes every MoE layer through the hook from now on (null: no hook).
  // Fast engine only.
  virtual void set_router_bias_hook(RouterBiasHook* hook);

  // Bytes held by the caches.
  virtual size_t cache_bytes() const = 0;
};

std::unique_ptr<Decoder> make_decoder(const Model& m, const SessionOptions& o = {});

// Default context: min(max_position_embeddings, 4096).
int64_t default_context(const ModelConfig& c);
// Throws unless every token is in the vocabulary and past + T fits `capacity`.
void check_input_tokens(const Model& m, std::span<const int32_t> tokens, int64_t past, int64_t capacity,
                        const char* what);

}  // namespace dsinfer
