#include "tools/bench/speculation_bench.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "engine/experts/expert_store.h"
#include "engine/fast/draft_vocabulary.h"
#include "engine/generation/generation.h"
#include "engine/generation/spec_governor.h"
#include "simd/error.h"
#include "tools/bench/bench_tokens.h"
#include "tools/bench/distinct_experts.h"
#include "tools/store_stats.h"

namespace dsinfer::cli {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Cost {
  int64_t tokens = 0;
  double main_s = 0, mtp_s = 0;          // per forward (medians)
  double main_ratio = 0, mtp_ratio = 0;  // to a one-token main forward (medians of each round's)
  double distinct = 0;                   // distinct routed experts per main forward, all MoE layers
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// Main and MTP forwards of T = 1..max_t tokens at a fixed depth, cut back after each one. The
// token counts take turns within each of `n` rounds and ratios are taken within a round, so a
// change in the machine's memory speed during the run (this VM's moves by 2x) moves numerator
// and denominator together.
std::vector<Cost> forward_costs(const Model& m, SessionOptions so, int64_t depth, int max_t, int n,
                                BenchTokens& tok) {
  const ModelConfig& c = m.config();
  so.context = depth + max_t + 1;
  auto d = make_decoder(m, so);
  std::vector<int32_t> prefix(static_cast<size_t>(depth)), t(static_cast<size_t>(max_t));
  for (int32_t& x : prefix) x = tok.next();
  std::vector<float> logits, hidden;
  d->forward(prefix, logits, nullptr, true);
  // Hidden rows for the MTP module: the main model's own on the prefix.
  hidden.assign(d->last_hidden().end() - max_t * c.hidden_size, d->last_hidden().end());
  std::vector<int32_t> mtp_prefix(prefix.begin() + 1, prefix.end() - (max_t - 1));
  d->mtp_forward(mtp_prefix, d->last_hidden().data(), logits, nullptr, true);
  const int64_t n_main = d->n_past(), n_mtp = d->mtp_past();
  DistinctExperts distinct(c);
  d->set_router_bias_hook(&distinct);
  const size_t nt = static_cast<size_t>(max_t);
  std::vector<std::vector<double>> main_s(nt), mtp_s(nt), main_r(nt), mtp_r(nt);
  std::vector<int64_t> picked(nt, 0);
  for (int r = 0; r < n; ++r) {
    double one = 0;
    for (int T = 1; T <= max_t; ++T) {
      for (int32_t& x : t) x = tok.next();
      const int64_t before = distinct.total();
      const auto t0 = Clock::now();
      d->forward(std::span(t).first(size_t(T)), logits);
      const double main = since(t0);
      picked[size_t(T - 1)] += distinct.total() - before;
      const auto t1 = Clock::now();
      d->mtp_catch_up(std::span(t).first(size_t(T)), hidden.data(), logits);  // as speculation does
      const double mtp = since(t1);
      d->truncate(n_main, n_mtp);
      if (T == 1) one = main;
      main_s[size_t(T - 1)].push_back(main);
      mtp_s[size_t(T - 1)].push_back(mtp);
      main_r[size_t(T - 1)].push_back(main / one);
      mtp_r[size_t(T - 1)].push_back(mtp / one);
    }
  }
  d->set_router_bias_hook(nullptr);
  std::vector<Cost> out;
  for (int T = 1; T <= max_t; ++T) {
    const size_t i = size_t(T - 1);
    out.push_back({T, median(main_s[i]), median(mtp_s[i]), median(main_r[i]), median(mtp_r[i]),
                   double(picked[i]) / n});
  }
  return out;
}

// Expected tokens and cost (in one-token main steps) of a round with K drafts, each accepted
// with probability a given the ones before it.
struct Round {
  double tokens = 0, cost = 0;
};
Round expected_round(const std::vector<Cost>& c, int K, double a) {
  Round r;
  r.cost = c[size_t(K)].main_ratio + (K - 1) * c[0].mtp_ratio;  // verify + chained drafts
  double reach = 1;  // probability that j drafts were accepted so far
  for (int j = 0; j <= K; ++j) {
    const double p = j < K ? reach * (1 - a) : reach;  // exactly j accepted
    r.tokens += p * (j + 1);
    r.cost += p * c[size_t(j)].mtp_ratio;  // the module catches up on j + 1 tokens
    reach *= a;
  }
  return r;
}

// With --draft-vocab and a text: the share of the text's tokens a draft could name (among the first
// n ids, or fed before), over 1,024 tokens after a 256-token prompt. A draft is accepted only
// where the main model's token is one of them, so acceptance scales by about that share.
double draft_coverage(const Model& m, int64_t n, const std::string& text) {
  DraftVocabulary dv;
  dv.configure(m.weights().mtp->head, n, 1);
  if (!dv.active()) return 1.0;
  BenchTokens tok(m, text);
  dv.observe(tok.take(256));
  constexpr int kScored = 1024;
  int in = 0;
  for (int i = 0; i < kScored; ++i) {
    const int32_t t = tok.next();
    in += dv.scores(t);
    dv.observe(std::span(&t, 1));
  }
  return double(in) / kScored;
}

struct Decode {
  double tok_s = 0;
  SpecStats spec;
};

Decode greedy_decode(Generator& g, const std::vector<int32_t>& prompt, int64_t n) {
  g.reset();
  GenerationRequest req;
  req.prompt = prompt;
  req.max_tokens = n;
  const GenerationResult r = g.generate(req);
  return {r.decode_s > 0 ? double(r.completion_tokens) / r.decode_s : 0.0, r.spec};
}

}  // namespace

void run_speculation_bench(const Model& m, SessionOptions so, const SpecBenchOptions& o, double load_s) {
  validate(o.spec, m);
  if (o.gen < 2) fail("bench", "--spec mtp needs -n 2 or more tokens to decode");
  const int K = o.spec.draft_max;
  BenchTokens tok(m, o.text);
  // End to end: greedy from a prompt of 16 tokens, plain and speculative in turn.
  std::vector<int32_t> prompt = tok.take(16);
  so.context = int64_t(prompt.size()) + o.gen + K + 1;  // this decode starts at position 0: no depth
  SamplingParams sp;
  sp.temperature = 0.0f;
  auto dp = make_decoder(m, so), ds = make_decoder(m, so);
  Generator plain(*dp, nullptr, sp), spec(*ds, nullptr, sp, o.spec);
  greedy_decode(plain, prompt, std::min<int64_t>(o.gen, 8));  // warm-up: pages, caches
  greedy_decode(spec, prompt, std::min<int64_t>(o.gen, 8));
  std::vector<double> plain_tok_s, spec_tok_s;
  SpecStats st;
  const ExpertStore* store = m.expert_store();
  ExpertStoreStats plain_store, spec_store;  // during each kind of decoding
  auto store_now = [&] { return store ? store->stats() : ExpertStoreStats{}; };
  for (int64_t r = 0; r < o.reps; ++r) {
    const ExpertStoreStats s0 = store_now();
    plain_tok_s.push_back(greedy_decode(plain, prompt, o.gen).tok_s);
    const ExpertStoreStats s1 = store_now();
    const Decode d = greedy_decode(spec, prompt, o.gen);
    add_stats(plain_store, stats_between(s0, s1));
    add_stats(spec_store, stats_between(s1, store_now()));
    spec_tok_s.push_back(d.tok_s);
    st.add(d.spec);
  }
  // Forward costs, after the decoding above has warmed the weights (an expert store still
  // filling would be timed otherwise): at the given depth, at least a prefix long enough for
  // every row used; the first pass is not kept.
  const int64_t depth = std::max<int64_t>(o.depth, 64);
  const int n_costs = int(std::clamp<int64_t>(o.gen / 2, 8, 64));
  forward_costs(m, so, depth, K + 1, 2, tok);
  const std::vector<Cost> costs = forward_costs(m, so, depth, K + 1, n_costs, tok);
  const StepBytes sb = step_bytes(m);
  auto bytes = [&](double distinct) { return double(sb.shared) + distinct * double(sb.expert); };

  auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x / double(v.size());
    return s;
  };
  const double tp = mean(plain_tok_s), ts = mean(spec_tok_s);
  const double a_measured = st.acceptance(0);
  const Round at_measured = expected_round(costs, K, a_measured), at_80 = expected_round(costs, K, 0.8);
  const bool narrowed = o.spec.draft_vocab > 0 && o.spec.draft_vocab < m.config().vocab_size;
  const double coverage = narrowed && !o.text.empty() ? draft_coverage(m, o.spec.draft_vocab, o.text) : 1.0;
  const Round at_80c = expected_round(costs, K, 0.8 * coverage);

