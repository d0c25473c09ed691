// `dsinfer run`: one completion. Until the tokenizer lands it takes and prints token ids.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "engine/model.h"
#include "engine/session.h"
#include "quant/error.h"
#include "tools/commands.h"

namespace dsinfer::cli {

namespace {

struct RunOptions {
  std::string model, tokens;
  int64_t n_predict = 32;
  bool quiet = false;
};

void run_run(const RunOptions& o) {
  if (o.tokens.empty()) fail("run", "give the prompt as --tokens (text prompts need the tokenizer, not built yet)");
  const std::vector<int32_t> prompt = parse_token_list(o.tokens, "--tokens");
  if (prompt.empty()) fail("--tokens", "the prompt is empty");
  if (o.n_predict < 0) fail("-n", "must not be negative");
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  auto model = Model::open(o.model);
  const int64_t V = model->config().vocab_size;
  SessionOptions so;
  so.context = int64_t(prompt.size()) + o.n_predict;
  Session s(*model, so);
  const auto t1 = clock::now();
  std::vector<float> logits;
  s.forward(prompt, logits);
  const auto t2 = clock::now();
  std::vector<int32_t> out;
  const float* last = logits.data() + (int64_t(prompt.size()) - 1) * V;
  int32_t next = int32_t(std::max_element(last, last + V) - last);
  const int64_t eos = model->config().eos_token_id;
  for (int64_t k = 0; k < o.n_predict; ++k) {
    out.push_back(next);
    if (next == eos) break;
    if (k + 1 == o.n_predict) break;
    const int32_t tok[1] = {next};
    s.forward(tok, logits);
    next = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  const auto t3 = clock::now();
  std::cout << nlohmann::json(out).dump() << std::endl;
  if (!o.quiet) {
    auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
    std::cerr << "load " << ms(t0, t1) << " ms, prompt " << prompt.size() << " tokens in " << ms(t1, t2)
              << " ms, generated " << out.size() << " tokens in " << ms(t2, t3) << " ms (greedy, float32 reference path)\n";
  }
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* sub = app.add_subcommand("run", "Generate a completion (greedy) and print it");
  sub->add_option("model", o->model, "Hugging Face checkpoint directory")->required();
  sub->add_option("--tokens", o->tokens, "Prompt token ids, comma-separated");
  sub->add_option("-n,--n-predict", o->n_predict, "Tokens to generate")->capture_default_str();
  sub->add_flag("--quiet", o->quiet, "No timing on stderr");
  sub->callback([o] { run_run(*o); });
}

}  // namespace dsinfer::cli
