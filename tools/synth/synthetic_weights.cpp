#include "tools/synth/synthetic_weights.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <vector>

#include "engine/gguf_metadata.h"
#include "quant/blocks.h"
#include "quant/dtype.h"
#include "quant/gguf_writer.h"
#include "tools/progress.h"
#include "tools/quantize/tokenizer_metadata.h"

namespace dsinfer::cli {

namespace {

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

uint64_t name_hash(const std::string& s) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ull;
  return h;
}

// 32 values of one block (or 32 consecutive plain elements) from the stream (key, index).
struct BlockRng {
  uint64_t state;
  BlockRng(uint64_t key, uint64_t index) : state(splitmix64(key ^ splitmix64(index))) {}
  uint64_t next() { return state = splitmix64(state); }
  float uniform() { return float(next() >> 40) * (1.0f / 16777216.0f) * 2.0f - 1.0f; }  // [-1, 1)
};

// Standard deviation of a role's weights.
float weight_std(const PlannedTensor& t) {
  switch (t.role) {
    case TensorRole::Embedding: return 1.0f;
    case TensorRole::ExpertBias: return 0.01f;
    default: return 1.0f / std::sqrt(float(t.ne[0]));  // fan-in: the input dimension
  }
}

// Fills `nblocks` blocks (32 elements each) starting at block `b0` of tensor `t`.
void fill_blocks(const PlannedTensor& t, uint64_t key, uint64_t b0, uint64_t nblocks, uint8_t* out) {
  const float sd = weight_std(t);
  const float a = sd * std::sqrt(3.0f);  // uniform(-a, a) has standard deviation sd
#pragma omp parallel for schedule(static) if (nblocks > 4096)
  for (int64_t i = 0; i < int64_t(nblocks); ++i) {
    BlockRng rng(key, b0 + uint64_t(i));
    switch (t.type) {
      case GgmlType::Q8_0: {
        BlockQ8_0 b;
        b.d = f32_to_fp16(a / 127.0f);
        for (int j = 0; j < 32; ++j) b.qs[j] = int8_t(int(rng.next() % 255) - 127);
        std::memcpy(out + size_t(i) * 34, &b, 34);
        break;
      }
      case GgmlType::Q4_0: {
        BlockQ4_0 b;
        b.d = f32_to_fp16(sd / std::sqrt(21.25f));  // (q - 8) uniform on -8..7 has variance 21.25
        const uint64_t lo = rng.next(), hi = rng.next();
        for (int j = 0; j < 8; ++j) {
          b.qs[j] = uint8_t(lo >> (8 * j));
          b.qs[8 + j] = uint8_t(hi >> (8 * j));
        }
        std::memcpy(out + size_t(i) * 18, &b, 18);
        break;
      }
      default: {
        float v[32];
        for (float& x : v) x = t.role == TensorRole::Norm ? 1.0f : a * rng.uniform();
        for (int j = 0; j < 32; ++j) {
          uint8_t* p = out + (size_t(i) * 32 + size_t(j)) * (t.type == GgmlType::F32 ? 4 : 2);
          if (t.type == GgmlType::F32) std::memcpy(p, &v[j], 4);
          else {
            const uint16_t h = t.type == GgmlType::F16 ? f32_to_fp16(v[j]) : f32_to_bf16(v[j]);
            std::memcpy(p, &h, 2);
          }
        }
      }
    }
  }
}

}  // namespace

ConvertStats write_synthetic_model(const ConversionPlan& plan, const SynthOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  GgufWriter w(o.out_path, 4096);
  write_deepseek2_metadata(w, plan.config, plan.with_mtp);
  w.set_string("general.name", o.model_name);
  w.set_string("dsinfer.synthetic", "random weights, seed " + std::to_string(o.seed));
  if (!o.tokenizer_dir.empty()) write_tokenizer_metadata(w, o.tokenizer_dir, plan.config);
  for (const PlannedTensor& t : plan.tensors) w.add_tensor(t.name, t.type, t.ne);
  w.write_header();
  Progress prog("synth", plan.out_bytes, o.progress);
  std::vector<uint8_t> buf;
  constexpr uint64_t kStepBlocks = 1 << 17;  // 4M elements a step
  for (const PlannedTensor& t : plan.tensors) {
    uint64_t elements = 1;
    for (int64_t d : t.ne) elements *= uint64_t(d);
    // A 1-D tensor shorter than a block (rare) still takes whole blocks of randomness.
    const uint64_t blocks = (elements + 31) / 32;
    const uint64_t key = splitmix64(o.seed) ^ name_hash(t.name);
    const uint64_t block_bytes = ggml_row_size(t.type, ggml_block_size(t.type) > 1 ? 32 : 1) * (ggml_block_size(t.type) > 1 ? 1 : 32);
    w.begin_tensor(t.name);
    uint64_t left = t.out_bytes;
    for (uint64_t b = 0; b < blocks; b += kStepBlocks) {
      const uint64_t n = std::min(kStepBlocks, blocks - b);
      buf.resize(size_t(n * block_bytes));
      fill_blocks(t, key, b, n, buf.data());
      const uint64_t bytes = std::min<uint64_t>(left, buf.size());
      w.append(buf.data(), size_t(bytes));
      left -= bytes;
      prog.add(bytes);
    }
    w.end_tensor();
  }
  w.finish();
  prog.finish();
  ConvertStats st;
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  st.out_bytes = w.file_size();
  return st;
}

}  // namespace dsinfer::cli
