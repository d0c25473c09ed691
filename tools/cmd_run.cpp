// `dsinfer run`: one greedy completion, streamed to stdout. Sampling, chat formats and the
// rest of issue 7 come later; this is the main job's command.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>

#include "engine/model.h"
#include "engine/model_tokenizer.h"
#include "engine/decoder.h"
#include "engine/tokenizer/token_stream.h"
#include "quant/error.h"
#include "tools/commands.h"
#include "tools/engine_flags.h"

namespace dsinfer::cli {

namespace {

struct RunOptions {
  std::string model, prompt, file, tokens;
  int64_t n_predict = 64;
  bool quiet = false;
  EngineFlags engine;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot read");
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void run_run(RunOptions o) {
  if (o.model.empty()) o.model = bundled_model_path();
  if (o.n_predict < 0) fail("-n", "must not be negative");
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  auto model = Model::open(o.model, weights_load(o.engine));
  auto tok = open_model_tokenizer(*model);
  std::vector<int32_t> prompt;
  if (!o.tokens.empty()) {
    prompt = parse_token_list(o.tokens, "--tokens");
  } else {
    if (!tok) fail(o.model, "this model carries no tokenizer: give the prompt as --tokens");
    const std::string text = !o.file.empty() ? read_text(o.file) : o.prompt;
    EncodeOptions eo;
    eo.parse_special = false;  // a completion prompt is user text
    eo.add_bos = tok->bos_id() >= 0;
    prompt = tok->encode(text, eo);
  }
  if (prompt.empty()) fail("run", "the prompt is empty");
  const int64_t V = model->config().vocab_size;
  SessionOptions so = session_options(o.engine);
  so.context = int64_t(prompt.size()) + o.n_predict;
  auto s = make_decoder(*model, so);
  const auto t1 = clock::now();
  std::vector<float> logits;
  s->forward(prompt, logits, nullptr, /*last_only=*/true);
  const auto t2 = clock::now();
  std::unique_ptr<TokenStreamDecoder> stream;
  if (tok && o.tokens.empty()) stream = std::make_unique<TokenStreamDecoder>(*tok, /*skip_special=*/true);
  std::vector<int32_t> out;
  const float* last = logits.data();
  int32_t next = int32_t(std::max_element(last, last + V) - last);
  const int64_t eos = model->config().eos_token_id;
  for (int64_t k = 0; k < o.n_predict; ++k) {
    if (next == eos) break;
    out.push_back(next);
    if (stream) std::cout << stream->push(next) << std::flush;
    if (k + 1 == o.n_predict) break;
    const int32_t t[1] = {next};
    s->forward(t, logits);
    next = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  const auto t3 = clock::now();
  if (stream) std::cout << stream->finish() << std::endl;
  else std::cout << nlohmann::json(out).dump() << std::endl;
  if (!o.quiet) {
    auto secs = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
    std::fprintf(stderr, "[%s] load %.2f s, prompt %zu tokens %.2f s, generated %zu tokens %.2f s (%.1f tok/s, greedy, %s engine, %d threads)\n",
                 o.model.c_str(), secs(t0, t1), prompt.size(), secs(t1, t2), out.size(), secs(t2, t3),
                 out.empty() ? 0.0 : double(out.size()) / secs(t2, t3), o.engine.engine.c_str(), omp_get_max_threads());
  }
}

}  // namespace

std::string bundled_model_path() {
  const char* env = std::getenv("DSINFER_DEMO_MODEL");
  if (env && *env) return env;
  return DSINFER_DEMO_MODEL_DEFAULT;
}

void add_run_command(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* sub = app.add_subcommand("run", "Generate a completion (greedy) and stream it to stdout");
  sub->add_option("model", o->model, "GGUF file or checkpoint directory (default: the bundled demo model)");
  auto* p = sub->add_option("-p,--prompt", o->prompt, "Prompt text");
  auto* f = sub->add_option("-f,--file", o->file, "Read the prompt from a file");
  auto* t = sub->add_option("--tokens", o->tokens, "Prompt as token ids, comma-separated (output as ids)");
  p->excludes(f)->excludes(t);
  f->excludes(t);
  sub->add_option("-n,--n-predict", o->n_predict, "Tokens to generate")->capture_default_str();
  sub->add_flag("--quiet", o->quiet, "No timing on stderr");
  add_engine_flags(sub, o->engine);
  sub->callback([o] { run_run(*o); });
}

}  // namespace dsinfer::cli
