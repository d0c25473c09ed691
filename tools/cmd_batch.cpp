// `dsinfer batch`: a file of prompts through the model, results appended to a JSON-lines file
// that survives crashes and resumes where it stopped. With --parallel N, N sequences decode
// together: each step feeds one token of every active sequence in one pass over the weights;
// with --spec mtp too, each step drafts for every sequence and one pass verifies all the drafts
// (engine/generation/multi_speculation.h).
#include <omp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>

#include "engine/decoder.h"
#include "engine/generation/generation.h"
#include "engine/generation/multi_speculation.h"
#include "engine/model/model.h"
#include "engine/model/model_tokenizer.h"
#include "engine/generation/sampler.h"
#include "engine/tokenizer/chat_format.h"
#include "quant/input_file.h"
#include "simd/error.h"
#include "tools/batch/batch_record.h"
#include "tools/batch/results_journal.h"
#include "tools/context_flag.h"
#include "tools/commands.h"
#include "tools/engine_flags.h"
#include "tools/progress.h"
#include "tools/sampling_flags.h"
#include "tools/spec_flags.h"

namespace dsinfer::cli {

namespace {

using json = nlohmann::json;

struct BatchOptions {
  std::string model, in, out, chat_format;
  int64_t parallel = 1, n_predict = 256, ctx = 0;  // ctx 0: the model's, at most 4096
  EngineFlags engine;
  SamplingFlags sampling;
  SpecFlags spec;
};

// A sequence slot in flight.
struct Slot {
  const BatchJob* job = nullptr;
  std::unique_ptr<Sampler> sampler;
  std::optional<Continuation> cont;
  std::string text;
  bool feed = false;  // cont->last() goes into the next step
  size_t used = 0;    // with speculation: of the tokens the last round committed, those kept
  std::chrono::steady_clock::time_point start;
};

class ProgressLine {
 public:
  ProgressLine(int64_t total) : total_(total), tty_(::isatty(2) != 0), start_(clock::now()), last_(start_) {}
  void update(int64_t done, int64_t tokens, bool final = false) {
    const auto now = clock::now();
    if (!final && now - last_ < (tty_ ? std::chrono::milliseconds(250) : std::chrono::seconds(10))) return;
    last_ = now;
    const double s = std::chrono::duration<double>(now - start_).count();
    const double rate = s > 0 ? double(tokens) / s : 0, per = done > 0 ? s / double(done) : 0;
    char eta[32] = "?";
    if (done > 0) std::snprintf(eta, sizeof eta, "%s", format_seconds(per * double(total_ - done)).c_str());
    std::fprintf(stderr, "%s%lld/%lld records | %.1f tok/s generated | %s elapsed | ETA %s%s", tty_ ? "\r" : "",
                 (long long)done, (long long)total_, rate, format_seconds(s).c_str(), final ? "0:00" : eta,
                 tty_ && !final ? "   " : "\n");
    std::fflush(stderr);
  }

