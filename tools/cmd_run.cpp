// `dsinfer run`: one completion, streamed to stdout as it is generated (complete UTF-8
// characters only); timing and token counts on stderr. Raw completion by default, the model's
// chat format with --chat.
#include <omp.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>

#include "engine/decoder.h"
#include "engine/generation/generation.h"
#include "engine/model/model.h"
#include "engine/model/model_tokenizer.h"
#include "engine/tokenizer/chat_format.h"
#include "quant/input_file.h"
#include "simd/error.h"
#include "tools/commands.h"
#include "tools/engine_flags.h"
#include "tools/store_stats.h"
#include "tools/sampling_flags.h"
#include "tools/spec_flags.h"

namespace dsinfer::cli {

namespace {

struct RunOptions {
  std::string model, prompt, file, tokens, system, chat_format;
  int64_t n_predict = 256;
  bool quiet = false, chat = false, thinking = false, stats = false;
  EngineFlags engine;
  SamplingFlags sampling;
  SpecFlags spec;
  CLI::Option *prompt_opt = nullptr, *system_opt = nullptr, *tokens_opt = nullptr;
};

void run_run(RunOptions o) {
  if (o.model.empty()) o.model = bundled_model_path();
  if (o.n_predict < 0) fail("-n", "must not be negative");
  if (o.system_opt->count() && !o.chat) fail("--system", "only applies with --chat");
  if (!o.chat_format.empty() && !o.chat) fail("--chat-format", "only applies with --chat");
  const bool by_ids = o.tokens_opt->count() > 0;  // --tokens "" is an empty list, not "no --tokens"
  if (o.chat && by_ids) fail("--chat", "takes text, not --tokens");
  const SamplingParams sp = sampling_params(o.sampling);
  // Text from -p, -f, or stdin when it is not a terminal.
  std::string text;
  std::vector<int32_t> prompt;
  if (by_ids) {
    prompt = parse_token_list(o.tokens, "--tokens");
  } else {
    if (o.prompt_opt->count()) text = o.prompt;
    else if (!o.file.empty()) text = read_text_input(o.file);  // a regular file, or "-" for stdin
    else if (!::isatty(0)) text = read_stream(0, "stdin");     // bounded: /dev/zero on stdin ends
    else fail("run", "no prompt: give -p TEXT, -f FILE, or pipe it on stdin");
  }

  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  auto model = open_model(o.model, o.engine);
  const SpecOptions spec = spec_options(o.spec, *model);
  auto tok = open_model_tokenizer(*model);
  if (!by_ids) {
    if (!tok) fail(o.model, "this model carries no tokenizer: give the prompt as --tokens");
    if (o.chat) {
      std::vector<ChatMessage> msgs;
      if (o.system_opt->count()) msgs.push_back({"system", o.system});
      msgs.push_back({"user", text});
      ChatOptions co;
      co.thinking = o.thinking;
      prompt = render_chat(pick_chat_format(*tok, o.chat_format, o.model), msgs, *tok, co).encode(*tok);
    } else {
      EncodeOptions eo;
      eo.parse_special = false;  // a completion prompt is user text
      eo.add_bos = tok->bos_id() >= 0;
      prompt = tok->encode(text, eo);
    }
  }
  if (prompt.empty()) fail("run", "the prompt is empty");
  SessionOptions so = session_options(o.engine);
  const int64_t model_ctx = model->config().max_position_embeddings;
  so.context = std::min<int64_t>(int64_t(prompt.size()) + std::min(o.n_predict, model_ctx), model_ctx);
  if (int64_t(prompt.size()) > so.context)
    fail("run", "the prompt has " + std::to_string(prompt.size()) + " tokens; the model's context is " +
                    std::to_string(so.context));
  auto dec = make_decoder(*model, session_for(spec, so));
  const auto t1 = clock::now();

  Generator gen(*dec, by_ids ? nullptr : tok.get(), sp, spec);
  GenerationRequest req;
  req.prompt = prompt;
  req.max_tokens = o.n_predict;
  req.stop = o.sampling.stop;
  req.on_text = [](std::string_view s) {
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
    return true;
  };
  const GenerationResult res = gen.generate(req);
  if (!by_ids)
    std::cout << std::endl;
  else
    std::cout << nlohmann::json(gen.generated()).dump() << std::endl;
  if (!o.quiet) {
    auto secs = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
    std::fprintf(stderr,
                 "[%s] load %.2f s | prompt %lld tokens in %.2f s (%.1f tok/s) | generated %lld tokens in %.2f s "
                 "(%.1f tok/s) | finish %s | seed %llu, %s engine, %d threads\n",
                 o.model.c_str(), secs(t0, t1), (long long)res.prompt_tokens, res.prefill_s,
                 res.prefill_s > 0 ? double(res.prompt_tokens) / res.prefill_s : 0.0, (long long)res.completion_tokens,
                 res.decode_s, res.decode_s > 0 ? double(res.completion_tokens) / res.decode_s : 0.0,
                 res.finish_reason.c_str(), (unsigned long long)sp.seed, o.engine.engine.c_str(),
                 omp_get_max_threads());
  }
  if (o.stats && model->expert_store())
    std::fprintf(stderr, "%s\n", store_stats_line(*model, res.prompt_tokens + res.completion_tokens).c_str());
  if (o.stats && spec.kind != SpecKind::None) std::fprintf(stderr, "%s\n", res.spec.summary().c_str());
}

}  // namespace

std::string bundled_model_path() {
  const char* env = std::getenv("DSINFER_DEMO_MODEL");
  if (env && *env) return env;
  return DSINFER_DEMO_MODEL_DEFAULT;
}

void add_run_command(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* sub = app.add_subcommand("run", "Generate a completion and stream it to stdout");
  sub->add_option("model", o->model, "GGUF file or checkpoint directory (default: the bundled demo model)");
  o->prompt_opt = sub->add_option("-p,--prompt", o->prompt, "Prompt text (else -f, else stdin)");
  auto* f = sub->add_option("-f,--file", o->file, "Read the prompt from a file (- for stdin)");
  auto* t = o->tokens_opt = sub->add_option("--tokens", o->tokens, "Prompt as token ids, comma-separated (output as ids)");
  o->prompt_opt->excludes(f)->excludes(t);
  f->excludes(t);
  sub->add_option("-n,--n-predict", o->n_predict, "Most tokens to generate")->capture_default_str();
  sub->add_flag("--chat", o->chat, "Wrap the prompt as a user message in the model's chat format");
  o->system_opt = sub->add_option("--system", o->system, "System message (with --chat)");
  sub->add_option("--chat-format", o->chat_format, "Override the chat format (" + chat_format_names() + ")");
  sub->add_flag("--thinking", o->thinking, "DeepSeek V3.1 format: reply in thinking mode");
  sub->add_flag("--quiet", o->quiet, "No timing on stderr");
  sub->add_flag("--stats", o->stats,
                "Figures on stderr at the end: the expert store's (hit rate, reads, waits) and speculation's "
                "(acceptance by draft position, tokens per forward)");
  add_sampling_flags(sub, o->sampling);
  add_spec_flags(sub, o->spec);
  add_engine_flags(sub, o->engine);
  sub->callback([o] { run_run(*o); });
}

}  // namespace dsinfer::cli
