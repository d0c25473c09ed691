// The fast engine: a Decoder over quantized weights as stored, with every buffer sized once
// when the session is created (nothing is allocated per token).
//
// Per layer: RMSNorm -> absorbed MLA over the typed latent cache (mla_absorbed.h) -> residual
// -> RMSNorm -> dense FFN or experts grouped by token (grouped_ffn.h) -> residual. Tokens pass
// in chunks of SessionOptions::chunk; decode is the same code with one token, a batched step
// one token of each sequence. Threads: the OpenMP team as set when the session is created;
// results do not depend on its size.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "engine/decoder.h"
#include "engine/fast/draft_vocabulary.h"
#include "engine/fast/grouped_ffn.h"
#include "engine/fast/mla_absorbed.h"
#include "engine/fast/typed_latent_cache.h"
#include "engine/model/rope.h"

namespace dsinfer {

class FastDecoder final : public Decoder {
 public:
  FastDecoder(const Model& m, SessionOptions o = {});

  void forward(std::span<const int32_t> tokens, std::vector<float>& logits, ForwardTrace* trace = nullptr,
               bool last_only = false) override;
  void mtp_forward(std::span<const int32_t> next_tokens, const float* hidden, std::vector<float>& logits,
                   RouterRecord* rec = nullptr, bool last_only = false) override;
  void mtp_fill(std::span<const int32_t> next_tokens, const float* hidden) override;
  void mtp_fill_multi(std::span<const int32_t> seq, std::span<const int32_t> next_tokens,
                      const float* hidden) override;
  const float* last_mtp_hidden() const override { return mtp_hidden_.data(); }
  void mtp_forward_multi(std::span<const int32_t> seq, std::span<const int32_t> next_tokens, const float* hidden,
                         std::vector<float>& logits) override;
  const float* seq_mtp_hidden(int32_t s) const override;
  int64_t seq_mtp_past(int32_t s) const override;
  void seq_mtp_truncate(int32_t s, int64_t n) override;

  const std::vector<float>& last_hidden() const override { return hidden_; }
  int64_t n_past() const override { return past_[0]; }
  int64_t mtp_past() const override { return mtp_past_[0]; }
  int64_t context() const override { return caches_[0].capacity(); }
  void truncate(int64_t n, int64_t mtp_n) override;
  const Model& model() const override { return model_; }
  size_t cache_bytes() const override;
  void forward_multi(std::span<const int32_t> seq, std::span<const int32_t> tokens, std::vector<float>& logits,
                     const MultiOutput& out = {}) override;
  int64_t seq_past(int32_t s) const override;
  void seq_truncate(int32_t s, int64_t n) override;
  int64_t sequences() const override { return int64_t(caches_.size()); }
  void set_router_bias_hook(RouterBiasHook* hook) override { bias_hook_ = hook; }

 private:
  // The one chunk loop: tokens pass in chunks of at most chunk_. place(i, cache, pos) puts
  // token i in a cache at a position; after a chunk's layers, done(c0, n) reads the residual
  // stream x_ [n][hidden] of tokens c0..c0+n.
  template <class Place, class Done>
  void run_chunks(std::span<const int32_t> tokens, ForwardTrace* trace, Place place, Done done);
  // The MTP module's chunk loop, as run_chunks: done(c0, n) reads the head-normed rows h_.
  // The MTP module's input for tokens c0..c0+n placed by `place`: eh_proj of the normed
  // embedding and hidden rows, into x_.
  template <class Place>
  void mtp_inputs(std::span<const int32_t> next_tokens, const float* hidden, int64_t c0, int64_t n, Place place);
  // mtp_fill's chunk loop, entries placed by `place` as in run_mtp_chunks.
  template <class Place>
  void fill_mtp_chunks(std::span<const int32_t> next_tokens, const float* hidden, Place place);
  template <class Place, class Done>
  void run_mtp_chunks(std::span<const int32_t> next_tokens, const float* hidden, RouterRecord* rec, Place place,
                      Done done);
  // Checks entries of forward_multi / mtp_forward_multi against their sequences' caches
  // (`past`: positions filled, one per cache) before any cache changes.
  void check_multi(std::span<const int32_t> seq, std::span<const int32_t> tokens, const std::vector<int64_t>& past,
                   const std::vector<TypedLatentCache>& caches, const char* fn, const char* what);
  // Marks in is_last_ the entries that are their sequence's last; returns how many.
  int64_t mark_last_entries(std::span<const int32_t> seq);
  // Copies the rows [n][hidden] of `from` that are marked in is_last_ (entry c0 on) to the
  // front of `to` (which may be `from`); returns how many.
  int64_t gather_last_rows(const float* from, int64_t c0, int64_t n, float* to);
  // One layer over the rows of x_, one per token of `tokens`, each at its slot. `index`: the
  // layer's number (num_hidden_layers for the MTP module).
  void layer(const LayerWeights& w, int64_t index, int64_t cache_layer, std::span<const int32_t> tokens,
             RouterRecord* rec);
  // With an expert store that remembers routing: a forward of one or two tokens reads what they
  // went to the last time in layers [first, end) before it runs.
  void recall_experts(std::span<const int32_t> tokens, int64_t first, int64_t end) const;
  // The first MoE layer after layer `index` (null: none; the MTP module predicts nothing).
  const MoeWeights* next_moe(int64_t index) const;
  // logits [n][vocab] of the final-normed rows h [n][hidden].
  void head(const Matrix& w, const float* h, int64_t n, float* logits);
  // The same for drafting: through draft_ when it is active.
  void draft_head(const Matrix& w, const float* h, int64_t n, float* logits);

  const Model& model_;
  Rope rope_;
  int threads_ = 1;
  int64_t chunk_ = 0;
  std::vector<TypedLatentCache> caches_;  // one per sequence
  std::vector<int64_t> past_;             // positions filled, per sequence
  // The MTP module's: sequence 0's, or one per sequence (SessionOptions::mtp_per_sequence).
  std::vector<TypedLatentCache> mtp_caches_;
  std::vector<int64_t> mtp_past_;
  std::vector<TypedLatentCache*> slot_cache_;  // per token of the current chunk
  std::vector<int64_t> slot_pos_, seen_;
  std::vector<uint8_t> is_last_;
  std::vector<float> hidden_;
  std::vector<float> mtp_hidden_;  // [MTP caches][hidden]: each one's last entry, head-normed
  // Per-chunk working set: residual x, normed h, block output y, MTP concat, their Q8_0 blocks.
  std::vector<float> x_, h_, y_, cat_, e_;
  std::vector<BlockQ8_0> hq_, catq_;
  std::vector<LinearJob> jobs_;
  MlaScratch mla_;
  FfnScratch ffn_;
  RouterBiasHook* bias_hook_ = nullptr;
  DraftVocabulary draft_;
};

}  // namespace dsinfer
