// `dsinfer logits`: a forward pass (the float32 reference unless --engine fast), dumped for
// outside checks.
#include <algorithm>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "engine/model/model.h"
#include "engine/decoder.h"
#include "quant/atomic_file.h"
#include "simd/error.h"
#include "quant/npy.h"
#include "tools/commands.h"
#include "tools/engine_flags.h"

namespace dsinfer::cli {

namespace {

struct LogitsOptions {
  std::string model, tokens, out, router_out, mtp_out, attn = "absorb";
  int64_t decode = 0;
  EngineFlags engine{.engine = "reference"};
};

int32_t argmax(const float* v, int64_t n) {
  return int32_t(std::max_element(v, v + n) - v);
}

nlohmann::json router_json(const std::vector<RouterRecord>& recs, int64_t k) {
  nlohmann::json layers = nlohmann::json::array();
  for (const RouterRecord& r : recs) {
    nlohmann::json experts = nlohmann::json::array(), weights = nlohmann::json::array();
    for (size_t t = 0; t * size_t(k) < r.ids.size(); ++t) {
      experts.push_back(std::vector<int32_t>(r.ids.begin() + t * k, r.ids.begin() + (t + 1) * k));
      weights.push_back(std::vector<float>(r.weights.begin() + t * k, r.weights.begin() + (t + 1) * k));
    }
    layers.push_back({{"layer", r.layer}, {"experts", experts}, {"weights", weights}});
  }
  return layers;
}

void run_logits(const LogitsOptions& o) {
  const std::vector<int32_t> prompt = parse_token_list(o.tokens, "--tokens");
  if (o.decode < 0) fail("--decode", "must not be negative");
  const AttnMode mode = o.attn == "naive" ? AttnMode::Naive : AttnMode::Absorb;
  auto model = open_model(o.model, o.engine);
  const ModelConfig& c = model->config();
  const int64_t ctx = c.max_position_embeddings, n = int64_t(prompt.size());
  if (n > ctx) fail("--tokens", std::to_string(n) + " tokens are more than the model's context of " + std::to_string(ctx));
  if (o.decode > ctx - n)
    fail("--decode", std::to_string(o.decode) + " steps after " + std::to_string(n) + " prompt tokens exceed the model's context of " +
                         std::to_string(ctx) + " (at most " + std::to_string(ctx - n) + ")");
  if (!o.mtp_out.empty() && !model->has_mtp()) fail(o.model, "--mtp-out: this model has no MTP module");
  if (!o.mtp_out.empty() && prompt.size() < 2) fail("--mtp-out", "needs at least two prompt tokens");

  // Open every output first: a bad path fails before minutes of compute, and nothing is
  // renamed into place unless all of them are complete.
  AtomicFile out(o.out);
  std::unique_ptr<AtomicFile> rout, mout;
  if (!o.router_out.empty()) rout = std::make_unique<AtomicFile>(o.router_out);
  if (!o.mtp_out.empty()) mout = std::make_unique<AtomicFile>(o.mtp_out);

  SessionOptions so = session_options(o.engine);
  so.attn = mode;
  so.context = int64_t(prompt.size()) + o.decode;
  auto sp = make_decoder(*model, so);
  Decoder& s = *sp;
  const int64_t V = c.vocab_size;
  ForwardTrace trace;
  std::vector<float> logits, all, step;
  s.forward(prompt, logits, rout ? &trace : nullptr);
  all = logits;
  std::vector<RouterRecord> routes = trace.router;
  const std::vector<float> prompt_hidden = s.last_hidden();

  std::vector<int32_t> decoded;
  int32_t next = argmax(logits.data() + (int64_t(prompt.size()) - 1) * V, V);
  for (int64_t k = 0; k < o.decode; ++k) {
    decoded.push_back(next);
    const int32_t tok[1] = {next};
    s.forward(tok, step, rout ? &trace : nullptr);
    all.insert(all.end(), step.begin(), step.end());
    for (size_t i = 0; i < routes.size() && i < trace.router.size(); ++i) {
      routes[i].ids.insert(routes[i].ids.end(), trace.router[i].ids.begin(), trace.router[i].ids.end());
      routes[i].weights.insert(routes[i].weights.end(), trace.router[i].weights.begin(), trace.router[i].weights.end());
    }
    next = argmax(step.data(), V);
  }

  out.write(npy_bytes_f32({int64_t(prompt.size()) + o.decode, V}, all.data()));
  nlohmann::json rj;
  if (rout) rj["layers"] = router_json(routes, c.num_experts_per_tok);
  if (mout) {
    std::vector<float> mtp;
    RouterRecord mrec;
    s.mtp_forward(std::span(prompt).subspan(1), prompt_hidden.data(), mtp, rout ? &mrec : nullptr);
    mout->write(npy_bytes_f32({int64_t(prompt.size()) - 1, V}, mtp.data()));
    if (rout) rj["mtp"] = router_json({mrec}, c.num_experts_per_tok)[0];
  }
  if (rout) rout->write(rj.dump() + "\n");
  out.commit();
  if (rout) rout->commit();
  if (mout) mout->commit();
  if (o.decode > 0) std::cout << nlohmann::json({{"decoded", decoded}, {"next", next}}).dump() << std::endl;
}

}  // namespace

void add_logits_command(CLI::App& app) {
  auto o = std::make_shared<LogitsOptions>();
  CLI::App* sub = app.add_subcommand("logits", "Logits for a token sequence (float32 reference by default), as a NumPy .npy file");
  sub->add_option("model", o->model, "GGUF file or checkpoint directory")->required();
  sub->add_option("--tokens", o->tokens, "Prompt token ids, comma-separated (e.g. 0,17,42)")->required();
  sub->add_option("--decode", o->decode, "Greedy steps to decode one token at a time through the cache");
  sub->add_option("--attn", o->attn, "Attention form")->check(CLI::IsMember({"naive", "absorb"}));
  sub->add_option("--out", o->out, "Output .npy: float32 [prompt + decode, vocab]")->required();
  sub->add_option("--router-out", o->router_out, "Output JSON: chosen experts and weights per MoE layer and position");
  sub->add_option("--mtp-out", o->mtp_out, "Output .npy: MTP logits [prompt - 1, vocab] (row i predicts token i+2)");
  add_engine_flags(sub, o->engine);
  sub->callback([o] { run_logits(*o); });
}

}  // namespace dsinfer::cli
