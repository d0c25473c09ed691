#include "engine/model/model.h"

#include <filesystem>

#include "engine/experts/expert_store.h"
#include "engine/experts/ram_budget.h"
#include "engine/experts/resident_tensors.h"
#include "engine/model/gguf_binding.h"
#include "engine/model/gguf_names.h"
#include "engine/model/gguf_metadata.h"
#include "engine/model/hf_binding.h"
#include "quant/gguf_reader.h"
#include "quant/mapped_file.h"
#include "simd/error.h"
#include "quant/safetensors.h"

namespace dsinfer {

Model::~Model() = default;

WeightsLoad parse_weights_load(const std::string& s) {
  if (s == "auto") return WeightsLoad::Auto;
  if (s == "mmap") return WeightsLoad::Mmap;
  if (s == "copy") return WeightsLoad::Copy;
  fail("--weights", "unknown mode '" + s + "' (expected auto, mmap or copy)");
}

bool Model::weights_copied() const { return gguf_ && gguf_->map_mode() == MapMode::Copy; }

namespace {

bool is_routed_expert_tensor(std::string_view name) {
  return name.find("_exps.") != std::string_view::npos;
}

// The routed experts of MoE layer l as the store serves them: their shapes from the bound
// weights, their byte ranges from the stacked tensors (expert e is the e-th equal slice).
LayerExperts layer_experts(const GgufFile& f, const MoeWeights& w, int64_t l) {
  LayerExperts le;
  le.shape = w.experts.at(0);
  const int64_t E = int64_t(w.experts.size());
  const char* names[3] = {"ffn_gate_exps", "ffn_up_exps", "ffn_down_exps"};
  const GgufTensor* t[3];
  for (int i = 0; i < 3; ++i) t[i] = &f.tensor(gguf_names::blk(l, names[i]));
  for (int64_t e = 0; e < E; ++e) {
    ExpertSlices x;
    for (int i = 0; i < 3; ++i) {
      x.bytes[i] = t[i]->nbytes / uint64_t(E);
      x.offset[i] = t[i]->file_offset + uint64_t(e) * x.bytes[i];
    }
    le.experts.push_back(x);
  }
  return le;
}

}  // namespace

uint64_t Model::resident_bytes() const {
  if (resident_) return resident_->bytes();
  return weights_copied() ? gguf_->file_size() : 0;
}

std::unique_ptr<Model> Model::open(const std::string& path, WeightsLoad load, bool repack) {
  LoadOptions o;
  o.load = load;
  o.repack = repack;
  return open(path, o);
}

std::unique_ptr<Model> Model::open(const std::string& path, const LoadOptions& o) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(path, "no such file or directory");
  std::unique_ptr<Model> m(new Model());
  m->path_ = path;
  if (!fs::is_directory(path, ec)) {
    m->gguf_ = std::make_unique<GgufFile>(path, o.load == WeightsLoad::Copy ? MapMode::Copy : MapMode::Mmap);
    m->cfg_ = read_deepseek2_config(*m->gguf_);
    if (o.load != WeightsLoad::Auto) {
      m->w_ = bind_gguf(*m->gguf_, m->cfg_, o.repack);
      return m;
    }
    std::vector<const GgufTensor*> resident;
    bool experts = false;
    for (const GgufTensor& t : m->gguf_->tensors()) {
      if (is_routed_expert_tensor(t.name))
        experts = true;
      else
        resident.push_back(&t);
    }
    if (!experts) {  // nothing to stream: every weight in memory
      for (const GgufTensor& t : m->gguf_->tensors())
        if (is_routed_expert_tensor(t.name)) resident.push_back(&t);
    }
    // Reads go through the page cache (kept for the next run, which then starts from memory)
    // when the file fits in memory twice, as the cache's copy and ours; else they bypass it.
    const uint64_t avail = memory_view().available;
    const bool keep_cache = avail / 2 > m->gguf_->file_size() + (uint64_t(1) << 30);
    m->resident_ = std::make_unique<ResidentTensors>(*m->gguf_, resident, keep_cache);
    m->w_ = bind_gguf(*m->gguf_, m->cfg_, o.repack, m->resident_.get());
    if (!experts) return m;
    std::vector<LayerExperts> layers(size_t(m->cfg_.num_hidden_layers + (m->w_.mtp ? 1 : 0)));
    std::vector<MoeWeights*> moe(layers.size(), nullptr);
    for (size_t l = 0; l < m->w_.layers.size(); ++l)
      if (m->w_.layers[l].is_moe) moe[l] = &m->w_.layers[l].moe;
    if (m->w_.mtp && m->w_.mtp->layer.is_moe) moe.back() = &m->w_.mtp->layer.moe;
    for (size_t l = 0; l < layers.size(); ++l)
      if (moe[l]) layers[l] = layer_experts(*m->gguf_, *moe[l], int64_t(l));
    ExpertStoreOptions so;
    so.repack = o.repack;
    so.io_threads = o.io_threads;
    so.stats_path = o.expert_stats;
    so.predict = o.predict;
    if (o.recall) so.recall_vocab = m->cfg_.vocab_size, so.recall_top_k = m->cfg_.num_experts_per_tok;
    so.budget = o.ram_budget;
    so.keep_cache = keep_cache;
    if (so.budget == 0) {
      // What is available now, the other weights in, less a margin for the caches, buffers and
      // what else the machine runs.
      const uint64_t avail = memory_view().available;
      // Beyond the slots a process needs its KV cache, scratch, code and stacks (tens of MB on
      // small models, see the expert store's memory test) and the machine its own slack.
      const uint64_t margin = avail / 32 + (uint64_t(256) << 20);
      so.budget = avail > margin ? avail - margin : 0;
    }
    m->store_ = std::make_unique<ExpertStore>(path, std::move(layers), so);
    for (size_t l = 0; l < moe.size(); ++l)
      if (moe[l]) moe[l]->store = m->store_.get(), moe[l]->store_layer = int64_t(l);
    return m;
  }
  m->cfg_ = load_hf_config((fs::path(path) / "config.json").string());
  m->st_ = std::make_unique<SafetensorsCheckpoint>(path);
  m->w_ = bind_hf_checkpoint(*m->st_, m->cfg_);
  return m;
}

}  // namespace dsinfer
