// `dsinfer quantize`: a Hugging Face checkpoint -> a deepseek2 GGUF file.
#include <omp.h>
#include <sys/statvfs.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include "engine/model/model_config.h"
#include "simd/error.h"
#include "quant/safetensors.h"
#include "tools/commands.h"
#include "tools/progress.h"
#include "tools/quantize/conversion_plan.h"
#include "tools/quantize/converter.h"
#include "tools/quantize/tokenizer_metadata.h"
#include "tools/thread_count.h"

namespace dsinfer::cli {

namespace {

namespace fs = std::filesystem;

struct QuantizeOptions {
  std::string model, out, type, tokenizer;
  std::vector<std::string> tensor_types;
  bool no_mtp = false, dry_run = false, no_search = false, quiet = false;
  int64_t threads = 0;
};

void print_plan(const ConversionPlan& plan, const QuantRecipe& recipe) {
  std::printf("recipe: %s\n", recipe.describe().c_str());
  std::printf("%-40s %-6s %-22s %12s\n", "tensor", "type", "shape", "bytes");
  for (const PlannedTensor& t : plan.tensors) {
    std::string shape = "[";
    for (size_t i = 0; i < t.ne.size(); ++i) shape += (i ? "," : "") + std::to_string(t.ne[i]);
    shape += "]";
    std::printf("%-40s %-6s %-22s %12llu\n", t.name.c_str(), std::string(dtype_name(t.type)).c_str(),
                shape.c_str(), (unsigned long long)t.out_bytes);
  }
  std::map<std::string, std::pair<uint64_t, uint64_t>> by_role;  // role -> (in, out)
  for (const PlannedTensor& t : plan.tensors) {
    auto& v = by_role[std::string(role_name(t.role)) + " (" + std::string(dtype_name(t.type)) + ")"];
    v.first += t.in_bytes;
    v.second += t.out_bytes;
  }
  std::printf("\n%-32s %12s %12s\n", "by role", "input", "output");
  for (const auto& [role, v] : by_role)
    std::printf("%-32s %12s %12s\n", role.c_str(), format_bytes(double(v.first)).c_str(),
                format_bytes(double(v.second)).c_str());
  std::printf("%-32s %12s %12s  (%zu tensors%s)\n", "total", format_bytes(double(plan.in_bytes)).c_str(),
              format_bytes(double(plan.out_bytes)).c_str(), plan.tensors.size(), plan.with_mtp ? ", MTP included" : "");
}

void run_quantize(const QuantizeOptions& o) {
  set_threads(o.threads, omp_get_max_threads(), "--threads");
  QuantRecipe recipe;
  if (!o.type.empty()) {
    recipe.has_base = true;
    recipe.base = parse_quant_type(o.type, "--type");
  }
  for (const std::string& tt : o.tensor_types) recipe.overrides.push_back(parse_tensor_type(tt));
  recipe.search_scales = !o.no_search;

  const ModelConfig cfg = load_hf_config((fs::path(o.model) / "config.json").string());
  SafetensorsCheckpoint ckpt(o.model);
  const ConversionPlan plan = plan_conversion(ckpt, cfg, recipe, !o.no_mtp);
  if (o.dry_run) {
    print_plan(plan, recipe);
    return;
  }
  if (o.out.empty()) fail("quantize", "give the output file with -o OUT.gguf (or --dry-run)");
  const std::string tok_dir = o.tokenizer.empty() ? o.model : o.tokenizer;
  const bool embed_tokenizer = has_tokenizer(tok_dir);
  if (!o.tokenizer.empty() && !embed_tokenizer) fail(o.tokenizer, "no tokenizer.json here");

  // Refuse early rather than after an hour: the output must fit on its disk.
  const fs::path dir = fs::absolute(o.out).parent_path();
  struct statvfs vfs {};
  if (::statvfs(dir.c_str(), &vfs) == 0) {
    const uint64_t avail = uint64_t(vfs.f_bavail) * vfs.f_frsize;
    if (avail < plan.out_bytes + (64u << 20))
      fail(o.out, "needs about " + format_bytes(double(plan.out_bytes)) + " but only " + format_bytes(double(avail)) +
                      " is free on that disk");
  }
  ConvertOptions co;
  co.out_path = o.out;
  co.model_name = fs::path(o.model).filename().string();
  if (co.model_name.empty()) co.model_name = fs::path(o.model).parent_path().filename().string();
  co.tokenizer_dir = embed_tokenizer ? tok_dir : "";
  co.progress = !o.quiet;
  co.search_scales = recipe.search_scales;
  if (!o.quiet)
    std::cerr << "quantize: " << plan.tensors.size() << " tensors, " << format_bytes(double(plan.in_bytes)) << " -> "
              << format_bytes(double(plan.out_bytes)) << " (" << recipe.describe() << ")"
              << (embed_tokenizer ? "" : "; no tokenizer.json: none embedded") << "\n";
  const ConvertStats st = run_conversion(ckpt, plan, co);
  if (!o.quiet)
    std::cerr << "wrote " << o.out << ": " << format_bytes(double(st.out_bytes)) << " in " << format_seconds(st.seconds)
              << " (" << format_bytes(double(st.in_bytes) / std::max(st.seconds, 1e-9)) << "/s of input)\n";
}

}  // namespace

void add_quantize_command(CLI::App& app) {
  auto o = std::make_shared<QuantizeOptions>();
  CLI::App* sub = app.add_subcommand(
      "quantize",
      "Convert a Hugging Face checkpoint (FP8 with block scales, BF16, F16, F32) into a GGUF file.\n"
      "Default recipe: routed experts Q4_0, every other matrix Q8_0, norms, router and expert bias F32;\n"
      "Q4_0 block scales searched to minimise squared error (same format; --no-search for ggml's\n"
      "round-to-nearest); Q8_0 is always round-to-nearest, byte-identical to llama.cpp's.\n"
      "Streams one tensor at a time; the output appears only when complete.");
  sub->add_option("model", o->model, "Hugging Face checkpoint directory")->required();
  sub->add_option("-o,--out", o->out, "Output GGUF file");
  sub->add_option("--type", o->type, "Every matrix in this type: q4_0, q8_0, bf16, f16, f32");
  sub->add_option("--tensor-type", o->tensor_types, "REGEX=TYPE on GGUF tensor names (repeatable, first match wins)");
  sub->add_flag("--no-mtp", o->no_mtp, "Leave out the multi-token-prediction layer");
  sub->add_flag("--no-search", o->no_search, "Q4_0 with round-to-nearest scales (ggml's reference quantizer)");
  sub->add_option("--tokenizer", o->tokenizer, "Directory with tokenizer.json to embed (default: the model directory)");
  sub->add_option("--threads", o->threads, "Worker threads (default: OpenMP's, at most 4 x the logical CPUs)");
  sub->add_flag("--dry-run", o->dry_run, "Print the plan (types, shapes, sizes by role) and write nothing");
  sub->add_flag("--quiet", o->quiet, "No progress on stderr");
  sub->callback([o] { run_quantize(*o); });
}

}  // namespace dsinfer::cli
