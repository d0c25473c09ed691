// `dsinfer bench`: prefill and decode speed, memory, and how close decode comes to the
// memory-bandwidth roofline.
#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "engine/model/expert_balance.h"
#include "engine/model/model.h"
#include "engine/decoder.h"
#include "tools/engine_flags.h"
#include "simd/error.h"
#include "simd/kernels.h"
#include "tools/bench/bench_tokens.h"
#include "tools/bench/memory_bandwidth.h"
#include "tools/bench/speculation_bench.h"
#include "tools/bench/distinct_experts.h"
#include "tools/commands.h"
#include "tools/progress.h"
#include "tools/spec_flags.h"
#include "tools/store_stats.h"

namespace dsinfer::cli {

namespace {

struct BenchOptions {
  std::string model;
  int64_t prompt = 512, gen = 128, depth = 0, reps = 3, batch = 0;
  std::string text;  // tokens fed from this text in order, else random
  double bandwidth = 0;
  bool json = false, warmup = true, scaling = false;
  EngineFlags engine;
  SpecFlags spec;
};

struct Stat {
  double mean = 0, sd = 0;
};
Stat stat(const std::vector<double>& v) {
  Stat s;
  for (double x : v) s.mean += x / double(v.size());
  for (double x : v) s.sd += (x - s.mean) * (x - s.mean) / double(std::max<size_t>(1, v.size() - 1));
  s.sd = std::sqrt(s.sd);
  return s;
}

// One repetition: prefill of `prompt` tokens; decode of `gen` tokens after `depth`.
struct Rep {
  double pp = 0, tg = 0;
  ExpertStoreStats store;  // the expert store during the decode
  double probe = 0;        // GB/s, the mean of probes just before and just after the decode (0: none)
  double rss_mb = 0;       // peak RSS before that first probe (0: none)
};

// This VM's memory bandwidth moves by up to 2x within seconds, so a decode is also held against
// a probe taken around it: smaller than the main probe, to keep a repetition short.
constexpr size_t kPairedProbeBytes = size_t(512) << 20;

double peak_rss_mb() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
#ifdef __APPLE__
  return double(ru.ru_maxrss) / 1048576.0;  // bytes there
#else
  return double(ru.ru_maxrss) / 1024.0;
#endif
}

class Runner {
 public:
  Runner(const Model& m, const BenchOptions& o, SessionOptions so)
      : m_(m), o_(o), so_(so), tok_(m, o.text), paired_(o.bandwidth <= 0) {}
  Rep run(bool prefill, bool decode) {
    Rep r;
    if (prefill && o_.prompt > 0) {
      auto s = make_decoder(m_, so_);
      if (o_.depth > 0) s->forward(tok_.take(o_.depth), logits_, nullptr, /*last_only=*/true);
      const auto p = tok_.take(o_.prompt);
      const auto a = clock::now();
      s->forward(p, logits_, nullptr, /*last_only=*/true);
      r.pp = double(o_.prompt) / secs(a);
    }
    if (decode && o_.gen > 0) {
      auto s = make_decoder(m_, so_);
      if (o_.depth > 0) s->forward(tok_.take(o_.depth), logits_, nullptr, /*last_only=*/true);
      int32_t next = tok_.next();
      const ExpertStore* st = m_.expert_store();
      const ExpertStoreStats before = st ? st->stats() : ExpertStoreStats{};
      double probe0 = 0;
      if (paired_) {
        r.rss_mb = peak_rss_mb();  // the probes' buffers are not the model's
        probe0 = measure_read_bandwidth(kPairedProbeBytes, 3);
      }
      const auto a = clock::now();
      for (int64_t k = 0; k < o_.gen; ++k) {
        const int32_t t[1] = {next};
        s->forward(t, logits_);
        next = tok_.next();
      }
      r.tg = double(o_.gen) / secs(a);
      if (paired_) {
        const double probe1 = measure_read_bandwidth(kPairedProbeBytes, 3);
        r.probe = probe0 > 0 && probe1 > 0 ? 0.5 * (probe0 + probe1) : 0.0;
      }
      if (st) r.store = stats_between(before, st->stats());
    }
    return r;
  }