  if (o.json) {
    nlohmann::json j = {{"model", o.model},         {"load_s", load_s},     {"threads", omp_get_max_threads()},
                        {"draft_max", K},           {"depth", depth},       {"gen_tokens", o.gen},
                        {"plain_tok_s", tp},        {"spec_tok_s", ts},     {"speedup", ts / tp},
                        {"tokens_per_forward", st.tokens_per_forward()}};
    for (int i = 0; i < K; ++i) j["acceptance"].push_back(st.acceptance(i));
    for (const Cost& k : costs)
      j["forwards"].push_back({{"tokens", k.tokens},
                               {"main_ms", k.main_s * 1e3},
                               {"main_ratio", k.main_ratio},
                               {"bytes_ratio", bytes(k.distinct) / bytes(costs[0].distinct)},
                               {"distinct_experts_per_layer", k.distinct / double(std::max<int64_t>(1, sb.moe_layers))},
                               {"mtp_ms", k.mtp_s * 1e3},
                               {"mtp_ratio", k.mtp_ratio}});
    j["auto_break_even"] = spec_break_even(m, o.spec);
    j["projected_speedup"] = {{"at_measured_acceptance", at_measured.tokens / at_measured.cost},
                              {"at_0.8", at_80.tokens / at_80.cost}};
    if (narrowed) {
      j["draft_vocab"] = {{"ids", o.spec.draft_vocab}};
      if (!o.text.empty()) {
        j["draft_vocab"]["text_coverage"] = coverage;
        j["projected_speedup"]["at_0.8_times_coverage"] = at_80c.tokens / at_80c.cost;
      }
    }
    if (store) {
      j["experts"]["plain"] = store_stats_json(m, o.gen * o.reps, &plain_store);
      j["experts"]["speculative"] = store_stats_json(m, o.gen * o.reps, &spec_store);
    }
    std::printf("%s\n", j.dump(1).c_str());
    return;
  }
  std::printf("model               %s (load %.2f s, %d threads)\n", o.model.c_str(), load_s, omp_get_max_threads());
  std::printf("speculation         %s, draft-max %d, greedy, 16 prompt tokens (%s), %lld generated, %lld reps\n",
              o.spec.adaptive ? "auto" : "mtp", K, tok.from_text() ? "from the text" : "random", (long long)o.gen,
              (long long)o.reps);
  std::printf("  plain decode      %.2f tok/s\n", tp);
  std::printf("  speculative       %.2f tok/s (%.2fx), %s\n", ts, ts / tp, st.summary().c_str());
  if (store) {
    const int64_t tokens = o.gen * o.reps;
    std::printf("  expert store      plain: %s\n", store_stats_line(m, tokens, &plain_store).c_str());
    std::printf("                    speculative: %s\n", store_stats_line(m, tokens, &spec_store).c_str());
  }
  std::printf("forward costs at depth %lld (median ms; median ratio to a one-token main forward of the same round; "
              "bytes bound ratio with the distinct experts a layer)\n",
              (long long)depth);
  for (const Cost& k : costs) {
    const double bound = bytes(k.distinct) / bytes(costs[0].distinct);
    std::printf("  %lld token%s  main %.2f ms = %.2fx (bound %.2fx, %.1f experts/layer: %.0f%% of it)   MTP %.2f ms = %.2fx\n",
                (long long)k.tokens, k.tokens == 1 ? " " : "s", k.main_s * 1e3, k.main_ratio, bound,
                k.distinct / double(std::max<int64_t>(1, sb.moe_layers)), 100.0 * k.main_ratio / bound, k.mtp_s * 1e3,
                k.mtp_ratio);
  }
  std::printf("projected speed-up  %.2fx at the measured acceptance %.2f (%.2f tokens per round for %.2f steps); "
              "%.2fx at 0.80 (%.2f for %.2f)\n",
              at_measured.tokens / at_measured.cost, a_measured, at_measured.tokens, at_measured.cost,
              at_80.tokens / at_80.cost, at_80.tokens, at_80.cost);
  std::printf("auto's rule         drafts while rounds commit %.2f tokens or more (their bytes: %.2f steps, "
              "x %.2f)\n",
              spec_break_even(m, o.spec), spec_round_cost(m, K, o.spec.draft_vocab), kSpecMargin);
  if (narrowed && o.text.empty())
    std::printf("draft vocabulary    the first %lld ids and the tokens fed; give --text to measure what share of a "
                "text's tokens that names\n",
                (long long)o.spec.draft_vocab);
  else if (narrowed)
    std::printf("draft vocabulary    the first %lld ids and the tokens fed name %.1f%% of the text's tokens; "
                "%.2fx at 0.80 x that (%.2f tokens for %.2f steps)\n",
                (long long)o.spec.draft_vocab, 100.0 * coverage, at_80c.tokens / at_80c.cost, at_80c.tokens,
                at_80c.cost);
}

}  // namespace dsinfer::cli
