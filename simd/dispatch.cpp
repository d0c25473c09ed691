// Assembles each ISA's table once and picks the one for this CPU (simd/cpu.h), honouring
// DSINFER_ISA. This file is compiled without ISA flags: it must run anywhere.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "simd/cpu.h"
#include "simd/kernels_isa.h"

namespace dsinfer::simd {
namespace {

// The row-group kernels default to the scalar reference; an ISA that has its own sets them
// (and r16_native) after.
template <class... Add>
Kernels assemble(const char* isa, Add... add) noexcept {
  Kernels k{};
  Kernels ref{};
  detail::add_quant_scalar(ref);
  k.gemm_q4_0_r16 = ref.gemm_q4_0_r16;
  k.gemm_q8_0_r16 = ref.gemm_q8_0_r16;
  k.latent_pack_q8 = detail::latent_pack_q8_scalar;
  k.latent_scores_q8 = detail::latent_scores_q8_scalar;
  k.latent_wsum_q8 = detail::latent_wsum_q8_scalar;
  k.latent_wsum_exact = true;
  (add(k), ...);
  k.isa = isa;
  return k;
}

const Kernels* compiled(const char* isa) noexcept {
  if (std::strcmp(isa, "scalar") == 0) {
    static const Kernels k = assemble("scalar", detail::add_quant_scalar, detail::add_vec_scalar);
    return &k;
  }
#if defined(DSINFER_HAVE_X86_KERNELS)
  if (std::strcmp(isa, "avx2") == 0) {
    static const Kernels k =
        assemble("avx2", detail::add_quant_avx2, detail::add_vec_avx2, detail::add_r16_avx2,
                 detail::add_latent_scores_avx2);
    return &k;
  }
  if (std::strcmp(isa, "avx2vnni") == 0) {
    static const Kernels k =
        assemble("avx2vnni", detail::add_quant_avx2, detail::add_vec_avx2, detail::add_r16_avx2,
                 detail::add_r16_avxvnni, detail::add_latent_scores_avx2);
    return &k;
  }
  if (std::strcmp(isa, "avx512amx") == 0) {
    static const Kernels k = assemble("avx512amx", detail::add_quant_avx512, detail::add_vec_avx512,
                                      detail::add_r16_avx512, detail::add_r16_amx,
                                      detail::add_latent_scores_avx512, detail::add_latent_wsum_bf16);
    return &k;
  }
  if (std::strcmp(isa, "avx512bf16") == 0) {
    static const Kernels k =
        assemble("avx512bf16", detail::add_quant_avx512, detail::add_vec_avx512, detail::add_r16_avx512,
                 detail::add_latent_scores_avx512, detail::add_latent_wsum_bf16);
    return &k;
  }
  if (std::strcmp(isa, "avx512vnni") == 0) {
    static const Kernels k =
        assemble("avx512vnni", detail::add_quant_avx512, detail::add_vec_avx512, detail::add_r16_avx512,
                 detail::add_latent_scores_avx512);
    return &k;
  }
#endif
#if defined(DSINFER_HAVE_NEON_KERNELS)
  if (std::strcmp(isa, "neon") == 0) {
    static const Kernels k = assemble("neon", detail::add_quant_neon, detail::add_vec_neon, detail::add_r16_neon,
                                      detail::add_latent_scores_neon);
    return &k;
  }
#endif
  return nullptr;
}

const Kernels& choose() noexcept {
  if (const char* env = std::getenv("DSINFER_ISA"); env && *env) {
    if (const Kernels* k = kernels_for(env)) return *k;
    std::fprintf(stderr, "dsinfer: DSINFER_ISA=%s is unknown or unsupported here; ignored\n", env);
  }
  for (const char* isa : {"avx512amx", "avx512bf16", "avx512vnni", "avx2vnni", "avx2", "neon"})
    if (const Kernels* k = kernels_for(isa)) return *k;
  return *compiled("scalar");
}

}  // namespace

const Kernels* kernels_for(const char* isa) noexcept {
  if (!isa) return nullptr;
  const Kernels* k = compiled(isa);
  return k && cpu_supports(isa) ? k : nullptr;
}

const Kernels& kernels() noexcept {
  static const Kernels& k = choose();
  return k;
}

}  // namespace dsinfer::simd
