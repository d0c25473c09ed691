// `dsinfer synth`: a random-weight model of a real shape, in GGUF.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "engine/model/model.h"
#include "engine/model/model_config.h"
#include "engine/tokenizer/tokenizer_json.h"
#include "quant/input_file.h"
#include "simd/error.h"
#include "tools/commands.h"
#include "tools/progress.h"
#include "tools/quantize/conversion_plan.h"
#include "tools/routing/routing_sample.h"
#include "tools/synth/bias_calibration.h"
#include "tools/synth/synthetic_weights.h"

namespace dsinfer::cli {

namespace {

const std::vector<std::pair<const char*, const char*>> kPresets = {
#include "model_presets.inc"
};

struct SynthCmdOptions {
  std::string preset, out, type, tokenizer, calibrate_text;
  std::vector<std::string> tensor_types;
  int64_t layers = 0, experts = 0, vocab = 0, calibrate_tokens = 4096;
  uint64_t seed = 1;
  bool no_mtp = false, mtp = false, quiet = false, no_calibrate = false;
};

std::string read_text(const std::string& path) { return read_regular_file(path); }

// Balances the expert bias of the file just written (under its temporary name) and patches
// it in.
void balance_bias(GgufWriter& w, const SynthCmdOptions& o) {
  BiasCalibrationOptions bo;
  bo.text = o.calibrate_text.empty() ? builtin_routing_text() : read_text(o.calibrate_text);
  bo.max_tokens = o.calibrate_tokens;
  const auto t0 = std::chrono::steady_clock::now();
  if (!o.quiet) std::cerr << "synth: balancing the expert bias on " << o.calibrate_tokens << " tokens of "
                          << (o.calibrate_text.empty() ? "the built-in text" : o.calibrate_text) << "...\n";
  const auto model = Model::open(w.temp_path(), WeightsLoad::Mmap);
  const std::vector<LayerBalance> layers = calibrate_expert_bias(*model, bo);
  for (const LayerBalance& lb : layers) {
    w.patch_tensor("blk." + std::to_string(lb.layer) + ".exp_probs_b.bias", 0, lb.bias.data(), lb.bias.size() * 4);
    if (!o.quiet)
      std::cerr << fmt::format("  layer {:>3}: max/mean load {:.2f} -> {:.2f}, experts used {}/{} ({} steps)\n",
                               lb.layer, lb.result.before.max_over_mean, lb.result.after.max_over_mean,
                               lb.result.after.used, lb.result.after.experts, lb.result.steps);
  }
  if (!o.quiet)
    std::cerr << "synth: balanced " << layers.size() << " layers in "
              << format_seconds(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()) << "\n";
}

void run_synth(const SynthCmdOptions& o) {
  const char* json = nullptr;
  std::string names;
  for (const auto& [name, text] : kPresets) {
    names += std::string(names.empty() ? "" : ", ") + name;
    if (o.preset == name) json = text;
  }
  if (!json) fail("--preset", "'" + o.preset + "' is not a preset (" + names + ")");
  ModelConfig c = parse_hf_config(json, "preset " + o.preset);
  if (o.layers < 0) fail("--layers", "must not be negative (0: the preset's)");
  if (o.experts < 0) fail("--experts", "must not be negative (0: the preset's)");
  if (o.vocab < 0) fail("--vocab", "must not be negative (0: the preset's)");
  if (o.layers > 0) {
    c.num_hidden_layers = o.layers;
    c.first_k_dense_replace = std::min(c.first_k_dense_replace, std::max<int64_t>(o.layers - 1, 0));
  }
  if (o.experts > 0) {
    c.n_routed_experts = o.experts;
    if (c.n_routed_experts % c.n_group) c.n_group = c.topk_group = 1;
    c.num_experts_per_tok = std::min(c.num_experts_per_tok, c.n_routed_experts);
  }
  if (o.vocab > 0) c.vocab_size = o.vocab;
  if (o.mtp && o.no_mtp) fail("--mtp", "contradicts --no-mtp");
  if (o.mtp) c.num_nextn_predict_layers = std::max<int64_t>(c.num_nextn_predict_layers, 1);
  if (!o.tokenizer.empty()) {
    // The embedding must cover the tokenizer; round up to a multiple of 256 as releases do.
    const int64_t n = int64_t(load_tokenizer_spec(o.tokenizer).tokens.size());
    if (n > c.vocab_size) c.vocab_size = (n + 255) / 256 * 256;
  }
  c.validate("preset " + o.preset);
  QuantRecipe recipe;
  if (!o.type.empty() && o.type != "mix") {
    recipe.has_base = true;
    recipe.base = parse_quant_type(o.type, "--type");
  }
  for (const std::string& tt : o.tensor_types) recipe.overrides.push_back(parse_tensor_type(tt));
  if (o.calibrate_tokens < 64) fail("--calibrate-tokens", "must be at least 64");
  if (!o.calibrate_text.empty()) read_text(o.calibrate_text);  // fail before writing gigabytes
  const ConversionPlan plan = plan_layout(c, recipe, !o.no_mtp);
  SynthOptions so;
  so.out_path = o.out;
  so.model_name = "synthetic " + o.preset;
  so.tokenizer_dir = o.tokenizer;
  so.seed = o.seed;
  so.progress = !o.quiet;
  if (!o.no_calibrate && c.topk_method == TopkMethod::NoauxTc)
    so.before_commit = [&o](GgufWriter& w) { balance_bias(w, o); };
  if (!o.quiet)
    std::cerr << "synth: preset " << o.preset << ", " << c.num_hidden_layers << " layers, " << c.n_routed_experts
              << " experts, " << plan.tensors.size() << " tensors, " << format_bytes(double(plan.out_bytes)) << " ("
              << recipe.describe_types() << ", random levels)\n";
  const ConvertStats st = write_synthetic_model(plan, so);
  if (!o.quiet)
    std::cerr << "wrote " << o.out << ": " << format_bytes(double(st.out_bytes)) << " in " << format_seconds(st.seconds)
              << " (" << format_bytes(double(st.out_bytes) / std::max(st.seconds, 1e-9)) << "/s)\n";
}

}  // namespace

void add_synth_command(CLI::App& app) {
  auto o = std::make_shared<SynthCmdOptions>();
  CLI::App* sub = app.add_subcommand("synth", "Write a random-weight model of a real shape (benchmarks, sizing hardware)");
  sub->add_option("--preset", o->preset, "v3, v2-lite, moonlight, kimi-k2 or tiny (models/presets)")->required();
  sub->add_option("-o,--out", o->out, "Output GGUF file")->required();
  sub->add_option("--layers", o->layers, "Override the number of layers");
  sub->add_option("--experts", o->experts, "Override the number of routed experts");
  sub->add_option("--vocab", o->vocab, "Override the vocabulary size (small files for quick tests)");
  sub->add_option("--type", o->type, "q4_0, q8_0, bf16, f16, f32 for every matrix, or mix (default: experts Q4_0, rest Q8_0)");
  sub->add_option("--tokenizer", o->tokenizer, "Directory with tokenizer.json to embed");
  sub->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  sub->add_option("--tensor-type", o->tensor_types, "REGEX=TYPE: type of the tensors whose GGUF name matches (repeatable)");
  sub->add_option("--calibrate-text", o->calibrate_text,
                  "Text the expert bias is balanced on (default: a built-in mix of prose, scripture and code)");
  sub->add_option("--calibrate-tokens", o->calibrate_tokens, "Tokens of it to use")->capture_default_str();
  sub->add_flag("--no-calibrate", o->no_calibrate, "Leave the expert bias at zero (routing then is not balanced)");
  sub->add_flag("--no-mtp", o->no_mtp, "Leave out the MTP layer");
  sub->add_flag("--mtp", o->mtp,
                "Add an MTP layer (V3's design: one more MoE layer with its own norms, projection and head) to a "
                "preset that has none, to measure speculative decoding on that shape");
  sub->add_flag("--quiet", o->quiet, "No progress on stderr");
  sub->callback([o] { run_synth(*o); });
}

}  // namespace dsinfer::cli
