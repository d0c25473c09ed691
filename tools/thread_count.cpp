#include "tools/thread_count.h"

#include <omp.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "simd/error.h"

namespace dsinfer::cli {

namespace {

int logical_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? int(std::min<long>(n, 1 << 16)) : 1;
}

}  // namespace

int max_threads() { return 4 * std::max(1, logical_cpus()); }

int resolve_threads(int64_t requested, int dflt, const std::string& flag) {
  if (requested < 0) fail(flag, "must not be negative (0: the default)");
  const int64_t want = requested > 0 ? requested : std::max(1, dflt);
  const int cap = max_threads();
  if (want <= cap) return int(want);
  if (requested > 0)
    std::fprintf(stderr, "dsinfer: %s %lld is more than 4 x the %d logical CPUs; using %d threads\n", flag.c_str(),
                 (long long)requested, cap / 4, cap);
  return cap;
}

int set_threads(int64_t requested, int dflt, const std::string& flag) {
  const int n = resolve_threads(requested, dflt, flag);
  omp_set_num_threads(n);
  return n;
}

}  // namespace dsinfer::cli