 private:
  using clock = std::chrono::steady_clock;
  int64_t total_;
  bool tty_;
  clock::time_point start_, last_;
};

// Most prompt tokens in one pass with --spec mtp (their hidden states: 2048 x 7168 floats,
// 59 MB, on DeepSeek-V3).
constexpr size_t kSpecPromptPass = 2048;

// A record's speculation: verify forwards, the tokens they committed, acceptance by draft
// position (as far as anything was drafted there).
json spec_json(const SpecStats& st) {
  json acc = json::array();
  for (int i = 0; i < kMaxDraft && st.drafted[size_t(i)]; ++i)
    acc.push_back(std::round(st.acceptance(i) * 1e4) / 1e4);
  return {{"forwards", st.rounds}, {"tokens", st.committed}, {"acceptance", acc}};
}

void run_batch(const BatchOptions& o) {
  if (o.parallel < 1 || o.parallel > 64) fail("--parallel", "must be between 1 and 64");
  if (o.n_predict < 1) fail("-n", "must be at least 1");
  if (o.ctx < 0) fail("--ctx", "must be at least 16");
  const SamplingParams defaults = sampling_params(o.sampling);
  // Before any file is opened; against the model once it is.
  if (spec_options(o.spec).adaptive)
    fail("--spec", "auto is for run, chat and bench; batch speculates with mtp or not at all (none)");
  // Inputs first: regular files only (a FIFO or a device would block or never end), and the
  // results must not be the prompts (--out X for --in X would read the prompts as results).
  std::string input;
  {
    const RegularFile in(o.in);
    input = read_stream(in.fd(), o.in);
    struct stat out {};
    if (::stat(o.out.c_str(), &out) == 0 && out.st_dev == in.device() && out.st_ino == in.inode())
      fail("--out", o.out + " is the same file as --in " + o.in + "; give the results a file of their own");
  }
  ResultsJournal journal(o.out);
  const std::string path = o.model.empty() ? bundled_model_path() : o.model;
  auto model = open_model(path, o.engine);
  const SpecOptions spec_opt = spec_options(o.spec, *model);
  auto tok = open_model_tokenizer(*model);
  if (!tok) fail(path, "this model carries no tokenizer");
  std::optional<ChatFormat> format;
  if (!o.chat_format.empty() || !tok->chat_template().empty()) {
    try {
      format = pick_chat_format(*tok, o.chat_format, path);
    } catch (const Error&) {
      if (!o.chat_format.empty()) throw;  // a wrong --chat-format is the user's error
    }
  }
  BatchSettings settings;
  settings.context = context_for(o.ctx, model->config().max_position_embeddings);
  settings.n_predict = o.n_predict;
  settings.params = defaults;
  settings.stop = o.sampling.stop;

  // Read every line first: bad ones are answered at once, duplicates reported, done ones skipped.
  std::vector<BatchJob> jobs;
  std::unordered_map<std::string, int64_t> first_line;
  int64_t line_no = 0, skipped = 0, errors = 0;
  for (size_t start = 0; start < input.size();) {
    size_t end = input.find('\n', start);
    if (end == std::string::npos) end = input.size();
    std::string_view line(input.data() + start, end - start);
    start = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    BatchLine bl = read_batch_line(line, line_no);
    json& rec = bl.rec;
    const std::string key = id_key(rec);
    if (!bl.object) {
      if (journal.done().count(key)) continue;
      rec["error"] = bl.error;
      journal.append(rec);
      ++errors;
      continue;
    }
    if (auto [it, fresh] = first_line.emplace(key, line_no); !fresh) {
      std::fprintf(stderr, "dsinfer batch: line %lld: id %s already on line %lld; skipped\n", (long long)line_no,
                   key.c_str(), (long long)it->second);
      continue;
    }
    if (journal.done().count(key)) {
      ++skipped;
      continue;
    }
    try {
      jobs.push_back(parse_batch_record(*bl.object, line_no, settings, *tok, format));
    } catch (const Error& e) {
      rec["error"] = "line " + std::to_string(line_no) + ": " + e.what();
      journal.append(rec);
      ++errors;
    }
  }
  if (skipped) std::fprintf(stderr, "dsinfer batch: %lld records already in %s; resuming\n", (long long)skipped, o.out.c_str());
  if (jobs.empty()) {
    std::fprintf(stderr, "dsinfer batch: nothing to do (%lld bad lines answered)\n", (long long)errors);
    return;
  }

  SessionOptions so = session_options(o.engine);
  so.context = settings.context;
  so.sequences = std::min<int64_t>(o.parallel, int64_t(jobs.size()));
  so.mtp_per_sequence = spec_opt.kind == SpecKind::Mtp;
  so = session_for(spec_opt, so);
  if (so.sequences > 1 && so.engine != EngineKind::Fast) fail("--parallel", "needs the fast engine");
  auto dec = make_decoder(*model, so);
  std::unique_ptr<MtpMultiSpeculator> spec;
  if (spec_opt.kind == SpecKind::Mtp)
    spec = std::make_unique<MtpMultiSpeculator>(*dec, model->config().vocab_size, spec_opt);
  SpecStats spec_total;
  const std::vector<int32_t> eot = end_of_turn_ids(tok.get(), model->config());
  const int64_t V = model->config().vocab_size;
  std::vector<Slot> slots(static_cast<size_t>(so.sequences));
  std::vector<int32_t> seq, toks, emitted, caught;
  std::vector<float> logits, hidden;
  std::vector<SpecTurn> turns;
  size_t next_job = 0;
  int64_t done = 0, gen_tokens = 0;
  std::vector<size_t> before;
  ProgressLine progress(int64_t(jobs.size()));

  // After a slot's token is sampled: a finished record goes to the journal.
  auto finish = [&](Slot& s, size_t before) {
    gen_tokens += int64_t(s.cont->generated().size() - before);
    if (s.feed) return;
    s.text += s.cont->flush();
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s.start).count();
    json rec = {{"id", s.job->id}, {"text", s.text}, {"finish_reason", s.cont->finish_reason()},
                {"prompt_tokens", int64_t(s.job->prompt.size())},
                {"completion_tokens", int64_t(s.cont->generated().size())}, {"ms", int64_t(ms)}};
    if (spec) {
      const SpecStats& st = spec->stats(int32_t(&s - slots.data()));
      rec["spec"] = spec_json(st);
      spec_total.add(st);
    }
    journal.append(rec);
    s.job = nullptr;
    ++done;
  };

