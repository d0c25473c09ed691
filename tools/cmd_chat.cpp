// `dsinfer chat`: an interactive conversation. Line editing and history through libedit when
// stdin is a terminal; plain lines otherwise (a piped conversation: no escape codes). The KV
// cache is kept across turns: each turn renders the whole conversation and computes only the
// tokens after the prefix already cached.
#include <omp.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "engine/decoder.h"
#include "engine/generation/generation.h"
#include "engine/model/model.h"
#include "engine/model/model_tokenizer.h"
#include "engine/tokenizer/chat_format.h"
#include "quant/atomic_file.h"
#include "quant/input_file.h"
#include "simd/error.h"
#include "tools/chat/chat_command.h"
#include "tools/chat/line_reader.h"
#include "tools/context_flag.h"
#include "tools/commands.h"
#include "tools/engine_flags.h"
#include "tools/store_stats.h"
#include "tools/sampling_flags.h"
#include "tools/spec_flags.h"

namespace dsinfer::cli {

namespace {

// Set by SIGINT while a reply is generated. A signal handler can only reach static storage.
volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_sigint(int) { g_interrupted = 1; }

struct ChatCliOptions {
  std::string model, system, chat_format, history;
  int64_t n_predict = 2048, ctx = 0;  // ctx 0: the model's, at most 4096
  bool thinking = false, drop_oldest = false, no_color = false;
  EngineFlags engine;
  SamplingFlags sampling;
  SpecFlags spec;
};

struct Stats {
  int64_t turns = 0, prompt_tokens = 0, reused = 0, generated = 0;
  double prefill_s = 0, decode_s = 0;
  GenerationResult last;
  SpecStats spec;
};

const char* kHelp =
    "/help                 this text\n"
    "/reset                forget the conversation (keeps the system message)\n"
    "/system TEXT          set the system message (empty TEXT removes it)\n"
    "/save FILE            write the conversation as JSON\n"
    "/load FILE            read a conversation written by /save\n"
    "/stats                tokens and speeds of the last turn and of the session (and speculation's\n"
    "                      acceptance with --spec mtp or auto)\n"
    "/set NAME VALUE       temp, top_k, top_p, min_p, repeat_penalty, presence_penalty,\n"
    "                      frequency_penalty, repeat_last_n, seed, max_tokens\n"
    "/quit                 leave (also Ctrl-D; Ctrl-C stops a reply)\n"
    "A line ending in \\ continues on the next line.\n";

// Shows a DeepSeek-R1 reply: the reasoning up to </think> dimmed (on a terminal), the answer plain.
class ReplyPrinter {
 public:
  ReplyPrinter(bool reasoning_first, bool color) : think_(reasoning_first), color_(color) {
    if (think_ && color_) std::fputs("\x1b[2m", stdout);
  }
  void print(std::string_view s) {
    if (think_) {
      pending_ += s;
      const size_t end = pending_.find("</think>");
      if (end == std::string::npos) {
        // Keep a tail that could be the start of the marker.
        const size_t keep = std::min<size_t>(pending_.size(), 7);
        out(std::string_view(pending_).substr(0, pending_.size() - keep));
        pending_.erase(0, pending_.size() - keep);
        return;
      }
      out(std::string_view(pending_).substr(0, end + 8));
      if (color_) std::fputs("\x1b[0m", stdout);
      think_ = false;
      s = std::string_view(pending_).substr(end + 8);
      std::string rest(s);
      pending_.clear();
      out(rest);
      return;
    }
    out(s);
  }
  void finish() {
    out(pending_);
    pending_.clear();
    if (think_ && color_) std::fputs("\x1b[0m", stdout);
    std::fflush(stdout);
  }

