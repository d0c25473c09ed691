// What this CPU offers: the instruction sets the kernels need (libcpuinfo) and its physical
// cores (the kernel's topology).
#pragma once
#include <string_view>

namespace dsinfer::simd {

// True when the CPU runs the kernels of `isa` ("scalar", "avx2", "avx2vnni", "avx512vnni",
// "avx512bf16", "avx512amx", "neon").
bool cpu_supports(std::string_view isa) noexcept;
// Physical cores, at least 1: the default thread count.
int physical_cores() noexcept;

}  // namespace dsinfer::simd
