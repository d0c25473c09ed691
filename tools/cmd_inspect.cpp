// `dsinfer inspect`: what a GGUF file holds and how much memory running it takes.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>

#include "engine/model/expert_balance.h"
#include "engine/model/gguf_metadata.h"
#include "engine/model/model.h"
#include "engine/model/model_tokenizer.h"
#include "quant/input_file.h"
#include "simd/error.h"
#include "quant/gguf_reader.h"
#include "tools/commands.h"
#include "tools/progress.h"
#include "tools/routing/routing_sample.h"

namespace dsinfer::cli {

namespace {

std::string format_number(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

struct InspectOptions {
  std::string file, routing_text;
  int64_t routing_tokens = 2048;
  bool no_tensors = false, metadata = false, routing = false;
};

// Counts each MoE layer's expert picks on the first pass through it.
class LoadCounter final : public RouterBiasHook {
 public:
  explicit LoadCounter(const ModelConfig& c) : c_(c) {}
  const float* bias(int64_t layer, const float* logits, int64_t T, const float* model_bias) override {
    if (!picks_.count(layer)) {
      std::vector<int64_t> p(static_cast<size_t>(c_.n_routed_experts));
      count_expert_picks(c_, logits, T, model_bias, p);
      picks_.emplace(layer, std::make_pair(T, std::move(p)));
    }
    return model_bias;
  }
  const std::map<int64_t, std::pair<int64_t, std::vector<int64_t>>>& picks() const { return picks_; }

 private:
  const ModelConfig& c_;
  std::map<int64_t, std::pair<int64_t, std::vector<int64_t>>> picks_;
};

// Routes a text through the model and prints each MoE layer's expert load: how a file's
// routing compares with a trained model's (every expert used, max/mean load about 1.5-2).
void print_routing(const InspectOptions& o) {
  if (o.routing_tokens < 1) fail("--routing-tokens", "must be at least 1");
  const auto model = Model::open(o.file, WeightsLoad::Mmap);
  const ModelConfig& c = model->config();
  std::string text = builtin_routing_text();
  if (!o.routing_text.empty()) text = read_text_input(o.routing_text);
  const auto windows = routing_windows(*model, text, o.routing_tokens, std::min<int64_t>(512, c.max_position_embeddings));
  LoadCounter counter(c);
  run_routing_pass(*model, windows, counter);
  std::printf("\nexpert load over %s (%s)\n", o.routing_text.empty() ? "the built-in text" : o.routing_text.c_str(),
              open_model_tokenizer(*model) ? "the file's tokenizer" : "no tokenizer: Zipf-distributed ids");
  std::printf("%-8s %8s %10s %10s %10s\n", "layer", "tokens", "used", "max/mean", "min/mean");
  for (const auto& [layer, tp] : counter.picks()) {
    const LoadSummary s = summarize_load(tp.second);
    const int64_t mn = *std::min_element(tp.second.begin(), tp.second.end());
    const double mean = double(tp.first * c.num_experts_per_tok) / double(c.n_routed_experts);
    std::printf("%-8s %8lld %6lld/%-3lld %10.2f %10.2f\n",
                (layer == c.num_hidden_layers ? "MTP" : std::to_string(layer)).c_str(), (long long)tp.first,
                (long long)s.used, (long long)s.experts, s.max_over_mean, double(mn) / mean);
  }
}

// The role of a tensor, by its deepseek2 name.
std::string role_of(const std::string& name, int64_t main_layers) {
  if (name == "token_embd.weight" || name == "output.weight") return "embeddings/head";
  if (name.rfind("blk.", 0) == 0) {
    const int64_t l = std::stoll(name.substr(4));
    if (l >= main_layers || name.find(".nextn.") != std::string::npos) return "MTP";
    if (name.find("_exps.") != std::string::npos) return "routed experts";
    if (name.find("_shexp.") != std::string::npos) return "shared experts";
    if (name.find(".attn_") != std::string::npos && name.find("_norm.") == std::string::npos) return "attention";
    if (name.find(".ffn_gate.") != std::string::npos || name.find(".ffn_up.") != std::string::npos ||
        name.find(".ffn_down.") != std::string::npos)
      return "dense FFN";
  }
  return "norms/router/bias";
}

void run_inspect(const InspectOptions& o) {
  GgufFile f(o.file);
  const ModelConfig c = read_deepseek2_config(f);
  std::printf("file            %s\n", o.file.c_str());
  std::printf("format          GGUF v%u, %zu tensors, %zu metadata keys, alignment %u, %s\n", f.version(),
              f.tensors().size(), f.metadata().size(), f.alignment(), format_bytes(double(f.file_size())).c_str());
  std::printf("architecture    deepseek2 (%s routing: %s%s)\n", c.model_type.c_str(),
              c.scoring_func == ScoringFunc::Sigmoid ? "sigmoid" : "softmax",
              c.topk_method == TopkMethod::NoauxTc              ? " + bias, group-limited top-k"
              : c.topk_method == TopkMethod::GroupLimitedGreedy ? ", group-limited greedy"
                                                                : ", greedy");
  std::printf("layers          %lld (%lld dense) + %lld MTP\n", (long long)c.num_hidden_layers,
              (long long)c.first_k_dense_replace, (long long)c.num_nextn_predict_layers);
  std::printf("hidden          %lld, vocab %lld, context %lld\n", (long long)c.hidden_size, (long long)c.vocab_size,
              (long long)c.max_position_embeddings);
  std::printf("attention       MLA: %lld heads, q_lora %lld, kv_lora %lld, nope %lld, rope %lld, v %lld "
              "(latent cache %lld values/token/layer)\n",
              (long long)c.num_attention_heads, (long long)c.q_lora_rank, (long long)c.kv_lora_rank,
              (long long)c.qk_nope_head_dim, (long long)c.qk_rope_head_dim, (long long)c.v_head_dim,
              (long long)c.latent_dim());
  std::printf("rope            theta %g%s\n", c.rope_theta,
              c.rope_scaling.yarn ? (", yarn factor " + format_number(c.rope_scaling.factor) + " over " +
                                     std::to_string(c.rope_scaling.original_max_position))
                                        .c_str()
                                  : "");
  std::printf("experts         %lld routed (top %lld, %lld groups keep %lld), %lld shared, ffn %lld; weights %s x %g\n",
              (long long)c.n_routed_experts, (long long)c.num_experts_per_tok, (long long)c.n_group,
              (long long)c.topk_group, (long long)c.n_shared_experts, (long long)c.moe_intermediate_size,
              c.norm_topk_prob ? "renormalised" : "as scored", c.routed_scaling_factor);
  if (f.has("tokenizer.ggml.tokens")) {
    const size_t merges = f.has("tokenizer.ggml.merges") ? f.get_strings("tokenizer.ggml.merges").size() : 0;
    std::printf("tokenizer       %s, pre '%s', %zu tokens, %zu merges, bos %lld, eos %lld, chat template %s\n",
                std::string(f.get_string("tokenizer.ggml.model")).c_str(),
                f.has("tokenizer.ggml.pre") ? std::string(f.get_string("tokenizer.ggml.pre")).c_str() : "?",
                f.get_strings("tokenizer.ggml.tokens").size(), merges, (long long)c.bos_token_id,
                (long long)c.eos_token_id, f.has("tokenizer.chat_template") ? "yes" : "no");
  } else {
    std::printf("tokenizer       none\n");
  }
  if (o.metadata) {
    std::printf("\nmetadata\n");
    for (const GgufKv& kv : f.metadata())
      std::printf("  %-48s %s\n", std::string(kv.key).c_str(), kv.value.to_string().c_str());
  }
  std::map<std::string, uint64_t> by_role, by_type;
  uint64_t total = 0;
  if (!o.no_tensors) std::printf("\n%-40s %-6s %-24s %14s\n", "tensor", "type", "shape", "bytes");
  for (const GgufTensor& t : f.tensors()) {
    const std::string name(t.name);
    if (!o.no_tensors)
      std::printf("%-40s %-6s %-24s %14llu\n", name.c_str(), std::string(dtype_name(t.type)).c_str(),
                  t.shape_str().c_str(), (unsigned long long)t.nbytes);
    by_role[role_of(name, c.num_hidden_layers)] += t.nbytes;
    by_type[std::string(dtype_name(t.type))] += t.nbytes;
    total += t.nbytes;
  }
  std::printf("\n%-24s %12s %7s\n", "bytes by role", "bytes", "share");
  for (const auto& [role, b] : by_role)
    std::printf("%-24s %12s %6.1f%%\n", role.c_str(), format_bytes(double(b)).c_str(), 100.0 * double(b) / double(total));
  std::printf("%-24s", "bytes by type");
  for (const auto& [type, b] : by_type) std::printf(" %s %s;", type.c_str(), format_bytes(double(b)).c_str());
  std::printf("\n");
  const uint64_t experts = by_role["routed experts"], mtp = by_role["MTP"];
  const int64_t moe_layers = c.num_hidden_layers - c.first_k_dense_replace;
  const uint64_t per_expert = moe_layers > 0 && c.n_routed_experts > 0
                                  ? experts / uint64_t(moe_layers) / uint64_t(c.n_routed_experts) : 0;
  std::printf("\nRAM, all weights resident          %s (MTP %s of it)\n", format_bytes(double(total)).c_str(),
              format_bytes(double(mtp)).c_str());
  std::printf("RAM, non-expert weights only       %s (what streaming keeps resident)\n",
              format_bytes(double(total - experts)).c_str());
  std::printf("one routed expert (gate+up+down)   %s; a token reads %lld per MoE layer: %s\n",
              format_bytes(double(per_expert)).c_str(), (long long)c.num_experts_per_tok,
              format_bytes(double(per_expert) * double(c.num_experts_per_tok) * double(moe_layers)).c_str());
  std::printf("KV cache (latent, f32)             %s per 1000 tokens\n",
              format_bytes(1000.0 * double(c.latent_dim() * c.num_hidden_layers) * 4).c_str());
  if (o.routing) print_routing(o);
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  auto o = std::make_shared<InspectOptions>();
  CLI::App* sub = app.add_subcommand("inspect", "Metadata, hyperparameters, tensors and memory needs of a GGUF file");
  sub->add_option("file", o->file, "GGUF file")->required();
  sub->add_flag("--no-tensors", o->no_tensors, "Leave out the tensor table");
  sub->add_flag("--metadata", o->metadata, "Also list every metadata key and value");
  sub->add_flag("--routing", o->routing, "Route a text through the model and show each MoE layer's expert load");
  sub->add_option("--routing-text", o->routing_text, "Text for --routing (default: the built-in text)");
  sub->add_option("--routing-tokens", o->routing_tokens, "Tokens of it to route")->capture_default_str();
  sub->callback([o] { run_inspect(*o); });
}

}  // namespace dsinfer::cli