 private:
  static void out(std::string_view s) {
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
  }
  bool think_, color_;
  std::string pending_;
};

std::string default_history_file() {
  const char* home = std::getenv("HOME");
  return home && *home ? std::string(home) + "/.dsinfer_history" : std::string();
}

void run_chat(const ChatCliOptions& o) {
  const SamplingParams sp = sampling_params(o.sampling);
  if (o.n_predict < 1) fail("-n", "must be at least 1");
  if (o.ctx < 0) fail("--ctx", "must be at least 16");
  const std::string path = o.model.empty() ? bundled_model_path() : o.model;
  auto model = open_model(path, o.engine);
  auto tok = open_model_tokenizer(*model);
  if (!tok) fail(path, "this model carries no tokenizer");
  const ChatFormat format = pick_chat_format(*tok, o.chat_format, path);
  SessionOptions so = session_options(o.engine);
  so.context = context_for(o.ctx, model->config().max_position_embeddings);
  const SpecOptions spec = spec_options(o.spec, *model);
  auto dec = make_decoder(*model, session_for(spec, so));
  Generator gen(*dec, tok.get(), sp, spec);
  const bool interactive = ::isatty(0) != 0;
  const char* term = std::getenv("TERM");
  const bool color = interactive && ::isatty(1) && !o.no_color && !std::getenv("NO_COLOR") && term &&
                     std::string_view(term) != "dumb";
  LineReader reader(interactive, o.history.empty() ? default_history_file() : o.history);
  ChatOptions co;
  co.thinking = o.thinking;

  std::vector<ChatMessage> msgs;
  if (!o.system.empty()) msgs.push_back({"system", o.system});
  int64_t max_tokens = o.n_predict;
  Stats st;
  auto note = [&](const std::string& s) {  // messages of ours: stderr, dim on a terminal
    if (color) std::fprintf(stderr, "\x1b[2m%s\x1b[0m\n", s.c_str());
    else std::fprintf(stderr, "%s\n", s.c_str());
  };
  if (interactive)
    note("dsinfer chat: " + path + " (" + std::string(chat_format_name(format)) + ", context " +
         std::to_string(dec->context()) + "). /help for commands, Ctrl-D to leave.");

  while (auto line = reader.read(interactive ? (color ? "\x1b[1m>\x1b[0m " : "> ") : "")) {
    if (line->empty()) continue;
    if (const auto cmd = parse_chat_command(*line)) {
      using K = ChatCommand::Kind;
      bool quit = false;
      try {
        switch (cmd->kind) {
          case K::Help: std::fputs(kHelp, stderr); break;
          case K::Quit: quit = true; break;
          case K::Reset:
            std::erase_if(msgs, [](const ChatMessage& m) { return m.role != "system"; });
            gen.reset();
            note("conversation cleared");
            break;
          case K::System:
            std::erase_if(msgs, [](const ChatMessage& m) { return m.role == "system"; });
            if (!cmd->rest.empty()) msgs.insert(msgs.begin(), {"system", cmd->rest});
            note(cmd->rest.empty() ? "system message removed" : "system message set");
            break;
          case K::Save: {
            if (cmd->rest.empty()) fail("/save", "needs a file name");
            AtomicFile f(cmd->rest);
            f.write(conversation_to_json(msgs).dump(1) + "\n");
            f.commit();
            note("saved " + std::to_string(msgs.size()) + " messages to " + cmd->rest);
            break;
          }
          case K::Load: {
            if (cmd->rest.empty()) fail("/load", "needs a file name");
            const nlohmann::json j = nlohmann::json::parse(read_regular_file(cmd->rest), nullptr, false);
            if (j.is_discarded()) fail(cmd->rest, "not valid JSON");
            msgs = conversation_from_json(j, cmd->rest);
            note("loaded " + std::to_string(msgs.size()) + " messages");
            break;
          }
          case K::Stats: {
            const auto& l = st.last;
            std::fprintf(stderr,
                         "last turn: prompt %lld tokens (%lld reused from the cache, %lld computed) in %.2f s; "
                         "%lld generated in %.2f s (%.1f tok/s), finish %s\n"
                         "session:   %lld turns, %lld prompt tokens (%lld reused), %lld generated; context %lld/%lld\n",
                         (long long)l.prompt_tokens, (long long)l.reused_tokens,
                         (long long)(l.prompt_tokens - l.reused_tokens), l.prefill_s, (long long)l.completion_tokens,
                         l.decode_s, l.decode_s > 0 ? double(l.completion_tokens) / l.decode_s : 0.0,
                         l.finish_reason.empty() ? "-" : l.finish_reason.c_str(), (long long)st.turns,
                         (long long)st.prompt_tokens, (long long)st.reused, (long long)st.generated,
                         (long long)dec->n_past(), (long long)dec->context());
            if (model->expert_store())
              std::fprintf(stderr, "%s\n",
                           store_stats_line(*model, st.prompt_tokens - st.reused + st.generated).c_str());
            if (gen.spec().kind != SpecKind::None)
              std::fprintf(stderr, "last turn: %s\nsession:   %s\n", l.spec.summary().c_str(),
                           st.spec.summary().c_str());
            break;
          }
          case K::Set: {
            SamplingParams p = gen.sampler().params();
            note(apply_set(cmd->rest, p, max_tokens, dec->context()));
            gen.sampler().set_params(p);
            break;
          }
          case K::Unknown: note("unknown command " + cmd->name + " (/help lists them)"); break;
        }
      } catch (const Error& e) {
        note(std::string("error: ") + e.what());
      }
      if (quit) break;
      continue;
    }

    msgs.push_back({"user", *line});
    std::vector<int32_t> prompt = render_chat(format, msgs, *tok, co).encode(*tok);
    while (int64_t(prompt.size()) + 1 > dec->context() && o.drop_oldest) {
      // Drop the oldest exchange after the system message, keeping the new question.
      auto first = std::find_if(msgs.begin(), msgs.end(), [](const ChatMessage& m) { return m.role != "system"; });
      if (first == msgs.end() || first + 1 == msgs.end()) break;
      msgs.erase(first, std::min(first + 2, msgs.end() - 1));
      prompt = render_chat(format, msgs, *tok, co).encode(*tok);
    }
    if (int64_t(prompt.size()) + 1 > dec->context()) {
      msgs.pop_back();
      const std::string need = std::to_string(prompt.size()) + " tokens needed, " + std::to_string(dec->context()) + " held";
      // With --drop-oldest, only this message is left after the system message: it alone is too long.
      note(o.drop_oldest ? "this message does not fit in the context even with the older turns dropped (" + need +
                               "): /reset to start over, or restart with a larger --ctx"
                         : "the context is full (" + need +
                               "): /reset to start over, or restart with --drop-oldest or a larger --ctx");
      continue;
    }
    GenerationRequest req;
    req.prompt = prompt;
    req.max_tokens = std::min<int64_t>(max_tokens, dec->context() - int64_t(prompt.size()));
    req.stop = o.sampling.stop;
    ReplyPrinter printer(format == ChatFormat::DeepSeekR1 || (format == ChatFormat::DeepSeekV31 && o.thinking), color);
    req.on_text = [&](std::string_view s) {
      if (g_interrupted) return false;
      printer.print(s);
      return true;
    };
    g_interrupted = 0;
    struct sigaction sa {}, old {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    GenerationResult res;
    try {
      res = gen.generate(req);
    } catch (...) {
      sigaction(SIGINT, &old, nullptr);
      throw;
    }
    sigaction(SIGINT, &old, nullptr);
    printer.finish();
    std::fputs("\n", stdout);
    std::fflush(stdout);
    std::string reply = tok->decode(gen.generated(), /*skip_special=*/true);
    msgs.push_back({"assistant", reply});
    st.last = res;
    ++st.turns;
    st.prompt_tokens += res.prompt_tokens;
    st.reused += res.reused_tokens;
    st.generated += res.completion_tokens;
    st.spec.add(res.spec);
    char status[256];
    std::snprintf(status, sizeof status, "[%s%lld tokens, %.1f tok/s | context %lld/%lld | prompt %lld new, %lld cached]",
                  res.finish_reason == "cancelled" ? "stopped, " : res.finish_reason == "length" ? "cut at the limit, " : "",
                  (long long)res.completion_tokens, res.decode_s > 0 ? double(res.completion_tokens) / res.decode_s : 0.0,
                  (long long)dec->n_past(), (long long)dec->context(), (long long)(res.prompt_tokens - res.reused_tokens),
                  (long long)res.reused_tokens);
    note(status);
  }
  if (interactive) std::fputs("\n", stdout);
}

}  // namespace

void add_chat_command(CLI::App& app) {
  auto o = std::make_shared<ChatCliOptions>();
  CLI::App* sub = app.add_subcommand("chat", "Interactive conversation in the model's chat format");
  sub->add_option("model", o->model, "GGUF file or checkpoint directory (default: the bundled demo model)");
  sub->add_option("--system", o->system, "System message");
  sub->add_option("--chat-format", o->chat_format, "Override the chat format (" + chat_format_names() + ")");
  sub->add_flag("--thinking", o->thinking, "DeepSeek V3.1 format: reply in thinking mode");
  sub->add_option("-n,--n-predict", o->n_predict, "Most tokens per reply")->capture_default_str();
  sub->add_option("--ctx", o->ctx, "Context length in tokens (default: the model's, at most 4096)");
  sub->add_flag("--drop-oldest", o->drop_oldest, "When the context fills, drop the oldest turns instead of stopping");
  sub->add_option("--history", o->history, "History file (default: ~/.dsinfer_history)");
  sub->add_flag("--no-color", o->no_color, "No escape codes even on a terminal");
  add_sampling_flags(sub, o->sampling);
  add_spec_flags(sub, o->spec);
  add_engine_flags(sub, o->engine);
  sub->callback([o] { run_chat(*o); });
}

}  // namespace dsinfer::cli
