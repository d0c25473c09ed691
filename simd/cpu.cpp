#include "simd/cpu.h"

#include <cpuinfo.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include <cstdint>
#include <fstream>
#include <set>
#include <string>

namespace dsinfer::simd {

namespace {
bool cpu_ready() noexcept {
  static const bool ok = cpuinfo_initialize();
  return ok;
}
#if defined(__x86_64__)
// AMX-TILE and AMX-INT8 (CPUID leaf 7 EDX bits 24, 25; Debian's libcpuinfo does not report
// them), and Linux's permission to use the tile state, asked for once for the process.
bool amx_usable() noexcept {
  static const bool ok = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d & (1u << 24)) || !(d & (1u << 25))) return false;
#if defined(__linux__)
    constexpr long kReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;  // <asm/prctl.h>
    return ::syscall(SYS_arch_prctl, kReqXcompPerm, kXfeatureXtiledata) == 0;
#else
    return false;
#endif
  }();
  return ok;
}

// AVX-VNNI (CPUID leaf 7 subleaf 1, EAX bit 4; Debian's libcpuinfo does not report it). It
// uses only the AVX state, which the AVX2 check already needs the OS to save.
bool avx_vnni() noexcept {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 4));
}
#endif

}  // namespace

bool cpu_supports(std::string_view isa) noexcept {
  if (isa == "scalar") return true;
  if (!cpu_ready()) return false;
#if defined(__x86_64__) || defined(_M_X64)
  if (isa == "avx2") return cpuinfo_has_x86_avx2() && cpuinfo_has_x86_fma3() && cpuinfo_has_x86_f16c();
  if (isa == "avx2vnni") return cpu_supports("avx2") && avx_vnni();
  // avx512dq: xsimd's avx512f code uses it (hadd).
  if (isa == "avx512vnni")
    return cpuinfo_has_x86_avx512f() && cpuinfo_has_x86_avx512bw() && cpuinfo_has_x86_avx512dq() &&
           cpuinfo_has_x86_avx512vl() && cpuinfo_has_x86_avx512vnni() && cpuinfo_has_x86_f16c();
  if (isa == "avx512bf16") return cpu_supports("avx512vnni") && cpuinfo_has_x86_avx512bf16();
  // Every CPU with AMX has AVX512_BF16, which its table's attention uses too.
  if (isa == "avx512amx") return cpu_supports("avx512bf16") && amx_usable();
#endif
#if defined(__aarch64__)
  if (isa == "neon") return cpuinfo_has_arm_neon_dot() && cpuinfo_has_arm_neon_fma();
#endif
  return false;
}

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

}  // namespace dsinfer::simd
