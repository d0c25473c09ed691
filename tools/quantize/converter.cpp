#include "tools/quantize/converter.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <vector>

#include "engine/model/gguf_metadata.h"
#include "engine/model/hf_binding.h"
#include "quant/block_quantize.h"
#include "simd/error.h"
#include "quant/gguf_writer.h"
#include "tools/progress.h"
#include "tools/quantize/tokenizer_metadata.h"

namespace dsinfer::cli {

namespace {

// Rows [r0, r0+n) of `src` converted to `type` into `out`; `tmp` holds n * src.cols floats.
void convert_rows(const Matrix& src, int64_t r0, int64_t n, DType type, bool search, float* tmp, uint8_t* out) {
  const int64_t C = src.cols;
  const size_t row_bytes = dtype_row_bytes(type, uint64_t(C));
#pragma omp parallel for schedule(dynamic, 4) if (n * C > (1 << 16))
  for (int64_t i = 0; i < n; ++i) {
    float* x = tmp + i * C;
    dequant_row(src, r0 + i, x);
    uint8_t* y = out + size_t(i) * row_bytes;
    switch (type) {
      case DType::F32: std::memcpy(y, x, size_t(C) * 4); break;
      case DType::F16:
        for (int64_t j = 0; j < C; ++j) {
          const uint16_t h = f32_to_fp16(x[j]);
          std::memcpy(y + 2 * j, &h, 2);
        }
        break;
      case DType::BF16:
        for (int64_t j = 0; j < C; ++j) {
          const uint16_t h = f32_to_bf16(x[j]);
          std::memcpy(y + 2 * j, &h, 2);
        }
        break;
      case DType::Q8_0:  // a scale search buys Q8_0 nothing measurable: keep ggml's bytes
        quantize_row_q8_0(x, reinterpret_cast<BlockQ8_0*>(y), C);
        break;
      case DType::Q4_0:
        if (search) quantize_row_q4_0_mse(x, reinterpret_cast<BlockQ4_0*>(y), C);
        else quantize_row_q4_0(x, reinterpret_cast<BlockQ4_0*>(y), C);
        break;
      default: break;  // the recipe only yields the types above
    }
  }
}

// Streams one output tensor into the writer.
class TensorStreamer {
 public:
  TensorStreamer(const SafetensorsCheckpoint& ckpt, const ModelConfig& c, GgufWriter& w, Progress& prog, bool search)
      : ckpt_(ckpt), c_(c), w_(w), prog_(prog), search_(search) {}

  void write(const PlannedTensor& t) {
    w_.begin_tensor(t.name);
    switch (t.kind) {
      case SourceKind::Copy:
      case SourceKind::StackExperts:
        for (const std::string& s : t.sources) {
          const Matrix m = hf_tensor_matrix(ckpt_, s);
          rows(m, 0, m.rows, t.type);
          done(s);
        }
        break;
      case SourceKind::KeyAbsorb: key_absorb(t); break;
      case SourceKind::ValueAbsorb: {
        const Matrix m = hf_tensor_matrix(ckpt_, t.sources[0]);
        const int64_t per = c_.qk_nope_head_dim + c_.v_head_dim;
        for (int64_t h = 0; h < c_.num_attention_heads; ++h) rows(m, h * per + c_.qk_nope_head_dim, c_.v_head_dim, t.type);
        done(t.sources[0]);
        break;
      }
    }
    w_.end_tensor();
  }

 private:
  static constexpr int64_t kBlockFloats = 1 << 20;  // rows converted per step: ~4 MB of floats,
                                                    // so memory never grows with the tensor

