#include "tools/synth/synthetic_weights.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <string_view>
#include <vector>

#include "engine/model/gguf_metadata.h"
#include "simd/blocks.h"
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

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Standard deviation of a tensor's weights. Matrices that write into the residual stream are
// scaled by 1/sqrt(2 n_layer) so the stream keeps each token's identity through the layers;
// without that it converges to what every token shares and the router picks the same experts
// for all of them.
float weight_std(const PlannedTensor& t, int64_t n_layer) {
  switch (t.role) {
    case TensorRole::Embedding: return 1.0f;
    case TensorRole::ExpertBias: return 0.0f;  // balanced afterwards (tools/synth/bias_calibration.h)
    default: break;
  }
  float sd = 1.0f / std::sqrt(float(t.ne[0]));  // fan-in: the input dimension
  for (std::string_view w : {"attn_output.weight", "ffn_down.weight", "ffn_down_exps.weight", "ffn_down_shexp.weight"})
    if (ends_with(t.name, w)) sd /= std::sqrt(2.0f * float(std::max<int64_t>(n_layer, 1)));
  return sd;
}

// A uniform draw from 0..n-1 out of 32 random bits (Lemire's multiply-shift; bias below 1e-8).
inline uint32_t below(uint32_t bits, uint32_t n) { return uint32_t((uint64_t(bits) * n) >> 32); }

// Fills `nblocks` blocks (32 elements each) starting at block `b0` of tensor `t`. Every type
// draws values symmetric around zero: a common offset in every weight (as random Q4_0 bytes
// give, -0.5 a weight) adds an output shared by all tokens.
void fill_blocks(const PlannedTensor& t, float sd, uint64_t key, uint64_t b0, uint64_t nblocks, uint8_t* out) {
  const float a = sd * std::sqrt(3.0f);  // uniform(-a, a) has standard deviation sd
#pragma omp parallel for schedule(static) if (nblocks > 4096)
  for (int64_t i = 0; i < int64_t(nblocks); ++i) {
    BlockRng rng(key, b0 + uint64_t(i));
    switch (t.type) {
      case DType::Q8_0: {
        BlockQ8_0 b;
        b.d = f32_to_fp16(a / 127.0f);
        for (int j = 0; j < 32; j += 2) {
          const uint64_t r = rng.next();
          b.qs[j] = int8_t(int(below(uint32_t(r), 255)) - 127);
          b.qs[j + 1] = int8_t(int(below(uint32_t(r >> 32), 255)) - 127);
        }
        std::memcpy(out + size_t(i) * 34, &b, 34);
        break;
      }
      case DType::Q4_0: {
        BlockQ4_0 b;
        // Nibbles 1..15, so q - 8 is uniform on -7..7 (variance 56/3) with mean zero.
        b.d = f32_to_fp16(sd / std::sqrt(56.0f / 3.0f));
        uint8_t nib[32];
        for (int j = 0; j < 32; j += 2) {
          const uint64_t r = rng.next();
          nib[j] = uint8_t(1 + below(uint32_t(r), 15));
          nib[j + 1] = uint8_t(1 + below(uint32_t(r >> 32), 15));
        }
        for (int j = 0; j < 16; ++j) b.qs[j] = uint8_t(nib[j] | (nib[j + 16] << 4));
        std::memcpy(out + size_t(i) * 18, &b, 18);
        break;
      }
      default: {
        float v[32];
        for (float& x : v) x = t.role == TensorRole::Norm ? 1.0f : a * rng.uniform();
        for (int j = 0; j < 32; ++j) {
          uint8_t* p = out + (size_t(i) * 32 + size_t(j)) * (t.type == DType::F32 ? 4 : 2);
          if (t.type == DType::F32) std::memcpy(p, &v[j], 4);
          else {
            const uint16_t h = t.type == DType::F16 ? f32_to_fp16(v[j]) : f32_to_bf16(v[j]);
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
    const uint64_t block_bytes = dtype_row_bytes(t.type, dtype_info(t.type).block_size > 1 ? 32 : 1) * (dtype_info(t.type).block_size > 1 ? 1 : 32);
    const float sd = weight_std(t, plan.config.num_hidden_layers);
    w.begin_tensor(t.name);
    uint64_t left = t.out_bytes;
    for (uint64_t b = 0; b < blocks; b += kStepBlocks) {
      const uint64_t n = std::min(kStepBlocks, blocks - b);
      buf.resize(size_t(n * block_bytes));
      fill_blocks(t, sd, key, b, n, buf.data());
      const uint64_t bytes = std::min<uint64_t>(left, buf.size());
      w.append(buf.data(), size_t(bytes));
      left -= bytes;
      prog.add(bytes);
    }
    w.end_tensor();
  }
  w.complete();
  prog.finish();
  if (o.before_commit) o.before_commit(w);
  w.commit();
  ConvertStats st;
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  st.out_bytes = w.file_size();
  return st;
}

}  // namespace dsinfer::cli