  // One speculative round for every slot with a token to feed: drafts, one verify pass for all,
  // each slot's committed tokens out one at a time as plain decoding would emit them (one that
  // ends the record is its last), then one MTP pass catches up the slots that go on.
  auto speculative_step = [&] {
    turns.clear();
    for (size_t i = 0; i < slots.size(); ++i) {
      Slot& s = slots[i];
      if (!s.job || !s.feed) continue;
      turns.push_back({int32_t(i), s.sampler.get(), s.cont->last(), s.cont->history()});
    }
    if (turns.empty()) return;
    spec->round(turns);
    before.resize(turns.size());
#pragma omp parallel for schedule(dynamic, 1) if (turns.size() > 1)
    for (size_t r = 0; r < turns.size(); ++r) {
      Slot& s = slots[size_t(turns[r].seq)];
      before[r] = s.cont->generated().size();
      const std::span<const int32_t> got = spec->committed(turns[r].seq);
      s.used = 0;
      while (s.used < got.size() && s.feed) s.feed = s.cont->push(got[s.used++], s.text);
    }
    caught.clear();
    for (const SpecTurn& t : turns) {
      const Slot& s = slots[size_t(t.seq)];
      if (s.feed)
        caught.push_back(t.seq);
      else
        spec->ended(t.seq, s.used);
    }
    spec->catch_up(caught);
    for (size_t r = 0; r < turns.size(); ++r) finish(slots[size_t(turns[r].seq)], before[r]);
  };

