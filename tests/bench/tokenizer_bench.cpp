// Tokenizer throughput on one core: encoding a few megabytes of mixed text (English prose, code,
// Chinese and Japanese) with the real DeepSeek-V3 tokenizer, reported as bytes per second of CPU
// time. The goal is at least 10 MB/s for MixedText. Fixtures: $DSINFER_FIXTURES or the
// configured path.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "engine/tokenizer/token_stream.h"
#include "engine/tokenizer/tokenizer_json.h"

namespace {

using dsinfer::Tokenizer;

const Tokenizer& tokenizer() {
  static const std::unique_ptr<Tokenizer> t = [] {
    const char* env = std::getenv("DSINFER_FIXTURES");
    const std::string dir = env && *env ? env : DSINFER_FIXTURES_DEFAULT;
    return dsinfer::open_tokenizer(dir + "/tokenizer-deepseek-v3");
  }();
  return *t;
}

// A fixed-seed generator, so every run measures the same text.
struct Rng {
  uint64_t s;
  uint64_t next() {
    s += 0x9E3779B97F4A7C15ULL;
    uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return size_t(next() % n); }
};

const std::vector<std::string> kWords = {
    "the", "of", "and", "to", "in", "is", "was", "that", "for", "with", "as", "on", "by", "at", "from", "model",
    "expert", "layer", "token", "attention", "latent", "cache", "memory", "compute", "throughput", "routing",
    "inference", "engine", "quantization", "weights", "matrix", "vector", "sequence", "context", "window",
    "training", "evaluation", "benchmark", "performance", "language", "understanding", "reasoning", "careful",
    "however", "therefore", "because", "although", "between", "without", "during", "against", "through",
    "Mixture", "DeepSeek", "Transformer", "GPU", "CPU", "AVX2", "FP8", "BF16", "HTTP", "JSON", "Linux",
    "remarkably", "unprecedented", "straightforward", "implementation", "specification", "configuration",
    "we", "they", "it", "this", "these", "which", "when", "where", "while", "would", "could", "should", "might"};

const std::vector<std::string> kIdents = {"i", "n", "x", "y", "buf", "len", "ptr", "size", "count", "index",
                                          "tokens", "weights", "hidden", "scale", "result", "offset", "stride",
                                          "expert_id", "num_heads", "kv_cache", "routerLogits", "maxValue"};

// Common Chinese characters and kana, one string of whole UTF-8 characters.
const std::string kCjk =
    "的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年"
    "生自会那后能对着事其里所去行过家十用发天如然作方成者多日都三小军二无同么经法当"
    "起与好看学进种将还分此心前面又定见只主没公从模型专家推理计算内存数据训练语言理解"
    "のはにをたがでてとしれさあるいうかなこもよりまですからカタナトークンモデルデータ";

std::string sentence(Rng& r) {
  std::string s;
  const size_t n = 6 + r.below(14);
  for (size_t i = 0; i < n; ++i) {
    std::string w = kWords[r.below(kWords.size())];
    if (i == 0 && w[0] >= 'a' && w[0] <= 'z') w[0] = char(w[0] - 'a' + 'A');
    s += w;
    if (r.below(12) == 0) s += ",";
    if (r.below(20) == 0) s += " " + std::to_string(r.below(100000));
    s += i + 1 < n ? " " : "";
  }
  s += r.below(6) == 0 ? "?" : ".";
  return s;
}

std::string code_line(Rng& r) {
  const std::string a = kIdents[r.below(kIdents.size())], b = kIdents[r.below(kIdents.size())];
  switch (r.below(6)) {
    case 0: return "for (int " + a + " = 0; " + a + " < " + b + "; ++" + a + ") {";
    case 1: return "    " + a + "[" + b + "] += " + std::to_string(r.below(4096)) + " * " + b + ";";
    case 2: return "  if (" + a + " != nullptr && " + b + "->size() > 0) return " + a + ";";
    case 3: return "def " + a + "(" + b + ", *args, **kwargs):\n        return " + b + ".get(\"" + a + "\", None)";
    case 4: return "\t// " + sentence(r);
    default: return "}";
  }
}

std::string cjk_run(Rng& r) {
  // Whole characters: find character starts in kCjk and copy a few of them.
  static const std::vector<size_t> starts = [] {
    std::vector<size_t> v;
    for (size_t i = 0; i < kCjk.size(); ++i)
      if ((uint8_t(kCjk[i]) & 0xC0) != 0x80) v.push_back(i);
    v.push_back(kCjk.size());
    return v;
  }();
  std::string s;
  const size_t n = 8 + r.below(40);
  for (size_t i = 0; i < n; ++i) {
    const size_t c = r.below(starts.size() - 1);
    s.append(kCjk, starts[c], starts[c + 1] - starts[c]);
    if (r.below(15) == 0) s += "，";
  }
  return s + "。";
}

// About half English prose, a third code, the rest Chinese/Japanese, by bytes.
const std::string& mixed_text() {
  static const std::string text = [] {
    Rng r{42};
    std::string t;
    while (t.size() < 4 * 1024 * 1024) {
      const size_t k = r.below(10);
      if (k < 5) {
        for (int i = 0; i < 4; ++i) t += sentence(r) + " ";
        t += "\n\n";
      } else if (k < 8) {
        for (int i = 0; i < 6; ++i) t += code_line(r) + "\n";
      } else {
        t += cjk_run(r) + "\n";
      }
    }
    return t;
  }();
  return text;
}

void BM_EncodeMixedText(benchmark::State& state) {
  const Tokenizer& t = tokenizer();
  const std::string& text = mixed_text();
  size_t n_tokens = 0;
  for (auto _ : state) {
    std::vector<int32_t> ids = t.encode(text);
    n_tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(text.size()));
  state.counters["MB"] = double(text.size()) / 1e6;
  state.counters["bytes/token"] = double(text.size()) / double(n_tokens);
}
BENCHMARK(BM_EncodeMixedText)->Unit(benchmark::kMillisecond)->MinTime(3.0);

// Words that never repeat (random letters), so nothing is served from the per-call piece
// cache: the cost of pre-tokenizing and merging every piece.
void BM_EncodeUniqueWords(benchmark::State& state) {
  const Tokenizer& t = tokenizer();
  static const std::string text = [] {
    Rng r{7};
    std::string s;
    while (s.size() < 4 * 1024 * 1024) {
      const size_t n = 2 + r.below(9);
      s += r.below(8) == 0 ? "\n" : " ";
      for (size_t i = 0; i < n; ++i) s += char('a' + r.below(26));
      if (r.below(10) == 0) s += ".";
    }
    return s;
  }();
  for (auto _ : state) benchmark::DoNotOptimize(t.encode(text).data());
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(text.size()));
}
BENCHMARK(BM_EncodeUniqueWords)->Unit(benchmark::kMillisecond);

// Detokenizing the same text token by token, as generation does.
void BM_StreamDecode(benchmark::State& state) {
  const Tokenizer& t = tokenizer();
  const std::vector<int32_t> ids = t.encode(mixed_text());
  for (auto _ : state) {
    dsinfer::TokenStreamDecoder d(t);
    size_t n = 0;
    for (int32_t id : ids) n += d.push(id).size();
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(ids.size()));
}
BENCHMARK(BM_StreamDecode)->Unit(benchmark::kMillisecond);

// The worst case for the merge loop: one 100 KB pre-token.
void BM_EncodeLongRun(benchmark::State& state) {
  const Tokenizer& t = tokenizer();
  const std::string text(100 * 1024, 'a');
  for (auto _ : state) benchmark::DoNotOptimize(t.encode(text).data());
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(text.size()));
}
BENCHMARK(BM_EncodeLongRun)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
