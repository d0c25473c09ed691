// The expert store: a model whose routed experts are read as routing asks, within a budget that
// holds a quarter of them, computes exactly what the model copied whole into memory computes;
// its memory stays within the budget; a file that goes away under it gives an error, not a
// crash.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "engine/decoder.h"
#include "engine/experts/expert_store.h"
#include "engine/experts/ram_budget.h"
#include "engine/model/model.h"
#include "simd/error.h"
#include "tests/test_support.h"

namespace dsinfer {
namespace {

// A small synthetic model: 4 layers (3 MoE + MTP), 16 experts of 4 per token.
std::string tiny_model(const test::TempDir& d) {
  const std::string path = d.file("m.gguf");
  auto r = test::run_dsinfer("synth --preset tiny --quiet -o " + path);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return path;
}

std::vector<int32_t> some_tokens(int64_t n, int64_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> d(2, int32_t(vocab) - 1);
  std::vector<int32_t> v(static_cast<size_t>(n));
  for (int32_t& t : v) t = d(rng);
  return v;
}

// Prefill then token-by-token decode, all logits, and the MTP module's over the sequence.
std::vector<float> run(const Model& m, const std::vector<int32_t>& seq, size_t prefill) {
  SessionOptions o;
  o.context = int64_t(seq.size());
  auto d = make_decoder(m, o);
  std::vector<float> all, l;
  d->forward(std::span(seq).first(prefill), l);
  all = l;
  std::vector<float> hidden = d->last_hidden();
  for (size_t i = prefill; i < seq.size(); ++i) {
    d->forward(std::span(seq).subspan(i, 1), l);
    all.insert(all.end(), l.begin(), l.end());
    hidden.insert(hidden.end(), d->last_hidden().begin(), d->last_hidden().end());
  }
  d->mtp_forward(std::span(seq).subspan(1), hidden.data(), l);
  all.insert(all.end(), l.begin(), l.end());
  return all;
}

TEST(ExpertStore, QuarterBudgetComputesWhatTheWholeCopyDoes) {
  test::TempDir d;
  const std::string path = tiny_model(d);
  LoadOptions copy;
  copy.load = WeightsLoad::Copy;
  auto whole = Model::open(path, copy);
  ASSERT_EQ(whole->expert_store(), nullptr);
  // The second half repeats the first, so a routing memory has tokens to recall.
  auto seq = some_tokens(24, whole->config().vocab_size, 5);
  seq.insert(seq.end(), seq.begin(), seq.end());
  const std::vector<float> want = run(*whole, seq, 20);

  for (int mode = 0; mode < 4; ++mode) {
    const bool predict = mode & 1, recall = mode & 2;
    LoadOptions o;
    o.load = WeightsLoad::Auto;
    o.predict = predict;
    o.recall = recall;
    // A quarter of the 64 experts (3 MoE layers and the MTP module, 16 each): fewer than one
    // layer's prefill routes to, so the store also works in waves.
    auto probe = Model::open(path, [&] {
      LoadOptions p = o;
      p.ram_budget = uint64_t(1) << 40;
      return p;
    }());
    const uint64_t slot = probe->expert_store()->slot_bytes();
    EXPECT_EQ(probe->expert_store()->slots(), 64);  // everything fits: all held
    probe.reset();
    o.ram_budget = 16 * slot;
    auto streamed = Model::open(path, o);
    ExpertStore* st = streamed->expert_store();
    ASSERT_NE(st, nullptr);
    EXPECT_EQ(st->slots(), 16);
    EXPECT_EQ(st->experts(), 64);
    EXPECT_EQ(st->recalling(), recall);
    EXPECT_EQ(run(*streamed, seq, 20), want) << "predict " << predict << " recall " << recall;  // bit for bit
    const ExpertStoreStats s = st->stats();
    EXPECT_GT(s.reads, 64) << "experts were read again after eviction";
    EXPECT_LT(s.hits, s.requests);
    EXPECT_EQ(s.predictions > 0, predict);
    // The prefill (20 tokens) is remembered, not recalled; the decode of the repeated tokens
    // recalls their routing and reads some of it ahead.
    EXPECT_EQ(s.recalled > 0, recall);
    EXPECT_EQ(s.recalled_right > 0, recall);
    EXPECT_EQ(s.hints > 0, predict || recall);
    std::printf("[ measured ] predict %d recall %d: %lld requests, %.0f%% hits, %lld reads, prediction %.0f%% right, "
                "recall %.0f%% right\n",
                predict, recall, (long long)s.requests, 100.0 * double(s.hits) / double(s.requests), (long long)s.reads,
                s.predictions ? 100.0 * double(s.predicted_right) / double(s.predictions) : 0.0,
                s.recalled ? 100.0 * double(s.recalled_right) / double(s.recalled) : 0.0);
  }
}

TEST(ExpertStore, StatisticsWarmTheNextRun) {
  test::TempDir d;
  const std::string path = tiny_model(d);
  LoadOptions o;
  o.load = WeightsLoad::Auto;
  o.expert_stats = d.file("stats.json");
  int64_t slot = 0;
  {
    auto m = Model::open(path, [&] {
      LoadOptions p = o;
      p.ram_budget = uint64_t(1) << 40;
      p.expert_stats.clear();
      return p;
    }());
    slot = int64_t(m->expert_store()->slot_bytes());
  }
  o.ram_budget = uint64_t(16 * slot);
  const auto seq = some_tokens(24, 1024, 9);
  {
    auto m = Model::open(path, o);
    run(*m, seq, 24);
  }
  const auto j = nlohmann::json::parse(test::read_file(o.expert_stats));
  ASSERT_EQ(j["layers"].size(), 5u);  // layer 0 dense (empty), 3 MoE, MTP
  EXPECT_TRUE(j["layers"][0].empty());
  double picks = 0;
  for (const auto& v : j["layers"][1]) picks += v.get<double>();
  EXPECT_EQ(picks, 24 * 4);  // every token picked 4 experts of layer 1
  // The next run starts by reading the most used experts: once they are in, its requests hit.
  auto m = Model::open(path, o);
  m->expert_store()->wait_for_reads();
  EXPECT_EQ(m->expert_store()->stats().reads, 16);  // the budget's worth, no more
  run(*m, seq, 24);
  EXPECT_GT(m->expert_store()->stats().hits, 0);
  // Statistics of another model are refused with a message naming the file.
  test::write_file(d.file("bad.json"), R"({"layers": [[1, 2]]})");
  o.expert_stats = d.file("bad.json");
  try {
    Model::open(path, o);
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos) << e.what();
  }
}

TEST(ExpertStore, TruncatedFileMidRunIsAnErrorNotACrash) {
  test::TempDir d;
  const std::string path = tiny_model(d);
  LoadOptions o;
  o.load = WeightsLoad::Auto;
  o.predict = false;
  {
    auto probe = Model::open(path, [&] {
      LoadOptions p = o;
      p.ram_budget = uint64_t(1) << 40;
      return p;
    }());
    o.ram_budget = 4 * probe->expert_store()->slot_bytes();
  }
  auto m = Model::open(path, o);
  // The routed experts are what is left on disk; cut the file to its first half.
  ASSERT_EQ(::truncate(path.c_str(), off_t(std::filesystem::file_size(path) / 2)), 0);
  const auto seq = some_tokens(16, m->config().vocab_size, 3);
  try {
    run(*m, seq, 16);
    FAIL() << "decoded from a truncated file";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("m.gguf"), std::string::npos) << msg;
    EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

// AddressSanitizer's shadow memory and freed-block quarantine are in the RSS: a memory bound
// means nothing there.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif
#else
constexpr bool kAsan = false;
#endif

TEST(ExpertStore, PeakMemoryStaysWithinTheBudget) {
  // V2-Lite's expert shape (4.9 MB an expert in Q4_0), 2 MoE layers of 32: 312 MB of experts
  // against a budget of 40 MB. The process's peak RSS stays within the budget + the other
  // weights + a stated margin for the runtime, the caches and the buffers (64 MB).
  if (kAsan) GTEST_SKIP() << "peak RSS under AddressSanitizer includes its shadow memory";
  test::TempDir d;
  const std::string path = d.file("m.gguf");
  ASSERT_EQ(test::run_dsinfer("synth --preset v2-lite --layers 3 --experts 32 --vocab 2048 --type q4_0 --quiet -o " +
                              path).exit_code, 0);
  auto r = test::run_dsinfer("bench " + path + " -p 32 -n 16 -r 1 --no-warmup --bandwidth 10 --json --ram-budget 40M");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const double rss_mb = j["peak_rss_mb"].get<double>();
  const double budget_mb = 40, resident_mb = j["resident_mb"].get<double>(), experts_mb =
      j["experts"]["experts"].get<double>() * j["experts"]["slot_bytes"].get<double>() / 1048576.0;
  std::printf("[ measured ] experts %.1f MB, budget %.0f MB, other weights %.1f MB: peak RSS %.1f MB\n", experts_mb,
              budget_mb, resident_mb, rss_mb);
  ASSERT_GT(experts_mb, 3 * budget_mb);  // the budget really is smaller than the experts
  EXPECT_LE(rss_mb, budget_mb + resident_mb + 64);
}

TEST(RamBudget, SizesAndErrors) {
  EXPECT_EQ(parse_memory_size("512M", "--ram-budget"), uint64_t(512) << 20);
  EXPECT_EQ(parse_memory_size("1.5G", "--ram-budget"), uint64_t(3) << 29);
  EXPECT_EQ(parse_memory_size("4096", "--ram-budget"), 4096u);
  EXPECT_GT(parse_memory_size("50%", "--ram-budget"), 0u);
  for (const char* bad : {"", "x", "-1G", "3Q", "120%"}) EXPECT_THROW(parse_memory_size(bad, "--ram-budget"), Error) << bad;
  EXPECT_GT(memory_view().available, 0u);
}

}  // namespace
}  // namespace dsinfer
