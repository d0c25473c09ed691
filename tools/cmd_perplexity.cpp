// `dsinfer perplexity`: how well a model predicts a text, and how far a quantized model is
// from its base on the same tokens.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <vector>

#include "engine/model/model.h"
#include "engine/model/model_tokenizer.h"
#include "engine/decoder.h"
#include "quant/input_file.h"
#include "simd/error.h"
#include "tools/commands.h"
#include "tools/engine_flags.h"

namespace dsinfer::cli {

namespace {

struct PerplexityOptions {
  std::string model, file, kl_base;
  int64_t ctx = 256, max_windows = 0;
  EngineFlags engine, base_engine{.engine = "reference"};
};

// log-softmax of one row into `out`; returns the argmax.
int32_t log_softmax(const float* x, int64_t n, std::vector<double>& out) {
  out.resize(size_t(n));
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;
  double z = 0;
  for (int64_t i = 0; i < n; ++i) z += std::exp(double(x[i]) - double(x[best]));
  const double lz = std::log(z) + double(x[best]);
  for (int64_t i = 0; i < n; ++i) out[size_t(i)] = double(x[i]) - lz;
  return int32_t(best);
}

void run_perplexity(const PerplexityOptions& o) {
  if (o.ctx < 8) fail("--ctx", "must be at least 8");
  if (o.max_windows < 0) fail("--max-windows", "must not be negative (0: all)");
  auto model = open_model(o.model, o.engine);
  if (o.ctx > model->config().max_position_embeddings)
    fail("--ctx", std::to_string(o.ctx) + " is more than the model's context of " +
                      std::to_string(model->config().max_position_embeddings) + " tokens");
  auto tok = open_model_tokenizer(*model);
  if (!tok) fail(o.model, "this model carries no tokenizer");
  const std::string text = read_text_input(o.file);
  EncodeOptions eo;
  eo.parse_special = false;  // the text is data, not a conversation
  const std::vector<int32_t> ids = tok->encode(text, eo);
  const int64_t V = model->config().vocab_size;
  std::unique_ptr<Model> base;
  if (!o.kl_base.empty()) {
    base = open_model(o.kl_base, o.engine);
    if (base->config().vocab_size != V) fail(o.kl_base, "vocabulary differs from the model's");
  }
  // Windows of ctx tokens, each starting with BOS when the model has one, scored on every
  // position after the first (each position sees at least one real token of context).
  const bool bos = tok->bos_id() >= 0;
  const int64_t body = o.ctx - (bos ? 1 : 0);
  int64_t windows = int64_t(ids.size()) / body;
  if (o.max_windows > 0) windows = std::min(windows, o.max_windows);
  if (windows == 0) fail(o.file, "too short for one window of " + std::to_string(o.ctx) + " tokens");

  double nll = 0, kl_sum = 0;
  int64_t scored = 0, top1_same = 0, mtp_hit = 0, mtp_n = 0;
  std::vector<double> kls, lp, lq;
  std::vector<std::vector<int64_t>> load;  // [MoE layer][expert] picks
  std::vector<int64_t> load_layer;
  // Per MoE layer: experts consecutive tokens share, summed over the pairs (what a 2-token
  // verify forward saves over independent routing).
  std::vector<int64_t> shared, pairs;
  const int64_t k = model->config().num_experts_per_tok;
  std::vector<float> logits, base_logits, mtp;
  SessionOptions bo = session_options(o.base_engine), so = session_options(o.engine);
  so.context = bo.context = o.ctx;
  // One cache per model for the whole run; each window starts it afresh.
  auto sp = make_decoder(*model, so);
  Decoder& s = *sp;
  std::unique_ptr<Decoder> b;
  if (base) b = make_decoder(*base, bo);
  for (int64_t w = 0; w < windows; ++w) {
    std::vector<int32_t> win;
    if (bos) win.push_back(tok->bos_id());
    win.insert(win.end(), ids.begin() + w * body, ids.begin() + (w + 1) * body);
    s.reset();
    ForwardTrace tr;
    s.forward(win, logits, &tr);
    if (load.empty()) {
      load.assign(tr.router.size(), std::vector<int64_t>(size_t(model->config().n_routed_experts)));
      for (const RouterRecord& r : tr.router) load_layer.push_back(r.layer);
      shared.assign(load.size(), 0);
      pairs.assign(load.size(), 0);
    }
    for (size_t l = 0; l < tr.router.size(); ++l) {
      const std::vector<int32_t>& ids = tr.router[l].ids;
      for (int32_t e : ids) ++load[l][size_t(e)];
      for (size_t t = 0; t + 2 * size_t(k) <= ids.size(); t += size_t(k)) {
        for (size_t i = 0; i < size_t(k); ++i)
          for (size_t j = 0; j < size_t(k); ++j) shared[l] += ids[t + i] == ids[t + size_t(k) + j];
        ++pairs[l];
      }
    }
    if (b) {
      b->reset();
      b->forward(win, base_logits);
    }
    const int64_t T = int64_t(win.size());
    for (int64_t t = 0; t + 1 < T; ++t) {
      const int32_t arg = log_softmax(logits.data() + t * V, V, lp);
      nll -= lp[size_t(win[size_t(t + 1)])];
      ++scored;
      if (base) {
        const int32_t barg = log_softmax(base_logits.data() + t * V, V, lq);
        double kl = 0;
        for (int64_t i = 0; i < V; ++i) kl += std::exp(lq[size_t(i)]) * (lq[size_t(i)] - lp[size_t(i)]);
        kls.push_back(kl);
        kl_sum += kl;
        top1_same += arg == barg;
      }
    }
    if (model->has_mtp()) {
      // MTP entry i sees main position i and token i+1, and predicts token i+2.
      s.mtp_forward(std::span(win).subspan(1), s.last_hidden().data(), mtp);
      for (int64_t i = 0; i + 2 < T; ++i) {
        const float* row = mtp.data() + i * V;
        mtp_hit += int32_t(std::max_element(row, row + V) - row) == win[size_t(i + 2)];
        ++mtp_n;
      }
    }
    std::fprintf(stderr, "\rwindow %lld/%lld  ppl %.4f", (long long)(w + 1), (long long)windows,
                 std::exp(nll / double(scored)));
  }
  std::fprintf(stderr, "\n");
  std::printf("tokens scored     %lld (%lld windows of %lld)\n", (long long)scored, (long long)windows, (long long)o.ctx);
  std::printf("perplexity        %.4f\n", std::exp(nll / double(scored)));
  if (base) {
    std::sort(kls.begin(), kls.end());
    const double p99 = kls[std::min(kls.size() - 1, size_t(0.99 * double(kls.size())))];
    std::printf("KL vs base        mean %.6f  p99 %.6f  max %.6f\n", kl_sum / double(kls.size()), p99, kls.back());
    std::printf("top-1 agreement   %.4f\n", double(top1_same) / double(kls.size()));
  }
  if (mtp_n) std::printf("MTP top-1         %.4f (token i+2, %lld predictions)\n", double(mtp_hit) / double(mtp_n), (long long)mtp_n);
  for (size_t l = 0; l < load.size(); ++l) {
    int64_t mx = 0, sum = 0;
    for (int64_t c : load[l]) mx = std::max(mx, c), sum += c;
    const double mean = double(sum) / double(load[l].size());
    std::printf("expert load layer %-3lld max/mean %.2f  [", (long long)load_layer[l], mean > 0 ? double(mx) / mean : 0.0);
    for (size_t e = 0; e < load[l].size(); ++e) std::printf("%s%lld", e ? " " : "", (long long)load[l][e]);
    std::printf("]\n");
  }
  // Chance: tokens routed independently with the same loads share sum_e f_e^2 experts, f_e the
  // share of tokens that pick expert e.
  double sh = 0, chance = 0;
  for (size_t l = 0; l < load.size(); ++l) {
    int64_t picks = 0;
    for (int64_t c : load[l]) picks += c;
    const double tokens = double(picks) / double(k);
    for (int64_t c : load[l]) chance += (double(c) / tokens) * (double(c) / tokens) / double(load.size());
    sh += double(shared[l]) / double(std::max<int64_t>(1, pairs[l])) / double(load.size());
  }
  if (!load.empty())
    std::printf("consecutive pairs share %.2f of %lld experts a layer (independent routing with these loads: %.2f): "
                "a 2-token verify forward routes to %.2f distinct experts a layer, not %.2f\n",
                sh, (long long)k, chance, 2.0 * double(k) - sh, 2.0 * double(k) - chance);
}

}  // namespace

void add_perplexity_command(CLI::App& app) {
  auto o = std::make_shared<PerplexityOptions>();
  CLI::App* sub = app.add_subcommand("perplexity", "Perplexity over a text; with --kl-base, KL and top-1 agreement against another model");
  sub->add_option("model", o->model, "GGUF file or checkpoint directory")->required();
  sub->add_option("-f,--file", o->file, "Text file")->required();
  sub->add_option("--ctx", o->ctx, "Window length in tokens")->capture_default_str();
  sub->add_option("--kl-base", o->kl_base, "Reference model (e.g. the F32 file) for KL divergence and top-1 agreement");
  sub->add_option("--max-windows", o->max_windows, "Stop after this many windows");
  sub->add_option("--base-engine", o->base_engine.engine, "Engine for --kl-base")->capture_default_str();
  add_engine_flags(sub, o->engine);
  sub->callback([o] { run_perplexity(*o); });
}

}  // namespace dsinfer::cli