  while (done < int64_t(jobs.size())) {
    // New prompts into free slots, all in one pass; when speculating, a pass keeps every
    // prompt token's hidden state for the MTP module, so prompts past kSpecPromptPass tokens
    // wait for the next one.
    seq.clear();
    toks.clear();
    for (size_t i = 0; i < slots.size() && next_job < jobs.size(); ++i) {
      Slot& s = slots[i];
      if (s.job) continue;
      if (spec && !toks.empty() && toks.size() + jobs[next_job].prompt.size() > kSpecPromptPass) break;
      s.job = &jobs[next_job++];
      s.sampler = std::make_unique<Sampler>(V, s.job->params);
      s.cont.emplace(*s.sampler, tok.get(), eot, s.job->prompt, s.job->max_tokens, s.job->stop);
      s.text.clear();
      s.feed = false;
      s.start = std::chrono::steady_clock::now();
      if (spec)
        spec->reset(int32_t(i));
      else
        dec->seq_truncate(int32_t(i), 0);
      for (int32_t t : s.job->prompt) {
        seq.push_back(int32_t(i));
        toks.push_back(t);
      }
    }
    if (!toks.empty()) {
      MultiOutput out;
      out.hidden = spec ? &hidden : nullptr;  // the MTP module catches up on the prompts from them
      dec->forward_multi(seq, toks, logits, out);
      // One logits row per new prompt, in slot order.
      int64_t row = 0;
      int32_t prev = -1;
      emitted.clear();
      for (int32_t sidx : seq) {
        if (sidx == prev) continue;
        prev = sidx;
        Slot& s = slots[size_t(sidx)];
        const size_t before = s.cont->generated().size();
        s.feed = s.cont->step(logits.data() + row++ * V, s.text);
        emitted.push_back(s.feed ? s.cont->last() : -1);
        finish(s, before);
      }
      if (spec) spec->start(seq, toks, hidden.data(), emitted);
    }
    if (spec) {
      speculative_step();
      progress.update(done, gen_tokens);
      continue;
    }
    // One decode step for every slot with a token to feed.
    seq.clear();
    toks.clear();
    for (size_t i = 0; i < slots.size(); ++i)
      if (slots[i].job && slots[i].feed) {
        seq.push_back(int32_t(i));
        toks.push_back(slots[i].cont->last());
      }
    if (!toks.empty()) {
      dec->forward_multi(seq, toks, logits);
      // Sampling, stop strings and detokenizing of each sequence are its own: they run side by
      // side, so with many sequences they do not add up between two forward passes.
      before.resize(seq.size());
#pragma omp parallel for schedule(dynamic, 1) if (seq.size() > 1)
      for (size_t r = 0; r < seq.size(); ++r) {
        Slot& s = slots[size_t(seq[r])];
        before[r] = s.cont->generated().size();
        s.feed = s.cont->step(logits.data() + int64_t(r) * V, s.text);
      }
      for (size_t r = 0; r < seq.size(); ++r) finish(slots[size_t(seq[r])], before[r]);
    }
    progress.update(done, gen_tokens);
  }
  progress.update(done, gen_tokens, true);
  if (spec) {
    spec_total.draft_s = spec->draft_s();
    spec_total.verify_s = spec->verify_s();
    std::fprintf(stderr, "dsinfer batch: %s; %lld verify passes (%.2f sequences each)\n",
                 spec_total.summary().c_str(), static_cast<long long>(spec->verify_passes()),
                 spec->verify_passes() ? double(spec_total.rounds) / double(spec->verify_passes()) : 0.0);
  }
}

}  // namespace

void add_batch_command(CLI::App& app) {
  auto o = std::make_shared<BatchOptions>();
  CLI::App* sub = app.add_subcommand(
      "batch", "Prompts from a JSON-lines file to a JSON-lines results file (crash-safe, resumable)");
  sub->add_option("model", o->model, "GGUF file or checkpoint directory (default: the bundled demo model)");
  sub->add_option("--in", o->in, "Input: one {\"id\", \"prompt\"} or {\"id\", \"messages\"} object per line")->required();
  sub->add_option("--out", o->out, "Results, appended; ids already there are skipped")->required();
  sub->add_option("--parallel", o->parallel, "Sequences decoded together")->capture_default_str();
  sub->add_option("-n,--n-predict", o->n_predict, "Default most tokens per record")->capture_default_str();
  sub->add_option("--ctx", o->ctx, "Context per sequence (default: the model's, at most 4096)");
  sub->add_option("--chat-format", o->chat_format, "Override the chat format (" + chat_format_names() + ")");
  add_sampling_flags(sub, o->sampling);
  add_spec_flags(sub, o->spec);
  add_engine_flags(sub, o->engine);
  sub->callback([o] { run_batch(*o); });
}

}  // namespace dsinfer::cli