  // `mapped`: m's rows live in the checkpoint mapping, and are dropped from memory once read.
  void rows(const Matrix& m, int64_t r0, int64_t n, DType type, bool mapped = true) {
    const int64_t step = std::max<int64_t>(1, kBlockFloats / m.cols);
    const size_t rb = dtype_row_bytes(type, uint64_t(m.cols));
    const size_t src_rb = dtype_row_bytes(m.type, m.cols);
    for (int64_t r = r0; r < r0 + n; r += step) {
      const int64_t k = std::min(step, r0 + n - r);
      tmp_.resize(size_t(k * m.cols));
      out_.resize(size_t(k) * rb);
      convert_rows(m, r, k, type, search_, tmp_.data(), out_.data());
      w_.append(out_.data(), out_.size());
      if (mapped) release_pages(m.data + size_t(m.row_offset + r) * src_rb, size_t(k) * src_rb);
    }
  }

  // Per head, W_UK_h is stored transposed: [kv_lora_rank rows x nope columns].
  void key_absorb(const PlannedTensor& t) {
    const Matrix m = hf_tensor_matrix(ckpt_, t.sources[0]);
    const int64_t dn = c_.qk_nope_head_dim, r = c_.kv_lora_rank, per = dn + c_.v_head_dim;
    std::vector<float> head(size_t(dn * r)), tr(size_t(dn * r));
    for (int64_t h = 0; h < c_.num_attention_heads; ++h) {
      for (int64_t i = 0; i < dn; ++i) dequant_row(m, h * per + i, head.data() + i * r);
      for (int64_t i = 0; i < dn; ++i)
        for (int64_t j = 0; j < r; ++j) tr[size_t(j * dn + i)] = head[size_t(i * r + j)];
      Matrix f;
      f.type = DType::F32;
      f.rows = r;
      f.cols = dn;
      f.data = reinterpret_cast<const uint8_t*>(tr.data());
      rows(f, 0, r, t.type, false);
    }
    done(t.sources[0]);
  }

  void done(const std::string& src) {
    const StTensor* st = ckpt_.find(src);
    prog_.add(st->nbytes);
    release_pages(st->data, st->nbytes);  // one pass: keep the resident set small
  }

  const SafetensorsCheckpoint& ckpt_;
  const ModelConfig& c_;
  GgufWriter& w_;
  Progress& prog_;
  bool search_;
  std::vector<float> tmp_;
  std::vector<uint8_t> out_;
};

uint32_t llama_file_type(const ConversionPlan& plan) {
  // llama.cpp's general.file_type: the type of most weights (0 F32, 1 F16, 2 Q4_0, 7 Q8_0, 32 BF16).
  uint64_t by_type[64] = {};
  for (const PlannedTensor& t : plan.tensors)
    if (t.ne.size() >= 2) by_type[uint32_t(t.type) & 63] += t.out_bytes;
  const uint32_t most = uint32_t(std::max_element(by_type, by_type + 64) - by_type);
  switch (DType(most)) {
    case DType::F16: return 1;
    case DType::Q4_0: return 2;
    case DType::Q8_0: return 7;
    case DType::BF16: return 32;
    default: return 0;
  }
}

}  // namespace

ConvertStats run_conversion(const SafetensorsCheckpoint& ckpt, const ConversionPlan& plan, const ConvertOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  // Ctrl-C or any other fatal signal removes the temporary (quant/temp_files.h).
  GgufWriter w(o.out_path, 4096);  // page-aligned tensors: an expert is a page-aligned byte range
  write_deepseek2_metadata(w, plan.config, plan.with_mtp);
  w.set_string("general.name", o.model_name);
  w.set_u32("general.file_type", llama_file_type(plan));
  w.set_u32("general.quantization_version", 2);
  if (!o.tokenizer_dir.empty()) write_tokenizer_metadata(w, o.tokenizer_dir, plan.config);
  for (const PlannedTensor& t : plan.tensors) w.add_tensor(t.name, t.type, t.ne);
  w.write_header();
  Progress prog("quantize", plan.in_bytes, o.progress);
  TensorStreamer s(ckpt, plan.config, w, prog, o.search_scales);
  for (const PlannedTensor& t : plan.tensors) s.write(t);
  w.finish();
  prog.finish();
  ConvertStats st;
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  st.in_bytes = plan.in_bytes;
  st.out_bytes = w.file_size();
  return st;
}

}  // namespace dsinfer::cli