 private:
  using clock = std::chrono::steady_clock;
  static double secs(clock::time_point a) { return std::chrono::duration<double>(clock::now() - a).count(); }
  const Model& m_;
  const BenchOptions& o_;
  SessionOptions so_;
  BenchTokens tok_;
  bool paired_;
  std::vector<float> logits_;
};

// Decode speed and the bandwidth probe at one thread count.
// The bandwidth line; false when the probe did not run (too little free memory), and then the
// figures measured against it are left out.
bool print_bandwidth(double bw, bool given) {
  if (bw > 0) {
    std::printf("memory bandwidth    %.1f GB/s (%s)\n", bw, given ? "given" : "measured");
    return true;
  }
  std::printf("memory bandwidth    not measured: too little free memory for the probe (--bandwidth GB/s gives it)\n");
  return false;
}

struct Scaling {
  int threads = 0;
  double tg = 0, bandwidth = 0;
  Stat paired;  // decode's fraction of the probes around each repetition
};

// Mean and sd of the fractions, their range in *lo and *hi when given (all 0 when there are none).
Stat fraction_stat(const std::vector<double>& f, double* lo = nullptr, double* hi = nullptr) {
  if (lo) *lo = f.empty() ? 0.0 : *std::min_element(f.begin(), f.end());
  if (hi) *hi = f.empty() ? 0.0 : *std::max_element(f.begin(), f.end());
  return f.empty() ? Stat{} : stat(f);
}

// Each repetition's decode bytes rate over the probes taken around it.
Stat paired_fraction(const std::vector<Rep>& reps, uint64_t per_token, double* lo = nullptr, double* hi = nullptr) {
  std::vector<double> f;
  for (const Rep& x : reps)
    if (x.probe > 0 && x.tg > 0) f.push_back(x.tg * double(per_token) / (x.probe * 1e9));
  return fraction_stat(f, lo, hi);
}

// --batch P: steps of P sequences, one token each, through one pass over the weights. The
// bound: each step reads the shared bytes once and each distinct routed expert once.
void run_batch(const Model& model, const BenchOptions& o, SessionOptions so, double load_s) {
  if (o.gen < 1) fail("--batch", "needs -n steps to decode");
  const ModelConfig& c = model.config();
  so.sequences = o.batch;
  so.context = o.depth + o.gen + 1;
  BenchTokens tok(model, o.text);
  const StepBytes sb = step_bytes(model);
  std::vector<double> rates, bytes, paired;  // paired: each repetition against the probes around it
  const bool probing = o.bandwidth <= 0;
  std::vector<float> logits;
  std::vector<int32_t> seq, toks;
  for (int64_t r = 0; r < o.reps + (o.warmup ? 1 : 0); ++r) {
    auto d = make_decoder(model, so);
    if (o.depth > 0)
      for (int32_t s = 0; s < int32_t(o.batch); ++s) {
        seq.assign(size_t(o.depth), s);
        toks.resize(size_t(o.depth));
        for (int32_t& t : toks) t = tok.next();
        d->forward_multi(seq, toks, logits);
      }
    DistinctExperts distinct(c);
    d->set_router_bias_hook(&distinct);
    seq.resize(size_t(o.batch));
    toks.resize(size_t(o.batch));
    for (int32_t s = 0; s < int32_t(o.batch); ++s) seq[size_t(s)] = s;
    const bool timed = !(o.warmup && r == 0);
    const double probe0 = timed && probing ? measure_read_bandwidth(kPairedProbeBytes, 3) : 0.0;
    const auto a = std::chrono::steady_clock::now();
    for (int64_t k = 0; k < o.gen; ++k) {
      for (int32_t& t : toks) t = tok.next();
      d->forward_multi(seq, toks, logits);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
    if (!timed) continue;
    rates.push_back(double(o.gen * o.batch) / s);
    bytes.push_back(double(sb.shared) + double(distinct.total()) / double(o.gen) * double(sb.expert));
    const double probe1 = probing ? measure_read_bandwidth(kPairedProbeBytes, 3) : 0.0;
    if (probe0 > 0 && probe1 > 0)  // steps a second times bytes a step, over the probes' mean
      paired.push_back(rates.back() / double(o.batch) * bytes.back() / (0.5 * (probe0 + probe1) * 1e9));
  }
  const double bw = o.bandwidth > 0 ? o.bandwidth : measure_read_bandwidth();
  const Stat sr = stat(rates), sbytes = stat(bytes);
  const double bound = double(o.batch) * bw * 1e9 / sbytes.mean;
  const double distinct_per_layer = (sbytes.mean - double(sb.shared)) / double(sb.expert) / double(sb.moe_layers);
  double sp_lo = 0, sp_hi = 0;
  const Stat sp = fraction_stat(paired, &sp_lo, &sp_hi);
  if (o.json) {
    nlohmann::json j = {{"model", o.model}, {"load_s", load_s}, {"batch", o.batch}, {"steps", o.gen},
                        {"depth", o.depth}, {"decode_tok_s", sr.mean}, {"decode_sd", sr.sd},
                        {"bytes_per_step", sbytes.mean}, {"distinct_experts_per_layer", distinct_per_layer},
                        {"bandwidth_gb_s", bw}, {"bound_tok_s", bound}, {"bound_fraction", sr.mean / bound},
                        {"paired_fraction", sp.mean}, {"paired_fraction_min", sp_lo},
                        {"paired_fraction_max", sp_hi}, {"threads", omp_get_max_threads()}};
    std::printf("%s\n", j.dump(1).c_str());
    return;
  }
  std::printf("model               %s (load %.2f s, %d threads)\n", o.model.c_str(), load_s, omp_get_max_threads());
  std::printf("batch decode        %lld sequences x %lld steps: %.2f +- %.2f tok/s in all\n", (long long)o.batch,
              (long long)o.gen, sr.mean, sr.sd);
  std::printf("weights per step    %s (%.1f distinct experts a layer of %lld)\n", format_bytes(sbytes.mean).c_str(),
              distinct_per_layer, (long long)c.n_routed_experts);
  if (print_bandwidth(bw, o.bandwidth > 0))
    std::printf("bytes bound         %.2f tok/s; batch decode reaches %.1f%% of it\n", bound, 100.0 * sr.mean / bound);
  if (sp.mean > 0)
    std::printf("paired probes       batch decode reaches %.1f%% (%.1f-%.1f%%) of the bytes bound at the bandwidth "
                "probed just before and after each repetition\n",
                100.0 * sp.mean, 100.0 * sp_lo, 100.0 * sp_hi);
}

void run_bench(const BenchOptions& o) {
  if (o.prompt < 0 || o.gen < 0 || o.depth < 0) fail("bench", "-p, -n and -d must not be negative");
  if (o.reps < 1 || o.reps > 1000) fail("-r", "must be from 1 to 1000 repetitions");
  if (o.bandwidth < 0) fail("--bandwidth", "must be positive");
  SessionOptions so = session_options(o.engine);
  const int threads = omp_get_max_threads();
  const auto t0 = std::chrono::steady_clock::now();
  auto model = open_model(o.model, o.engine);
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Each count alone first, so the sum cannot overflow.
  const int64_t ctx = model->config().max_position_embeddings;
  if (o.prompt > ctx || o.depth > ctx || o.gen > ctx || o.depth + std::max(o.prompt, o.gen) + 1 > ctx)
    fail("bench", "-d + max(-p, -n) + 1 tokens must fit in the model's context of " + std::to_string(ctx));
  so.context = o.depth + std::max(o.prompt, o.gen) + 1;
  if (o.batch > 0) return run_batch(*model, o, so, load_s);
  if (const SpecOptions spec = spec_options(o.spec, *model); spec.kind != SpecKind::None)
    return run_speculation_bench(*model, session_for(spec, so), {o.model, o.gen, o.depth, o.reps, o.json, spec, o.text},
                                 load_s);
  const uint64_t per_token = bytes_per_token(*model);
  Runner runner(*model, o, so);
  // The first pass meets what a new process meets (pages of a mapped file faulted in, caches
  // cold); it is reported apart and left out of the mean, as llama-bench's warm-up is.
  const Rep cold = o.warmup ? runner.run(true, true) : Rep{};
  std::vector<double> pp, tg;
  std::vector<Rep> reps;
  ExpertStoreStats store;  // decode of the timed repetitions
  for (int64_t r = 0; r < o.reps; ++r) {
    const Rep x = runner.run(true, true);
    if (o.prompt > 0) pp.push_back(x.pp);
    if (o.gen > 0) tg.push_back(x.tg);
    add_stats(store, x.store);
    reps.push_back(x);
  }
  const int64_t decoded = o.gen * o.reps;
  // The peak is a high-water mark: read before the first probe's buffer (the repetitions after
  // the first allocate what it did), or now when there were no probes. Without a warm-up the
  // cold pass is Rep{} (no reading).
  const double rss_mb = cold.rss_mb > 0                       ? cold.rss_mb
                        : !reps.empty() && reps[0].rss_mb > 0 ? reps[0].rss_mb
                                                              : peak_rss_mb();
  double paired_lo = 0, paired_hi = 0;
  const Stat paired = paired_fraction(reps, per_token, &paired_lo, &paired_hi);
  // The probe's buffer comes after the peak-RSS reading, which must be the model's alone.
  const double bw = o.bandwidth > 0 ? o.bandwidth : measure_read_bandwidth();
  const Stat sp = stat(pp), sg = stat(tg);
  const double roofline = bw * 1e9 / double(per_token);
  // Thread scaling: decode and the probe again at 1 thread (and back to all of them).
  std::vector<Scaling> scaling;
  if (o.scaling && o.gen > 0) {
    scaling.push_back({threads, sg.mean, bw, paired});
    if (threads > 1) {
      omp_set_num_threads(1);
      Runner one(*model, o, so);
      std::vector<Rep> v;
      for (int64_t r = 0; r < o.reps; ++r) v.push_back(one.run(false, true));
      std::vector<double> rates;
      for (const Rep& x : v) rates.push_back(x.tg);
      scaling.insert(scaling.begin(), {1, stat(rates).mean, measure_read_bandwidth(), paired_fraction(v, per_token)});
      omp_set_num_threads(threads);
    }
  }
  const char* weights = model->expert_store()  ? "resident + expert store"
                        : model->weights_copied() ? (model->weights().repacked ? "copied, repacked" : "copied")
                                                  : "mapped";
  if (o.json) {
    nlohmann::json j = {{"model", o.model},          {"load_s", load_s},
                        {"prompt_tokens", o.prompt}, {"prefill_tok_s", sp.mean},
                        {"prefill_sd", sp.sd},       {"gen_tokens", o.gen},
                        {"depth", o.depth},          {"decode_tok_s", sg.mean},
                        {"decode_sd", sg.sd},        {"peak_rss_mb", rss_mb},
                        {"bytes_per_token", per_token}, {"bandwidth_gb_s", bw},
                        {"roofline_tok_s", roofline}, {"roofline_fraction", sg.mean / roofline},
                        {"paired_fraction", paired.mean}, {"paired_fraction_min", paired_lo},
                        {"paired_fraction_max", paired_hi},
                        {"threads", threads},        {"weights", weights},
                        {"engine", o.engine.engine}, {"kv_type", o.engine.kv}, {"kernels", simd::kernels().isa},
                        {"resident_mb", double(model->resident_bytes()) / 1048576.0}};
    if (o.warmup) j["cold"] = {{"prefill_tok_s", cold.pp}, {"decode_tok_s", cold.tg}};
    if (model->expert_store()) {
      j["experts"] = store_stats_json(*model, decoded, &store);
      if (o.warmup) j["cold"]["experts"] = store_stats_json(*model, o.gen, &cold.store);
    }
    for (const Scaling& x : scaling)
      j["scaling"].push_back({{"threads", x.threads}, {"decode_tok_s", x.tg}, {"bandwidth_gb_s", x.bandwidth},
                              {"roofline_fraction", x.tg * double(per_token) / (x.bandwidth * 1e9)},
                              {"paired_fraction", x.paired.mean}});
    std::printf("%s\n", j.dump(1).c_str());
    return;
  }
  std::printf("model               %s (load %.2f s, weights %s, %s engine, %d threads, kv %s, kernels %s)\n",
              o.model.c_str(), load_s, weights, o.engine.engine.c_str(), threads, o.engine.kv.c_str(),
              simd::kernels().isa);
  if (o.prompt > 0)
    std::printf("prefill pp%-5lld     %.2f +- %.2f tok/s (context depth %lld)\n", (long long)o.prompt, sp.mean, sp.sd,
                (long long)o.depth);
  if (o.gen > 0)
    std::printf("decode tg%-5lld      %.2f +- %.2f tok/s (context depth %lld)\n", (long long)o.gen, sg.mean, sg.sd,
                (long long)o.depth);
  if (o.warmup)
    std::printf("cold first pass     prefill %.2f, decode %.2f tok/s (not in the figures above)\n", cold.pp, cold.tg);
  std::printf("weights per token   %s\n", format_bytes(double(per_token)).c_str());
  if (print_bandwidth(bw, o.bandwidth > 0))
    std::printf("roofline            %.2f tok/s; decode reaches %.1f%% of it\n", roofline, 100.0 * sg.mean / roofline);
  if (paired.mean > 0)
    std::printf("paired probes       decode reaches %.1f%% (%.1f-%.1f%%) of the bandwidth probed just before and after "
                "each repetition\n",
                100.0 * paired.mean, 100.0 * paired_lo, 100.0 * paired_hi);
  for (const Scaling& x : scaling)
    if (x.bandwidth > 0)
      std::printf("  %d thread%s         decode %.2f tok/s = %.1f GB/s of a %.1f GB/s probe: %.1f%% (paired probes: %.1f%%)\n",
                  x.threads, x.threads == 1 ? " " : "s", x.tg, x.tg * double(per_token) / 1e9, x.bandwidth,
                  100.0 * x.tg * double(per_token) / (x.bandwidth * 1e9), 100.0 * x.paired.mean);
  if (model->expert_store()) {
    std::printf("expert store        decode: %s\n", store_stats_line(*model, decoded, &store).c_str());
    if (o.warmup) std::printf("  cold first pass   %s\n", store_stats_line(*model, o.gen, &cold.store).c_str());
  }
  std::printf("peak RSS            %.1f MB\n", rss_mb);
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* sub = app.add_subcommand("bench", "Prefill/decode speed, memory and the bandwidth roofline");
  sub->add_option("model", o->model, "GGUF file or checkpoint directory")->required();
  sub->add_option("-p,--prompt", o->prompt, "Prefill length (0: skip)")->capture_default_str();
  sub->add_option("-n,--gen", o->gen, "Tokens decoded one at a time (0: skip)")->capture_default_str();
  sub->add_option("-d,--depth", o->depth, "Context already in the cache before the prefill and the decode")
      ->capture_default_str();
  sub->add_option("-r,--reps", o->reps, "Repetitions (mean +- sd)")->capture_default_str();
  sub->add_option("--text", o->text,
                  "Feed this text's tokens in order (again from its start when they run out) instead of random "
                  "ids: an expert store's hits and recall depend on tokens repeating as in language");
  sub->add_option("--bandwidth", o->bandwidth, "Memory read bandwidth in GB/s instead of measuring it");
  sub->add_flag("--json", o->json, "Machine-readable output");
  sub->add_flag("!--no-warmup", o->warmup, "Skip the untimed first pass (then the first repetition is the cold one)");
  sub->add_option("--batch", o->batch,
                  "Instead: decode -n steps of this many sequences at once (as batch --parallel), against the bytes "
                  "bound of the experts they route to");
  sub->add_flag("--scaling", o->scaling, "Also decode at 1 thread and probe the bandwidth there: the roofline fraction per thread count");
  add_engine_flags(sub, o->engine);
  add_spec_flags(sub, o->spec);
  sub->callback([o] { run_bench(*o); });
}

}  // namespace dsinfer::cli
