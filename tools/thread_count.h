// Thread counts from the command line, bounded by what the machine can run. OpenMP's runtime
// crashes (libgomp: SIGSEGV in GOMP_parallel at -t 65536) or gives up ("Thread creation
// failed" at -t 40000) when asked for tens of thousands of threads, and threads beyond the
// logical CPUs only take turns on them: a count above 4 x the logical CPUs is clamped to that,
// with a note on stderr. A negative count is an error naming the flag.
#pragma once
#include <cstdint>
#include <string>

namespace dsinfer::cli {

// 4 x the logical CPUs this process may run on (at least 4).
int max_threads();
// `requested` checked and clamped; 0 means `dflt` (clamped too). Throws Error naming `flag`.
int resolve_threads(int64_t requested, int dflt, const std::string& flag);
// resolve_threads, then the OpenMP team size set to it; returns it.
int set_threads(int64_t requested, int dflt, const std::string& flag);

}  // namespace dsinfer::cli
