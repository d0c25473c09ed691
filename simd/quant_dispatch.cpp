// Picks the kernel table once, from libcpuinfo's view of the CPU (no hand-rolled cpuid), and
// honours DSINFER_ISA. This file is compiled without ISA flags: it must run anywhere.
#include <cpuinfo.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <set>
#include <string>

#include "simd/quant_dot_isa.h"
#include "simd/vec_kernels_isa.h"

namespace dsinfer::simd {
namespace {

bool cpu_ready() noexcept {
  static const bool ok = cpuinfo_initialize();
  return ok;
}

const QuantKernels* lookup(const char* isa) noexcept {
  if (std::strcmp(isa, "scalar") == 0) return &detail::quant_kernels_scalar();
  if (!cpu_ready()) return nullptr;
#if defined(DSINFER_HAVE_X86_KERNELS)
  if (std::strcmp(isa, "avx2") == 0 && cpuinfo_has_x86_avx2() && cpuinfo_has_x86_fma3() &&
      cpuinfo_has_x86_f16c())
    return &detail::quant_kernels_avx2();
  if (std::strcmp(isa, "avx512vnni") == 0 && cpuinfo_has_x86_avx512f() &&
      cpuinfo_has_x86_avx512bw() && cpuinfo_has_x86_avx512dq() && cpuinfo_has_x86_avx512vl() && cpuinfo_has_x86_avx512vnni() &&
      cpuinfo_has_x86_f16c())
    return &detail::quant_kernels_avx512();
#endif
#if defined(DSINFER_HAVE_NEON_KERNELS)
  if (std::strcmp(isa, "neon") == 0 && cpuinfo_has_arm_neon_dot() && cpuinfo_has_arm_neon_fma())
    return &detail::quant_kernels_neon();
#endif
  return nullptr;
}

const QuantKernels& choose() noexcept {
  if (const char* env = std::getenv("DSINFER_ISA"); env && *env) {
    if (const QuantKernels* k = lookup(env)) return *k;
    std::fprintf(stderr, "dsinfer: DSINFER_ISA=%s is unknown or unsupported here; ignored\n", env);
  }
  for (const char* isa : {"avx512vnni", "avx2", "neon"})
    if (const QuantKernels* k = lookup(isa)) return *k;
  return detail::quant_kernels_scalar();
}

const VecKernels* vec_lookup(const char* isa) noexcept {
  if (!lookup(isa)) return nullptr;  // same CPU checks as the quantized kernels
  if (std::strcmp(isa, "scalar") == 0) return &detail::vec_kernels_scalar();
#if defined(DSINFER_HAVE_X86_KERNELS)
  if (std::strcmp(isa, "avx2") == 0) return &detail::vec_kernels_avx2();
  if (std::strcmp(isa, "avx512vnni") == 0) return &detail::vec_kernels_avx512();
#endif
#if defined(DSINFER_HAVE_NEON_KERNELS)
  if (std::strcmp(isa, "neon") == 0) return &detail::vec_kernels_neon();
#endif
  return nullptr;
}

}  // namespace

const QuantKernels& quant_kernels() noexcept {
  static const QuantKernels& k = choose();
  return k;
}

const QuantKernels* quant_kernels_for(const char* isa) noexcept { return isa ? lookup(isa) : nullptr; }

const VecKernels& vec_kernels() noexcept {
  static const VecKernels& k = *vec_lookup(quant_kernels().isa);
  return k;
}

const VecKernels* vec_kernels_for(const char* isa) noexcept { return isa ? vec_lookup(isa) : nullptr; }

int physical_cores() noexcept {
  if (!cpu_ready()) return 1;
#if defined(__linux__)
  // The kernel's topology first: under some hypervisors libcpuinfo reads CPUID's view and
  // counts two vCPUs that Linux reports as two cores (no SMT siblings) as one core.
  std::set<std::string> cores;
  for (uint32_t i = 0; i < cpuinfo_get_processors_count(); ++i) {
    std::ifstream f("/sys/devices/system/cpu/cpu" + std::to_string(i) + "/topology/thread_siblings_list");
    std::string s;
    if (f && std::getline(f, s)) cores.insert(s);
  }
  if (!cores.empty()) return int(cores.size());
#endif
  const uint32_t n = cpuinfo_get_cores_count();
  return n > 0 ? int(n) : 1;
}

float dot_q8_0_q8_0(const BlockQ8_0* w, const BlockQ8_0* x, int64_t nblocks) noexcept {
  return quant_kernels().dot_q8_0_q8_0(w, x, nblocks);
}
float dot_q4_0_q8_0(const BlockQ4_0* w, const BlockQ8_0* x, int64_t nblocks) noexcept {
  return quant_kernels().dot_q4_0_q8_0(w, x, nblocks);
}
void quantize_row_q8_0_act(const float* x, BlockQ8_0* y, int64_t n) noexcept {
  quant_kernels().quantize_row_q8_0_act(x, y, n);
}
void gemm_q8_0(const BlockQ8_0* W, int64_t rows, int64_t blocks_per_row, const BlockQ8_0* X,
               int64_t n_tok, float* Y, int64_t row0, int64_t row1) noexcept {
  quant_kernels().gemm_q8_0(W, rows, blocks_per_row, X, n_tok, Y, row0, row1);
}
void gemm_q4_0(const BlockQ4_0* W, int64_t rows, int64_t blocks_per_row, const BlockQ8_0* X,
               int64_t n_tok, float* Y, int64_t row0, int64_t row1) noexcept {
  quant_kernels().gemm_q4_0(W, rows, blocks_per_row, X, n_tok, Y, row0, row1);
}

}  // namespace dsinfer::simd
